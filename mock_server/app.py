"""The mock's ASGI app: `create_app()` wires the store, clock, journal, routes and fast path.

Layers, outermost first: `MockApp`, the single entry (tags E3, request journal and metrics,
the one 500 guard); then either the E3 fast path (`serve_status`, raw ASGI) or `FaultInjector`
(latency, 5xx and connection faults of the rules in force) over Starlette's `ExceptionMiddleware`
(`HTTPException` as JSON) and `Router` (JSON 404/405, the API under both prefixes, the admin
API and `/openapi.json`). Under a dialect other than today's, API requests also pass the
dialect's layer (`MockApp._dialect_route`: latency, compression, content type). Starlette's
application class is not used: its server-error layer would answer a second 500 inside the
guard. No module globals: all state lives in one `MockState`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._admin import admin_routes
from ._api import (
    API_PREFIXES,
    ClockWaiters,
    MockState,
    classify_request,
    jira_start,
    run_start,
    run_sync,
)
from ._capacity import Capacity
from ._clock import VirtualClock
from ._config import MockConfig, admin_token_problem, demo_config
from ._dialect import ActiveDialect
from ._errors import JSONResponse
from ._fault_rules import preset
from ._faults import FaultInjector, FaultSet
from ._journal import RequestJournal
from ._openapi import openapi_document
from ._status import parse_status_path, serve_status, status_route
from .store import TriggerStore

__all__ = ["MockApp", "create_app"]

logger = logging.getLogger("mock_server")

_ADMIN_PREFIX = "/__admin"


def _api_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for prefix in API_PREFIXES:
        base = f"{prefix}/trigger"
        routes += [
            Route(f"{base}/status/{{workspace_id}}/{{workflow_id}}", status_route, methods=["GET"]),
            Route(
                f"{base}/start/{{workspace_id}}/{{trigger_id}}/{{environment}}",
                run_start,
                methods=["POST"],
            ),
            Route(
                f"{base}/jira/start/{{workspace_id}}/{{trigger_id}}/{{environment}}",
                jira_start,
                methods=["POST"],
            ),
            Route(
                f"{base}/{{workspace_id}}/{{trigger_id}}/{{environment}}",
                run_sync,
                methods=["POST"],
            ),
        ]
    return routes


async def _openapi(request: Request) -> Response:
    request.scope["mock.endpoint"] = "openapi"
    return JSONResponse(openapi_document(request.app.state.config))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


def _internal_error(exc: BaseException) -> JSONResponse:
    return JSONResponse({"detail": f"Process query failed: {type(exc).__name__}"}, 500)


_STATUS_METHODS = ("GET", "HEAD")


class _AnswerTracker:
    """A send wrapper noting the status code and `Retry-After` of the answer it passes on."""

    __slots__ = ("retry_after", "send", "started", "status_code")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False
        self.status_code = 500  # what the journal shows when no answer started
        self.retry_after: str | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status_code = message["status"]
            if self.status_code != 200:
                self.retry_after = _header(message, b"retry-after")
        await self.send(message)


class MockApp:
    """The single entry of every request: tags it (E3 or not), guards it (500), journals it.

    The hot path, a GET on E3 with no fault rule and no status limit in force, is served
    straight by `serve_status`, which returns the code it sent (no send wrapper, no routing).
    Every other request, HEAD on E3 included, goes through `FaultInjector` and the routes,
    with a send wrapper noting the code. Either way an unexpected exception is logged and
    answered 500 `Process query failed: <type>` (unless an answer had started), and the request
    is journalled once (admin calls are only counted).

    Args:
        state: the app's state.
        inner: the routes (JSON 404/405, the API, admin API and OpenAPI) and the lifespan.
    """

    def __init__(self, state: MockState, inner: ASGIApp) -> None:
        self.state = state
        self.inner = inner
        self.routed = FaultInjector(inner, state.faults, state.clock.now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        state = self.state
        started_real = state.real_time()
        started_virtual = state.clock.now()
        method: str = scope["method"]
        ids = parse_status_path(scope["path"]) if method in _STATUS_METHODS else None
        if ids is not None:
            scope["mock.endpoint"] = "E3"
            scope["mock.workspace_id"], scope["mock.workflow_id"] = ids
        tracker: _AnswerTracker | None = None
        status_code = 500
        disconnected = False
        try:
            if (
                ids is None
                or method != "GET"
                or state.faults.active
                or state.capacity.limits_status
                or not state.dialect.plain
            ):
                tracker = _AnswerTracker(send)
                await self._route(scope, receive, send, tracker)
            else:
                status_code = await serve_status(state, scope, send, *ids)
        except httpx.TransportError:
            raise  # an injected connection fault, in process: the client's transport error
        except ClientDisconnect:
            disconnected = True  # nothing to answer: the client is gone
        except asyncio.CancelledError:
            disconnected = True  # the server gave up on the request (shutdown past its grace)
            raise
        except Exception as exc:
            logger.exception("unexpected error answering %s %s", method, scope["path"][:200])
            if tracker is None or not tracker.started:
                await _internal_error(exc)(scope, receive, tracker or send)
        finally:
            self._record(
                scope,
                status_code,
                tracker,
                started_real,
                started_virtual,
                disconnected=disconnected,
            )

    async def _route(
        self, scope: Scope, receive: Receive, raw_send: Send, tracker: _AnswerTracker
    ) -> None:
        """Through the fault layer (when a rule is in force) and the routes.

        The scope's `app` is this app: endpoints read `request.app.state`, and routing raises
        its 404/405 as `HTTPException`s that become the JSON answers.
        """
        scope["app"] = self
        if self.state.faults.active:
            scope["mock.request"] = classify_request(scope["method"], scope["path"])
            scope["mock.raw_send"] = raw_send
        dialect = self.state.dialect
        if dialect.plain or scope["path"].startswith(_ADMIN_PREFIX):
            await self.routed(scope, receive, tracker)
        else:
            await self._dialect_route(dialect, scope, receive, tracker)

    async def _dialect_route(
        self, dialect: ActiveDialect, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """An API request under a non-default dialect: the endpoint's latency first (real
        seconds), then the routes, gzip when the dialect and the request allow it, and the
        dialect's JSON content type on the answer."""
        endpoint = scope.get("mock.endpoint")
        if endpoint is None:
            info = classify_request(scope["method"], scope["path"])
            endpoint = None if info is None else info.endpoint
        delay = 0.0 if endpoint is None else dialect.delay_s(endpoint)
        if delay > 0:
            await asyncio.sleep(delay)
        settings = dialect.dialect
        app: ASGIApp = self.routed
        if settings.compression == "gzip":
            app = GZipMiddleware(app, minimum_size=settings.compression_min_bytes)
        await app(scope, receive, dialect.content_type_send(send))

    def _record(
        self,
        scope: Scope,
        status_code: int,
        tracker: _AnswerTracker | None,
        started_real: float,
        started_virtual: float,
        *,
        disconnected: bool,
    ) -> None:
        """Count the request, and journal it unless it is an admin call.

        A request whose client went away before any answer started is counted as a
        disconnect (`mock_client_disconnects_total`), never as a 500.
        """
        state = self.state
        retry_after = None
        if tracker is not None:
            status_code, retry_after = tracker.status_code, tracker.retry_after
            disconnected = disconnected and not tracker.started
        endpoint = scope.get("mock.endpoint", "other")
        if disconnected:
            code = None
            state.disconnects[endpoint] += 1
        else:
            code = None if scope.get("mock.dropped", False) else status_code
            state.request_counts[(endpoint, code or 0)] += 1
        path: str = scope["path"]
        if endpoint == "admin" or path.startswith(_ADMIN_PREFIX):
            return
        state.journal.record(
            virtual_time=started_virtual,
            real_time=started_real,
            method=scope["method"],
            path=path,
            status_code=code,
            workflow_id=scope.get("mock.workflow_id"),
            workspace_id=scope.get(
                "mock.workspace_id", scope.get("path_params", {}).get("workspace_id")
            ),
            latency_s=state.real_time() - started_real,
            endpoint=None if endpoint == "other" else endpoint,
            run_status=scope.get("mock.run_status"),
            retry_after=retry_after,
            fault=scope.get("mock.fault"),
            client_disconnected=disconnected,
        )


