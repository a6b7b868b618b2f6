"""Flow draws and generated logs/results are pure functions of a seed with the right statistics."""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from mock_server._config import Duration, OutcomeRates
from mock_server._flows import (
    MIN_DURATION_S,
    Ending,
    Fate,
    completed_response,
    draw_duration,
    draw_outcome,
    error_message,
    logs_at,
    resume_plan,
)

INF = float("inf")
T0 = 1_781_050_200.0


@dataclass
class Run:
    """A stand-in for a stored run's timeline."""

    workflow_id: str = "wf-1"
    seed: int = 123_456_789
    message: str = "go"
    user_variables: dict[str, Any] = field(default_factory=dict)
    started_at: float = T0
    pause_at: float = INF
    resumed_at: float = INF
    end_at: float = T0 + 60
    ending: int = Ending.COMPLETED
    input_message: str | None = None


def draws(duration: Duration, n: int = 2000) -> list[float]:
    rng = random.Random(1)
    return [draw_duration(duration, rng) for _ in range(n)]


def test_fixed_duration_is_exact() -> None:
    """A fixed duration always draws its value."""
    assert set(draws(Duration(dist="fixed", s=30), 50)) == {30.0}


def test_uniform_duration_stays_in_bounds_with_the_right_mean() -> None:
    """Uniform draws stay within [min_s, max_s] and average near the midpoint."""
    values = draws(Duration(dist="uniform", min_s=10, max_s=40))
    assert min(values) >= 10
    assert max(values) <= 40
    assert abs(statistics.fmean(values) - 25) < 25 * 0.05


def test_lognormal_median_and_cap() -> None:
    """Lognormal draws have the configured median (within 10%) and never pass the cap."""
    values = draws(Duration(dist="lognormal", median_s=180, sigma=0.5, max_s=900))
    assert abs(statistics.median(values) - 180) < 18
    assert max(values) <= 900
    capped = draws(Duration(dist="lognormal", median_s=180, sigma=1.5, max_s=200))
    assert max(capped) == 200


def test_exponential_mean_and_cap() -> None:
    """Exponential draws average near mean_s (within 10%) and respect the cap."""
    values = draws(Duration(dist="exponential", mean_s=30))
    assert abs(statistics.fmean(values) - 30) < 3
    assert max(draws(Duration(dist="exponential", mean_s=30, max_s=45))) == 45


def test_durations_are_never_zero() -> None:
    """A zero-width distribution still yields the minimum duration, so new runs are pending."""
    assert draws(Duration(dist="uniform", min_s=0, max_s=0), 5) == [MIN_DURATION_S] * 5


def test_outcome_frequencies() -> None:
    """Outcome draws fail and wait with the configured probabilities (within 3 points)."""
    rng = random.Random(2)
    fates = [
        draw_outcome(OutcomeRates(failed=0.2, waiting_for_input=0.3), rng) for _ in range(4000)
    ]
    assert abs(fates.count(Fate.FAILED) / 4000 - 0.2) < 0.03
    assert abs(fates.count(Fate.WAITING) / 4000 - 0.3) < 0.03
    assert abs(fates.count(Fate.COMPLETED) / 4000 - 0.5) < 0.03


def test_same_seed_same_draws() -> None:
    """The same seed gives the same durations and outcomes."""
    duration = Duration(dist="lognormal", median_s=5, sigma=1)
    first = [draw_duration(duration, random.Random(9)) for _ in range(3)]
    assert first == [draw_duration(duration, random.Random(9)) for _ in range(3)]
    assert resume_plan(77, duration, OutcomeRates(failed=0.5)) == resume_plan(
        77, duration, OutcomeRates(failed=0.5)
    )


def test_resume_plan_never_waits_and_fails_at_the_rate() -> None:
    """After input a run fails with probability `failed`, else completes."""
    outcome = OutcomeRates(failed=0.25, waiting_for_input=0.75)
    fails = [resume_plan(seed, Duration(dist="fixed", s=3), outcome)[1] for seed in range(2000)]
    assert abs(sum(fails) / 2000 - 0.25) < 0.04


