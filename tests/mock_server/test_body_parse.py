"""Request bodies parsed for keeping (`mock_server._body`): what is shared, what is refused,
and how much memory a parse takes at its peak (tracemalloc, deterministic).

The RSS a 1 MiB body leaves behind is a benchmark (`python -m scenarios.bench_memory --body`);
these tests assert the structure that figure relies on.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from mock_server._body import MAX_JSON_DEPTH, parse_json
from mock_server._errors import ApiHTTPError


def _refusal(body: bytes) -> str:
    with pytest.raises(ApiHTTPError) as refused:
        parse_json(body)
    assert refused.value.status_code == 422
    (issue,) = refused.value.detail
    assert issue["type"] == "json_invalid"
    return str(issue["ctx"]["error"])


def _small_objects(count: int) -> bytes:
    return b'{"user_variables": {"a": [' + b",".join([b"{}"] * count) + b"]}}"


def test_nested_empty_objects_are_one_shared_dict() -> None:
    """Every `{}` inside a body is the same dict; the value is equal to what was sent."""
    value = parse_json(b'{"a": [{}, {}, {"b": {}}], "c": {}}')
    assert value == {"a": [{}, {}, {"b": {}}], "c": {}}
    assert value["a"][0] is value["a"][1] is value["a"][2]["b"] is value["c"]


def test_an_empty_body_object_is_fresh_each_call() -> None:
    """The top value `{}` is never the shared one, and no call sees another's changes."""
    first = parse_json(b"{}")
    first["x"] = 1
    again = parse_json(b"{}")
    assert again == {}
    assert again is not first


def test_parsing_a_mib_of_empty_objects_builds_no_dict_per_object() -> None:
    """The parse of a 1 MiB body of `{}` peaks under 4.5 times the body (a dict each would
    be about 25 times it), and keeps nothing once the value is dropped."""
    body = _small_objects((1 << 20) // 3)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        value = parse_json(body)
        peak = tracemalloc.get_traced_memory()[1] - before
        del value
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert peak < 4.5 * len(body)
    assert left < 64 * 1024


def test_nesting_up_to_the_limit_is_accepted_and_deeper_refused() -> None:
    """`MAX_JSON_DEPTH` levels parse; one more is a 422 naming the limit."""
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(at_limit) is not None
    deeper = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert _refusal(deeper) == f"nesting deeper than {MAX_JSON_DEPTH}"
    wide_then_deep = b"[" + b"[]," * 600 + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"]"
    assert _refusal(wide_then_deep) == f"nesting deeper than {MAX_JSON_DEPTH}"


def test_brackets_inside_strings_are_not_nesting() -> None:
    """A string full of brackets is a string: the depth walk finds one level."""
    text = "[{" * 600
    assert parse_json(f'{{"s": "{text}"}}'.encode()) == {"s": text}


@pytest.mark.parametrize(
    "body",
    [b'{"m": "\\ud800"}', b'{"\\udfff": 1}', b'[["x", {"k": "a\\uDBFFb"}]]'],
    ids=["value", "key", "nested-upper-case"],
)
def test_a_lone_surrogate_anywhere_is_refused(body: bytes) -> None:
    """A `\\uD800`-`\\uDFFF` escape not part of a pair is refused, in keys and values alike."""
    assert _refusal(body) == "lone surrogate in a string"


def test_surrogate_pairs_and_escaped_backslashes_are_kept() -> None:
    """A pair is one character; `\\\\ud800` is a backslash and text, not an escape."""
    assert parse_json(b'{"e": "\\ud83d\\ude00", "t": "\\\\ud800"}') == {
        "e": "\U0001f600",
        "t": "\\ud800",
    }
