"""The trigger API's handlers (E1, E2, E4), the shared per-app state and request classification.

Request handling order on E1/E2: bearer auth (401), environment (422), key limited to other
environments (401), body (413, 422), store errors (404, 409), then the answer. E4 checks the
environment, reads the body and verifies the Jira signature instead of a bearer key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from ._capacity import Capacity
from ._clock import VirtualClock
from ._config import ENVIRONMENTS, MockConfig
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
from ._validate import ascii_integer
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
    key_scope = state.store.key_scope(workspace_id, bearer_token(scope["headers"]))
    if key_scope is None:
        raise auth_failed()
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


def _check_environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise validation_failed(
            [issue("enum", ("path", "environment"), _ENUM_MSG, echo_input(environment), _ENUM_CTX)]
        )


def _check_key_environment(key_scope: KeyScope, environment: str) -> None:
    if key_scope.environments is not None and environment not in key_scope.environments:
        raise auth_failed()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to exceed `limit` bytes."""
    too_large = detail_error(413, f"Request body exceeds {limit} bytes")
    declared = request.headers.get("content-length")
    size_declared = ascii_integer(declared) if declared is not None else None
    if size_declared is not None and size_declared > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return media_type == "application/json" or (bool(main) and sub.endswith("+json"))


_MAX_JSON_DEPTH = 512


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_problem(value: Any) -> str | None:
    """Why a parsed body cannot be kept: too deep, or a lone surrogate (iterative walk)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str) and _has_surrogate(item):
            return "lone surrogate in a string"
        if isinstance(item, dict | list):
            if depth > _MAX_JSON_DEPTH:
                return f"nesting deeper than {_MAX_JSON_DEPTH}"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _json_invalid(pos: int, message: str) -> ApiHTTPError:
    return validation_failed(
        [issue("json_invalid", ("body", pos), "JSON decode error", {}, {"error": message})]
    )


def parse_json(body: bytes) -> Any:
    """The body parsed by the stdlib, so integers of any size survive exactly (orjson turns
    those beyond 64 bits into floats); NaN, Infinity, numbers out of float range, invalid
    UTF-8, lone surrogates and nesting deeper than `_MAX_JSON_DEPTH` are refused (422
    `json_invalid`)."""
    try:
        payload = json.loads(
            body.decode("utf-8"), parse_float=_finite_float, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise _json_invalid(exc.pos, exc.msg) from None
    except UnicodeDecodeError as exc:
        raise _json_invalid(exc.start, "invalid UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise _json_invalid(0, str(exc) or type(exc).__name__) from None
    problem = _json_problem(payload)
    if problem is not None:
        raise _json_invalid(0, problem)
    return payload


def _parse_run_body(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]]:
    """`message` and `user_variables` of an E1/E2 body (both optional; extra fields ignored)."""
    if not body:
        return "", {}
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
    problems: list[dict[str, Any]] = []
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
            return JSONResponse({"detail": exc.detail}, exc.status_code)

    return endpoint


def _answer(request: Request, envelope: dict[str, Any]) -> JSONResponse:
    request.scope["mock.workflow_id"] = envelope["workflow_id"]
    request.scope["mock.run_status"] = envelope["status"]
    return JSONResponse(envelope)


async def _start_from_request(state: MockState, request: Request, *, sync: bool) -> Run:
    workspace_id = request.path_params["workspace_id"]
    trigger_id = request.path_params["trigger_id"]
    environment = request.path_params["environment"]
    key_scope = _authorize(state, request.scope, workspace_id)
    _admit_request(state, workspace_id)
    _check_environment(environment)
    _check_key_environment(key_scope, environment)
    body = await read_body(request, state.config.mock.max_body_bytes)
    message, user_variables = _parse_run_body(body, request.headers.get("content-type"))
    if not sync:
        state.store.triggers.check(workspace_id, trigger_id, environment)
        _admit_start(state, workspace_id)
    return state.store.start_run(
        workspace_id=workspace_id,
        trigger_id=trigger_id,
        environment=environment,
        message=message,
        user_variables=user_variables,
        source=Source.API,
        sync=sync,
    )


async def _run_start(state: MockState, request: Request) -> Response:
    run = await _start_from_request(state, request, sync=False)
    return _answer(request, state.store.envelope(run))


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
    request.scope["mock.workflow_id"] = run.workflow_id
    limit = state.store.sync_limit
    answer_at = limit.answer_time(run)
    await _wait_unless_disconnected(state, request, answer_at)
    await state.catch_up()
    if limit.timed_out(run, answer_at) and run.error_text is None:
        raise detail_error(504, limit.error())
    return _answer(request, state.store.envelope(run))


async def _jira_start(state: MockState, request: Request) -> Response:
    workspace_id = request.path_params["workspace_id"]
    trigger_id = request.path_params["trigger_id"]
    environment = request.path_params["environment"]
    _check_environment(environment)
    body = await read_body(request, state.config.mock.max_body_bytes)
    signature = request.headers.get("x-hub-signature")
    if not state.store.verify_jira_signature(workspace_id, trigger_id, body, signature):
        raise auth_failed()
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
    return _answer(request, state.store.envelope(run))


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
