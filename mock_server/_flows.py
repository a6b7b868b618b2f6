"""What a mock run does, as pure functions of a seed: duration, outcome, logs, result, error.

Nothing per log entry is stored: a run's logs are regenerated at read time from its seed and its
timeline (`started_at`, `pause_at`, `resumed_at`, `end_at`), showing only entries whose time has
come. Each phase of a run (before a pause, after a resume) has 2-5 `tool_call`/`running` entries
from nodes `Agent 1..N`, spread evenly over the phase; the phase ends with a `flow` entry:
`info`/`success` "Graph execution completed", `error`/`failed` carrying the error, or
`info`/`waiting_for_input`. A resume adds a `flow`/`info`/`running` "Input received" entry.
"""

from __future__ import annotations

import math
import random
import time
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import Any, Protocol

from ._config import Duration, OutcomeRates

__all__ = [
    "MIN_DURATION_S",
    "Ending",
    "Fate",
    "RunTimeline",
    "completed_response",
    "draw_duration",
    "draw_outcome",
    "error_message",
    "logs_at",
    "resume_plan",
]

MIN_DURATION_S = 0.001
"""Every drawn duration is at least this, so a run just started is always `pending`."""

_RESUME_SALT = 0x5EED_F00D_CAFE
_TOOL_MESSAGES = (
    "Calling tool search_documents",
    "Calling tool fetch_record",
    "Calling tool summarise_text",
    "Calling tool classify_ticket",
    "Calling tool send_notification",
    "Calling tool query_database",
    "Calling tool call_http_api",
    "Calling tool extract_fields",
)
_FAILURE_REASONS = (
    "tool call timed out",
    "model returned an invalid tool call",
    "upstream API answered 502",
    "tool raised an exception",
)
_OUTPUTS = (
    "All checks passed",
    "Report generated",
    "Ticket classified as low priority",
    "No action needed",
)


class Fate(StrEnum):
    """How a run's first phase ends, as drawn from its trigger's `OutcomeRates`."""

    COMPLETED = "completed"
    FAILED = "failed"
    WAITING = "waiting_for_input"


class Ending(IntEnum):
    """How a final run ended."""

    COMPLETED = 0
    FAILED = 1
    LIMIT = 2  # A2: failed at the background limit


class RunTimeline(Protocol):
    """The fields of a run the log and result generators read."""

    workflow_id: str
    seed: int
    message: str
    started_at: float
    pause_at: float
    resumed_at: float
    end_at: float
    ending: int
    input_message: str | None

    @property
    def user_variables(self) -> dict[str, Any]:
        """The run's session variables."""


def draw_duration(duration: Duration, rng: random.Random) -> float:
    """Draw a run duration in virtual seconds (at least `MIN_DURATION_S`).

    Args:
        duration: the trigger's distribution.
        rng: the random source; one or two draws are taken from it.
    """
    if duration.dist == "fixed":
        value = float(duration.s or 0.0)
    elif duration.dist == "uniform":
        value = rng.uniform(duration.min_s or 0.0, duration.max_s or 0.0)
    elif duration.dist == "lognormal":
        value = rng.lognormvariate(math.log(duration.median_s or 1.0), duration.sigma or 0.0)
    else:
        value = rng.expovariate(1.0 / (duration.mean_s or 1.0))
    if duration.dist in ("lognormal", "exponential") and duration.max_s is not None:
        value = min(value, duration.max_s)
    return max(value, MIN_DURATION_S)


def draw_outcome(outcome: OutcomeRates, rng: random.Random) -> Fate:
    """Draw how a run's first phase ends (one draw from `rng`).

    Args:
        outcome: the trigger's probabilities.
        rng: the random source.
    """
    u = rng.random()
    if u < outcome.failed:
        return Fate.FAILED
    if u < outcome.failed + outcome.waiting_for_input:
        return Fate.WAITING
    return Fate.COMPLETED


def resume_plan(seed: int, duration: Duration, outcome: OutcomeRates) -> tuple[float, bool]:
    """Duration and failure of the phase after input, a pure function of the run's seed.

    A resumed run never waits again: it fails with probability `outcome.failed`, else completes.

    Args:
        seed: the run's seed.
        duration: the trigger's distribution.
        outcome: the trigger's probabilities.
    """
    rng = random.Random(seed ^ _RESUME_SALT)
    length = draw_duration(duration, rng)
    return length, rng.random() < outcome.failed


