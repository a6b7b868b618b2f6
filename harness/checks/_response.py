"""The built-in response checks: one answer (`Exchange`) against invariants 1, 3-5 and 7-9.

Each check looks only at its own field and returns early when an earlier check's subject
(a missing or mistyped field) makes it moot, so one fault is reported once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._exceptions import ContractViolation
from .._models import Endpoint, Exchange, RunStatus
from ._registry import CheckContext, Severity, check, header, missing_variables

__all__ = [
    "ENVELOPE_ENDPOINTS",
    "UNAUTHORIZED_BODY",
    "client_error_detail",
    "completed_response",
    "envelope_fields",
    "error_matches_status",
    "json_content_type",
    "log_entry_shape",
    "log_window",
    "no_server_error",
    "start_pending",
    "status_value",
    "sync_final_status",
    "sync_within_limit",
    "unauthorized_body",
    "unauthorized_refused",
    "workflow_id_expected",
]

ENVELOPE_ENDPOINTS = frozenset({Endpoint.SYNC, Endpoint.START, Endpoint.STATUS})
KNOWN_STATUSES = frozenset(RunStatus)
UNAUTHORIZED_BODY = {"detail": "Invalid authentication credentials"}
_LOG_FIELDS = ("time", "level", "node_id", "message", "status", "user_logs_type")
_LOG_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_ENVELOPE_TYPES: Mapping[str, tuple[type, ...]] = {
    "workflow_id": (str,),
    "response": (dict,),
    "status": (str,),
    "logs": (list,),
    "requires_input": (bool,),
    "error": (str, type(None)),
}


def _envelope_body(exchange: Exchange) -> dict[str, Any] | None:
    """The JSON object of a 2xx answer, None for any other answer."""
    code = exchange.status_code
    if code is None or not 200 <= code < 300:
        return None
    body = exchange.json()
    return body if isinstance(body, dict) else None


def _fail(title: str, message: str, exchange: Exchange, severity: Severity) -> ContractViolation:
    return ContractViolation(title, message, severity=severity, evidence=(exchange,))


@check(title="Envelope has six typed fields", invariant=1, endpoints=ENVELOPE_ENDPOINTS)
def envelope_fields(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 1: a 2xx answer of E1-E3 is a JSON object with the six typed envelope fields."""
    code = exchange.status_code
    if code is None or not 200 <= code < 300:
        return
    body = exchange.json()
    if not isinstance(body, dict):
        raise _fail("Envelope is not a JSON object", "2xx body", exchange, Severity.CRITICAL)
    wrong = [
        f"{field} missing" if field not in body else f"{field} is {type(body[field]).__name__}"
        for field, types in _ENVELOPE_TYPES.items()
        if field not in body or not isinstance(body[field], types)
    ]
    if wrong:
        raise _fail("Envelope fields wrong", "; ".join(wrong), exchange, Severity.CRITICAL)


