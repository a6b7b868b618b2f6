"""The request journal: the newest `limit` requests, stored column-wise in bounded deques.

One deque per field (not a dict per entry) keeps an entry at a few dozen bytes; queries build
dicts only for the entries they return.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["RequestJournal"]


class RequestJournal:
    """A bounded, column-wise journal of the requests the mock served.

    Args:
        limit: how many of the newest entries are kept (older ones fall off).
    """

    __slots__ = (
        "_latency",
        "_method",
        "_path",
        "_real",
        "_status",
        "_virtual",
        "_workflow",
        "_workspace",
        "limit",
    )

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"Invalid journal limit={limit!r} < 0")
        self.limit = limit
        self._virtual: deque[float] = deque(maxlen=limit)
        self._real: deque[float] = deque(maxlen=limit)
        self._method: deque[str] = deque(maxlen=limit)
        self._path: deque[str] = deque(maxlen=limit)
        self._status: deque[int] = deque(maxlen=limit)
        self._workflow: deque[str | None] = deque(maxlen=limit)
        self._workspace: deque[str | None] = deque(maxlen=limit)
        self._latency: deque[float] = deque(maxlen=limit)

    def __len__(self) -> int:
        return len(self._method)

    def record(
        self,
        *,
        virtual_time: float,
        real_time: float,
        method: str,
        path: str,
        status_code: int,
        workflow_id: str | None,
        workspace_id: str | None,
        latency_s: float,
    ) -> None:
        """Append one request; the oldest entry falls off when the journal is full."""
        self._virtual.append(virtual_time)
        self._real.append(real_time)
        self._method.append(method)
        self._path.append(path)
        self._status.append(status_code)
        self._workflow.append(workflow_id)
        self._workspace.append(workspace_id)
        self._latency.append(latency_s)

    def clear(self) -> None:
        """Forget every entry."""
        for column in self._columns():
            column.clear()

    def _matching(
        self, method: str | None, path_prefix: str | None, workflow_id: str | None
    ) -> Iterator[int]:
        wanted_method = method.upper() if method is not None else None
        for index, (entry_method, path, workflow) in enumerate(
            zip(self._method, self._path, self._workflow, strict=True)
        ):
            if wanted_method is not None and entry_method != wanted_method:
                continue
            if path_prefix is not None and not path.startswith(path_prefix):
                continue
            if workflow_id is not None and workflow != workflow_id:
                continue
            yield index

    def count(
        self,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        workflow_id: str | None = None,
    ) -> int:
        """How many kept entries match every given filter."""
        return sum(1 for _ in self._matching(method, path_prefix, workflow_id))

    def query(
        self,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        workflow_id: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The matching entries, oldest first; with `limit`, only the newest `limit` of them."""
        indexes = list(self._matching(method, path_prefix, workflow_id))
        if limit is not None:
            indexes = indexes[len(indexes) - limit :] if limit else []
        # Random access into a deque walks it; copy each column once instead.
        virtual, real, methods, paths, statuses, workflows, workspaces, latencies = (
            list(column) for column in self._columns()
        )
        return [
            {
                "time": datetime.fromtimestamp(virtual[i], UTC).isoformat(),
                "real_time": real[i],
                "method": methods[i],
                "path": paths[i],
                "status_code": statuses[i],
                "workflow_id": workflows[i],
                "workspace_id": workspaces[i],
                "latency_s": latencies[i],
            }
            for i in indexes
        ]

    def _columns(self) -> tuple[deque[Any], ...]:
        return (
            self._virtual,
            self._real,
            self._method,
            self._path,
            self._status,
            self._workflow,
            self._workspace,
            self._latency,
        )
