"""Builders of `Exchange`, `Observation` and `RunHistory` values for the check tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness._models import (
    Endpoint,
    Envelope,
    Exchange,
    LogEntry,
    Observation,
    RunHistory,
    StopReason,
)

__all__ = ["LOG_ENTRY", "WORKFLOW_ID", "body", "exchange", "history", "observation", "poll"]

WORKFLOW_ID = "3f1c2a9e-0000-4000-8000-000000000001"
LOG_ENTRY: dict[str, str] = {
    "time": "2026-06-10 00:10:05",
    "level": "info",
    "node_id": "flow",
    "message": "Graph finished",
    "status": "success",
    "user_logs_type": "",
}
_PATHS = {
    Endpoint.SYNC: "/trigger/acme/summarise/DEV",
    Endpoint.START: "/trigger/start/acme/summarise/DEV",
    Endpoint.STATUS: f"/trigger/status/acme/{WORKFLOW_ID}",
    Endpoint.JIRA: "/trigger/jira/start/acme/summarise/DEV",
}


def body(status: str = "completed", **overrides: Any) -> dict[str, Any]:
    """A valid envelope for `status`, with fields replaced by `overrides`."""
    envelope: dict[str, Any] = {
        "workflow_id": WORKFLOW_ID,
        "response": {"workflow_id": WORKFLOW_ID} if status == "completed" else {},
        "status": status,
        "logs": [dict(LOG_ENTRY)] if status != "pending" else [],
        "requires_input": status == "waiting_for_input",
        "error": "tool crashed" if status == "failed" else None,
    }
    envelope.update(overrides)
    return envelope


def exchange(
    endpoint: Endpoint | None = Endpoint.STATUS,
    status_code: int | None = 200,
    payload: Any = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    request: Any = None,
    path: str | None = None,
    started_at: float = 0.0,
    elapsed_s: float = 0.05,
) -> Exchange:
    """An exchange whose answer is `payload` as JSON (or `raw` bytes)."""
    content = raw if raw is not None else b"" if payload is None else json.dumps(payload).encode()
    default_headers = {"content-type": "application/json"} if content else {}
    return Exchange(
        endpoint=endpoint,
        method="GET" if endpoint is Endpoint.STATUS else "POST",
        url="http://testserver" + (path or _default_path(endpoint)),
        request_headers={"content-type": "application/json"},
        request_body=b"" if request is None else json.dumps(request).encode(),
        started_at=started_at,
        elapsed_s=elapsed_s,
        status_code=status_code,
        response_headers=default_headers if headers is None else headers,
        response_body=content,
        error="connection reset" if status_code is None else None,
    )


def _default_path(endpoint: Endpoint | None) -> str:
    return _PATHS[endpoint] if endpoint is not None else "/trigger/unknown"


def observation(item: Exchange) -> Observation:
    """The observation of `item`, with its envelope when the body is one."""
    data = item.json()
    envelope = None
    if isinstance(data, dict) and item.status_code is not None and item.status_code < 300:
        envelope = Envelope(
            workflow_id=data["workflow_id"],
            response=data["response"],
            status=data["status"],
            logs=tuple(LogEntry(**entry) for entry in data["logs"]),
            requires_input=data["requires_input"],
            error=data["error"],
        )
    return Observation(exchange=item, envelope=envelope)


def poll(
    at: float, status: str | None = "pending", status_code: int = 200, **overrides: Any
) -> Observation:
    """An E3 answer at client time `at`: an envelope for `status`, or a bare code."""
    payload = body(status, **overrides) if status is not None else {"detail": "x"}
    return observation(exchange(Endpoint.STATUS, status_code, payload, started_at=at))


def history(
    *polls: Observation,
    start: Observation | None = None,
    request: Any = None,
    stop_reason: StopReason | None = None,
    deadline_s: float | None = None,
) -> RunHistory:
    """A run started by E2 (pending, sending `request`) and followed by `polls`."""
    if start is None:
        start = observation(exchange(Endpoint.START, 200, body("pending"), request=request))
    finals = [p.envelope for p in polls if p.envelope is not None and p.envelope.is_final]
    return RunHistory(
        workflow_id=WORKFLOW_ID,
        start=start,
        polls=polls,
        final=finals[0] if finals else None,
        stop_reason=stop_reason,
        deadline_s=deadline_s,
    )