@check(title="JSON content type on every body", invariant=1)
def json_content_type(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariants 1 and 7: a 2xx or 4xx answer with a body declares a JSON content type.

    413 and 429 may come from infrastructure in front of the API (A7, A8); a 5xx is already
    a finding of `no_server_error` (E1's 504, A1, may come from a gateway).
    """
    code = exchange.status_code
    if code is None or not exchange.response_body or not (200 <= code < 300 or 400 <= code < 500):
        return
    if code in (413, 429):
        return
    content_type = (header(exchange.response_headers, "content-type") or "").lower()
    media_type = content_type.split(";", 1)[0].strip()
    if media_type != "application/json" and not media_type.endswith("+json"):
        message = f"HTTP {exchange.status_code} answered Content-Type {content_type or 'none'!r}"
        raise _fail("Body is not JSON", message, exchange, Severity.MEDIUM)


@check(title="Status is a known value", invariant=1, endpoints=ENVELOPE_ENDPOINTS)
def status_value(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 1: `status` is pending, completed, failed or waiting_for_input."""
    body = _envelope_body(exchange)
    status = body.get("status") if body else None
    if isinstance(status, str) and status not in KNOWN_STATUSES:
        raise _fail("Unknown status", f"status {status!r}", exchange, Severity.HIGH)


@check(title="error is set exactly when failed", invariant=3, endpoints=ENVELOPE_ENDPOINTS)
def error_matches_status(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 3: `error` is null unless failed, and a non-empty string when failed."""
    body = _envelope_body(exchange)
    if not body or "error" not in body:
        return
    status, error = body.get("status"), body["error"]
    if status == RunStatus.FAILED and not (isinstance(error, str) and error.strip()):
        raise _fail("Failed without error", f"error is {error!r}", exchange, Severity.HIGH)
    if status != RunStatus.FAILED and error is not None:
        message = f"status {status!r} carries error {error!r}"
        raise _fail("Error on a run that did not fail", message, exchange, Severity.HIGH)


@check(title="Log entries are well formed", invariant=1, endpoints=ENVELOPE_ENDPOINTS)
def log_entry_shape(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 1: each log entry has six string fields and a "YYYY-MM-DD HH:MM:SS" time."""
    body = _envelope_body(exchange)
    logs = body.get("logs") if body else None
    if not isinstance(logs, list):
        return
    problems = [
        f"logs[{index}]: {problem}"
        for index, entry in enumerate(logs)
        for problem in _log_entry_problems(entry)
    ]
    if problems:
        raise _fail("Malformed log entries", "; ".join(problems), exchange, Severity.MEDIUM)


def _log_entry_problems(entry: object) -> list[str]:
    if not isinstance(entry, dict):
        return [f"is {type(entry).__name__}, not an object"]
    problems = [
        f"{field} missing" if field not in entry else f"{field} is {type(entry[field]).__name__}"
        for field in _LOG_FIELDS
        if not isinstance(entry.get(field), str)
    ]
    time = entry.get("time")
    if isinstance(time, str) and not _is_log_time(time):
        problems.append(f"time {time!r} is not YYYY-MM-DD HH:MM:SS")
    return problems


@functools.lru_cache(maxsize=4096)
def _is_log_time(value: str) -> bool:
    """A valid `YYYY-MM-DD HH:MM:SS` time (cached: every poll of a run repeats its log times)."""
    if not _LOG_TIME.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # the docs give no zone
    except ValueError:
        return False
    return True


@check(title="Log window within the configured size", endpoints=ENVELOPE_ENDPOINTS)
def log_window(ctx: CheckContext, exchange: Exchange) -> None:
    """A11 on the mock: `logs` never holds more entries than the configured window."""
    body = _envelope_body(exchange)
    logs = body.get("logs") if body else None
    if ctx.log_window is not None and isinstance(logs, list) and len(logs) > ctx.log_window:
        message = f"{len(logs)} log entries, window is {ctx.log_window}"
        raise _fail("Log window exceeded", message, exchange, Severity.LOW)


@check(title="E1 answers a final status", invariant=4, endpoints={Endpoint.SYNC})
def sync_final_status(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 4: a 2xx answer of E1 is completed, failed or waiting_for_input, never pending."""
    body = _envelope_body(exchange)
    status = body.get("status") if body else None
    if status == RunStatus.PENDING:
        raise _fail("E1 answered pending", "status 'pending'", exchange, Severity.HIGH)


@check(title="E1 answers within the sync limit", invariant=9, endpoints={Endpoint.SYNC})
def sync_within_limit(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 9: E1 answers (anything, the A1 error included) within the limit plus slack."""
    allowed = ctx.sync_limit_s + ctx.network_slack_s
    if exchange.elapsed_s > allowed:
        answered = "no answer" if exchange.status_code is None else f"HTTP {exchange.status_code}"
        message = f"{answered} after {exchange.elapsed_s:.1f} s, allowed {allowed:.1f} s"
        raise _fail("E1 too slow", message, exchange, Severity.HIGH)


@check(title="E2 answers pending with no result", invariant=2, endpoints={Endpoint.START})
def start_pending(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 2 (E2 row): E2 answers status pending, response {} and logs []."""
    body = _envelope_body(exchange)
    if body is None:
        return
    wrong = [
        f"{field} is {body.get(field)!r}, expected {expected!r}"
        for field, expected in (("status", "pending"), ("response", {}), ("logs", []))
        if body.get(field) != expected
    ]
    if wrong:
        raise _fail("E2 did not answer pending", "; ".join(wrong), exchange, Severity.HIGH)


@check(title="Completed response holds id and variables", invariant=5, endpoints=ENVELOPE_ENDPOINTS)
def completed_response(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 5: a completed `response` holds the workflow_id and the expected variables."""
    body = _envelope_body(exchange)
    if not body or body.get("status") != RunStatus.COMPLETED:
        return
    response = body.get("response")
    if not isinstance(response, dict):
        return
    problems = []
    if response.get("workflow_id") != body.get("workflow_id"):
        problems.append(f"response.workflow_id is {response.get('workflow_id')!r}")
    problems += missing_variables(response, ctx.expected_user_variables or {})
    if problems:
        message = "; ".join(problems)
        raise _fail("Completed response incomplete", message, exchange, Severity.HIGH)


@check(title="Answer is about the requested run", invariant=6, endpoints=ENVELOPE_ENDPOINTS)
def workflow_id_expected(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 6: when the run is known, the envelope's workflow_id is that run's."""
    body = _envelope_body(exchange)
    if ctx.expected_workflow_id is None or not body or "workflow_id" not in body:
        return
    if body["workflow_id"] != ctx.expected_workflow_id:
        message = f"asked for {ctx.expected_workflow_id!r}, got {body['workflow_id']!r}"
        raise _fail("Answer about another run", message, exchange, Severity.CRITICAL)


@check(title="No 5xx answer", invariant=7)
def no_server_error(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 7: no request gets a 5xx (E1's 504 is the A1 sync-limit answer, allowed)."""
    code = exchange.status_code
    endpoint = ctx.endpoint if ctx.endpoint is not None else exchange.endpoint
    if code is None or code < 500 or (code == 504 and endpoint is Endpoint.SYNC):
        return
    body = exchange.response_body[:200].decode("utf-8", "replace")
    raise _fail("Server error", f"HTTP {code}: {body}", exchange, Severity.CRITICAL)


@check(title="4xx answers carry a detail", invariant=7)
def client_error_detail(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 7: each 4xx (but 413 and 429, A7/A8) is a JSON object with a non-empty detail."""
    code = exchange.status_code
    if code is None or not 400 <= code < 500 or code in (413, 429):
        return
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    if not (isinstance(detail, str | list) and detail):
        message = f"HTTP {code} body {exchange.response_body[:200]!r}"
        raise _fail("4xx without detail", message, exchange, Severity.MEDIUM)


@check(title="401 body is the documented one", invariant=8, endpoints=ENVELOPE_ENDPOINTS)
def unauthorized_body(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 8: a 401 of E1-E3 is exactly {"detail": "Invalid authentication credentials"}."""
    if exchange.status_code == 401 and exchange.json() != UNAUTHORIZED_BODY:
        message = f"body {exchange.response_body[:200]!r}"
        raise _fail("Unexpected 401 body", message, exchange, Severity.MEDIUM)


@check(title="No valid key, no answer but 401", invariant=8)
def unauthorized_refused(ctx: CheckContext, exchange: Exchange) -> None:
    """Invariant 8: without a valid key E1-E3 answer 401; E4 refuses with a 4xx (A12).

    A 429 is neither: a rate limit in front of the key check (A8) processed nothing, so it
    says nothing about the key (`judge` calls it inconclusive).
    """
    code = exchange.status_code
    endpoint = ctx.endpoint if ctx.endpoint is not None else exchange.endpoint
    if ctx.authorized or code is None or code in (401, 429):
        return
    if endpoint is Endpoint.JIRA and 400 <= code < 500:
        return
    severity = Severity.CRITICAL if 200 <= code < 300 else Severity.HIGH
    message = f"a request without a valid key got HTTP {code}"
    raise _fail("Unauthenticated request not refused", message, exchange, severity)
