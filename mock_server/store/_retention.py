"""Retention (A9): a final run disappears `retention_s` (virtual seconds) after it ended.

Reads check the expiry themselves (`now >= end_at + retention_s`); `purge_due` drops expired
runs from a heap of the runs themselves, ordered by end (`Run.__lt__`; expiry is end + the one
retention, so the order is the same), so nothing is scanned, an idle check is one compare, and
a tracked run costs the heap one pointer.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from ._runs import INF, Run

__all__ = ["Retention"]

_COMPACT_AFTER = 4096
"""Purging more runs than this since the last compaction (and than are left) compacts the map."""


class Retention:
    """The expiry heap over a run map it shares with the store, and the purged count.

    `heap` is a heap of runs ordered by `end_at`: a run is due once `end_at + retention_s` has
    come. A tracked run's `end_at` never changes (the store tracks a run once its end is final),
    so the order holds. The list is never replaced, so its holder may read the head directly.
    Purging keeps the run map's identity (it is compacted in place).

    Args:
        retention_s: how long a final run stays readable, in virtual seconds.
        runs: the store's runs by workflow id; purged runs are deleted from it.
        forget: called with each purged run, to drop it from the store's other indexes.
    """

    __slots__ = (
        "_forget",
        "_latest_end",
        "_runs",
        "_since_compact",
        "heap",
        "purged",
        "retention_s",
    )

    def __init__(
        self, retention_s: float, runs: dict[str, Run], forget: Callable[[Run], None]
    ) -> None:
        self.retention_s = retention_s
        self._runs = runs
        self._forget = forget
        self.heap: list[Run] = []
        self._latest_end = -INF  # the latest end tracked: once due, every entry is
        self.purged = 0
        self._since_compact = 0

    def reset(self) -> None:
        """Forget every expiry and zero the purged count (the caller clears the run map)."""
        self.heap.clear()
        self._latest_end = -INF
        self.purged = 0
        self._since_compact = 0

    def expired(self, run: Run, now: float) -> bool:
        """True when `run` is past its retention at `now` (virtual POSIX seconds)."""
        return now >= run.end_at + self.retention_s

    def admit(self, run: Run, now: float) -> bool:
        """Track a new run's expiry; False, counted as purged, when it is expired already.

        A run started in the past (a cron tick a clock jump passed) may be expired at birth.

        Args:
            run: the new run.
            now: virtual POSIX seconds.
        """
        if self.expired(run, now):
            self.purged += 1
            return False
        self.track(run)
        return True

    def track(self, run: Run) -> None:
        """Schedule `run`'s purge at its end plus the retention; no-op while it has none.

        Called once per run, when its end is known for good: a run started with an end, or a
        waiting run given input (`resume`).
        """
        if run.end_at != INF:
            heapq.heappush(self.heap, run)
            self._latest_end = max(self._latest_end, run.end_at)

    def purge_due(self, now: float, budget: int) -> bool:
        """Delete runs past their retention at `now` (virtual POSIX seconds), at most `budget`
        expiries; True when due expiries are left.

        When every tracked run is due (the latest end is), they are taken from the heap's
        tail, which needs no comparison and keeps the rest a heap.
        """
        heap, runs = self.heap, self._runs
        retention_s = self.retention_s
        every_one_due = self._latest_end + retention_s <= now
        purged = 0
        while heap and heap[0].end_at + retention_s <= now:
            if budget <= 0:
                break
            budget -= 1
            run = heap.pop() if every_one_due else heapq.heappop(heap)
            if runs.get(run.workflow_id) is run:
                del runs[run.workflow_id]
                self._forget(run)
                purged += 1
        self.purged += purged
        self._since_compact += purged
        if self._since_compact > _COMPACT_AFTER and len(runs) < self._since_compact:
            _compact(runs)
            self._since_compact = 0
        return bool(heap) and heap[0].end_at + retention_s <= now


def _compact(runs: dict[str, Run]) -> None:
    """Shrink `runs`'s table in place: a dict never shrinks on deletion, only when rebuilt."""
    kept = dict(runs)
    runs.clear()
    runs.update(kept)
