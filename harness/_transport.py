"""The one place httpx exceptions become harness exceptions.

A failure before the request left (connect refused, connect timeout, unsupported scheme) is a
plain `ConnectError`/`RequestTimeout`/`TransportError`. A failure after it may have reached the
server (reset while reading, read timeout) is `OutcomeUnknown` when the request could have
started a run (`may_have_run=True`, POSTs), since then nobody knows whether it did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from ._exceptions import (
    ConnectError,
    OutcomeUnknown,
    RequestTimeout,
    TransportError,
    UsageError,
)

__all__ = ["map_transport_errors"]


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
        url: the request's URL, already redacted, for the message.
        may_have_run: the request could start a run, so a lost answer is `OutcomeUnknown`.
        redact: applied to httpx's own message, in case it quotes a secret.
    """
    where = f"{method} {url}"
    try:
        yield
    except httpx.InvalidURL as exc:
        raise UsageError(f"{where}: invalid URL ({redact(str(exc))})") from exc
    except httpx.LocalProtocolError as exc:
        raise UsageError(f"{where}: request could not be sent ({redact(str(exc))})") from exc
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise RequestTimeout(f"{where}: timed out connecting ({_describe(exc, redact)})") from exc
    except httpx.ConnectError as exc:
        raise ConnectError(f"{where}: could not connect ({_describe(exc, redact)})") from exc
    except httpx.TimeoutException as exc:
        if may_have_run:
            raise OutcomeUnknown(
                f"{where}: no answer in time ({_describe(exc, redact)}); "
                "a run may or may not have started"
            ) from exc
        raise RequestTimeout(f"{where}: no answer in time ({_describe(exc, redact)})") from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        if may_have_run:
            raise OutcomeUnknown(
                f"{where}: connection lost before the answer ({_describe(exc, redact)}); "
                "a run may or may not have started"
            ) from exc
        raise ConnectError(
            f"{where}: connection lost before the answer ({_describe(exc, redact)})"
        ) from exc
    except httpx.TransportError as exc:
        raise TransportError(f"{where}: request failed ({_describe(exc, redact)})") from exc


def _describe(exc: Exception, redact: Callable[[str], str]) -> str:
    detail = redact(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
