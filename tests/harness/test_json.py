"""The one JSON number model: exact integers, IEEE doubles, refusals naming the path."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given

from harness._json import MAX_DEPTH, JsonValueError, decode, encode, json_equal
from harness.strategies import user_variables

BIG = 18446744073709551617  # 2**64 + 1


@pytest.mark.parametrize(
    "value",
    [2**64, BIG, -(2**63) - 1, -(10**40), 2**63 - 1, 0, -1, 1.5, 1e300, -0.0, 5e-324],
)
def test_numbers_round_trip_exactly(value: int | float) -> None:
    """Integers of any size come back exact and of type int; floats as the same double."""
    back = decode(encode({"n": value}))["n"]
    assert back == value
    assert type(back) is type(value)


def test_decode_keeps_huge_integers_exact_where_orjson_would_round() -> None:
    """A 20-digit integer in an answer stays an exact int (orjson alone gives a float)."""
    assert decode(b'{"n": 18446744073709551617}') == {"n": BIG}
    assert decode(b"[-9223372036854775809]") == [-(2**63) - 1]
    assert decode(b'{"id": "3f1c2a9e-0000-4000-8000-000000000001"}')["id"].endswith("01")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"\xb2", "can't decode byte 0xb2"),
        (b"{", "Expecting property name"),
        (b"[1,]", "Expecting value"),
    ],
)
def test_decode_refuses_what_is_not_json(text: bytes, problem: str) -> None:
    """Bad UTF-8 and bad syntax are ValueError."""
    with pytest.raises(ValueError, match=re.escape(problem)):
        decode(text)


def test_decode_reads_nan_and_infinity_literals_leniently() -> None:
    """An answer echoing `NaN`/`Infinity` (lenient encoders do) is read, not judged unreadable."""
    value = decode(b'{"detail": [{"input": NaN}], "big": Infinity, "small": -Infinity}')
    assert math.isnan(value["detail"][0]["input"])
    assert value["big"] == math.inf
    assert value["small"] == -math.inf
    assert json_equal(
        value, decode(b'{"detail": [{"input": NaN}], "big": Infinity, "small": -Infinity}')
    )


def test_decode_reads_a_number_beyond_the_double_range_as_infinity() -> None:
    """`1e400` is JSON; as an IEEE double it is infinity (what `float('1e400')` gives)."""
    assert decode(b"[1e400]") == [math.inf]


@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        ({"x": math.nan}, "user_variables.x", "nan is not a JSON number"),
        ({"a": [1, math.inf]}, "user_variables.a[1]", "inf is not a JSON number"),
        ({"a": {"b": -math.inf}}, "user_variables.a.b", "-inf is not a JSON number"),
        ({"a": {1: "x"}}, "user_variables.a[1]", "object keys must be strings"),
        ({"a": {None: "x"}}, "user_variables.a[None]", "object keys must be strings"),
        ({"s": {1, 2}}, "user_variables.s", "a set ({1, 2}) is not a JSON value"),
        ({"b": b"raw"}, "user_variables.b", "a bytes (b'raw') is not a JSON value"),
    ],
)
def test_encode_refuses_what_a_target_cannot_receive(value: Any, path: str, problem: str) -> None:
    """NaN, infinities, non-string keys and non-JSON types raise naming the path."""
    with pytest.raises(JsonValueError) as info:
        encode(value, root="user_variables")
    assert info.value.path == path
    assert problem in str(info.value)


def test_encode_refuses_cycles_and_excess_depth_but_not_shared_values() -> None:
    """A value containing itself, or nested too deep, is refused; a shared list is not a cycle."""
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(JsonValueError, match="cycle"):
        encode(looped)
    shared = [1]
    assert encode([shared, shared]) == b"[[1],[1]]"
    deep: list[Any] = []
    inner = deep
    for _ in range(MAX_DEPTH):
        inner.append([])
        inner = inner[0]
    with pytest.raises(JsonValueError, match="nested deeper"):
        encode(deep)


def test_encode_writes_deep_and_odd_text_the_standard_library_can_read() -> None:
    """Past orjson's depth and with lone surrogates, the text is still JSON, read back equal."""
    value: Any = "\ud800 é"
    for _ in range(300):
        value = [value]
    assert json.loads(encode(value)) == value


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),  # one JSON number type (RFC 8259 §6)
        (BIG, BIG, True),
        (BIG, float(BIG), False),  # the float lost the last digit
        (True, 1, False),  # a boolean is not a number
        (False, 0.0, False),
        (None, None, True),
        (None, "", False),
        ([1, (2, 3)], (1, [2.0, 3]), True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": [True]}, {"a": [1]}, False),
        ("x", "x", True),
    ],
)
def test_json_equal_is_equality_of_json_values(left: Any, right: Any, equal: bool) -> None:
    """Numbers by exact value, booleans apart from numbers, containers member by member."""
    assert json_equal(left, right) is equal
    assert json_equal(right, left) is equal


@given(user_variables())
def test_every_drawn_user_variables_value_round_trips(variables: dict[str, Any]) -> None:
    """What `harness.strategies.user_variables()` draws encodes and decodes to an equal value."""
    assert json_equal(decode(encode(variables)), variables)