def _header(message: Message, name: bytes) -> str | None:
    for key, value in message.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def create_app(
    config: MockConfig | None = None,
    *,
    clock: VirtualClock | None = None,
    store: TriggerStore | None = None,
    real_time: Callable[[], float] = time.monotonic,
    wall_time: Callable[[], float] = time.time,
    admin_token: str | None = None,
) -> MockApp:
    """Build the mock's ASGI app.

    Args:
        config: the world to serve; the built-in demo world when None (or the store's config).
        clock: the virtual clock; by default one starting at `config.mock.start`, else at
            `wall_time()`, running at `config.mock.time_scale`.
        store: the trigger store; by default a fresh one over `config` and `clock`.
        real_time: monotonic real seconds (journal latencies, the default clock).
        wall_time: real UTC seconds since the epoch (the default clock's start).
        admin_token: required bearer token of the admin API; defaults to `config.mock.admin_token`.

    Raises:
        ValueError: the admin token is empty or not visible ASCII (`admin_token_problem`).
    """
    if config is None:
        config = store.config if store is not None else demo_config()
    if admin_token is None:
        admin_token = config.mock.admin_token
    problem = None if admin_token is None else admin_token_problem(admin_token)
    if problem is not None:
        raise ValueError(f"admin_token {problem}")
    if clock is None:
        clock = (
            store.clock
            if store is not None
            else VirtualClock.from_settings(config.mock, wall_time=wall_time, real_time=real_time)
        )
    if store is None:
        store = TriggerStore(config, clock)

    def store_id(wire_id: str) -> str | None:  # the dialect in force when a fault asks
        return state.dialect.codec.decode(wire_id)

    state = MockState(
        config=config,
        clock=clock,
        store=store,
        journal=RequestJournal(config.mock.journal_limit, config.mock.journal_max_bytes),
        real_time=real_time,
        waiters=ClockWaiters(clock),
        faults=_fault_set(config, store, store_id),
        capacity=Capacity(config.mock, real_time),
        dialect=ActiveDialect(config.mock.dialect, config.mock.seed),
        admin_token=admin_token,
    )
    return MockApp(state, _routes())


def _routes() -> ASGIApp:
    """Every route (API under both prefixes, admin, OpenAPI); `HTTPException`s become JSON."""
    router = Router(
        routes=[*_api_routes(), *admin_routes(), Route("/openapi.json", _openapi)],
        redirect_slashes=False,
    )
    return ExceptionMiddleware(router, handlers={HTTPException: _http_error})


def _fault_set(
    config: MockConfig, store: TriggerStore, store_id: Callable[[str], str | None]
) -> FaultSet:
    """The scenario's rules, then the config's `[[faults]]`; `store_id` reads a path's
    workflow id in the dialect in force (None: not of its format)."""
    chosen = preset(config.mock.scenario)
    rules = (chosen.rules if chosen is not None else ()) + config.faults

    def trigger_of(workflow_id: str) -> str | None:
        known = store_id(workflow_id)
        run = None if known is None else store.run_record(known)
        return run.trigger_id if run is not None else None

    return FaultSet(
        rules, seed=config.mock.seed, clock_start=store.clock.start, trigger_of=trigger_of
    )
