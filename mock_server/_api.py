"""The trigger API's handlers (E1, E2, E4), the shared per-app state and request classification.

Request handling order on E1/E2: bearer auth (401), environment (422), key limited to other
environments (401), body (413, 422), store errors (404, 409), then the answer. E4 checks the
environment, reads the body and verifies the Jira signature instead of a bearer key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from ._body import parse_json, read_body
from ._capacity import Capacity
from ._clock import VirtualClock
from ._config import ENVIRONMENTS, Dialect, MockConfig
from ._dialect import ActiveDialect
from ._errors import (
    ApiHTTPError,
    JSONResponse,
    auth_failed,
    detail_error,
    echo_input,
    issue,
    validation_failed,
)
from ._faults import FaultSet, RequestInfo
from ._journal import RequestJournal
from .store import KeyScope, Run, Source, StoreError, TriggerStore

__all__ = [
    "API_PREFIXES",
    "ClockWaiters",
    "MockState",
    "bearer_token",
    "classify_request",
    "jira_start",
    "parse_json",
    "read_body",
    "run_start",
    "run_sync",
    "too_many_requests",
]

API_PREFIXES: tuple[str, ...] = ("", "/api/v1/ai")
_ENUM_MSG = "Input should be 'DEV', 'UAT' or 'PROD'"
_ENUM_CTX = {"expected": "'DEV', 'UAT' or 'PROD'"}
_NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


class ClockWaiters:
    """Wakes coroutines waiting for virtual time whenever the clock changes (any thread)."""

    def __init__(self, clock: VirtualClock) -> None:
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        clock.subscribe(self.wake)

    def wake(self) -> None:
        """Wake every waiting coroutine (each then looks at the clock again)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, event in list(self._waiting):
            if loop is running:
                event.set()
            else:
                with contextlib.suppress(RuntimeError):  # that loop has closed
                    loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float | None) -> None:
        """Return after `timeout` real seconds (None: no limit) or at the next clock change."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        self._waiting.add(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry[1].wait(), timeout)
        finally:
            self._waiting.discard(entry)


@dataclass(slots=True, kw_only=True)
class MockState:
    """Everything one app instance serves from; injected, never global."""

    config: MockConfig
    clock: VirtualClock
    store: TriggerStore
    journal: RequestJournal
    real_time: Callable[[], float]
    waiters: ClockWaiters
    faults: FaultSet
    capacity: Capacity
    dialect: ActiveDialect
    """The dialect in force (`[mock.dialect]`, changed through `/__admin/dialect`)."""
    admin_token: str | None = None
    request_counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)
    """Requests whose client went away before the answer, by endpoint."""
    closing: bool = False
    """Set when the server shuts down: requests waiting for virtual time answer 503."""

    def begin_shutdown(self) -> None:
        """Make every request waiting for virtual time (E1) answer 503 now, and later ones too."""
        self.closing = True
        self.waiters.wake()

    async def catch_up(self) -> None:
        """Bring the store up to now in bounded steps (`TriggerStore.catch_up_some`), yielding
        to the event loop between them, so a clock jump past many ticks never blocks it."""
        store = self.store
        while store.catch_up_some():
            await asyncio.sleep(0)

    async def wait_until(self, when: float) -> None:
        """Wait (without polling) until the virtual clock reaches `when` (virtual POSIX seconds).

        Wakes at the real delay the clock predicts, or earlier when the clock is moved.

        Raises:
            ApiHTTPError: 503 once the server is shutting down (`begin_shutdown`).
        """
        while self.clock.now() < when:
            if self.closing:
                raise detail_error(503, "The mock is shutting down")
            delay = self.clock.real_delay_until(when)
            await self.waiters.wait(None if delay is None else max(delay, 0.001))


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None when absent or malformed."""
    for name, value in headers:
        if name == b"authorization":
            parts = value.decode("latin-1").split(" ")
            if len(parts) == 2 and parts[0].lower() == "bearer" and parts[1]:
                return parts[1]
            return None
    return None