def error_message(seed: int, ending: int, background_limit_s: float) -> str:
    """The `error` of a failed run.

    Args:
        seed: the run's seed.
        ending: an `Ending` value other than COMPLETED.
        background_limit_s: the A2 limit in virtual seconds, named by the error of a run that
            hit it.
    """
    if ending == Ending.LIMIT:
        return f"Run exceeded the background task limit of {background_limit_s:g} s"
    agent = 1 + (seed >> 2) % _agents(seed)
    reason = _FAILURE_REASONS[(seed >> 20) % len(_FAILURE_REASONS)]
    return f"Agent {agent} failed: {reason}"


def completed_response(run: RunTimeline) -> dict[str, Any]:
    """The `response` of a completed run: captured variables, user variables, `workflow_id`.

    User variables win over captured ones of the same name; `workflow_id` is always the run's id.

    Args:
        run: the run.
    """
    seed = run.seed
    response: dict[str, Any] = {"summary": f"Processed the request in {_steps(seed)} steps"}
    if run.input_message is not None:
        response["agent_output"] = f"Continued after input: {run.input_message[:200]}"
    elif seed >> 24 & 1:
        response["agent_output"] = _OUTPUTS[(seed >> 25) % len(_OUTPUTS)]
    response.update(run.user_variables)
    response["workflow_id"] = run.workflow_id
    return response


def logs_at(
    run: RunTimeline, now: float, *, window: int, background_limit_s: float
) -> list[dict[str, str]]:
    """The last `window` log entries of `run` whose time is at or before `now`.

    Args:
        run: the run.
        now: virtual POSIX seconds of the read.
        window: how many entries to return at most (A11).
        background_limit_s: the A2 limit in virtual seconds, for the error of a run that hit it.
    """
    events: list[tuple[float, str, str, str, str]] = []
    seed = run.seed
    first_end = min(run.pause_at, run.end_at)
    _phase_steps(events, seed, phase=0, begin=run.started_at, end=first_end, now=now)
    if first_end <= now:
        if run.pause_at < run.end_at:
            events.append((run.pause_at, "info", "flow", "Waiting for input", "waiting_for_input"))
            if run.resumed_at <= now:
                events.append((run.resumed_at, "info", "flow", "Input received", "running"))
                _phase_steps(events, seed, phase=1, begin=run.resumed_at, end=run.end_at, now=now)
                if run.end_at <= now:
                    events.append(_final_event(run, background_limit_s))
        else:
            events.append(_final_event(run, background_limit_s))
    return [
        {
            "time": log_time(int(at)),
            "level": level,
            "node_id": node,
            "message": message,
            "status": status,
            "user_logs_type": "",
        }
        for at, level, node, message, status in events[-window:]
    ]


@lru_cache(maxsize=16_384)
def log_time(second: int) -> str:
    """A log entry's `time` ("YYYY-MM-DD HH:MM:SS", UTC), cached: E3 renders it on every poll."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))


def _agents(seed: int) -> int:
    return 1 + seed % 3


def _steps(seed: int) -> int:
    return 2 + (seed >> 4) % 4


def _phase_steps(
    events: list[tuple[float, str, str, str, str]],
    seed: int,
    *,
    phase: int,
    begin: float,
    end: float,
    now: float,
) -> None:
    """Append the `tool_call` entries of one phase that are due by `now`."""
    steps = _steps(seed >> phase)
    agents = _agents(seed)
    span = end - begin
    for i in range(steps):
        at = begin + span * (i + 1) / (steps + 1)
        if at > now:
            break
        message = _TOOL_MESSAGES[(seed >> (8 + 3 * i + phase)) % len(_TOOL_MESSAGES)]
        events.append((at, "tool_call", f"Agent {i % agents + 1}", message, "running"))


def _final_event(run: RunTimeline, background_limit_s: float) -> tuple[float, str, str, str, str]:
    if run.ending == Ending.COMPLETED:
        return (run.end_at, "info", "flow", "Graph execution completed", "success")
    error = error_message(run.seed, run.ending, background_limit_s)
    return (run.end_at, "error", "flow", error, "failed")
