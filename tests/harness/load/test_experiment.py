"""The sizing experiment: stepped time, the mock experiment and a real target."""

from __future__ import annotations

import asyncio

import pytest

from harness._exceptions import UsageError
from harness._targets import Secret, Target
from harness.load import (
    Candidate,
    SizingPlan,
    SteppedTime,
    expected_fixed,
    run_on_mock,
    run_on_target,
)
from mock_server import create_app, parse_config, serve_in_thread

FIXED_5 = Candidate(strategy="fixed", interval_s=5)
FIXED_10 = Candidate(strategy="fixed", interval_s=10)


def test_stepped_time_wakes_sleepers_in_order_without_real_waiting() -> None:
    """Stepped time jumps to each wake-up in turn and moves the mock clock with it."""
    moves: list[float] = []
    stepped = SteppedTime(moves.append, start=100.0)
    order: list[tuple[str, float]] = []

    async def sleeper(name: str, delays: list[float]) -> str:
        for delay in delays:
            await stepped.sleep(delay)
            order.append((name, stepped.clock()))
        return name

    async def main() -> list[str]:
        return await stepped.run([sleeper("a", [30, 30]), sleeper("b", [45])])

    assert asyncio.run(main()) == ["a", "b"]
    assert order == [("a", 130.0), ("b", 145.0), ("a", 160.0)]
    assert moves == [130.0, 145.0, 160.0]


def test_mock_measurements_match_the_fixed_interval_analysis() -> None:
    """Against the mock, fixed T gives about N/T status requests/s and a mean delay near T/2."""
    plan = SizingPlan(
        candidates=(FIXED_5, FIXED_10),
        flows=40,
        duration={"dist": "uniform", "min_s": 20, "max_s": 120},
    )
    for measured in run_on_mock(plan):
        interval = measured.candidate.interval_s
        mean_delay, rate = expected_fixed(interval, plan.flows)
        assert measured.lost == 0
        assert measured.status_rps == pytest.approx(rate, rel=0.02)
        assert measured.mean_delay_s == pytest.approx(mean_delay, abs=0.25 * interval)
        assert 0 <= measured.p95_delay_s <= interval


def test_a_running_mock_clock_measures_with_scaled_sleeps() -> None:
    """With --time-scale the mock's clock runs (not stepped) and flows sleep scaled real time."""
    plan = SizingPlan(
        candidates=(FIXED_5,), flows=5, time_scale=200.0, duration={"dist": "fixed", "s": 20}
    )
    [measured] = run_on_mock(plan)
    assert measured.lost == 0
    assert measured.polls_per_flow >= 4
    assert 0 <= measured.p95_delay_s <= 2 * FIXED_5.interval_s


def test_mock_sizing_rejects_a_bad_duration_table() -> None:
    """A distribution the mock refuses is a usage error naming --duration-dist."""
    plan = SizingPlan(candidates=(FIXED_5,), flows=1, duration={"dist": "uniform", "min_s": 9,
                                                                 "max_s": 1})  # fmt: skip
    with pytest.raises(UsageError, match="--duration-dist"):
        run_on_mock(plan)


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [("flows", 0, "--flows"), ("max_delay_s", 0, "--max-delay-s"),
     ("delay_stat", "p50", "--delay-stat"), ("time_scale", -1.0, "--time-scale")],
)  # fmt: skip
def test_sizing_plan_rejects_bad_values(field: str, value: object, flag: str) -> None:
    """A bad sizing option names its flag."""
    with pytest.raises(UsageError, match=flag):
        SizingPlan(candidates=(FIXED_5,), **{field: value})  # type: ignore[arg-type]


@pytest.mark.socket
def test_real_target_sizing_reads_run_ends_from_the_logs() -> None:
    """Against a target without admin access, delays come from the final log entry's time."""
    world = {
        "mock": {"seed": 3},
        "workspaces": [
            {
                "id": "ws",
                "api_keys": ["real-key-1"],
                "triggers": [{"id": "quick", "duration": {"dist": "fixed", "s": 1}}],
            }
        ],
    }
    with serve_in_thread(create_app(parse_config(world))) as url:
        target = Target(
            name="real",
            base_url=url,
            workspace_id="ws",
            environment="DEV",
            api_key=Secret("real-key-1"),
            background_trigger="quick",
            poll_interval_s=0.25,
            max_run_s=20,
        )
        plan = SizingPlan(candidates=(Candidate(strategy="fixed", interval_s=0.25),), flows=3)
        [measured] = run_on_target(plan, target)
    assert measured.lost == 0
    assert measured.status_rps == pytest.approx(3 / 0.25, rel=0.3)
    # Log times have whole-second resolution: the delay lies within a poll plus a second.
    assert 0 <= measured.mean_delay_s <= 0.25 + 1.0 + 0.2
