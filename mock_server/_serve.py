"""Run an ASGI app under uvicorn on a pre-bound socket: in a thread (tests) or in the foreground.

Binding the socket first makes port 0 (an ephemeral port) work and lets the caller know the
address before the server answers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["base_url", "bind_socket", "make_server", "serve_in_thread"]

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


def make_server(app: ASGIApp) -> uvicorn.Server:
    """A quiet uvicorn server for `app` (no access log, warnings only, lifespan on).

    Run it on a bound socket: `make_server(app).run(sockets=[sock])` blocks until it exits.

    Args:
        app: the ASGI app to serve.
    """
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on an ephemeral port of `host` in a background thread; yields the base URL.

    Args:
        app: the ASGI app to serve.
        host: the address to bind (loopback by default).

    Raises:
        OSError: `host` cannot be bound.
        RuntimeError: the server did not start within 10 real seconds.
    """
    sock = bind_socket(host, 0)
    server = make_server(app)
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
