"""Request bodies for E1/E2: JSON user variables, valid payloads and invalid raw bodies.

Every value `user_variables()` draws survives `json.loads(json.dumps(value)) == value`, so a
property may compare what it sent with what a completed run returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._text import NO_SURROGATES, check_bool, check_int, messages, text_fragments

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INVALID_KINDS",
    "RawBody",
    "invalid_payloads",
    "json_leaves",
    "user_variables",
    "valid_payloads",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
INVALID_KINDS = ("wrong_type", "not_object", "invalid_json", "content_type", "oversized")
_BIG = 2**200
_EDGE_FLOATS = (
    1e308,
    -1e308,
    1.7976931348623157e308,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    -0.0,
    0.1,
    1e-7,
    1e16,
    9007199254740993.0,
)
_ODD_KEYS = ("", " ", "__proto__", "constructor", "$ref", "a.b", "a/b", "0", "null", "Message")
_PAYLOAD_KEYS = frozenset({"message", "user_variables"})


def json_leaves(*, edge_floats: bool = False, big_integers: bool = True) -> st.SearchStrategy[Any]:
    """JSON scalars: null, booleans, integers, finite floats and strings.

    Args:
        edge_floats: also 1e308, 5e-324, -0.0 and other float edges.
        big_integers: also integers beyond 64 bits, positive and negative.
    """
    integers = [st.integers(min_value=-(2**63), max_value=2**63 - 1)]
    if big_integers:
        integers += [
            st.integers(min_value=2**63, max_value=_BIG),
            st.integers(min_value=-_BIG, max_value=-(2**63) - 1),
        ]
    if edge_floats:
        floats: st.SearchStrategy[float] = st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_EDGE_FLOATS)
        )
    else:
        # `+ 0.0` turns -0.0 into 0.0: the sign of zero is an edge case, kept behind the flag.
        floats = st.floats(
            min_value=-1e15, max_value=1e15, allow_nan=False, allow_subnormal=False
        ).map(lambda value: value + 0.0)
    strings = st.one_of(messages(max_size=100), st.text(NO_SURROGATES, max_size=30))
    return st.one_of(st.none(), st.booleans(), *integers, floats, strings)


def _keys(*, reserved: frozenset[str] = frozenset({"workflow_id"})) -> st.SearchStrategy[str]:
    """Object keys: plain, odd (`__proto__`, `""`) and unicode; never one of `reserved`."""
    return st.one_of(
        st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=12),
        st.sampled_from(_ODD_KEYS),
        text_fragments(),
    ).filter(lambda key: key not in reserved)


@st.composite
def _objects(
    draw: st.DrawFn,
    *,
    max_depth: int,
    max_keys: int,
    max_leaves: int,
    leaves: st.SearchStrategy[Any],
) -> dict[str, Any]:
    """A JSON object at most `max_depth` containers deep with at most `max_leaves` scalars."""
    # Each key or item reserves one unit of the leaf budget when its container is sized; a
    # leaf spends it, a nested container gives it back. The budget can never go negative.
    budget = [max_leaves]

    def reserve() -> int:
        size = draw(st.integers(min_value=0, max_value=min(max_keys, budget[0])))
        budget[0] -= size
        return size

    def slot(depth: int) -> Any:
        kind = draw(st.sampled_from(("leaf", "object", "array") if depth > 0 else ("leaf",)))
        if kind == "leaf":
            return draw(leaves)
        budget[0] += 1
        if kind == "object":
            return obj(depth - 1)
        return [slot(depth - 1) for _ in range(reserve())]

    def obj(depth: int) -> dict[str, Any]:
        size = reserve()
        keys = draw(st.lists(_keys(), min_size=size, max_size=size, unique=True))
        return {key: slot(depth) for key in keys}

    return obj(max_depth)


def _chain(depth: int, leaf: Any) -> dict[str, Any]:
    """`{"n": {"n": ... {"n": leaf}}}`: one object `depth` levels below the top."""
    chained: Any = leaf
    for _ in range(depth):
        chained = {"n": chained}
    return {"n": chained}


def user_variables(
    *,
    max_depth: int = 4,
    max_keys: int = 10,
    max_leaves: int = 60,
    edge_floats: bool = False,
    big_integers: bool = True,
) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects for `user_variables` that round-trip exactly through `json`.

    Nested objects and arrays, unicode and odd keys, big integers, finite floats, booleans,
    nulls, plus single chains as deep as `max_depth`. Keys never include `workflow_id`
    (which a completed response adds itself).

    Args:
        max_depth: how many containers may nest below the top object (>= 0).
        max_keys: the most keys (or items) per container (>= 0).
        max_leaves: the most scalars in one value (>= 0).
        edge_floats: also 1e308, 5e-324, -0.0 and other float edges.
        big_integers: also integers beyond 64 bits, positive and negative.
    """
    check_int("max_depth", max_depth, min_value=0)
    check_int("max_keys", max_keys, min_value=0)
    check_int("max_leaves", max_leaves, min_value=0)
    check_bool("edge_floats", edge_floats)
    check_bool("big_integers", big_integers)
    leaves = json_leaves(edge_floats=edge_floats, big_integers=big_integers)
    shaped = _objects(max_depth=max_depth, max_keys=max_keys, max_leaves=max_leaves, leaves=leaves)
    variants = [shaped]
    if max_keys > 0 and max_leaves > 0:
        variants.append(st.builds(_chain, st.integers(min_value=0, max_value=max_depth), leaves))
    return st.one_of(variants)


