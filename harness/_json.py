"""The one JSON number model of the harness: exact integers, IEEE doubles, nothing else.

Every request body the harness sends, every answer it reads and every value it compares goes
through these three functions, so a variable sent as `2**64 + 1` comes back, is stored and is
compared as `2**64 + 1` (the mock and `json` do the same).

- `encode` writes JSON text (RFC 8259) as UTF-8. Integers of any size are written exactly,
  floats as their shortest round-tripping form. What a JSON text cannot hold raises
  `JsonValueError` naming the path (`user_variables.x`): NaN and infinities (RFC 8259 §6 has
  no literal for them; `json.dumps` and orjson would write `NaN` or `null`), keys that are not
  strings (§4), values of other types, cycles, and nesting deeper than `MAX_DEPTH`.
- `decode` reads an answer: integers exact, other numbers as IEEE doubles (a number beyond
  the double range becomes ±infinity, as `float()` reads it). It is lenient where the
  harness judges what it reads: the literals `NaN`, `Infinity` and `-Infinity` (not JSON,
  RFC 8259 §6, but written by Python's and other lenient encoders, e.g. echoing a refused
  input in a 422 `detail`) are read as those IEEE values, as Python's `json` reads them, so
  an answer is never judged unreadable for them. orjson reads the common case; a text with a
  run of 19 or more digits (a possible integer beyond 64 bits, which orjson would turn into a
  float) or that orjson refuses is read by the standard library instead.
- `json_equal` is equality in JSON's data model: numbers by exact value (`1 == 1.0`, as in
  RFC 8259 §6, which has one number type; NaN equals NaN, being the same text), `true`/`false`
  never equal to a number, arrays and objects member by member.

This module imports nothing from the harness (the lowest layer); callers turn
`JsonValueError` into their own error (`_protocol` raises `UsageError`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

import orjson

__all__ = ["MAX_DEPTH", "JsonValueError", "decode", "encode", "json_equal"]

MAX_DEPTH: Final = 500
"""Deepest nesting `encode` writes: deeper values overflow common parsers (Python's included)."""
_ORJSON_DEPTH: Final = 255
_INT64_MIN: Final = -(2**63)
_UINT64_LIMIT: Final = 2**64
_DIGIT_MASK: Final = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
"""`bytes.translate` table: every ASCII digit becomes `0`, every other byte a space."""
_LONG_DIGITS: Final = b"0" * 19


class JsonValueError(ValueError):
    """A value JSON cannot hold; `path` names where it is (`user_variables.n[2]`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _child(path: str, key: object) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


_PLAIN: Final = frozenset({str, bool, type(None)})
"""Types orjson always writes exactly: checked without building a path."""


def _scalar_fits_orjson(value: object, path: str) -> bool:
    """Check a non-container value; True when orjson writes it exactly."""
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return _INT64_MIN <= value < _UINT64_LIMIT
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JsonValueError(path, f"{value!r} is not a JSON number (RFC 8259 §6)")
        return True
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise JsonValueError(path, f"a {type(value).__name__} ({shown}) is not a JSON value")


_EXIT: Final = object()


def _check(value: object, root: str) -> bool:
    """Walk `value` (any depth, no recursion); True when orjson can write it exactly.

    Stack entries are (item, parent path, key, depth); a path is built only for a container
    or a value that fails. Leaving a container pops an `_EXIT` entry whose key is its id.
    """
    fits = True
    open_ids: set[object] = set()
    stack: list[tuple[object, str, object, int]] = [(value, "", root, 0)]
    while stack:
        item, parent, key, depth = stack.pop()
        if type(item) in _PLAIN:
            continue
        if item is _EXIT:
            open_ids.discard(key)
            continue
        path = _child(parent, key) if parent else str(key)
        if not isinstance(item, dict | list | tuple):
            fits = _scalar_fits_orjson(item, path) and fits
            continue
        if depth >= MAX_DEPTH:
            raise JsonValueError(path, f"nested deeper than {MAX_DEPTH} levels")
        if id(item) in open_ids:
            raise JsonValueError(path, "contains itself (a cycle)")
        fits = fits and depth < _ORJSON_DEPTH
        open_ids.add(id(item))
        stack.append((_EXIT, path, id(item), depth))
        stack.extend(_members(item, path, depth + 1))
    return fits


def _members(
    item: dict[Any, Any] | list[Any] | tuple[Any, ...], path: str, depth: int
) -> list[tuple[object, str, object, int]]:
    if isinstance(item, dict):
        for key in item:
            if not isinstance(key, str):
                raise JsonValueError(
                    f"{path}[{key!r}]", "object keys must be strings (RFC 8259 §4)"
                )
        return [(member, path, key, depth) for key, member in item.items()]
    return [(member, path, index, depth) for index, member in enumerate(item)]


def encode(value: object, *, root: str = "value") -> bytes:
    """`value` as compact JSON text in UTF-8.

    Args:
        value: None, bool, int, float, str, dicts with str keys, lists and tuples.
        root: the name the error path starts with (`user_variables`).

    Raises:
        JsonValueError: naming the path of the first value JSON cannot hold.
    """
    if _check(value, root):
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            pass  # lone surrogates: written below as \u escapes
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("ascii")


def decode(data: bytes | str) -> Any:
    """The value of a JSON text: integers exact, other numbers IEEE doubles (NaN/Infinity read).

    Raises:
        ValueError: the text is not JSON (not UTF-8, bad syntax, nested too deeply).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _LONG_DIGITS not in raw.translate(_DIGIT_MASK):  # one C pass: far cheaper than a regex
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # what orjson refuses may still be read (1e400, NaN, lone surrogate escapes)
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


def _is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def json_equal(left: object, right: object) -> bool:
    """True when two decoded JSON values are the same JSON value.

    Numbers compare by exact value (`1` equals `1.0`; `2**64 + 1` does not equal `2.0**64`),
    booleans only equal booleans, strings and null themselves, arrays (lists or tuples)
    member by member in order, objects by the same keys holding equal values.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right or (_is_nan(left) and _is_nan(right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(
            json_equal(value, right[key]) for key, value in left.items()
        )
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if left is None or right is None:
        return left is None and right is None
    return isinstance(left, str) and isinstance(right, str) and left == right
