"""Tests for harness._jira: Jira Cloud payload shapes, signing and tampering."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from harness._jira import (
    SIGNATURE_HEADER,
    ChangelogItem,
    JiraIssue,
    JiraUser,
    SignatureDefect,
    comment_created,
    issue_created,
    issue_updated,
    jira_signature,
    signed_delivery,
    verify_signature,
    with_malformed_signature,
    with_tampered_body,
    with_wrong_secret,
    without_signature,
)

SECRET = "jira-s3cret-value"
WHEN_MS = int(datetime(2026, 6, 10, 0, 10, tzinfo=UTC).timestamp() * 1000) + 42
ISSUE_FIELDS = {
    "summary",
    "description",
    "issuetype",
    "project",
    "priority",
    "status",
    "labels",
    "reporter",
    "assignee",
    "created",
    "updated",
}


def independent_signature(body: bytes, secret: str) -> str:
    """HMAC-SHA256 computed through a different stdlib entry point than the module uses."""
    return "sha256=" + hmac.digest(secret.encode(), body, "sha256").hex()


def test_sign_matches_an_independent_hmac() -> None:
    """jira_signature() returns sha256=<hex> of HMAC-SHA256 over the raw body."""
    body = b'{"webhookEvent":"jira:issue_created"}'
    assert jira_signature(body, SECRET) == independent_signature(body, SECRET)
    assert jira_signature(body, SECRET) != independent_signature(body, SECRET + "x")


def test_signed_delivery_carries_body_headers_and_payload() -> None:
    """A signed delivery's body is the payload's JSON and its header signs that exact body."""
    payload = issue_created(timestamp_ms=WHEN_MS)
    delivery = signed_delivery(payload, SECRET)
    assert delivery.event == "jira:issue_created"
    assert json.loads(delivery.body) == payload
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers[SIGNATURE_HEADER] == independent_signature(delivery.body, SECRET)
    assert verify_signature(delivery.body, SECRET, delivery.signature)


def test_issue_created_has_the_documented_shape() -> None:
    """jira:issue_created holds timestamp, event names, user and an issue with its fields."""
    reporter = JiraUser(account_id="abc123", display_name="Zoë")
    issue = JiraIssue(key="OPS-7", summary="Disk full", labels=("infra",), reporter=reporter)
    payload = issue_created(issue=issue, timestamp_ms=WHEN_MS)
    assert payload["timestamp"] == WHEN_MS
    assert payload["webhookEvent"] == "jira:issue_created"
    assert payload["issue_event_type_name"] == "issue_created"
    assert payload["user"]["accountId"] == "abc123"
    assert payload["user"]["displayName"] == "Zoë"
    assert {"id", "key", "self", "fields"} <= payload["issue"].keys()
    fields = payload["issue"]["fields"]
    assert fields.keys() >= ISSUE_FIELDS
    assert fields["project"]["key"] == "OPS"
    assert fields["summary"] == "Disk full"
    assert fields["labels"] == ["infra"]
    assert fields["created"] == "2026-06-10T00:10:00.042+0000"
    assert fields["status"]["statusCategory"]["key"] == "new"


def test_issue_updated_has_a_changelog() -> None:
    """jira:issue_updated adds a changelog whose items use Jira's field names."""
    change = ChangelogItem(field="summary", from_="a", from_string="a", to="b", to_string="b")
    payload = issue_updated(changes=[change], changelog_id="555", timestamp_ms=WHEN_MS)
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["changelog"]["id"] == "555"
    item = payload["changelog"]["items"][0]
    assert {"field", "fieldtype", "from", "fromString", "to", "toString"} <= item.keys()
    assert (item["from"], item["toString"]) == ("a", "b")


def test_comment_created_has_a_comment() -> None:
    """comment_created carries the comment body, id and author next to the issue."""
    author = JiraUser(account_id="c0ffee", display_name="Commenter")
    payload = comment_created(body="שלום 😀", comment_id="77", author=author, timestamp_ms=WHEN_MS)
    assert payload["webhookEvent"] == "comment_created"
    assert payload["comment"]["body"] == "שלום 😀"
    assert payload["comment"]["id"] == "77"
    assert payload["comment"]["author"]["accountId"] == "c0ffee"
    assert payload["issue"]["fields"].keys() >= ISSUE_FIELDS