def test_logs_grow_over_the_run_and_end_with_success() -> None:
    """No entries at the start, tool calls during the run, a flow success entry at the end."""
    run = Run()
    assert logs_at(run, T0, window=5, background_limit_s=2700) == []
    middle = logs_at(run, T0 + 59, window=50, background_limit_s=2700)
    assert middle
    assert all(entry["level"] == "tool_call" for entry in middle)
    assert all(re.fullmatch(r"Agent \d", entry["node_id"]) for entry in middle)
    final = logs_at(run, T0 + 60, window=50, background_limit_s=2700)
    assert len(final) == len(middle) + 1
    assert final[-1] == {
        "time": "2026-06-10 00:11:00",
        "level": "info",
        "node_id": "flow",
        "message": "Graph execution completed",
        "status": "success",
        "user_logs_type": "",
    }


def test_logs_are_windowed_and_time_formatted() -> None:
    """Only the last `window` entries are returned, each with the six fields and UTC time."""
    run = Run(pause_at=T0 + 30, end_at=T0 + 80, resumed_at=T0 + 50, input_message="ok")
    logs = logs_at(run, T0 + 100, window=3, background_limit_s=2700)
    assert len(logs) == 3
    for entry in logs:
        assert set(entry) == {"time", "level", "node_id", "message", "status", "user_logs_type"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry["time"])
    assert logs[-1]["status"] == "success"
    assert logs == logs_at(run, T0 + 100, window=100, background_limit_s=2700)[-3:]


def test_waiting_and_resume_entries() -> None:
    """A pause shows a waiting_for_input entry; a resume adds an input entry and new steps."""
    run = Run(pause_at=T0 + 30, end_at=INF)
    waiting = logs_at(run, T0 + 40, window=50, background_limit_s=2700)
    assert waiting[-1]["status"] == "waiting_for_input"
    assert (waiting[-1]["node_id"], waiting[-1]["level"]) == ("flow", "info")
    run.resumed_at, run.end_at, run.input_message = T0 + 50, T0 + 70, "fine"
    resumed = logs_at(run, T0 + 69, window=50, background_limit_s=2700)
    assert resumed[: len(waiting)] == waiting
    assert resumed[len(waiting)]["message"] == "Input received"
    assert resumed[-1]["level"] == "tool_call"


def test_failed_run_logs_and_error() -> None:
    """A failed run ends with a flow/error/failed entry carrying its non-empty error."""
    run = Run(ending=Ending.FAILED)
    error = error_message(run.seed, Ending.FAILED, 2700)
    assert re.fullmatch(r"Agent \d failed: .+", error)
    last = logs_at(run, T0 + 60, window=5, background_limit_s=2700)[-1]
    assert (last["node_id"], last["level"], last["status"], last["message"]) == (
        "flow",
        "error",
        "failed",
        error,
    )


def test_limit_error_names_the_limit() -> None:
    """A run stopped by the background limit has an error naming 2700 s (A2)."""
    assert "2700 s" in error_message(5, Ending.LIMIT, 2700)


def test_completed_response_keeps_user_variables_over_captured_ones() -> None:
    """The result holds workflow_id, every user variable (winning name clashes) and a capture."""
    run = Run(user_variables={"summary": "mine", "k": [1, 2]})
    response = completed_response(run)
    assert response["workflow_id"] == "wf-1"
    assert response["summary"] == "mine"
    assert response["k"] == [1, 2]
    plain = completed_response(Run())
    assert "summary" in plain
    assert set(plain) <= {"workflow_id", "summary", "agent_output"}


def test_resumed_response_mentions_the_input() -> None:
    """A run resumed with input captures that input in `agent_output`."""
    response = completed_response(Run(input_message="approved"))
    assert response["agent_output"] == "Continued after input: approved"
