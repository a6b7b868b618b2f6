"""Request bodies: read within the size limit (413) and parsed as JSON the mock can keep (422).

`parse_json` uses the stdlib parser, so integers of any size survive exactly (orjson turns
those beyond 64 bits into floats). What it refuses, each a 422 `json_invalid`: invalid JSON,
NaN and Infinity, numbers out of float range, invalid UTF-8, lone surrogates (`\\ud800`) and
nesting deeper than `MAX_JSON_DEPTH`. The two walks over the parsed value are skipped when a
scan of the raw bytes shows they cannot find anything: no `\\uD800`-`\\uDFFF` escape (the only
way a lone surrogate gets in, as the bytes are valid UTF-8), or no more opening brackets than
the depth limit. Both walks hold lists of references only, never a tuple per value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from starlette.requests import Request

from ._errors import ApiHTTPError, detail_error, issue, validation_failed
from ._validate import ascii_integer

__all__ = ["MAX_JSON_DEPTH", "parse_json", "read_body"]

MAX_JSON_DEPTH: Final = 512
"""The deepest nesting of arrays and objects a body may have (the top value is depth 1)."""
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to exceed `limit` bytes.

    Raises:
        ApiHTTPError: 413 when `Content-Length` or the bytes received exceed `limit`.
    """
    too_large = detail_error(413, f"Request body exceeds {limit} bytes")
    declared = request.headers.get("content-length")
    size_declared = ascii_integer(declared) if declared is not None else None
    if size_declared is not None and size_declared > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _too_deep(value: Any) -> bool:
    """True when `value` nests arrays and objects deeper than `MAX_JSON_DEPTH`.

    Walks one level of non-empty containers at a time (`level` holds those at `depth`); an
    empty one is only checked against the limit, never listed.
    """
    level = [value] if isinstance(value, dict | list) and value else []
    depth = 1
    while level:
        if depth > MAX_JSON_DEPTH:
            return True
        deeper: list[Any] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if not isinstance(child, dict | list):
                    continue
                if child:
                    deeper.append(child)
                elif depth == MAX_JSON_DEPTH:
                    return True
        level = deeper
        depth += 1
    return False


def _holds_lone_surrogate(value: Any) -> bool:
    """True when a string of `value` (a key or a value, at any depth) has a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _has_surrogate(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _json_problem(body: bytes, value: Any) -> str | None:
    """Why `value`, parsed from `body`, cannot be kept: too deep, or a lone surrogate."""
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > MAX_JSON_DEPTH and _too_deep(value):
        return f"nesting deeper than {MAX_JSON_DEPTH}"
    if _SURROGATE_ESCAPE.search(body) is not None and _holds_lone_surrogate(value):
        return "lone surrogate in a string"
    return None


def _json_invalid(pos: int, message: str) -> ApiHTTPError:
    return validation_failed(
        [issue("json_invalid", ("body", pos), "JSON decode error", {}, {"error": message})]
    )


def parse_json(body: bytes) -> Any:
    """`body` parsed as JSON (see the module docstring for what is refused), to be read only.

    Every empty object nested in the value is one shared dict (a fresh one per call; the value
    itself, when `{}`, is its own): a body of many `{}` builds no dict per `{}`, so parsing it
    leaves no allocator arenas behind (`python -m scenarios.bench_memory --body`).

    Raises:
        ApiHTTPError: 422 `json_invalid`, located at the offending character where known.
    """
    empty: dict[str, Any] = {}

    def share_empty(parsed: dict[str, Any]) -> dict[str, Any]:
        return parsed or empty

    try:
        payload = json.loads(
            body.decode("utf-8"),
            parse_float=_finite_float,
            parse_constant=_reject_constant,
            object_hook=share_empty,
        )
    except json.JSONDecodeError as exc:
        raise _json_invalid(exc.pos, exc.msg) from None
    except UnicodeDecodeError as exc:
        raise _json_invalid(exc.start, "invalid UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise _json_invalid(0, str(exc) or type(exc).__name__) from None
    problem = _json_problem(body, payload)
    if problem is not None:
        raise _json_invalid(0, problem)
    return {} if payload is empty else payload