def valid_payloads(
    *,
    message: st.SearchStrategy[str] | None = None,
    variables: st.SearchStrategy[dict[str, Any]] | None = None,
    allow_omission: bool = True,
    allow_extra_fields: bool = True,
) -> st.SearchStrategy[dict[str, Any]]:
    """E1/E2 request bodies `{"message": ..., "user_variables": ...}`, as Python objects.

    Omitting a key and adding extra fields are valid only under assumption A7 (the mock's
    default: both keys optional, extra fields ignored); pass `allow_omission=False,
    allow_extra_fields=False` for bodies of the documented shape only.

    Args:
        message: strategy for `message` (default: `messages()`).
        variables: strategy for `user_variables` (default: `user_variables()`).
        allow_omission: sometimes leave out either key (A7).
        allow_extra_fields: sometimes add fields the API does not name (A7).
    """
    check_bool("allow_omission", allow_omission)
    check_bool("allow_extra_fields", allow_extra_fields)
    message = messages() if message is None else message
    variables = user_variables() if variables is None else variables

    @st.composite
    def payloads(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if not allow_omission or draw(st.booleans()):
            body["message"] = draw(message)
        if not allow_omission or draw(st.booleans()):
            body["user_variables"] = draw(variables)
        if allow_extra_fields:
            body |= draw(st.dictionaries(_keys(reserved=_PAYLOAD_KEYS), json_leaves(), max_size=3))
        return body

    return payloads()


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RawBody:
    """A request body that is wrong, with why.

    `documented_invalid` is True when the documentation makes it wrong (a real endpoint must
    answer 4xx), False when it is wrong only under an assumption (A7: size, content type,
    null or missing fields), where accepted or refused is an observation.
    `content_type` None means no Content-Type header.
    """

    content: bytes
    content_type: str | None
    why: str
    kind: str
    documented_invalid: bool

    def __repr__(self) -> str:
        head = self.content[:60]
        more = f"...<{len(self.content)} bytes>" if len(self.content) > len(head) else ""
        return (
            f"RawBody(kind={self.kind!r}, why={self.why!r}, content_type={self.content_type!r}, "
            f"documented_invalid={self.documented_invalid!r}, content={head!r}{more})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Make hypothesis print this repr rather than every field."""
        printer.text(repr(self))


_JSON = "application/json"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _wrong_types() -> st.SearchStrategy[RawBody]:
    def variables_body(bad: Any, name: str, documented: bool) -> RawBody:
        return RawBody(
            content=_dumps({"message": "hi", "user_variables": bad}),
            content_type=_JSON,
            why=f"user_variables is {name}, not an object"
            + ("" if documented else " (null may mean absent: A7)"),
            kind="wrong_type",
            documented_invalid=documented,
        )

    def message_body(bad: Any, name: str, documented: bool) -> RawBody:
        return RawBody(
            content=_dumps({"message": bad, "user_variables": {}}),
            content_type=_JSON,
            why=f"message is {name}, not a string"
            + ("" if documented else " (null may mean absent: A7)"),
            kind="wrong_type",
            documented_invalid=documented,
        )

    variables = st.one_of(
        st.text(max_size=10).map(lambda v: variables_body(v, "a string", True)),
        st.lists(st.integers(), max_size=3).map(lambda v: variables_body(v, "an array", True)),
        st.integers().map(lambda v: variables_body(v, "a number", True)),
        st.booleans().map(lambda v: variables_body(v, "a boolean", True)),
        st.just(variables_body(None, "null", False)),
    )
    message = st.one_of(
        st.integers().map(lambda v: message_body(v, "a number", True)),
        st.floats(allow_nan=False, allow_infinity=False).map(
            lambda v: message_body(v, "a number", True)
        ),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2).map(
            lambda v: message_body(v, "an object", True)
        ),
        st.lists(st.text(max_size=5), max_size=3).map(lambda v: message_body(v, "an array", True)),
        st.booleans().map(lambda v: message_body(v, "a boolean", True)),
        st.just(message_body(None, "null", False)),
    )
    return st.one_of(variables, message)


def _not_objects() -> st.SearchStrategy[RawBody]:
    def body(value: Any) -> RawBody:
        return RawBody(
            content=_dumps(value),
            content_type=_JSON,
            why=f"the body is JSON {type(value).__name__}, not an object",
            kind="not_object",
            documented_invalid=True,
        )

    return st.one_of(
        st.lists(st.integers(), max_size=3),
        st.just([{"message": "hi", "user_variables": {}}]),
        st.text(max_size=10),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.none(),
        st.booleans(),
    ).map(body)


_BROKEN_JSON = (
    (b'{"message": "hi", "user_variables": {}', "truncated: the object is not closed"),
    (b'{"message": "hi"', "truncated inside the object"),
    (b'{"message": "h', "truncated inside a string"),
    (b"{'message': 'hi'}", "single quotes"),
    (b'{"message": "hi",}', "trailing comma"),
    (b'{message: "hi"}', "unquoted key"),
    (b'{"message": "hi" /* note */}', "a comment"),
    (b'{"message": "a\x01b"}', "raw control character inside a string"),
    (b'{"message": "\\x41"}', "invalid escape"),
    (b"message=hi&user_variables=x", "form encoding"),
)
"""Bodies every common JSON parser refuses in its default configuration: a 4xx is required."""
_LENIENT_JSON = (
    (b'{"message": "hi"} trailing', "trailing garbage after the object", "Go's json.Decoder"),
    (b'{"message": "hi"}{"message": "again"}', "two JSON values", "Go's json.Decoder"),
    (b'{"message": "\xff\xfe"}', "invalid UTF-8 inside a string", "Go, Node"),
    (b'{"message": "caf\xe9"}', "Latin-1 byte where UTF-8 is required", "Go, Node"),
    (b'{"message": "hi", "user_variables": {"x": NaN}}', "NaN literal", "Python's json"),
    (b'{"message": "hi", "user_variables": {"x": Infinity}}', "Infinity literal", "Python's json"),
    (
        b'{"message": "hi", "user_variables": {"x": -Infinity}}',
        "-Infinity literal",
        "Python's json",
    ),
)
"""Bodies that are not strict JSON (RFC 8259) but that a widely used parser takes in its default
configuration (named third): accepted or refused is an observation (A7), never a finding."""


def _invalid_json() -> st.SearchStrategy[RawBody]:
    strict = st.sampled_from(_BROKEN_JSON).map(
        lambda case: RawBody(
            content=case[0],
            content_type=_JSON,
            why=f"not JSON: {case[1]}",
            kind="invalid_json",
            documented_invalid=True,
        )
    )
    lenient = st.sampled_from(_LENIENT_JSON).map(
        lambda case: RawBody(
            content=case[0],
            content_type=_JSON,
            why=f"not strict JSON: {case[1]} ({case[2]} takes it: A7)",
            kind="invalid_json",
            documented_invalid=False,
        )
    )
    return st.one_of(strict, lenient)


def _wrong_content_types() -> st.SearchStrategy[RawBody]:
    types = st.sampled_from(
        (
            None,
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/octet-stream",
            "",
        )
    )
    return st.builds(
        lambda content_type, payload: RawBody(
            content=_dumps(payload),
            content_type=content_type,
            why=(
                "a JSON body with no Content-Type"
                if content_type is None
                else f"a JSON body sent as {content_type!r}"
            )
            + " (JSON is documented; refusing others is an assumption)",
            kind="content_type",
            documented_invalid=False,
        ),
        types,
        valid_payloads(
            message=messages(max_size=40),
            variables=user_variables(max_depth=1, max_keys=3),
            allow_omission=False,
            allow_extra_fields=False,
        ),
    )


def _oversized(max_body_bytes: int) -> st.SearchStrategy[RawBody]:
    def body(extra: int, filler: str) -> RawBody:
        target = max_body_bytes + 1 + extra
        skeleton = len(_dumps({"message": "", "user_variables": {}}))
        unit = len(filler.encode("utf-8"))
        text = filler * ((target - skeleton) // unit) + "a" * ((target - skeleton) % unit)
        return RawBody(
            content=_dumps({"message": text, "user_variables": {}}),
            content_type=_JSON,
            why=f"a valid payload over {max_body_bytes} bytes (the 1 MiB limit is assumption A7)",
            kind="oversized",
            documented_invalid=False,
        )

    return st.builds(
        body, st.integers(min_value=0, max_value=64), st.sampled_from(("a", "é", "😀"))
    )


def invalid_payloads(
    *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, kinds: tuple[str, ...] = INVALID_KINDS
) -> st.SearchStrategy[RawBody]:
    """E1/E2 bodies that are wrong, each a `RawBody` saying why and by what rule.

    Kinds: `wrong_type` (a field of the wrong JSON type), `not_object` (JSON that is not an
    object), `invalid_json` (bytes that are not JSON: truncated, single quotes, comments; and,
    with `documented_invalid=False`, what a common parser takes: NaN/Infinity, invalid UTF-8,
    trailing data), `content_type` (a JSON body with a missing or non-JSON content type)
    and `oversized` (a valid payload longer than `max_body_bytes`).

    Args:
        max_body_bytes: the size limit the oversized bodies exceed, by 1 to 65 bytes.
        kinds: which kinds to draw, a non-empty subset of `INVALID_KINDS`.
    """
    check_int("max_body_bytes", max_body_bytes, min_value=64)
    if isinstance(kinds, str) or not kinds or not set(kinds) <= set(INVALID_KINDS):
        raise InvalidArgument(f"kinds={kinds!r} must be a non-empty subset of {INVALID_KINDS}")
    makers = {
        "wrong_type": _wrong_types,
        "not_object": _not_objects,
        "invalid_json": _invalid_json,
        "content_type": _wrong_content_types,
    }
    chosen = [
        _oversized(max_body_bytes) if kind == "oversized" else makers[kind]()
        for kind in dict.fromkeys(kinds)
    ]
    return st.one_of(chosen)
