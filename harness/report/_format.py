"""Text views of exchanges and values that every reporter shares.

Bodies are decoded as UTF-8 (undecodable bytes replaced), pretty-printed when they are JSON, and
cut at a limit with a note saying how much was left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from harness._models import Exchange

__all__ = [
    "BodyView",
    "body_view",
    "exchange_record",
    "exchange_text",
    "format_duration",
    "jsonable",
    "truncate",
]

JSON_BODY_LIMIT = 65_536
TEXT_BODY_LIMIT = 4_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyView:
    """A body ready to show: its text, whether it was JSON, and how much was cut."""

    text: str
    is_json: bool
    omitted_chars: int

    @property
    def truncated(self) -> bool:
        """True when part of the body was left out."""
        return self.omitted_chars > 0


def truncate(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` characters of the text and how many were left out.

    Args:
        text: any text.
        limit: the most characters kept.
    """
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def body_view(data: bytes, limit: int = TEXT_BODY_LIMIT, *, pretty: bool = True) -> BodyView:
    """A body decoded, pretty-printed when JSON, and cut at `limit` characters.

    Args:
        data: the raw body.
        limit: the most characters kept.
        pretty: indent JSON bodies.
    """
    text = data.decode("utf-8", errors="replace")
    is_json = False
    if pretty and data.strip()[:1] in {b"{", b"["}:
        try:
            text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
            is_json = True
        except ValueError:
            pass
    kept, omitted = truncate(text, limit)
    return BodyView(text=kept, is_json=is_json, omitted_chars=omitted)


def _with_note(view: BodyView) -> str:
    if not view.truncated:
        return view.text
    return f"{view.text}\n… ({view.omitted_chars} more characters not shown)"


def exchange_text(exchange: Exchange, body_limit: int = TEXT_BODY_LIMIT) -> str:
    """A request and its answer as readable text, like an HTTP transcript.

    Args:
        exchange: the (already redacted) exchange.
        body_limit: the most characters shown of each body.
    """
    lines = [f"{exchange.method} {exchange.url}"]
    lines += [f"{name}: {value}" for name, value in exchange.request_headers.items()]
    if exchange.request_body:
        lines += ["", _with_note(body_view(exchange.request_body, body_limit))]
    lines.append("")
    if exchange.status_code is None:
        lines.append(
            f"<- no answer after {exchange.elapsed_s:.3f} s: {exchange.error or 'unknown'}"
        )
        return "\n".join(lines)
    lines.append(f"<- HTTP {exchange.status_code} in {exchange.elapsed_s:.3f} s")
    lines += [f"{name}: {value}" for name, value in exchange.response_headers.items()]
    if exchange.response_body:
        lines += ["", _with_note(body_view(exchange.response_body, body_limit))]
    return "\n".join(lines)


def exchange_record(exchange: Exchange, body_limit: int = JSON_BODY_LIMIT) -> dict[str, Any]:
    """An exchange as a JSON-ready dict with a fixed key order; bodies as (cut) text.

    Args:
        exchange: the (already redacted) exchange.
        body_limit: the most characters kept of each body.
    """
    request_body = body_view(exchange.request_body, body_limit, pretty=False)
    response_body = body_view(exchange.response_body, body_limit, pretty=False)
    return {
        "endpoint": None if exchange.endpoint is None else str(exchange.endpoint),
        "method": exchange.method,
        "url": exchange.url,
        "request_headers": dict(exchange.request_headers),
        "request_body": request_body.text,
        "request_body_omitted_chars": request_body.omitted_chars,
        "started_at": exchange.started_at,
        "elapsed_s": exchange.elapsed_s,
        "status_code": exchange.status_code,
        "response_headers": dict(exchange.response_headers),
        "response_body": response_body.text,
        "response_body_omitted_chars": response_body.omitted_chars,
        "error": exchange.error,
    }


def jsonable(value: Any) -> Any:
    """A value made of JSON types only: mappings sorted by key, tuples as lists, others as str.

    Args:
        value: an option value or any nested structure of them.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(key): jsonable(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [jsonable(item) for item in items]
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def format_duration(seconds: float | None) -> str:
    """A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`.

    Args:
        seconds: the duration, None when unknown.
    """
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
