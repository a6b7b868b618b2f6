"""The synchronous limit (A1): when E1 stops waiting, and whether it answers past the limit.

E1 waits until its run leaves `pending` (final, or paused for input, A10), at most
`limit_s` virtual seconds. Under the `504` policy a run still pending then keeps going (E1
answers 504); under the `failed` policy it ends `failed` at the limit with the limit's error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._flows import Ending
from ._runs import INF, PENDING, Run

__all__ = ["SyncLimit"]


@dataclass(frozen=True, slots=True)
class SyncLimit:
    """E1's limit of `limit_s` virtual seconds per call."""

    limit_s: float

    def error(self) -> str:
        """The error of a sync call past the limit (A1)."""
        return f"Flow did not finish within the synchronous limit of {self.limit_s:g} s"

    def answer_time(self, run: Run) -> float:
        """Virtual POSIX seconds E1 answers at: the run leaves `pending`, capped at the limit."""
        return min(run.pause_at, run.end_at, run.started_at + self.limit_s)

    def timed_out(self, run: Run, at: float) -> bool:
        """True when E1 answering at `at` (virtual POSIX seconds) meets the limit, run not done.

        Under the `failed` policy that is a run that ended failed at the limit; otherwise a
        run still pending at `at`, past the limit.
        """
        limit_at = run.started_at + self.limit_s
        if run.error_text is not None:
            return at >= run.end_at == limit_at
        return at >= limit_at and run.status_at(at) == PENDING

    def fail_at_limit(self, run: Run) -> bool:
        """Make `run` end `failed` at the limit unless it leaves `pending` by then.

        Call it before the run's expiry is tracked: a tracked end never changes.

        Returns:
            True when the run's end moved to the limit.
        """
        limit_at = run.started_at + self.limit_s
        if min(run.pause_at, run.end_at) <= limit_at:
            return False
        run.pause_at, run.end_at, run.ending = INF, limit_at, Ending.FAILED
        run.error_text = self.error()
        return True
