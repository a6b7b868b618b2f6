"""Background runs not final yet, per workspace: what the concurrency limit (A8) counts.

Per workspace, the runs with a known end sit in a heap ordered by end (`Run.__lt__`, one
pointer a run), and the runs that will wait for input (end `inf` until input comes) in a map.
Ended runs leave the heap from its head (all at once when the latest end has passed): when
counted, when a run is added, and when the retention purges a run (ended before now, like
every run dropped with it), so the heap never keeps a purged run.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ._runs import INF, Run

__all__ = ["ActiveRuns"]


@dataclass(slots=True)
class _Workspace:
    ending: list[Run] = field(default_factory=list)
    """Runs with a known end, a heap by end; ended ones are popped lazily from the head."""
    latest_end: float = -INF
    """The latest end pushed (once it has passed, the whole heap goes at once)."""
    waiting: dict[str, Run] = field(default_factory=dict)
    """Runs added with no end (they pause for input), by workflow id."""

    def push(self, run: Run) -> None:
        """Add a run with a known end."""
        heapq.heappush(self.ending, run)
        self.latest_end = max(self.latest_end, run.end_at)

    def drop_ended(self, until: float) -> None:
        """Drop the runs that end at or before `until` (virtual POSIX seconds)."""
        ending = self.ending
        if self.latest_end <= until:
            ending.clear()
            return
        while ending and ending[0].end_at <= until:
            heapq.heappop(ending)

    def settle_waiting(self, now: float) -> None:
        """Move the waiting runs given input since to the heap (or drop them if ended)."""
        resumed = [run for run in self.waiting.values() if run.end_at != INF]
        for run in resumed:
            del self.waiting[run.workflow_id]
            if run.end_at > now:
                self.push(run)


class ActiveRuns:
    """Each workspace's background runs that may still be going on."""

    __slots__ = ("_by_workspace",)

    def __init__(self) -> None:
        self._by_workspace: dict[str, _Workspace] = {}

    def clear(self) -> None:
        """Forget every run."""
        self._by_workspace.clear()

    def add(self, run: Run, now: float) -> None:
        """Count a new background run towards its workspace.

        Args:
            run: the run (its `end_at` must not change later unless it is `inf` now).
            now: virtual POSIX seconds (runs ended by then are dropped).
        """
        workspace = self._by_workspace.get(run.workspace_id)
        if workspace is None:
            workspace = self._by_workspace[run.workspace_id] = _Workspace()
        workspace.drop_ended(now)
        if run.end_at == INF:
            workspace.waiting[run.workflow_id] = run
        else:
            workspace.push(run)

    def discard(self, run: Run, now: float) -> None:
        """Stop counting `run`, a final run being purged, and every run of its workspace
        ended by `now` (virtual POSIX seconds)."""
        workspace = self._by_workspace.get(run.workspace_id)
        if workspace is not None:
            workspace.waiting.pop(run.workflow_id, None)
            workspace.drop_ended(now)

    def count(self, workspace_id: str, now: float) -> tuple[int, float | None]:
        """How many of a workspace's background runs are not final at `now`, and the soonest end.

        Args:
            workspace_id: the workspace.
            now: virtual POSIX seconds.

        Returns:
            `(count, soonest end in virtual POSIX seconds)`; the end is None without runs and
            `inf` when every run is waiting for input.
        """
        workspace = self._by_workspace.get(workspace_id)
        if workspace is None:
            return 0, None
        workspace.settle_waiting(now)
        workspace.drop_ended(now)
        ending, waiting = workspace.ending, workspace.waiting
        if not ending and not waiting:
            return 0, None
        return len(ending) + len(waiting), ending[0].end_at if ending else INF
