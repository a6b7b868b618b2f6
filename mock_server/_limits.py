"""What one client can hold of the mock's server: connections, request heads, read times.

uvicorn bounds some of this itself (`limit_concurrency`: a 503 past a number of connections or
running requests; `timeout_keep_alive`: an idle kept-alive connection is closed;
`timeout_graceful_shutdown`). Its httptools protocol, which the mock runs on, bounds neither the
size of a request head nor the time a client takes to send it or its body, and a connection that
never sends a byte is kept for good. `BoundedHttpTools` adds those limits to it:

- at most `ServerLimits.max_connections` open connections: one more is closed at once (its file
  descriptor freed), so idle connections cannot fill the table;
- a request head (request line and headers) still incomplete once more than `max_head_bytes`
  arrived is answered 431 (414 when the URL alone is over) and the connection closed; so a head
  costs at most `max_head_bytes` plus one read (uvloop reads up to 256 KiB at a time);
- a head not complete within `head_timeout_s` real seconds of the connection (or of the first
  byte of the next request) is answered 408 and the connection closed;
- a body not complete within `body_timeout_s` of its head: the connection is closed, and the app
  sees the client go away (journaled as a disconnect).

Deadlines are checked by one sweep a second per server, not by a timer per request, so they
are enforced to within a second; the hot path pays one call per packet. All times are real
seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

__all__ = ["DEFAULT_LIMITS", "BoundedHttpTools", "ServerLimits", "bounded_protocol"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerLimits:
    """The limits of one server (counts, bytes and real seconds)."""

    max_connections: int = 1024
    """Open connections at most; also uvicorn's `limit_concurrency` (503 past it)."""
    max_head_bytes: int = 32 * 1024
    """Bytes an incomplete request head may reach (431, or 414 for the URL alone)."""
    head_timeout_s: float = 10.0
    """Real seconds a client has to send a whole request head (408 after)."""
    body_timeout_s: float = 30.0
    """Real seconds a client has to send a whole body once its head arrived (closed after)."""
    keep_alive_s: int = 5
    """Real seconds an idle kept-alive connection stays open (uvicorn's `timeout_keep_alive`)."""
    shutdown_grace_s: int = 5
    """Real seconds a shutdown waits for requests in flight before cancelling them."""
    sweep_interval_s: float = 1.0
    """How often deadlines are checked."""


DEFAULT_LIMITS = ServerLimits()

_STATUS_LINES = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    414: b"HTTP/1.1 414 URI Too Long\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
    503: b"HTTP/1.1 503 Service Unavailable\r\n",
}
_DETAILS = {
    408: b'{"detail":"Request head not received in time"}',
    414: b'{"detail":"Request URL too long"}',
    431: b'{"detail":"Request header fields too large"}',
    503: b'{"detail":"Too many connections"}',
}


def _refusal(status: int) -> bytes:
    body = _DETAILS[status]
    return b"".join(
        [
            _STATUS_LINES[status],
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class _Sweeper:
    """Closes the connections of one server whose deadline passed, once a second."""

    __slots__ = ("handle", "interval_s")

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.handle: asyncio.TimerHandle | None = None

    def ensure(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        """Start sweeping `connections` unless a sweep is scheduled."""
        if self.handle is None:
            self.handle = loop.call_later(self.interval_s, self._sweep, loop, connections)

    def _sweep(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        self.handle = None
        now = loop.time()
        for connection in list(connections):
            if isinstance(connection, BoundedHttpTools):
                connection.check_deadline(now)
        if connections:
            self.ensure(loop, connections)


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with connection, head-size and read-time limits.

    Use `bounded_protocol(limits)`, which binds the limits and a sweeper to a subclass. The
    request path pays one extra call per packet received (`data_received`); read deadlines
    are derived by the sweep from uvicorn's own request state, with no per-request timer.
    """

    limits: ClassVar[ServerLimits] = DEFAULT_LIMITS
    sweeper: ClassVar[_Sweeper]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_bytes = 0
        self.head_of: object = None
        self.phase: tuple[object, bool] | None = None
        self.phase_since = 0.0
        self.refusing: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Accept the connection (its head deadline starts), or close it at once past the cap."""
        super().connection_made(transport)  # type: ignore[arg-type]
        if len(self.connections) > self.limits.max_connections:
            self.refusing = 503
            transport.write(_refusal(503))  # type: ignore[attr-defined]
            transport.close()
            return
        self.sweeper.ensure(self.loop, self.connections)

    def data_received(self, data: bytes) -> None:
        """Parse `data`; a request head still incomplete past `max_head_bytes` is refused."""
        if self.refusing is not None:
            return
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            return  # the head is complete: the request is being read or answered
        if self.head_of is not cycle:
            self.head_of, self.head_bytes = cycle, 0
        self.head_bytes += len(data)
        if self.head_bytes > self.limits.max_head_bytes and not self.transport.is_closing():
            url: bytes = getattr(self, "url", b"")
            self.refusing = 414 if len(url) > self.limits.max_head_bytes else 431
            self.transport.write(_refusal(self.refusing))
            self.transport.close()

    def check_deadline(self, now: float) -> None:
        """Close the connection when it has read one head (or body) for too long.

        A connection is reading a head while it has no request in progress (uvicorn closes an
        idle kept-alive one itself sooner), and a body while its request's `more_body` holds;
        a head too slow is answered 408 first.
        """
        if self.transport.is_closing():
            return
        cycle = self.cycle
        in_head = cycle is None or cycle.response_complete
        if not in_head and not cycle.more_body:
            self.phase = None  # the request is in: the app is answering
            return
        phase = (cycle, in_head)
        if phase != self.phase:
            self.phase, self.phase_since = phase, now
            return
        timeout = self.limits.head_timeout_s if in_head else self.limits.body_timeout_s
        if now - self.phase_since < timeout:
            return
        self.refusing = 408
        if in_head:
            self.transport.write(_refusal(408))
        self.transport.close()


def bounded_protocol(limits: ServerLimits = DEFAULT_LIMITS) -> type[BoundedHttpTools]:
    """A `BoundedHttpTools` subclass bound to `limits` and to a sweeper of its own.

    Args:
        limits: the limits of the server that will use it.
    """
    return type(
        "BoundedHttpTools",
        (BoundedHttpTools,),
        {"limits": limits, "sweeper": _Sweeper(limits.sweep_interval_s)},
    )
