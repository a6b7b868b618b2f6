"""Run an ASGI app under uvicorn on a pre-bound socket: in a thread (tests) or in the foreground.

Binding the socket first makes port 0 (an ephemeral port) work and lets the caller know the
address before the server answers. The server runs with the limits of `_limits.ServerLimits`
(connections, request-head size, head and body read times, keep-alive, shutdown grace); the
connection cap defaults to 4096, lowered to fit the process's file-descriptor limit. A shutdown
(SIGTERM, SIGINT, `should_exit`) first makes the mock's waiting E1 calls answer 503, then waits at
most `shutdown_grace_s` for what is left in flight.
"""

from __future__ import annotations

import dataclasses
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from ._limits import DEFAULT_LIMITS, ServerLimits, bounded_protocol
from .app import MockApp

__all__ = ["base_url", "bind_socket", "default_limits", "make_server", "serve_in_thread"]

_FDS_KEPT_FREE = 128
"""File descriptors left for everything but client connections (files, the listener, logs)."""

_START_TIMEOUT_S = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`, inheritable by a child process.

    Args:
        host: the address to bind (IPv6 when it holds a `:`).
        port: the port; 0 picks a free one.

    Raises:
        OSError: the address cannot be bound (in use, not local, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """`http://host:port` (`http://[host]:port` for IPv6) of a bound socket.

    Args:
        sock: a bound socket (`bind_socket`).
    """
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def default_limits() -> ServerLimits:
    """`ServerLimits` with the connection cap fitted under this process's descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = DEFAULT_LIMITS.max_connections
    if soft != resource.RLIM_INFINITY:
        cap = max(16, min(cap, soft - _FDS_KEPT_FREE))
    return dataclasses.replace(DEFAULT_LIMITS, max_connections=cap)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app first when it shuts down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Let the app answer what it holds (E1 waiters: 503), then uvicorn's bounded shutdown."""
        if self._on_shutdown is not None:
            self._on_shutdown()
        await super().shutdown(sockets)


def make_server(app: ASGIApp, limits: ServerLimits | None = None) -> uvicorn.Server:
    """A quiet uvicorn server for `app` (no access log, warnings only, lifespan on), bounded.

    Run it on a bound socket: `make_server(app).run(sockets=[sock])` blocks until it exits.

    Args:
        app: the ASGI app to serve (a `MockApp` is told when shutdown begins).
        limits: the server's limits; `default_limits()` when None.
    """
    limits = limits or default_limits()
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=bounded_protocol(limits),
        limit_concurrency=limits.max_connections + 1,
        timeout_keep_alive=limits.keep_alive_s,
        timeout_graceful_shutdown=limits.shutdown_grace_s,
        h11_max_incomplete_event_size=limits.max_head_bytes,
    )
    on_shutdown = app.state.begin_shutdown if isinstance(app, MockApp) else None
    return _Server(config, on_shutdown)


@contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", limits: ServerLimits | None = None
) -> Iterator[str]:
    """Serve `app` on an ephemeral port of `host` in a background thread; yields the base URL.

    Args:
        app: the ASGI app to serve.
        host: the address to bind (loopback by default).
        limits: the server's limits; `default_limits()` when None.

    Raises:
        OSError: `host` cannot be bound.
        RuntimeError: the server did not start within 10 real seconds.
    """
    sock = bind_socket(host, 0)
    server = make_server(app, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server thread did not start")
            time.sleep(0.01)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(_START_TIMEOUT_S)
        sock.close()
