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
    recommend,
    run_on_mock,
    run_on_target,
    sizing_results,
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
    """With --time-scale the mock's clock runs (not stepped), flows sleep scaled real time, and
    delays are exact and never negative (how many polls fit depends on the machine's load)."""
    plan = SizingPlan(
        candidates=(FIXED_5,), flows=5, time_scale=200.0, duration={"dist": "fixed", "s": 20}
    )
    [measured] = run_on_mock(plan)
    assert measured.lost == 0
    assert measured.polls_per_flow >= 1
    assert measured.resolution.exact
    assert 0 <= measured.p95_delay.lower_s == measured.p95_delay.upper_s


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


def _world(duration_s: float, **mock: object) -> dict[str, object]:
    return {
        "mock": {"seed": 3, **mock},
        "workspaces": [
            {
                "id": "ws",
                "api_keys": ["real-key-1"],
                "triggers": [{"id": "quick", "duration": {"dist": "fixed", "s": duration_s}}],
            }
        ],
    }


def _external(url: str, interval: float) -> Target:
    return Target(
        name="external",
        base_url=url,
        workspace_id="ws",
        environment="DEV",
        api_key=Secret("real-key-1"),
        background_trigger="quick",
        poll_interval_s=interval,
        max_run_s=600,
    )


@pytest.mark.socket
def test_real_target_sizing_reads_run_ends_from_the_logs() -> None:
    """Against a target without a readable admin API, delays are bounds from the log times."""
    app = create_app(parse_config(_world(1)), admin_token="not-given-to-the-harness")
    with serve_in_thread(app) as url:
        plan = SizingPlan(candidates=(Candidate(strategy="fixed", interval_s=0.25),), flows=3)
        [measured] = run_on_target(plan, _external(url, 0.25))
    assert measured.lost == 0
    assert measured.status_rps == pytest.approx(3 / 0.25, rel=0.3)
    assert measured.artefacts == 0
    assert "whole seconds" in measured.resolution.describe()
    assert 0 <= measured.mean_delay.lower_s < measured.mean_delay.upper_s


@pytest.mark.socket
def test_a_time_scaled_external_mock_is_followed_on_its_own_clock() -> None:
    """`trigger-mock serve --time-scale 50` as an external target: its admin clock is read,
    so no delay is negative and the recommendation rests on exact run ends."""
    with serve_in_thread(create_app(parse_config(_world(20, time_scale=50)))) as url:
        plan = SizingPlan(candidates=(FIXED_5,), flows=5, max_delay_s=3600)
        [measured] = run_on_target(plan, _external(url, 5))
    assert measured.lost == 0
    assert measured.artefacts == 0
    assert 0 <= measured.p95_delay.lower_s <= measured.p95_delay.upper_s
    assert "time scale 50" in measured.resolution.describe()
    best, text = recommend([measured], max_delay_s=plan.max_delay_s)
    assert best is measured, text


@pytest.mark.socket
def test_a_time_scaled_mock_without_its_clock_gives_artefacts_never_negative_delays() -> None:
    """With the admin API closed, the mock's virtual log times disagree with this machine's
    clock: the figures are artefacts, nothing is recommended and no delay is negative."""
    world = _world(20, time_scale=50)
    app = create_app(parse_config(world), admin_token="not-given-to-the-harness")
    with serve_in_thread(app) as url:
        plan = SizingPlan(candidates=(Candidate(strategy="fixed", interval_s=0.25),), flows=3)
        [measured] = run_on_target(plan, _external(url, 0.25))
    assert measured.lost == 0
    assert measured.artefacts == 3
    assert not measured.measured
    best, text = recommend([measured], max_delay_s=10)
    assert best is None
    assert text.startswith("no recommendation: detection delays could not be measured")
    (result,) = sizing_results([measured], text)
    assert result.rows[0].artefacts == 3
    assert not any(value < 0 for value in (result.rows[0].mean_delay_s, result.rows[0].p95_delay_s))