def _authorize(state: MockState, scope: Scope, workspace_id: str) -> KeyScope:
    """The key's scope in the path's workspace; a refused key raises 401, or the dialect's
    code for another workspace's key (A4, `ActiveDialect.workspace_refused`)."""
    token = bearer_token(scope["headers"])
    key_scope = state.store.key_scope(workspace_id, token)
    if key_scope is None:
        workspace_ids = [workspace.id for workspace in state.config.workspaces]
        raise state.dialect.workspace_refused(
            state.store.key_scope, workspace_ids, workspace_id, token
        )
    return key_scope


def too_many_requests(retry_after_s: int, what: str) -> ApiHTTPError:
    """A 429 with `Retry-After` in whole seconds (A8, the capacity model)."""
    return ApiHTTPError(
        429,
        f"Too many {what}; retry after {retry_after_s} s",
        {"Retry-After": str(retry_after_s)},
    )


def _admit_request(state: MockState, workspace_id: str) -> None:
    refused = state.capacity.admit_request(workspace_id)
    if refused is not None:
        raise too_many_requests(refused, "requests")


def _admit_start(state: MockState, workspace_id: str) -> None:
    if state.capacity.max_background_runs is None:
        return
    active, soonest_end = state.store.active_background_runs(workspace_id)
    free_in = None
    if soonest_end is not None and soonest_end != float("inf"):
        free_in = state.clock.real_delay_until(soonest_end)
    refused = state.capacity.admit_start(workspace_id, active, free_in)
    if refused is not None:
        raise too_many_requests(refused, "concurrent background runs")


def _check_environment(dialect: ActiveDialect, environment: str) -> str:
    """The path's environment as the store knows it (A5: exact upper case unless the dialect
    accepts any case); 422 `enum` for any other."""
    if environment in ENVIRONMENTS:
        return environment
    known = dialect.environment(environment)
    if known not in ENVIRONMENTS:
        raise validation_failed(
            [issue("enum", ("path", "environment"), _ENUM_MSG, echo_input(environment), _ENUM_CTX)]
        )
    return known


def _check_key_environment(key_scope: KeyScope, environment: str) -> None:
    if key_scope.environments is not None and environment not in key_scope.environments:
        raise auth_failed()


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return media_type == "application/json" or (bool(main) and sub.endswith("+json"))


_RUN_BODY_FIELDS = ("message", "user_variables")


