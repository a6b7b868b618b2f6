"""Input resume (A10): a `waiting_for_input` run goes on for a fresh duration, then ends.

The resumed phase is a pure function of the run's seed (`resume_plan`): it never waits again,
and fails with the trigger's `failed` rate. Time spent waiting does not count towards the
background limit, so the phase is cut at the running time the run has left (A2).
"""

from __future__ import annotations

from .._config import TriggerConfig
from .._flows import Ending, resume_plan
from ._exceptions import NotWaitingForInput
from ._runs import WAITING, Run

__all__ = ["resume"]


def resume(
    run: Run, now: float, message: str, trigger: TriggerConfig, background_limit_s: float
) -> None:
    """Resume `run` at `now` with `message`: its new `end_at` and `ending` are set.

    Args:
        run: the run (changed in place).
        now: virtual POSIX seconds of the input.
        message: the input given (shown in the resumed run's result).
        trigger: the run's trigger (its duration distribution and outcome rates).
        background_limit_s: the A2 limit in virtual seconds of running time.

    Raises:
        NotWaitingForInput: the run is not `waiting_for_input` at `now`.
    """
    if run.status_at(now) != WAITING:
        raise NotWaitingForInput
    length, failed = resume_plan(run.seed, trigger.duration, trigger.outcome)
    remaining = background_limit_s - (run.pause_at - run.started_at)
    run.resumed_at = now
    run.input_message = message
    if length > remaining:
        run.end_at, run.ending = now + remaining, Ending.LIMIT
    else:
        run.end_at, run.ending = now + length, Ending.FAILED if failed else Ending.COMPLETED
