"""Error answers of the mock: the exception handlers raise and the JSON bodies they become.

Every error the mock sends is JSON with a `detail`: a string, or for validation failures a
pydantic-style list of issues (`type`, `loc`, `msg`, `input`, optional `ctx`) as FastAPI sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Send

__all__ = [
    "AUTH_FAILED",
    "JSON_CONTENT_TYPE",
    "ApiHTTPError",
    "JSONResponse",
    "auth_failed",
    "detail_error",
    "echo_input",
    "issue",
    "render_json",
    "render_json_to_keep",
    "send_json",
    "validation_failed",
]

AUTH_FAILED = "Invalid authentication credentials"
JSON_CONTENT_TYPE = b"application/json"
_MAX_ECHO_CHARS = 256
_MAX_ECHO_JSON_BYTES = 1024


def render_json(content: Any) -> bytes:
    """`content` as JSON bytes: orjson on the hot path, the stdlib for what orjson refuses.

    orjson cannot serialise integers beyond 64 bits, nesting deeper than 255 or lone
    surrogates, all of which a request body parsed by the stdlib may hold; those values are
    rendered by `json.dumps` without loss (non-ASCII escaped).
    """
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(content, separators=(",", ":"), allow_nan=False).encode("ascii")


def render_json_to_keep(content: Any) -> bytes:
    """`render_json(content)` in an exactly sized bytes object, for values kept long.

    orjson's output keeps the allocation it started with (4 KiB or more, whatever its length);
    stored by the thousand that would cost 4 KiB each.
    """
    rendered = render_json(content)
    return memoryview(rendered).tobytes()


class JSONResponse(Response):
    """A JSON response (`application/json`) serialised by `render_json`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise `content` with `render_json`."""
        return render_json(content)


class ApiHTTPError(Exception):
    """An error answer: raised inside a handler, sent as `{"detail": ...}` with `status_code`."""

    def __init__(
        self, status_code: int, detail: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The JSON response this error is sent as."""
        return JSONResponse({"detail": self.detail}, self.status_code, headers=self.headers)


def auth_failed() -> ApiHTTPError:
    """The one 401 every auth failure answers with, whatever the path (invariant 8, A12)."""
    return ApiHTTPError(401, AUTH_FAILED, {"WWW-Authenticate": "Bearer"})


def detail_error(status_code: int, detail: str) -> ApiHTTPError:
    """An error with a plain string `detail`."""
    return ApiHTTPError(status_code, detail)


def validation_failed(issues: Sequence[dict[str, Any]]) -> ApiHTTPError:
    """A 422 carrying the pydantic-style list of `issues`."""
    return ApiHTTPError(422, list(issues))


def echo_input(value: Any) -> Any:
    """The offending value as an issue's `input`, shortened so an error body stays small."""
    if isinstance(value, str):
        return value if len(value) <= _MAX_ECHO_CHARS else value[:_MAX_ECHO_CHARS] + "..."
    if isinstance(value, dict | list):
        text = render_json(value)
        if len(text) > _MAX_ECHO_JSON_BYTES:
            return text[:_MAX_ECHO_CHARS].decode("utf-8", "replace") + "..."
    return value


def issue(
    type_: str,
    loc: Iterable[str | int],
    msg: str,
    input_: Any,
    ctx: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One pydantic-style validation issue."""
    entry: dict[str, Any] = {"type": type_, "loc": list(loc), "msg": msg, "input": input_}
    if ctx is not None:
        entry["ctx"] = ctx
    return entry


async def send_json(
    send: Send,
    status_code: int,
    body: bytes,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Send an already serialised JSON `body` straight over ASGI (the E3 fast path)."""
    headers = [
        (b"content-type", JSON_CONTENT_TYPE),
        (b"content-length", str(len(body)).encode("ascii")),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