def test_builders_are_deterministic_and_read_the_injected_clock() -> None:
    """Explicit timestamps give identical bodies; without one the injected clock is used."""
    first = signed_delivery(issue_updated(timestamp_ms=WHEN_MS), SECRET)
    second = signed_delivery(issue_updated(timestamp_ms=WHEN_MS), SECRET)
    assert first.body == second.body
    assert first.signature == second.signature
    assert issue_created(clock=lambda: 1_700_000_000.5)["timestamp"] == 1_700_000_000_500


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"key": "qa-1"}, "key="),
        ({"key": "QA-1", "project_key": "OPS"}, "project_key="),
        ({"issue_id": "12a"}, "issue_id="),
    ],
)
def test_invalid_issue_fields_are_refused_by_name(kwargs: dict[str, str], named: str) -> None:
    """A malformed issue key, project key or id raises ValueError naming the field."""
    with pytest.raises(ValueError, match=named):
        JiraIssue(**kwargs)  # type: ignore[arg-type]


def test_negative_timestamp_is_refused() -> None:
    """A negative timestamp_ms raises ValueError naming it."""
    with pytest.raises(ValueError, match="timestamp_ms="):
        issue_created(timestamp_ms=-1)


def test_tampered_body_no_longer_verifies() -> None:
    """Changing the body while keeping the signature makes verification fail."""
    delivery = signed_delivery(issue_created(timestamp_ms=WHEN_MS), SECRET)
    tampered = with_tampered_body(delivery)
    assert tampered.body != delivery.body
    assert tampered.signature == delivery.signature
    assert json.loads(tampered.body) == tampered.payload
    assert not verify_signature(tampered.body, SECRET, tampered.signature)


def test_wrong_secret_verifies_only_under_that_secret() -> None:
    """A delivery re-signed with another secret fails under the right one."""
    delivery = signed_delivery(comment_created(timestamp_ms=WHEN_MS), SECRET)
    wrong = with_wrong_secret(delivery, "another-secret")
    assert not verify_signature(wrong.body, SECRET, wrong.signature)
    assert wrong.signature == independent_signature(delivery.body, "another-secret")


def test_wrong_secret_equal_to_the_right_one_is_refused_without_echoing_it() -> None:
    """Passing the delivery's own secret as the wrong one raises, and the message hides it."""
    delivery = signed_delivery(issue_created(timestamp_ms=WHEN_MS), SECRET)
    with pytest.raises(ValueError, match="wrong_secret") as caught:
        with_wrong_secret(delivery, SECRET)
    assert SECRET not in str(caught.value)


def test_without_signature_drops_the_header() -> None:
    """without_signature removes X-Hub-Signature and keeps the content type."""
    delivery = without_signature(signed_delivery(issue_created(timestamp_ms=WHEN_MS), SECRET))
    assert SIGNATURE_HEADER not in delivery.headers
    assert delivery.headers["Content-Type"] == "application/json"
    assert not verify_signature(delivery.body, SECRET, delivery.signature)


@pytest.mark.parametrize("defect", list(SignatureDefect))
def test_malformed_signatures_fail_strict_verification(defect: SignatureDefect) -> None:
    """Every malformation changes the header and fails the strict verifier."""
    delivery = signed_delivery(issue_created(timestamp_ms=WHEN_MS), SECRET)
    malformed = with_malformed_signature(delivery, defect)
    assert malformed.signature != delivery.signature
    assert malformed.body == delivery.body
    assert not verify_signature(malformed.body, SECRET, malformed.signature)
    lenient_ok = (malformed.signature or "").lower() == (delivery.signature or "").lower()
    assert defect.lenient_verifier_may_accept == lenient_ok


def test_secret_never_appears_in_any_repr() -> None:
    """No delivery, derived or not, shows the secret in its repr or headers."""
    delivery = signed_delivery(issue_updated(timestamp_ms=WHEN_MS), SECRET)
    derived = [
        delivery,
        with_tampered_body(delivery),
        without_signature(delivery),
        with_wrong_secret(delivery, "other"),
        *(with_malformed_signature(delivery, defect) for defect in SignatureDefect),
    ]
    for item in derived:
        assert SECRET not in repr(item)
        assert SECRET not in str(dict(item.headers))
        assert SECRET.encode() not in item.body


def test_hashlib_digest_length_is_what_the_header_carries() -> None:
    """The header's hex digest is the 64 characters of a SHA-256 digest."""
    signature = jira_signature(b"x", SECRET)
    assert len(signature.removeprefix("sha256=")) == hashlib.sha256().digest_size * 2


def test_a_payload_json_cannot_hold_is_a_usage_error_naming_it() -> None:
    """One number model: NaN in a Jira payload is refused before anything is signed or sent."""
    from harness import UsageError  # noqa: PLC0415
    from harness._jira import encode_payload  # noqa: PLC0415 - the one function under test

    with pytest.raises(UsageError, match=r"payload\.fields\.score"):
        encode_payload({"fields": {"score": float("nan")}})
    assert encode_payload({"n": 2**64 + 1}) == b'{"n":18446744073709551617}'
