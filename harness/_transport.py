"""The one seam between the sync client and the wire: `Transport`, and the errors it raises.

`TriggerClient` sends every request through a `Transport`: `HttpxTransport` over any
`httpx.Client` (the default, what `TriggerClient(http=httpx.Client(...))` builds), or another
implementation (the Locust scenarios plug in a gevent one). A transport raises httpx's
exceptions (`httpx.ConnectError`, `httpx.ReadTimeout`, ...) whatever it uses underneath, and
`map_transport_errors` is the one place they become harness exceptions:

A failure before the request left (connect refused, connect timeout, unsupported scheme) is a
plain `ConnectError`/`RequestTimeout`/`TransportError`. A failure after it may have reached the
server (reset while reading, read timeout) is `OutcomeUnknown` when the request could have
started a run (`may_have_run=True`, POSTs), since then nobody knows whether it did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from ._exceptions import (
    ConnectError,
    HarnessError,
    OutcomeUnknown,
    RequestTimeout,
    TransportError,
    UsageError,
)

__all__ = ["Answer", "HttpxTransport", "Received", "Transport", "map_transport_errors"]

HeaderPairs = Sequence[tuple[str, str]]


class Answer(Protocol):
    """What came back for one request, unredacted (the client redacts it into an `Exchange`).

    Any object with these four read-only attributes will do (`Received` is the harness's own),
    so a transport outside the harness needs nothing of it but the shape.
    """

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        ...

    @property
    def headers(self) -> HeaderPairs:
        """The response headers in wire order, repeated names repeated."""
        ...

    @property
    def body(self) -> bytes:
        """The whole response body."""
        ...

    @property
    def sent_headers(self) -> HeaderPairs:
        """The request headers as the transport sent them (its own included)."""
        ...


@dataclass(frozen=True, slots=True)
class Received:
    """An `Answer` as a plain value (see `Answer` for the fields)."""

    status_code: int
    headers: HeaderPairs
    body: bytes
    sent_headers: HeaderPairs


class Transport(Protocol):
    """Sends one request and reads its whole answer; never follows redirects.

    Raises httpx's exceptions for a failure (see the module docstring); an HTTP error status is
    an `Answer`, never an exception.
    """

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> Answer:
        """Send `method url` with `headers` (UTF-8 bytes) and `body`; `timeout_s` per phase."""
        ...


class HttpxTransport:
    """`Transport` over a ready `httpx.Client` (or `starlette.testclient.TestClient`)."""

    __slots__ = ("_http",)

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> Answer:
        """One request through the client (its cookies, auth and pool included)."""
        request = self._http.build_request(
            method, url, headers=list(headers), content=body, timeout=timeout_s
        )
        response = self._http.send(request, follow_redirects=False)
        return Received(
            status_code=response.status_code,
            headers=response.headers.multi_items(),
            body=response.content,
            sent_headers=request.headers.multi_items(),
        )


def _keep(text: str) -> str:
    return text


@contextmanager
def map_transport_errors(
    method: str,
    url: str,
    *,
    may_have_run: bool = False,
    redact: Callable[[str], str] = _keep,
) -> Iterator[None]:
    """Translate httpx errors raised inside the block, `raise ... from exc`.

    Args:
        method: the request's method, for the message.
        url: the request's URL, for the message (passed through `redact`).
        may_have_run: the request could start a run, so a lost answer is `OutcomeUnknown`.
        redact: applied to the URL and httpx's own message, in case they quote a secret; only
            when an error is raised (nothing is redacted on the way of an answer).
    """
    try:
        yield
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        raise _mapped(exc, f"{method} {redact(url)}", may_have_run, redact) from exc


def _mapped(
    exc: httpx.TransportError | httpx.InvalidURL,
    where: str,
    may_have_run: bool,
    redact: Callable[[str], str],
) -> HarnessError:
    """The harness exception for one httpx failure (`where` is `METHOD url`, redacted)."""
    if isinstance(exc, httpx.InvalidURL):
        return UsageError(f"{where}: invalid URL ({redact(str(exc))})")
    if isinstance(exc, httpx.LocalProtocolError):
        return UsageError(f"{where}: request could not be sent ({redact(str(exc))})")
    detail = _describe(exc, redact)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return RequestTimeout(f"{where}: timed out connecting ({detail})")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"{where}: could not connect ({detail})")
    unknown = "; a run may or may not have started" if may_have_run else ""
    if isinstance(exc, httpx.TimeoutException):
        lost: type[HarnessError] = OutcomeUnknown if may_have_run else RequestTimeout
        return lost(f"{where}: no answer in time ({detail}){unknown}")
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        lost = OutcomeUnknown if may_have_run else ConnectError
        return lost(f"{where}: connection lost before the answer ({detail}){unknown}")
    return TransportError(f"{where}: request failed ({detail})")


def _describe(exc: Exception, redact: Callable[[str], str]) -> str:
    detail = redact(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
