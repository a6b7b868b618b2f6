"""Tests for harness.strategies: each strategy's promised properties and eager argument checks."""

from __future__ import annotations

import hmac
import json
import math
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import h11
import httpx
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from harness import strategies as hs
from harness._jira import JIRA_EVENTS, encode_payload

FAST = settings(max_examples=50, deadline=None, database=None)
SEARCH = settings(
    max_examples=2000,
    phases=[Phase.generate],
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
KEY = "demo-key"
OTHER = "acme-key-1"


def found(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> Any:
    """The first (shrunk) example of `strategy` meeting `condition`; fails if none appears."""
    return find(strategy, condition, settings=SEARCH)


def reject_constant(name: str) -> None:
    """Make json.loads refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"not JSON: {name}")


def strict_loads(content: bytes) -> Any:
    """Parse bytes as RFC 8259 JSON: UTF-8 only, no NaN/Infinity literals."""
    return json.loads(content.decode("utf-8"), parse_constant=reject_constant)


def has_rtl_with_marks(text: str) -> bool:
    """True when `text` has Arabic or Hebrew letters and a right-to-left mark."""
    return "\u200f" in text and any("\u0590" <= char <= "\u06ff" for char in text)


def depth(value: Any) -> int:
    """How many containers nest below `value` (0 for a flat object or a scalar)."""
    children = value.values() if isinstance(value, dict) else value
    if not isinstance(value, dict | list) or not children:
        return 0
    nested = [depth(child) + 1 for child in children if isinstance(child, dict | list)]
    return max(nested, default=0)


def leaf_count(value: Any) -> int:
    """How many scalars a JSON value holds."""
    if isinstance(value, dict):
        return sum(leaf_count(child) for child in value.values())
    if isinstance(value, list):
        return sum(leaf_count(child) for child in value)
    return 1


def widest(value: Any) -> int:
    """The most keys or items of any container in `value`."""
    if isinstance(value, dict):
        return max([len(value), *(widest(child) for child in value.values())])
    if isinstance(value, list):
        return max([len(value), *(widest(child) for child in value)])
    return 0


# --- argument validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "named"),
    [
        (lambda: hs.messages(max_size=-1), "max_size=-1 must be >= 0"),
        (lambda: hs.messages(allow_surrogates="yes"), "allow_surrogates="),
        (lambda: hs.user_variables(max_depth=-1), "max_depth=-1 must be >= 0"),
        (lambda: hs.user_variables(max_keys="3"), "max_keys='3' must be an int"),
        (lambda: hs.user_variables(max_leaves=True), "max_leaves=True must be an int"),
        (lambda: hs.user_variables(edge_floats=1), "edge_floats="),
        (lambda: hs.valid_payloads(allow_omission=None), "allow_omission="),
        (lambda: hs.invalid_payloads(max_body_bytes=0), "max_body_bytes=0"),
        (lambda: hs.invalid_payloads(kinds=("nope",)), "kinds="),
        (lambda: hs.invalid_payloads(kinds=()), "kinds="),
        (lambda: hs.path_ids(max_size=0), "max_size=0 must be >= 1"),
        (lambda: hs.workspace_ids(known="demo"), "known="),
        (lambda: hs.trigger_ids(known=[1]), "known holds 1"),
        (lambda: hs.workflow_ids(max_size=-5), "max_size=-5"),
        (lambda: hs.jira_events(events=("issue_created",)), "events="),
        (lambda: hs.authorization_headers(KEY, other_keys="x"), "other_keys="),
    ],
)
def test_bad_arguments_raise_at_call_time_naming_the_argument(
    factory: Callable[[], object], named: str
) -> None:
    """Calling a factory with a bad argument raises InvalidArgument at once, naming it."""
    with pytest.raises(InvalidArgument, match=named.replace("(", r"\(").replace(")", r"\)")):
        factory()


@pytest.mark.parametrize("secret_like", ["", "two words", "tab\tkey"])
def test_bad_keys_and_secrets_are_refused_without_echo(secret_like: str) -> None:
    """A bad valid_key or Jira secret raises naming the argument but never showing its value."""
    with pytest.raises(InvalidArgument, match="valid_key") as caught:
        hs.authorization_headers(secret_like)
    if secret_like:
        assert secret_like not in str(caught.value)
    with pytest.raises(InvalidArgument, match="secret"):
        hs.jira_deliveries("")


# --- messages ------------------------------------------------------------------------------


@FAST
@given(text=hs.messages(max_size=300))
def test_messages_are_utf8_encodable_and_bounded(text: str) -> None:
    """Default messages have no lone surrogates, so they encode as UTF-8 JSON, within max_size."""
    assert len(text) <= 300
    assert json.loads(json.dumps(text, ensure_ascii=False).encode("utf-8")) == text


@pytest.mark.parametrize(
    ("label", "condition"),
    [
        ("empty", lambda text: text == ""),
        ("astral emoji", lambda text: any(ord(char) > 0xFFFF for char in text)),
        ("ZWJ sequence", lambda text: "\u200d" in text and any(ord(c) > 0xFFFF for c in text)),
        ("RTL with marks", has_rtl_with_marks),
        ("zero width", lambda text: any(char in text for char in "\u200b\u200c\ufeff")),
        ("combining", lambda text: any(unicodedata.combining(char) for char in text)),
        ("long", lambda text: len(text) >= 900),
        ("ascii", lambda text: len(text) > 3 and text.isascii() and text.isprintable()),
    ],
)
def test_messages_reach_each_promised_kind(label: str, condition: Callable[[str], bool]) -> None:
    """Each promised kind of message text is drawn."""
    assert condition(found(hs.messages(max_size=1000), condition)), label


def test_surrogates_only_when_allowed() -> None:
    """allow_surrogates=True can draw a lone surrogate, which UTF-8 cannot encode."""
    text = found(
        hs.messages(allow_surrogates=True), lambda t: any(0xD800 <= ord(c) <= 0xDFFF for c in t)
    )
    with pytest.raises(UnicodeEncodeError):
        text.encode("utf-8")


# --- user variables and valid payloads -------------------------------------------------------


@FAST
@given(variables=hs.user_variables(edge_floats=True, max_leaves=20))
def test_user_variables_round_trip_through_json(variables: dict[str, Any]) -> None:
    """user_variables() values (even with edge floats) survive json.dumps then json.loads."""
    assert isinstance(variables, dict)
    assert "workflow_id" not in variables
    assert json.loads(json.dumps(variables, ensure_ascii=False)) == variables
    json.dumps(variables, allow_nan=False).encode("utf-8")


@FAST
@given(variables=hs.user_variables(max_depth=2, max_keys=3, max_leaves=5))
def test_user_variables_respect_their_bounds(variables: dict[str, Any]) -> None:
    """Depth, width and leaf count stay within max_depth, max_keys and max_leaves."""
    assert depth(variables) <= 2
    assert widest(variables) <= 3
    assert leaf_count(variables) <= 5


@pytest.mark.parametrize(
    ("label", "condition"),
    [
        ("beyond 2**63", lambda v: any(isinstance(x, int) and x >= 2**63 for x in v.values())),
        ("below -2**63", lambda v: any(isinstance(x, int) and x < -(2**63) for x in v.values())),
        ("as deep as allowed", lambda v: depth(v) == 6),
        ("unicode key", lambda v: any(not key.isascii() for key in v)),
        ("many keys", lambda v: len(v) >= 10),
        ("nested array", lambda v: any(isinstance(x, list) and x for x in v.values())),
        ("null", lambda v: None in v.values()),
        ("boolean", lambda v: True in v.values()),
    ],
)
def test_user_variables_reach_each_promised_kind(
    label: str, condition: Callable[[Any], bool]
) -> None:
    """Big integers, deep nesting, unicode keys, many keys, arrays and nulls are drawn."""
    strategy = hs.user_variables(max_depth=6, max_keys=12, max_leaves=24)
    assert condition(found(strategy, condition)), label


def test_edge_floats_only_with_the_flag() -> None:
    """Negative zero is drawn with edge_floats=True and never without it."""

    def has_negative_zero(value: dict[str, Any]) -> bool:
        return any(
            isinstance(x, float) and x == 0 and math.copysign(1, x) < 0 for x in value.values()
        )

    found(hs.user_variables(edge_floats=True, max_depth=0, max_keys=12), has_negative_zero)

    @FAST
    @given(hs.user_variables(max_depth=0, max_keys=12))
    def never(value: dict[str, Any]) -> None:
        assert not has_negative_zero(value)

    never()


@FAST
@given(
    payload=hs.valid_payloads(
        variables=hs.user_variables(max_leaves=10), allow_omission=False, allow_extra_fields=False
    )
)
def test_documented_payloads_have_exactly_the_two_keys(payload: dict[str, Any]) -> None:
    """With omission and extras off a payload is exactly a string message and an object."""
    assert payload.keys() == {"message", "user_variables"}
    assert isinstance(payload["message"], str)
    assert isinstance(payload["user_variables"], dict)
    assert json.loads(json.dumps(payload)) == payload


@FAST
@given(payload=hs.valid_payloads(variables=hs.user_variables(max_leaves=10)))
def test_payload_keys_keep_their_types_with_extras(payload: dict[str, Any]) -> None:
    """Whatever is omitted or added, message stays a string and user_variables an object."""
    assert isinstance(payload.get("message", ""), str)
    assert isinstance(payload.get("user_variables", {}), dict)
    assert json.loads(json.dumps(payload)) == payload


def test_valid_payloads_omit_keys_and_add_extras() -> None:
    """The default strategy sometimes omits a key and sometimes adds an extra field (A7)."""
    strategy = hs.valid_payloads(variables=hs.user_variables(max_leaves=5))
    found(strategy, lambda p: "message" not in p)
    found(strategy, lambda p: "user_variables" not in p)
    found(strategy, lambda p: bool(p.keys() - {"message", "user_variables"}))


# --- invalid payloads ----------------------------------------------------------------------


@FAST
@given(body=hs.invalid_payloads(kinds=("invalid_json",)))
def test_invalid_json_bodies_do_not_parse(body: hs.RawBody) -> None:
    """Bodies of the invalid_json kind fail a strict UTF-8 JSON parse; those a common parser
    takes (NaN, trailing data, invalid UTF-8) are not documented invalid (A7)."""
    assert body.documented_invalid == ("takes it: A7" not in body.why)
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError, UnicodeDecodeError or NaN
        strict_loads(body.content)


@pytest.mark.parametrize(
    "content",
    [
        b'{"message": "hi", "user_variables": {"x": NaN}}',
        b'{"message": "hi"} trailing',
        b'{"message": "caf\xe9"}',
    ],
)
def test_what_a_lenient_parser_takes_is_an_assumption_case(content: bytes) -> None:
    """NaN, trailing data and invalid UTF-8 are drawn as not documented invalid (A7)."""
    body = find(
        hs.invalid_payloads(kinds=("invalid_json",)),
        lambda drawn: drawn.content == content,
        settings=settings(max_examples=2000, database=None),
    )
    assert not body.documented_invalid
    assert "A7" in body.why


@FAST
@given(body=hs.invalid_payloads(kinds=("not_object",)))
def test_not_object_bodies_are_json_but_not_objects(body: hs.RawBody) -> None:
    """Bodies of the not_object kind parse as JSON whose top level is not an object."""
    assert not isinstance(strict_loads(body.content), dict)
    assert body.documented_invalid


@FAST
@given(body=hs.invalid_payloads(kinds=("wrong_type",)))
def test_wrong_type_bodies_have_a_mistyped_field(body: hs.RawBody) -> None:
    """A wrong_type body is an object whose message or user_variables has the wrong type."""
    parsed = strict_loads(body.content)
    message, variables = parsed["message"], parsed["user_variables"]
    assert not isinstance(message, str) or not isinstance(variables, dict)
    is_null = message is None or variables is None
    assert body.documented_invalid is not is_null


@FAST
@given(body=hs.invalid_payloads(kinds=("content_type",)))
def test_content_type_bodies_are_valid_json_sent_as_something_else(body: hs.RawBody) -> None:
    """A content_type body is a valid payload whose content type is absent or not JSON."""
    parsed = strict_loads(body.content)
    assert isinstance(parsed["message"], str)
    assert isinstance(parsed["user_variables"], dict)
    assert body.content_type is None or not body.content_type.startswith("application/json")
    assert not body.documented_invalid


@FAST
@given(body=hs.invalid_payloads(kinds=("oversized",), max_body_bytes=1000))
def test_oversized_bodies_are_valid_payloads_over_the_limit(body: hs.RawBody) -> None:
    """An oversized body exceeds max_body_bytes, parses as a payload, and is assumption-only."""
    assert 1000 < len(body.content) <= 1000 + 65
    assert isinstance(strict_loads(body.content)["message"], str)
    assert not body.documented_invalid
    assert len(repr(body)) < 400


def test_default_oversized_body_exceeds_one_mebibyte() -> None:
    """Without max_body_bytes the oversized bodies are longer than 1 MiB."""
    body = found(hs.invalid_payloads(kinds=("oversized",)), lambda b: True)
    assert len(body.content) >= 1024 * 1024 + 1


@FAST
@given(body=hs.invalid_payloads(kinds=("not_object", "wrong_type")))
def test_kinds_select_what_is_drawn(body: hs.RawBody) -> None:
    """Only the kinds asked for are drawn, and each says why it is wrong."""
    assert body.kind in {"not_object", "wrong_type"}
    assert body.why


# --- authorization headers -----------------------------------------------------------------


def test_is_valid_credential_follows_rfc7235() -> None:
    """Scheme case and extra spaces keep a credential right; any other change makes it wrong."""
    assert hs.is_valid_credential(f"Bearer {KEY}", KEY)
    assert hs.is_valid_credential(f"bearer {KEY}", KEY)
    assert hs.is_valid_credential(f"BEARER  {KEY} ", KEY)
    assert not hs.is_valid_credential(f"Bearer {KEY}x", KEY)
    assert not hs.is_valid_credential(f"Token {KEY}", KEY)
    assert not hs.is_valid_credential(None, KEY)


@FAST
@given(variant=hs.authorization_headers(KEY, other_keys=[OTHER]))
def test_authorization_variants_are_never_the_valid_credential(variant: hs.AuthVariant) -> None:
    """No variant is the right credential, each is sendable over HTTP/1.1, none shows the key."""
    assert not hs.is_valid_credential(variant.value, KEY)
    assert variant.value != f"Bearer {KEY}"
    assert variant.description
    assert KEY not in variant.description
    assert KEY not in repr(variant)
    if variant.raw is not None:
        h11.Request(
            method="GET", target="/", headers=[("Host", "x"), ("Authorization", variant.raw)]
        )


@pytest.mark.parametrize(
    ("label", "condition"),
    [
        ("absent", lambda v: v.value is None),
        ("empty", lambda v: v.value == ""),
        ("bare scheme", lambda v: v.value == "Bearer"),
        ("other workspace", lambda v: v.value == f"Bearer {OTHER}"),
        ("lower-case scheme, wrong key", lambda v: (v.value or "").startswith("bearer ")),
        ("basic", lambda v: (v.value or "").startswith("Basic ")),
        ("token scheme", lambda v: v.value == f"Token {KEY}"),
        ("quoted", lambda v: v.value == f'Bearer "{KEY}"'),
        ("truncated", lambda v: v.value == f"Bearer {KEY[:-1]}"),
        ("look-alike", lambda v: not (v.value or "x").isascii()),
        ("very long", lambda v: len(v.value or "") > 4096),
    ],
)
def test_authorization_variants_reach_each_promised_kind(
    label: str, condition: Callable[[hs.AuthVariant], bool]
) -> None:
    """Each promised kind of wrong credential is drawn."""
    assert condition(found(hs.authorization_headers(KEY, other_keys=[OTHER]), condition)), label


# --- path ids ------------------------------------------------------------------------------


@FAST
@given(segment=hs.path_ids(known=["demo"]) | hs.workspace_ids(known=["demo"]))
def test_path_ids_can_be_put_in_an_httpx_url(segment: str) -> None:
    """Ids are non-empty, never a known id, and httpx can build a URL holding them."""
    assert segment
    assert segment != "demo"
    assert len(segment) <= 4096
    httpx.URL(f"http://127.0.0.1/trigger/status/{segment}/x")


@pytest.mark.parametrize(
    ("label", "condition"),
    [
        ("encoded slash", lambda s: "%2F" in s),
        ("dot segment", lambda s: s == ".."),
        ("near miss", lambda s: s.lower() == "demo"),
        ("non-ascii", lambda s: not s.isascii()),
        ("very long", lambda s: len(s) >= 2048),
        ("empty-ish", lambda s: s.strip(" \u200b\ufeff") == ""),
    ],
)
def test_path_ids_reach_each_promised_kind(label: str, condition: Callable[[str], bool]) -> None:
    """Encoded slashes, dot segments, near misses, unicode, long and blank-looking ids appear."""
    assert condition(found(hs.workspace_ids(known=["demo"]), condition)), label


def test_workflow_ids_include_unknown_uuids() -> None:
    """workflow_ids() draws UUID-shaped ids other than the known ones."""
    known = str(uuid.UUID(int=1))
    value = found(hs.workflow_ids(known=[known]), lambda s: len(s) == 36 and s.count("-") == 4)
    assert str(uuid.UUID(value)) == value.lower()
    assert value != known


@FAST
@given(trigger=hs.trigger_ids(known=["quick-answer"], max_size=64))
def test_trigger_ids_respect_max_size_and_known(trigger: str) -> None:
    """trigger_ids() stays within max_size and never equals a known trigger."""
    assert 0 < len(trigger) <= 64
    assert trigger != "quick-answer"


# --- jira ----------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None, database=None)
@given(payload=hs.jira_events())
def test_jira_events_have_the_jira_shape(payload: dict[str, Any]) -> None:
    """Drawn Jira payloads name a known event and carry the documented top-level keys."""
    assert payload["webhookEvent"] in JIRA_EVENTS
    assert {"timestamp", "issue_event_type_name", "user", "issue"} <= payload.keys()
    assert {"id", "key", "self", "fields"} <= payload["issue"].keys()
    if payload["webhookEvent"] == "jira:issue_updated":
        assert payload["changelog"]["items"]
    if payload["webhookEvent"] == "comment_created":
        assert "body" in payload["comment"]
    assert json.loads(encode_payload(payload)) == payload


def test_jira_events_can_be_restricted() -> None:
    """events= limits which webhookEvent values are drawn."""

    @settings(max_examples=10, deadline=None, database=None)
    @given(hs.jira_events(events=["comment_created"]))
    def only_comments(payload: dict[str, Any]) -> None:
        assert payload["webhookEvent"] == "comment_created"

    only_comments()


@settings(max_examples=10, deadline=None, database=None)
@given(delivery=hs.jira_deliveries("jira-secret-1"))
def test_jira_deliveries_are_signed_with_the_secret(delivery: Any) -> None:
    """Each drawn delivery's signature is the HMAC-SHA256 of its body under the secret."""
    expected = "sha256=" + hmac.digest(b"jira-secret-1", delivery.body, "sha256").hex()
    assert delivery.headers["X-Hub-Signature"] == expected
    assert "jira-secret-1" not in repr(delivery)
