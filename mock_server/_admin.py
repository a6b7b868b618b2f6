"""The mock's admin API under `/__admin` (interfaces.md): health, reset, clock, runs, journal,
fault rules (`/__admin/faults`), the dialect (`/__admin/dialect`), a run's request timeline,
triggers' pause, run-now and cron schedule
(`PUT`/`GET`/`DELETE /__admin/triggers/{ws}/{trigger}/cron`) and the metrics page.

When an admin token is set every call needs `Authorization: Bearer <token>`; the comparison is
constant time. State-changing calls answer 200 with a JSON body; errors are `{"detail": ...}`.
Workflow ids (paths, listings, envelopes) are written in the dialect's format, as the API's.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ._api import MockState, bearer_token, parse_json, read_body
from ._clock import format_iso
from ._config import CronSpec, parse_dialect
from ._dialect import ActiveDialect
from ._errors import ApiHTTPError, JSONResponse, auth_failed, detail_error
from ._fault_rules import ENDPOINTS, parse_fault_rule
from ._validate import (
    ConfigError,
    Where,
    ascii_integer,
    choice,
    required,
    show_value,
    string,
    table,
)
from .store import Source, StoreError

__all__ = ["admin_routes"]

_RUN_STATUSES = ("pending", "completed", "failed", "waiting_for_input")
_SOURCES = tuple(source.value for source in Source)
_DEFAULT_REQUEST_LIMIT = 1000
_CRON_KEYS = ("schedule", "timezone", "overlap", "environment", "message", "user_variables")

AdminHandler = Callable[[MockState, Request], Awaitable[Response]]


def _admin_endpoint(
    handler: AdminHandler, *, catch_up: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an admin handler: token check, catch-up (unless the handler reads no state, like
    health, which so answers even while a long catch-up runs), errors mapped to JSON answers."""

    async def endpoint(request: Request) -> Response:
        request.scope["mock.endpoint"] = "admin"
        state: MockState = request.app.state
        try:
            _check_admin_token(state, request)
            if catch_up:
                await state.catch_up()
            return await handler(state, request)
        except ApiHTTPError as exc:
            return exc.response()
        except StoreError as exc:
            return JSONResponse({"detail": exc.detail}, exc.status_code)

    return endpoint


def _check_admin_token(state: MockState, request: Request) -> None:
    if state.admin_token is None:
        return
    presented = bearer_token(request.scope["headers"]) or ""
    if not hmac.compare_digest(presented.encode(), state.admin_token.encode()):
        raise auth_failed()


async def _json_object(state: MockState, request: Request) -> dict[str, Any]:
    """The body as a JSON object, read and parsed with the API's own limits (size: 413;
    nesting depth, NaN, numbers out of range, lone surrogates: 422), before anything changes."""
    body = await read_body(request, state.config.mock.max_body_bytes)
    try:
        payload = parse_json(body or b"{}")
    except ApiHTTPError as exc:
        reason = exc.detail[0]["ctx"]["error"]
        raise detail_error(422, f"Body must be a JSON object: {reason}") from None
    if not isinstance(payload, dict):
        raise detail_error(422, "Body must be a JSON object")
    return payload


def _clock_body(state: MockState) -> dict[str, Any]:
    clock = state.clock
    return {
        "now": format_iso(clock.now()),
        "time_scale": clock.time_scale,
        "frozen": clock.frozen,
    }


