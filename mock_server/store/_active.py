"""Background runs not final yet, per workspace: what the concurrency limit (A8) counts."""

from __future__ import annotations

from ._runs import Run

__all__ = ["ActiveRuns"]

_PRUNE_SLACK = 64


class ActiveRuns:
    """Each workspace's background runs that may still be going on.

    Final runs are pruned when counted, and when a workspace's map has doubled since the last
    prune (plus some slack), so the maps stay about as large as the runs going on.
    """

    __slots__ = ("_by_workspace", "_pruned_at")

    def __init__(self) -> None:
        self._by_workspace: dict[str, dict[str, Run]] = {}
        self._pruned_at = 0

    def clear(self) -> None:
        """Forget every run."""
        self._by_workspace.clear()

    def add(self, run: Run, now: float) -> None:
        """Count a new background run towards its workspace.

        Args:
            run: the run.
            now: virtual POSIX seconds (for the prune it may trigger).
        """
        active = self._by_workspace.setdefault(run.workspace_id, {})
        active[run.workflow_id] = run
        if len(active) > 2 * self._pruned_at + _PRUNE_SLACK:
            self._pruned_at = self.count(run.workspace_id, now)[0]

    def discard(self, run: Run) -> None:
        """Stop counting `run` (no error if it was not counted)."""
        self._by_workspace.get(run.workspace_id, {}).pop(run.workflow_id, None)

    def count(self, workspace_id: str, now: float) -> tuple[int, float | None]:
        """How many of a workspace's background runs are not final at `now`, and the soonest end.

        Args:
            workspace_id: the workspace.
            now: virtual POSIX seconds.

        Returns:
            `(count, soonest end in virtual POSIX seconds)`; the end is None without runs and
            `inf` when every run is waiting for input.
        """
        active = self._by_workspace.get(workspace_id)
        if not active:
            return 0, None
        for workflow_id in [wid for wid, run in active.items() if now >= run.end_at]:
            del active[workflow_id]
        return len(active), min((run.end_at for run in active.values()), default=None)
