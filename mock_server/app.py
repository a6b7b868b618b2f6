"""The mock's ASGI app: `create_app()` wires the store, clock, journal, routes and fast path.

Layers, outermost first: `MockApp` (request journal and metrics, last-resort 500 guard), then
`FaultInjector` (latency, 5xx and connection faults of the rules in force), then the E3 fast
path or a Starlette app (routing with JSON 404/405, the API under both prefixes, the admin API
and `/openapi.json`). No module globals: all state lives in one `MockState`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._admin import admin_routes
from ._api import (
    API_PREFIXES,
    ClockWaiters,
    MockState,
    classify_request,
    handle_status_fast,
    jira_start,
    parse_status_path,
    run_start,
    run_sync,
    status_route,
)
from ._capacity import Capacity
from ._clock import VirtualClock
from ._config import MockConfig, demo_config
from ._errors import JSONResponse
from ._fault_rules import preset
from ._faults import FaultInjector, FaultSet
from ._journal import RequestJournal
from ._openapi import openapi_document
from ._store import TriggerStore

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
    return JSONResponse(openapi_document())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return _internal_error(exc)


def _internal_error(exc: BaseException) -> JSONResponse:
    return JSONResponse({"detail": f"Process query failed: {type(exc).__name__}"}, 500)


class MockApp:
    """The outermost ASGI layer: journal and counters, and the 500 guard, around the faults."""

    def __init__(self, state: MockState, inner: ASGIApp) -> None:
        self.state = state
        self.inner = inner
        self.handler = FaultInjector(self._dispatch, state.faults, state.clock.now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        state = self.state
        started_real = state.real_time()
        started_virtual = state.clock.now()
        path: str = scope["path"]
        ids = parse_status_path(path) if scope["method"] == "GET" else None
        if ids is not None and not state.faults.active and not state.capacity.limits_status:
            await self._status_fast(scope, send, ids, started_real, started_virtual)
            return
        status_code = 500
        retry_after: str | None = None
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal status_code, response_started, retry_after
            if message["type"] == "http.response.start":
                status_code = message["status"]
                response_started = True
                if status_code != 200:
                    retry_after = _header(message, b"retry-after")
            await send(message)

        if ids is not None:
            scope["mock.endpoint"] = "E3"
            scope["mock.workspace_id"], scope["mock.workflow_id"] = ids
        try:
            if state.faults.active:
                scope["mock.request"] = classify_request(scope["method"], path)
                scope["mock.raw_send"] = send
                await self.handler(scope, receive, tracking_send)
            elif ids is not None:
                await handle_status_fast(state, scope, tracking_send, *ids)
            else:
                await self.inner(scope, receive, tracking_send)
        except httpx.TransportError:
            raise  # an injected connection fault, in process: the client's transport error
        except Exception as exc:
            logger.exception("unexpected error answering %s %s", scope["method"], path)
            if not response_started:
                await _internal_error(exc)(scope, receive, tracking_send)
        finally:
            dropped = scope.get("mock.dropped", False)
            self._record(
                scope, None if dropped else status_code, retry_after, started_real, started_virtual
            )

    async def _status_fast(
        self,
        scope: Scope,
        send: Send,
        ids: tuple[str, str],
        started_real: float,
        started_virtual: float,
    ) -> None:
        """E3 with no fault rule and no status limit in force: the hot path, no send wrapper.

        The handler returns the code it sent, so no `send` wrapper is needed to learn it; an
        unexpected error still becomes the 500 guard's answer unless a response had started.
        """
        scope["mock.endpoint"] = "E3"
        scope["mock.workspace_id"], scope["mock.workflow_id"] = ids
        status_code = 500
        try:
            status_code = await handle_status_fast(self.state, scope, send, *ids)
        except Exception as exc:
            logger.exception("unexpected error answering GET %s", scope["path"])
            await _internal_error(exc)(scope, _no_body, send)
        finally:
            self._record(scope, status_code, None, started_real, started_virtual)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("mock.endpoint") == "E3":
            workspace_id, workflow_id = scope["mock.workspace_id"], scope["mock.workflow_id"]
            await handle_status_fast(self.state, scope, send, workspace_id, workflow_id)
        else:
            await self.inner(scope, receive, send)

    def _record(
        self,
        scope: Scope,
        status_code: int | None,
        retry_after: str | None,
        started_real: float,
        started_virtual: float,
    ) -> None:
        state = self.state
        endpoint = scope.get("mock.endpoint", "other")
        state.request_counts[(endpoint, status_code or 0)] += 1
        path: str = scope["path"]
        if endpoint == "admin" or path.startswith(_ADMIN_PREFIX):
            return
        path_params = scope.get("path_params", {})
        state.journal.record(
            virtual_time=started_virtual,
            real_time=started_real,
            method=scope["method"],
            path=path,
            status_code=status_code,
            workflow_id=scope.get("mock.workflow_id"),
            workspace_id=scope.get("mock.workspace_id", path_params.get("workspace_id")),
            latency_s=state.real_time() - started_real,
            endpoint=None if endpoint == "other" else endpoint,
            run_status=scope.get("mock.run_status"),
            retry_after=retry_after,
            fault=scope.get("mock.fault"),
        )


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


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
    """
    if config is None:
        config = store.config if store is not None else demo_config()
    if clock is None:
        clock = (
            store.clock
            if store is not None
            else VirtualClock.from_settings(config.mock, wall_time=wall_time, real_time=real_time)
        )
    if store is None:
        store = TriggerStore(config, clock)
    state = MockState(
        config=config,
        clock=clock,
        store=store,
        journal=RequestJournal(config.mock.journal_limit),
        real_time=real_time,
        waiters=ClockWaiters(clock),
        faults=_fault_set(config, store),
        capacity=Capacity(config.mock, real_time),
        admin_token=admin_token if admin_token is not None else config.mock.admin_token,
    )
    inner = Starlette(
        routes=[*_api_routes(), *admin_routes(), Route("/openapi.json", _openapi)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    inner.router.redirect_slashes = False
    inner.state.mock = state
    return MockApp(state, inner)


def _fault_set(config: MockConfig, store: TriggerStore) -> FaultSet:
    """The scenario's rules, then the config's `[[faults]]`."""
    chosen = preset(config.mock.scenario)
    rules = (chosen.rules if chosen is not None else ()) + config.faults

    def trigger_of(workflow_id: str) -> str | None:
        run = store.run_record(workflow_id)
        return run.trigger_id if run is not None else None

    return FaultSet(
        rules, seed=config.mock.seed, clock_start=store.clock.start, trigger_of=trigger_of
    )