async def _health(state: MockState, request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _reset(state: MockState, request: Request) -> Response:
    state.store.reset()
    state.journal.clear()
    state.request_counts.clear()
    state.disconnects.clear()
    state.faults.reset()
    state.capacity.reset()
    state.dialect = _config_dialect(state)
    return JSONResponse({"status": "reset", "clock": _clock_body(state)})


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise detail_error(422, f"Invalid {key}={show_value(value)}: expected a number")
    try:
        return float(value)
    except OverflowError:
        return float("inf")  # refused by the clock, naming its maximum


def _parse_instant(value: Any) -> float:
    bad = detail_error(422, f"Invalid now={show_value(value)}: expected an ISO 8601 string")
    if not isinstance(value, str):
        raise bad
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (ValueError, OverflowError):
        raise bad from None


def _apply_clock_change(state: MockState, key: str, value: Any) -> None:
    """One clock move; the clock refuses values past its documented maxima (`ValueError`)."""
    clock = state.clock
    if key == "advance_s":
        clock.advance(_number(key, value))
    elif key == "now":
        clock.set_now(_parse_instant(value))
    elif key == "time_scale":
        clock.set_time_scale(_number(key, value))
    elif key == "frozen":
        if not isinstance(value, bool):
            raise detail_error(422, f"Invalid frozen={value!r}: expected true or false")
        clock.set_frozen(value)
    else:
        raise detail_error(
            422, f"Unknown clock key {key!r}: use advance_s, now, time_scale or frozen"
        )


async def _post_clock(state: MockState, request: Request) -> Response:
    payload = await _json_object(state, request)
    if len(payload) != 1:
        raise detail_error(
            422, "Body must hold exactly one of advance_s, now, time_scale or frozen"
        )
    ((key, value),) = payload.items()
    try:
        _apply_clock_change(state, key, value)
    except ValueError as exc:
        raise detail_error(422, f"Invalid {key}={show_value(value)}: {exc}") from None
    await state.catch_up()
    return JSONResponse(_clock_body(state))


async def _clock(state: MockState, request: Request) -> Response:
    if request.method == "POST":
        return await _post_clock(state, request)
    return JSONResponse(_clock_body(state))


def _choice(request: Request, key: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(key)
    if value is not None and value not in allowed:
        raise detail_error(
            422, f"Invalid {key}={show_value(value)}: expected one of {', '.join(allowed)}"
        )
    return value


def _config_dialect(state: MockState) -> ActiveDialect:
    """The dialect the server started with (fresh: no idempotency key remembered)."""
    return ActiveDialect(state.config.mock.dialect, state.config.mock.seed)


async def _dialect(state: MockState, request: Request) -> Response:
    """`GET`: the dialect in force; `POST`: merge the body's keys onto it, all validated
    before anything changes (422 naming the key); `DELETE`: back to the config's dialect."""
    if request.method == "POST":
        payload = await _json_object(state, request)
        try:
            dialect = parse_dialect({**state.dialect.dialect.to_json(), **payload})
        except ConfigError as exc:
            raise detail_error(422, str(exc)) from None
        state.dialect = ActiveDialect(dialect, state.config.mock.seed)
    elif request.method == "DELETE":
        state.dialect = _config_dialect(state)
    return JSONResponse(state.dialect.dialect.to_json())


def _store_id(state: MockState, request: Request) -> str:
    """The store's id of the path's `workflow_id` (written in the dialect's format).

    Raises:
        ApiHTTPError: 404 when it is not of the dialect's format.
    """
    store_id = state.dialect.codec.decode(request.path_params["workflow_id"])
    if store_id is None:
        raise detail_error(404, "Workflow not found")
    return store_id


def _run_envelope(state: MockState, envelope: dict[str, Any]) -> JSONResponse:
    return JSONResponse(envelope if state.dialect.plain else state.dialect.envelope(envelope))


async def _runs(state: MockState, request: Request) -> Response:
    status = _choice(request, "status", _RUN_STATUSES)
    source = _choice(request, "source", _SOURCES)
    runs = state.store.list_runs(
        workspace_id=request.query_params.get("workspace_id"),
        trigger_id=request.query_params.get("trigger_id"),
        status=status,
        source=Source(source) if source is not None else None,
    )
    codec = state.dialect.codec
    if not codec.identity:
        for row in runs:
            row["workflow_id"] = codec.encode(row["workflow_id"])
    return JSONResponse({"runs": runs})


async def _run_input(state: MockState, request: Request) -> Response:
    payload = await _json_object(state, request)
    message = payload.get("message", "")
    if not isinstance(message, str):
        raise detail_error(422, f"Invalid message={message!r}: expected a string")
    run = state.store.provide_input(_store_id(state, request), message)
    return _run_envelope(state, state.store.envelope(run))


async def _run_now(state: MockState, request: Request) -> Response:
    run = state.store.run_now(
        request.path_params["workspace_id"], request.path_params["trigger_id"]
    )
    return _run_envelope(state, state.store.envelope(run))


def _pause_handler(paused: bool) -> AdminHandler:
    async def handler(state: MockState, request: Request) -> Response:
        workspace_id = request.path_params["workspace_id"]
        trigger_id = request.path_params["trigger_id"]
        state.store.triggers.set_paused(workspace_id, trigger_id, paused)
        return JSONResponse(
            {"workspace_id": workspace_id, "trigger_id": trigger_id, "paused": paused}
        )

    return handler


def _parse_cron_body(payload: dict[str, Any]) -> CronSpec:
    """A `CronSpec` from a PUT body; a bad key or type raises `ConfigError` naming it."""
    where = Where("cron")
    body = table(payload, where, _CRON_KEYS)
    variables = body.get("user_variables", {})
    if not isinstance(variables, dict):
        raise (where / "user_variables").fail("must be a JSON object", variables)
    environment = body.get("environment")
    return CronSpec(
        schedule=string(required(body, "schedule", where), where / "schedule"),
        timezone=string(body.get("timezone", "UTC"), where / "timezone"),
        overlap="skip"
        if choice(body.get("overlap", "allow"), where / "overlap", ("allow", "skip")) == "skip"
        else "allow",
        environment=None if environment is None else string(environment, where / "environment"),
        message=string(body.get("message", ""), where / "message", nonempty=False),
        user_variables=variables,
    )


def _cron_body(state: MockState, workspace_id: str, trigger_id: str) -> dict[str, Any]:
    status = state.store.triggers.cron_status(workspace_id, trigger_id)
    spec = status.cron
    return {
        "workspace_id": workspace_id,
        "trigger_id": trigger_id,
        "cron": None
        if spec is None
        else {
            "schedule": spec.schedule,
            "timezone": spec.timezone,
            "overlap": spec.overlap,
            "environment": spec.environment,
            "message": spec.message,
            "user_variables": spec.user_variables,
        },
        "paused": status.paused,
        "next_tick": None if status.next_tick is None else format_iso(status.next_tick),
    }


async def _cron(state: MockState, request: Request) -> Response:
    workspace_id = request.path_params["workspace_id"]
    trigger_id = request.path_params["trigger_id"]
    if request.method == "PUT":
        state.store.triggers.get(workspace_id, trigger_id)  # an unknown trigger: 404 first
        payload = await _json_object(state, request)
        try:
            state.store.triggers.set_cron(workspace_id, trigger_id, _parse_cron_body(payload))
        except ConfigError as exc:
            raise detail_error(422, str(exc)) from None
    elif request.method == "DELETE":
        state.store.triggers.remove_cron(workspace_id, trigger_id)
    return JSONResponse(_cron_body(state, workspace_id, trigger_id))


def _query_integer(request: Request, key: str) -> int | None:
    """An integer query parameter: 1 to 18 ASCII digits (`ascii_integer`); None when absent.

    Raises:
        ApiHTTPError: 422 naming the parameter, for any other text.
    """
    text = request.query_params.get(key)
    if text is None:
        return None
    value = ascii_integer(text)
    if value is None:
        raise detail_error(422, f"Invalid {key}={show_value(text)}: expected 1 to 18 ASCII digits")
    return value


def _journal_filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    filters: dict[str, Any] = {
        key: params.get(key) for key in ("method", "path_prefix", "workflow_id", "workspace_id")
    }
    filters["endpoint"] = _choice(request, "endpoint", ENDPOINTS)
    filters["status_code"] = _query_integer(request, "status_code")
    faulted = _choice(request, "faulted", ("true", "false"))
    filters["faulted"] = None if faulted is None else faulted == "true"
    return filters


async def _timeline(state: MockState, request: Request) -> Response:
    workflow_id = request.path_params["workflow_id"]
    store_id = state.dialect.codec.decode(workflow_id)
    run = None if store_id is None else state.store.run_record(store_id)
    rows = state.journal.query(workflow_id=workflow_id)
    if run is None and not rows:
        raise detail_error(404, "Workflow not found")
    summary = None
    if run is not None:
        summary = {
            "workspace_id": run.workspace_id,
            "trigger_id": run.trigger_id,
            "status": run.status_at(state.clock.now()),
            "started_at": format_iso(run.started_at),
        }
    return JSONResponse({"workflow_id": workflow_id, "run": summary, "requests": rows})


async def _faults(state: MockState, request: Request) -> Response:
    if request.method == "POST":
        payload = await _json_object(state, request)
        try:
            rule = state.faults.add(parse_fault_rule(payload, Where("rule")))
        except (ConfigError, ValueError) as exc:
            raise detail_error(422, str(exc)) from None
        return JSONResponse(rule.to_json())
    if request.method == "DELETE":
        return JSONResponse({"removed": state.faults.clear()})
    return JSONResponse({"faults": [rule.to_json() for rule in state.faults.rules()]})


async def _requests(state: MockState, request: Request) -> Response:
    limit = _query_integer(request, "limit")
    entries = state.journal.query(
        **_journal_filters(request), limit=_DEFAULT_REQUEST_LIMIT if limit is None else limit
    )
    return JSONResponse({"requests": entries})


async def _requests_count(state: MockState, request: Request) -> Response:
    return JSONResponse({"count": state.journal.count(**_journal_filters(request))})


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(state: MockState) -> str:
    """The metrics page in Prometheus text exposition format."""
    lines = [
        "# HELP mock_requests_total Requests answered, by endpoint and status code.",
        "# TYPE mock_requests_total counter",
    ]
    for (endpoint, code), count in sorted(state.request_counts.items()):
        lines.append(f'mock_requests_total{{endpoint="{_label(endpoint)}",code="{code}"}} {count}')
    lines += [
        "# HELP mock_client_disconnects_total Requests whose client went away before the answer.",
        "# TYPE mock_client_disconnects_total counter",
    ]
    for endpoint, count in sorted(state.disconnects.items()):
        lines.append(f'mock_client_disconnects_total{{endpoint="{_label(endpoint)}"}} {count}')
    clock = state.clock
    lines += [
        "# HELP mock_journal_entries Requests kept in the journal.",
        "# TYPE mock_journal_entries gauge",
        f"mock_journal_entries {len(state.journal)}",
        "# HELP mock_clock_time_scale Virtual seconds per real second.",
        "# TYPE mock_clock_time_scale gauge",
        f"mock_clock_time_scale {clock.time_scale:g}",
        "# HELP mock_clock_frozen 1 when the virtual clock is frozen.",
        "# TYPE mock_clock_frozen gauge",
        f"mock_clock_frozen {int(clock.frozen)}",
    ]
    lines += ["# HELP mock_faults_injected_total Faults injected, by rule and kind."]
    lines += ["# TYPE mock_faults_injected_total counter"]
    for (rule_id, kind), count in sorted(state.faults.injected.items()):
        lines.append(
            f'mock_faults_injected_total{{rule="{_label(rule_id)}",kind="{kind}"}} {count}'
        )
    lines += ["# HELP mock_rate_limited_total 429 answers, by reason and workspace."]
    lines += ["# TYPE mock_rate_limited_total counter"]
    for (reason, workspace), count in sorted(state.capacity.refused.items()):
        lines.append(
            f'mock_rate_limited_total{{reason="{reason}",workspace="{_label(workspace)}"}} {count}'
        )
    families: dict[str, list[str]] = {}
    for sample, value in sorted(state.store.metrics().items()):
        name = sample if sample.startswith("mock_") else f"mock_{sample}"
        families.setdefault(name.partition("{")[0], []).append(f"{name} {value:.17g}")
    for family, samples in families.items():
        kind = "counter" if family.endswith("_total") else "gauge"
        lines += [f"# TYPE {family} {kind}", *samples]
    return "\n".join(lines) + "\n"


async def _metrics(state: MockState, request: Request) -> Response:
    return PlainTextResponse(prometheus_text(state), media_type="text/plain; version=0.0.4")


def admin_routes() -> list[BaseRoute]:
    """The `/__admin` routes."""
    triggers = "/__admin/triggers/{workspace_id}/{trigger_id}"
    table: list[tuple[str, AdminHandler, list[str]]] = [
        ("/__admin/health", _health, ["GET"]),
        ("/__admin/reset", _reset, ["POST"]),
        ("/__admin/clock", _clock, ["GET", "POST"]),
        ("/__admin/runs", _runs, ["GET"]),
        ("/__admin/runs/{workflow_id}/input", _run_input, ["POST"]),
        ("/__admin/runs/{workflow_id}/timeline", _timeline, ["GET"]),
        ("/__admin/faults", _faults, ["GET", "POST", "DELETE"]),
        ("/__admin/dialect", _dialect, ["GET", "POST", "DELETE"]),
        (f"{triggers}/run-now", _run_now, ["POST"]),
        (f"{triggers}/pause", _pause_handler(True), ["POST"]),
        (f"{triggers}/resume", _pause_handler(False), ["POST"]),
        (f"{triggers}/cron", _cron, ["GET", "PUT", "DELETE"]),
        ("/__admin/requests", _requests, ["GET"]),
        ("/__admin/requests/count", _requests_count, ["GET"]),
        ("/__admin/metrics", _metrics, ["GET"]),
    ]
    return [
        Route(path, _admin_endpoint(handler, catch_up=handler is not _health), methods=methods)
        for path, handler, methods in table
    ]
