"""The request journal: the newest requests, bounded in count and in bytes, stored column-wise.

One deque per field (not a dict per entry) keeps an entry at a few dozen bytes; queries build
dicts only for the entries they return. Besides the request, an entry keeps the endpoint, the run
status the answer showed (E1-E3), its `Retry-After` and the fault injected (`rule-id:kind`); a
request that got no answer (a connection fault) has status code None, and one whose client went
away before the answer was sent has status code None and `client_disconnected` true.

Text a client chooses (the path, the ids read from it, the method) is kept only up to
`MAX_PATH_CHARS` / `MAX_FIELD_CHARS` characters; an entry that was cut says so in `truncated`
(`{"path": <original length>, ...}`), so a flood of long paths costs at most
`journal_max_bytes` (and a query answer stays as small).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENTRY_OVERHEAD_BYTES",
    "MAX_FIELD_CHARS",
    "MAX_PATH_CHARS",
    "JournalFilter",
    "RequestJournal",
]

MAX_PATH_CHARS = 1024
"""The longest path the journal keeps; longer ones are cut (and the cut recorded)."""
MAX_FIELD_CHARS = 128
"""The longest method or id (read from the path) the journal keeps."""
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""The journal's default budget (`[mock] journal_max_bytes`), in estimated bytes."""
ENTRY_OVERHEAD_BYTES = 320
"""Estimated bytes of one entry besides the characters of its text fields."""


def _clip_request(
    method: str, path: str, workflow_id: str | None, workspace_id: str | None
) -> tuple[str, str, str | None, str | None, dict[str, int]]:
    """The client's text fields cut to their limits, and `{field: original length}` of the cuts."""
    cuts: dict[str, int] = {}

    def cut(name: str, value: str, limit: int) -> str:
        if len(value) <= limit:
            return value
        cuts[name] = len(value)
        return value[:limit]

    return (
        cut("method", method, MAX_FIELD_CHARS),
        cut("path", path, MAX_PATH_CHARS),
        None if workflow_id is None else cut("workflow_id", workflow_id, MAX_FIELD_CHARS),
        None if workspace_id is None else cut("workspace_id", workspace_id, MAX_FIELD_CHARS),
        cuts,
    )


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
    """A column-wise journal of the requests the mock served, bounded in count and bytes.

    Args:
        limit: how many of the newest entries are kept (older ones fall off).
        max_bytes: the estimated bytes the entries may take (`ENTRY_OVERHEAD_BYTES` plus the
            characters of their text fields); the oldest fall off beyond it.

    Raises:
        ValueError: `limit` is negative or `max_bytes` is below one entry's overhead.
    """

    __slots__ = (
        "_bytes",
        "_cut",
        "_disconnected",
        "_endpoint",
        "_fault",
        "_latency",
        "_method",
        "_path",
        "_real",
        "_retry_after",
        "_run_status",
        "_size",
        "_status",
        "_virtual",
        "_workflow",
        "_workspace",
        "limit",
        "max_bytes",
    )

    def __init__(self, limit: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if limit < 0:
            raise ValueError(f"Invalid journal limit={limit!r} < 0")
        if max_bytes < ENTRY_OVERHEAD_BYTES:
            raise ValueError(f"Invalid journal max_bytes={max_bytes!r} < {ENTRY_OVERHEAD_BYTES}")
        self.limit = limit
        self.max_bytes = max_bytes
        self._bytes = 0
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
        self._cut: deque[dict[str, int] | None] = deque(maxlen=limit)
        self._disconnected: deque[bool] = deque(maxlen=limit)
        self._size: deque[int] = deque(maxlen=limit)

    def __len__(self) -> int:
        return len(self._method)

    @property
    def size_bytes(self) -> int:
        """The estimated bytes the kept entries take (what `max_bytes` bounds)."""
        return self._bytes

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
        client_disconnected: bool = False,
    ) -> None:
        """Append one request; the oldest entries fall off past the count or byte bound.

        Args:
            virtual_time: virtual POSIX seconds the request arrived at.
            real_time: real monotonic seconds it arrived at.
            method: the HTTP method (cut to `MAX_FIELD_CHARS`).
            path: the URL path (cut to `MAX_PATH_CHARS`).
            status_code: the code answered; None when no answer was sent (a connection fault
                or a client that went away).
            workflow_id: the run it concerns, if any (cut to `MAX_FIELD_CHARS`).
            workspace_id: the workspace of its path, if any (cut to `MAX_FIELD_CHARS`).
            latency_s: real seconds from arrival to the end of the answer.
            endpoint: `E1`-`E4`, or None for other paths.
            run_status: the run status the answer showed (E1-E3).
            retry_after: the `Retry-After` header of a refusal (the mock's own, short).
            fault: the fault injected, as `rule-id:kind` (rule ids are at most 64 characters).
            client_disconnected: the client went away before the answer was sent.
        """
        cuts: dict[str, int] | None = None
        if (
            len(path) > MAX_PATH_CHARS
            or len(method) > MAX_FIELD_CHARS
            or (workflow_id is not None and len(workflow_id) > MAX_FIELD_CHARS)
            or (workspace_id is not None and len(workspace_id) > MAX_FIELD_CHARS)
        ):
            method, path, workflow_id, workspace_id, cuts = _clip_request(
                method, path, workflow_id, workspace_id
            )
        size = ENTRY_OVERHEAD_BYTES + len(path) + len(workflow_id or "") + len(workspace_id or "")
        sizes = self._size
        if len(sizes) == self.limit:
            if not self.limit:
                return
            self._bytes -= sizes[0]  # the append below drops the oldest entry
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
        self._cut.append(cuts)
        self._disconnected.append(client_disconnected)
        sizes.append(size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        self._bytes -= self._size[0]
        for column in self._columns():
            column.popleft()
        self._size.popleft()

    def clear(self) -> None:
        """Forget every entry."""
        for column in self._columns():
            column.clear()
        self._size.clear()
        self._bytes = 0

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
            cuts,
            disconnected,
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
                "client_disconnected": disconnected[i],
                "truncated": cuts[i],
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
            self._cut,
            self._disconnected,
        )