def _body_object(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A non-empty E1/E2 body as a JSON object; 422 for another media type or a non-object."""
    if content_type is not None and not _is_json_media_type(content_type):
        raw = body.decode("utf-8", "replace")
        raise validation_failed(
            [issue("model_attributes_type", ("body",), _NOT_AN_OBJECT, echo_input(raw))]
        )
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise validation_failed(
            [issue("model_attributes_type", ("body",), _NOT_AN_OBJECT, echo_input(payload))]
        )
    return payload


def _strictness_problems(payload: dict[str, Any], dialect: Dialect) -> list[dict[str, Any]]:
    """The A7 issues a strict dialect raises: missing `message` / `user_variables` (pydantic's
    `missing`), then each extra field (`extra_forbidden`); none under today's answers."""
    problems = [
        issue("missing", ("body", name), "Field required", echo_input(payload))
        for name, policy in zip(
            _RUN_BODY_FIELDS, (dialect.missing_message, dialect.missing_user_variables), strict=True
        )
        if policy == "refuse" and name not in payload
    ]
    if dialect.extra_fields == "refuse":
        problems += [
            issue(
                "extra_forbidden",
                ("body", name),
                "Extra inputs are not permitted",
                echo_input(value),
            )
            for name, value in payload.items()
            if name not in _RUN_BODY_FIELDS
        ]
    return problems


def _parse_run_body(
    body: bytes, content_type: str | None, dialect: Dialect
) -> tuple[str, dict[str, Any]]:
    """`message` and `user_variables` of an E1/E2 body.

    A7 under today's answers: both optional (`""`, `{}`), extra fields ignored, an empty body
    read as `{}`; `dialect` may refuse an empty body (422 `missing` at `["body"]`), a missing
    field or extra fields (`_strictness_problems`).
    """
    if not body and dialect.empty_body == "refuse":
        raise validation_failed([issue("missing", ("body",), "Field required", None)])
    payload = _body_object(body, content_type) if body else {}
    problems = _strictness_problems(payload, dialect)
    message = payload.get("message", "")
    if not isinstance(message, str):
        problems.append(
            issue(
                "string_type",
                ("body", "message"),
                "Input should be a valid string",
                echo_input(message),
            )
        )
    user_variables = payload.get("user_variables", {})
    if not isinstance(user_variables, dict):
        problems.append(
            issue(
                "dict_type",
                ("body", "user_variables"),
                "Input should be a valid dictionary",
                echo_input(user_variables),
            )
        )
    if problems:
        raise validation_failed(problems)
    return message, user_variables


Handler = Callable[[MockState, Request], Awaitable[Response]]


def api_endpoint(name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap `handler` as a Starlette endpoint: catch-up first, errors mapped to JSON answers."""

    async def endpoint(request: Request) -> Response:
        request.scope["mock.endpoint"] = name
        state: MockState = request.app.state
        await state.catch_up()
        try:
            return await handler(state, request)
        except ApiHTTPError as exc:
            return exc.response()
        except StoreError as exc:
            status_code, detail = state.dialect.store_error(exc)
            return JSONResponse({"detail": detail}, status_code)

    return endpoint


def _answer(state: MockState, request: Request, run: Run, status_code: int = 200) -> JSONResponse:
    """The run's envelope now, as the dialect writes it (wire id, extra fields)."""
    envelope = state.store.envelope(run)
    if not state.dialect.plain:
        envelope = state.dialect.envelope(envelope)
    request.scope["mock.workflow_id"] = envelope["workflow_id"]
    request.scope["mock.run_status"] = envelope["status"]
    return JSONResponse(envelope, status_code)


def _idempotency_key(state: MockState, request: Request, *path: str) -> tuple[str, ...] | None:
    """`(workspace, trigger, environment, key)` of an E2 honouring `Idempotency-Key` (A14)."""
    if state.dialect.dialect.idempotency != "key":
        return None
    key = request.headers.get("idempotency-key")
    return None if key is None else (*path, key)


def _replay(state: MockState, scope_key: tuple[str, ...], body: bytes) -> Run | None:
    """The run an earlier request with the same idempotency key started, if still kept.

    Raises:
        ApiHTTPError: 422 when the key was used with a different body.
    """
    workflow_id = state.dialect.replayed(scope_key, body)
    if workflow_id is None:
        return None
    run = state.store.run_record(workflow_id)
    if run is None:
        state.dialect.forget(scope_key)
    return run


async def _start_from_request(state: MockState, request: Request, *, sync: bool) -> Run:
    workspace_id = request.path_params["workspace_id"]
    trigger_id = request.path_params["trigger_id"]
    key_scope = _authorize(state, request.scope, workspace_id)
    _admit_request(state, workspace_id)
    environment = _check_environment(state.dialect, request.path_params["environment"])
    _check_key_environment(key_scope, environment)
    body = await read_body(request, state.config.mock.max_body_bytes)
    message, user_variables = _parse_run_body(
        body, request.headers.get("content-type"), state.dialect.dialect
    )
    idempotency = None
    if not sync:
        state.store.triggers.check(workspace_id, trigger_id, environment)
        idempotency = _idempotency_key(state, request, workspace_id, trigger_id, environment)
        replayed = None if idempotency is None else _replay(state, idempotency, body)
        if replayed is not None:
            return replayed
        _admit_start(state, workspace_id)
    run = state.store.start_run(
        workspace_id=workspace_id,
        trigger_id=trigger_id,
        environment=environment,
        message=message,
        user_variables=user_variables,
        source=Source.API,
        sync=sync,
    )
    if idempotency is not None:
        state.dialect.remember(idempotency, body, run.workflow_id)
    return run


async def _run_start(state: MockState, request: Request) -> Response:
    run = await _start_from_request(state, request, sync=False)
    return _answer(state, request, run, state.dialect.dialect.e2_status)


async def _until_disconnect(receive: Receive) -> None:
    """Return when the client has gone away (the body is read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _wait_unless_disconnected(state: MockState, request: Request, when: float) -> None:
    """Wait until virtual time `when`, unless the client goes away first.

    Raises:
        ClientDisconnect: the client went away while E1 waited (nothing is answered then).
        ApiHTTPError: 503 when the server shuts down meanwhile.
    """
    waiting = asyncio.ensure_future(state.wait_until(when))
    gone = asyncio.ensure_future(_until_disconnect(request.receive))
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, gone):
            task.cancel()
    if not waiting.done() or waiting.cancelled():
        raise ClientDisconnect
    waiting.result()


async def _run_sync(state: MockState, request: Request) -> Response:
    run = await _start_from_request(state, request, sync=True)
    request.scope["mock.workflow_id"] = state.dialect.codec.encode(run.workflow_id)
    limit = state.store.sync_limit
    answer_at = limit.answer_time(run)
    await _wait_unless_disconnected(state, request, answer_at)
    await state.catch_up()
    if limit.timed_out(run, answer_at) and run.error_text is None:
        raise detail_error(504, limit.error())
    return _answer(state, request, run)


async def _jira_start(state: MockState, request: Request) -> Response:
    workspace_id = request.path_params["workspace_id"]
    trigger_id = request.path_params["trigger_id"]
    environment = _check_environment(state.dialect, request.path_params["environment"])
    body = await read_body(request, state.config.mock.max_body_bytes)
    signature = request.headers.get("x-hub-signature")
    if not state.store.verify_jira_signature(workspace_id, trigger_id, body, signature):
        raise state.dialect.jira_refused()
    _admit_request(state, workspace_id)
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise validation_failed(
            [issue("model_attributes_type", ("body",), _NOT_AN_OBJECT, echo_input(payload))]
        )
    state.store.triggers.check(workspace_id, trigger_id, environment)
    _admit_start(state, workspace_id)
    run = state.store.start_run(
        workspace_id=workspace_id,
        trigger_id=trigger_id,
        environment=environment,
        message="",
        user_variables=payload,
        source=Source.JIRA,
    )
    return _answer(state, request, run, state.dialect.dialect.e4_status)


run_sync = api_endpoint("E1", _run_sync)
run_start = api_endpoint("E2", _run_start)
jira_start = api_endpoint("E4", _jira_start)


def classify_request(method: str, path: str) -> RequestInfo | None:
    """Which API endpoint (E1-E4) a request is for, read from its path; None for others."""
    for prefix in API_PREFIXES:
        base = f"{prefix}/trigger/"
        if path.startswith(base):
            return _classify_segments(method, path[len(base) :].split("/"))
    return None


def _classify_segments(method: str, parts: list[str]) -> RequestInfo | None:
    if not all(parts):
        return None
    if method == "GET":
        if len(parts) == 3 and parts[0] == "status":
            return RequestInfo(method, "E3", parts[1], workflow_id=parts[2])
        return None
    if method != "POST":
        return None
    if len(parts) == 5 and parts[:2] == ["jira", "start"]:
        return RequestInfo(method, "E4", parts[2], trigger_id=parts[3])
    if len(parts) == 4 and parts[0] == "start":
        return RequestInfo(method, "E2", parts[1], trigger_id=parts[2])
    if len(parts) == 3:
        return RequestInfo(method, "E1", parts[0], trigger_id=parts[1])
    return None
