"""`GeventTransport`: the harness client's `Transport` over geventhttpclient, for Locust users.

Locust runs users as greenlets; httpx's pool suits them badly (issue 18: it checks every pooled
connection for expiry on each request, through gevent's pure-Python `select.poll`, and keeps a
cookie jar). This transport sends through geventhttpclient's `HTTPClient` (what Locust's own
`FastHttpUser` uses): a LIFO pool of keep-alive sockets that tests only the socket it hands
out, no cookie jar, the body read whole. One pool per origin and timeout (E1's is longer).

Failures are raised as httpx's exceptions, as `harness._transport.Transport` requires:
refused or unreachable while connecting is `httpx.ConnectError`, a timeout while connecting
`httpx.ConnectTimeout`, any later one `httpx.ReadTimeout`; a connection lost or an answer that
is not HTTP `httpx.ReadError` / `httpx.RemoteProtocolError`. The client maps
those to `ConnectError`, `RequestTimeout` or `OutcomeUnknown` (`map_transport_errors`).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError

__all__ = ["GeventTransport"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CONNECTING: Final = frozenset({"_create_socket", "_connect_socket"})
"""geventhttpclient's functions that open a connection (`ConnectionPool`)."""


@dataclass(frozen=True, slots=True)
class _Received:
    """An answer as the client's transport seam reads it (`harness._transport.Answer`'s shape:
    the scenarios import only the harness's public names)."""

    status_code: int
    headers: list[tuple[str, str]]
    body: bytes
    sent_headers: list[tuple[str, str]]


class GeventTransport:
    """`Transport` over geventhttpclient pools: `connections` sockets per origin and timeout.

    Args:
        connections: sockets per pool (a user's flows in flight, plus one).
        connect_timeout_s: the longest a connection may take to open (seconds).
    """

    __slots__ = ("_clients", "_connect_timeout_s", "_connections")

    def __init__(self, *, connections: int, connect_timeout_s: float = 10.0) -> None:
        self._connections = connections
        self._connect_timeout_s = connect_timeout_s
        self._clients: dict[tuple[str, float], tuple[HTTPClient, list[tuple[str, str]]]] = {}

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> _Received:
        """Send one request and read its whole answer (see the module docstring for failures).

        Header bytes travel as they are (latin-1 round-trips every byte).
        """
        parts = urlsplit(url)
        client, defaults = self._client(parts.scheme, parts.netloc, timeout_s)
        target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        given = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}
        try:
            response = client.request(method, target, body=body, headers=given)
            try:
                content = response.read()
            finally:
                response.release()
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc
        sent = [*defaults, *given.items()]
        if body:
            sent.append(("Content-Length", str(len(body))))
        return _Received(
            status_code=response.status_code,
            headers=list(response.items()),
            body=content,
            sent_headers=sent,
        )

    def close(self) -> None:
        """Close every pooled socket."""
        for client, _ in self._clients.values():
            client.close()
        self._clients.clear()

    def _client(
        self, scheme: str, netloc: str, timeout_s: float
    ) -> tuple[HTTPClient, list[tuple[str, str]]]:
        key = (f"{scheme}://{netloc}", timeout_s)
        found = self._clients.get(key)
        if found is None:
            if scheme not in _DEFAULT_PORTS:
                raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
            client = HTTPClient.from_url(
                key[0],
                concurrency=self._connections,
                connection_timeout=self._connect_timeout_s,
                network_timeout=timeout_s,
            )
            defaults = [*client.default_headers.items(), ("Host", netloc)]
            found = self._clients[key] = (client, defaults)
        return found


def _while_connecting(exc: BaseException) -> bool:
    """True when `exc` was raised opening the connection (nothing of the request was sent)."""
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_name in _CONNECTING:
            return True
        frame = frame.tb_next
    return False


def _as_httpx(exc: Exception) -> httpx.TransportError | None:
    """The httpx exception `Transport` raises for a geventhttpclient (or socket) failure.

    None for anything else (a bug), which is raised as it is.
    """
    detail = str(exc) or type(exc).__name__
    connecting = _while_connecting(exc)
    if isinstance(exc, TimeoutError):
        return httpx.ConnectTimeout(detail) if connecting else httpx.ReadTimeout(detail)
    if isinstance(exc, ConnectionRefusedError | socket.gaierror) or (
        connecting and isinstance(exc, OSError)
    ):
        return httpx.ConnectError(detail)
    if isinstance(exc, HTTPParseError):
        return httpx.RemoteProtocolError(detail)
    if isinstance(exc, HTTPConnectionClosed | OSError):
        return httpx.ReadError(detail)
    if isinstance(exc, ValueError) and "header" in detail.lower():
        return httpx.LocalProtocolError(detail)
    return None
