"""The request journal: the newest `limit` requests, stored column-wise in bounded deques.

One deque per field (not a dict per entry) keeps an entry at a few dozen bytes; queries build
dicts only for the entries they return. Besides the request, an entry keeps the endpoint, the run
status the answer showed (E1-E3), its `Retry-After` and the fault injected (`rule-id:kind`); a
request that got no answer (a connection fault) has status code None.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["JournalFilter", "RequestJournal"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalFilter:
    """Which entries a query keeps; None ignores a field (`faulted`: a fault was injected)."""

    method: str | None = None
    path_prefix: str | None = None
    workflow_id: str | None = None
    status_code: int | None = None
    endpoint: str | None = None
    workspace_id: str | None = None
    faulted: bool | None = None


class RequestJournal:
    """A bounded, column-wise journal of the requests the mock served.

    Args:
        limit: how many of the newest entries are kept (older ones fall off).
    """

    __slots__ = (
        "_endpoint",
        "_fault",
        "_latency",
        "_method",
        "_path",
        "_real",
        "_retry_after",
        "_run_status",
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
        self._status: deque[int | None] = deque(maxlen=limit)
        self._workflow: deque[str | None] = deque(maxlen=limit)
        self._workspace: deque[str | None] = deque(maxlen=limit)
        self._latency: deque[float] = deque(maxlen=limit)
        self._endpoint: deque[str | None] = deque(maxlen=limit)
        self._run_status: deque[str | None] = deque(maxlen=limit)
        self._retry_after: deque[str | None] = deque(maxlen=limit)
        self._fault: deque[str | None] = deque(maxlen=limit)

    def __len__(self) -> int:
        return len(self._method)

    def record(
        self,
        *,
        virtual_time: float,
        real_time: float,
        method: str,
        path: str,
        status_code: int | None,
        workflow_id: str | None,
        workspace_id: str | None,
        latency_s: float,
        endpoint: str | None = None,
        run_status: str | None = None,
        retry_after: str | None = None,
        fault: str | None = None,
    ) -> None:
        """Append one request; the oldest entry falls off when the journal is full.

        Args:
            virtual_time: virtual POSIX seconds the request arrived at.
            real_time: real monotonic seconds it arrived at.
            method: the HTTP method.
            path: the URL path.
            status_code: the code answered; None when no answer was sent (a connection fault).
            workflow_id: the run it concerns, if any.
            workspace_id: the workspace of its path, if any.
            latency_s: real seconds from arrival to the end of the answer.
            endpoint: `E1`-`E4`, or None for other paths.
            run_status: the run status the answer showed (E1-E3).
            retry_after: the `Retry-After` header of a refusal.
            fault: the fault injected, as `rule-id:kind`.
        """
        self._virtual.append(virtual_time)
        self._real.append(real_time)
        self._method.append(method)
        self._path.append(path)
        self._status.append(status_code)
        self._workflow.append(workflow_id)
        self._workspace.append(workspace_id)
        self._latency.append(latency_s)
        self._endpoint.append(endpoint)
        self._run_status.append(run_status)
        self._retry_after.append(retry_after)
        self._fault.append(fault)

    def clear(self) -> None:
        """Forget every entry."""
        for column in self._columns():
            column.clear()

    def _matching(self, filters: JournalFilter) -> Iterator[int]:
        wanted_method = filters.method.upper() if filters.method is not None else None
        rows = zip(
            self._method,
            self._path,
            self._workflow,
            self._status,
            self._endpoint,
            self._workspace,
            self._fault,
            strict=True,
        )
        for index, (method, path, workflow, status, endpoint, workspace, fault) in enumerate(rows):
            if (
                (wanted_method is not None and method != wanted_method)
                or (filters.path_prefix is not None and not path.startswith(filters.path_prefix))
                or (filters.workflow_id is not None and workflow != filters.workflow_id)
                or (filters.status_code is not None and status != filters.status_code)
                or (filters.endpoint is not None and endpoint != filters.endpoint)
                or (filters.workspace_id is not None and workspace != filters.workspace_id)
                or (filters.faulted is not None and (fault is not None) != filters.faulted)
            ):
                continue
            yield index

    def count(self, **filters: Any) -> int:
        """How many kept entries match every given filter (see `JournalFilter`)."""
        return sum(1 for _ in self._matching(JournalFilter(**filters)))

    def query(self, *, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """The matching entries, oldest first; with `limit`, only the newest `limit` of them.

        Args:
            limit: keep only the newest `limit` matches.
            filters: `JournalFilter` fields.
        """
        indexes = list(self._matching(JournalFilter(**filters)))
        if limit is not None:
            indexes = indexes[len(indexes) - limit :] if limit else []
        # Random access into a deque walks it; copy each column once instead.
        (
            virtual,
            real,
            methods,
            paths,
            statuses,
            workflows,
            workspaces,
            latencies,
            endpoints,
            run_statuses,
            retry_afters,
            faults,
        ) = (list(column) for column in self._columns())
        return [
            {
                "time": datetime.fromtimestamp(virtual[i], UTC).isoformat(),
                "virtual_time": virtual[i],
                "real_time": real[i],
                "method": methods[i],
                "path": paths[i],
                "endpoint": endpoints[i],
                "status_code": statuses[i],
                "workflow_id": workflows[i],
                "workspace_id": workspaces[i],
                "run_status": run_statuses[i],
                "retry_after": retry_afters[i],
                "fault": faults[i],
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
            self._endpoint,
            self._run_status,
            self._retry_after,
            self._fault,
        )
