"""Realistic Jira Cloud webhook deliveries for E4, signed the way Jira signs them.

Jira Cloud posts a JSON body whose top level holds `timestamp` (ms since the epoch),
`webhookEvent`, `issue_event_type_name`, `user` and `issue`, plus `changelog` for
`jira:issue_updated` and `comment` for `comment_created`. A webhook with a secret carries
`X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body under that secret.

    payload = issue_created(issue=JiraIssue(key="QA-7", summary="Login fails"), timestamp_ms=0)
    delivery = signed_delivery(payload, secret)
    client.post(url, content=delivery.body, headers=dict(delivery.headers))

A `JiraDelivery` stores the signature, never the secret, so its repr is safe to print.
The tampering helpers (`with_tampered_body`, `with_wrong_secret`, `with_malformed_signature`,
`without_signature`) derive deliveries that a correct E4 must refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from ._exceptions import UsageError
from ._json import JsonValueError, encode

__all__ = [
    "COMMENT_CREATED",
    "ISSUE_CREATED",
    "ISSUE_UPDATED",
    "JIRA_EVENTS",
    "SIGNATURE_HEADER",
    "ChangelogItem",
    "JiraDelivery",
    "JiraIssue",
    "JiraUser",
    "SignatureDefect",
    "comment_created",
    "encode_payload",
    "issue_created",
    "issue_updated",
    "jira_signature",
    "signed_delivery",
    "verify_signature",
    "with_malformed_signature",
    "with_tampered_body",
    "with_wrong_secret",
    "without_signature",
]

ISSUE_CREATED = "jira:issue_created"
ISSUE_UPDATED = "jira:issue_updated"
COMMENT_CREATED = "comment_created"
JIRA_EVENTS: tuple[str, ...] = (ISSUE_CREATED, ISSUE_UPDATED, COMMENT_CREATED)
SIGNATURE_HEADER = "X-Hub-Signature"
DEFAULT_SITE = "https://example.atlassian.net"

_SIGNATURE_RE = re.compile(r"sha256=([0-9a-f]{64})")
_ISSUE_KEY_RE = re.compile(r"([A-Z][A-Z0-9_]*)-[1-9][0-9]*")
_ISSUE_TYPE_IDS = {
    "Epic": "10000",
    "Task": "10001",
    "Story": "10002",
    "Sub-task": "10003",
    "Bug": "10004",
}
_PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
# status name -> (status id, status category key); unknown names fall in "indeterminate".
_STATUSES = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "Done": ("10001", "done"),
}
_CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}


def _stable_id(text: str) -> str:
    """A Jira-looking numeric id derived from a name, the same on every run."""
    return str(10000 + zlib.crc32(text.encode("utf-8")) % 90000)


def _jira_time(ms: int) -> str:
    """Jira's timestamp format, e.g. `2026-06-10T00:10:00.000+0000`."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def _avatar_urls(base: str) -> dict[str, str]:
    return {size: f"{base}?s={size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")}


@dataclass(frozen=True, slots=True, kw_only=True)
class JiraUser:
    """An Atlassian account as it appears in `user`, `reporter`, `assignee` and comments."""

    account_id: str = "5b10ac8d82e05b22cc7d4ef5"
    display_name: str = "Ada Tester"
    time_zone: str = "Etc/UTC"

    def to_json(self, site: str) -> dict[str, Any]:
        """The user object Jira embeds, with links under `site`."""
        return {
            "self": f"{site}/rest/api/2/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "avatarUrls": _avatar_urls(f"https://avatar.example/{self.account_id}"),
            "displayName": self.display_name,
            "active": True,
            "timeZone": self.time_zone,
            "accountType": "atlassian",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class JiraIssue:
    """The issue a delivery is about; `project_key` is the key's prefix when not given.

    `created_ms`/`updated_ms` default to the delivery's timestamp.
    """

    key: str = "QA-123"
    issue_id: str = "10001"
    summary: str = "Checkout page returns 500 for EU customers"
    description: str | None = "Steps: add an item, pay with a saved card. Expected: receipt."
    project_key: str | None = None
    project_name: str | None = None
    issue_type: str = "Task"
    priority: str = "Medium"
    status: str = "To Do"
    labels: tuple[str, ...] = ()
    reporter: JiraUser = field(default_factory=JiraUser)
    assignee: JiraUser | None = None
    created_ms: int | None = None
    updated_ms: int | None = None
    site: str = DEFAULT_SITE

    def __post_init__(self) -> None:
        match = _ISSUE_KEY_RE.fullmatch(self.key)
        if match is None:
            raise ValueError(f"Invalid key={self.key!r}: expected PROJECT-123")
        if self.project_key is not None and self.project_key != match.group(1):
            raise ValueError(
                f"Invalid project_key={self.project_key!r}: the key {self.key!r} "
                f"belongs to {match.group(1)!r}"
            )
        if not self.issue_id.isdigit() or not self.issue_id.isascii():
            raise ValueError(f"Invalid issue_id={self.issue_id!r}: expected digits")

    @property
    def project(self) -> str:
        """The project key, derived from the issue key when not given."""
        return self.project_key or self.key.rsplit("-", 1)[0]

    def to_json(self, timestamp_ms: int) -> dict[str, Any]:
        """The `issue` object of a delivery sent at `timestamp_ms`."""
        api = f"{self.site}/rest/api/2"
        status_id, category = _STATUSES.get(self.status, (_stable_id(self.status), "indeterminate"))
        category_id, category_name, colour = _CATEGORIES[category]
        project_id = _stable_id(self.project)
        type_id = _ISSUE_TYPE_IDS.get(self.issue_type, _stable_id(self.issue_type))
        priority_id = _PRIORITY_IDS.get(self.priority, _stable_id(self.priority))
        fields: dict[str, Any] = {
            "summary": self.summary,
            "description": self.description,
            "issuetype": {
                "self": f"{api}/issuetype/{type_id}",
                "id": type_id,
                "description": "",
                "iconUrl": f"{self.site}/images/icons/issuetypes/{type_id}.svg",
                "name": self.issue_type,
                "subtask": self.issue_type == "Sub-task",
                "hierarchyLevel": 0,
            },
            "project": {
                "self": f"{api}/project/{project_id}",
                "id": project_id,
                "key": self.project,
                "name": self.project_name or self.project,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": _avatar_urls(f"{self.site}/rest/api/2/universal_avatar/project"),
            },
            "priority": {
                "self": f"{api}/priority/{priority_id}",
                "iconUrl": f"{self.site}/images/icons/priorities/{priority_id}.svg",
                "name": self.priority,
                "id": priority_id,
            },
            "status": {
                "self": f"{api}/status/{status_id}",
                "description": "",
                "iconUrl": f"{self.site}/",
                "name": self.status,
                "id": status_id,
                "statusCategory": {
                    "self": f"{api}/statuscategory/{category_id}",
                    "id": category_id,
                    "key": category,
                    "colorName": colour,
                    "name": category_name,
                },
            },
            "labels": list(self.labels),
            "reporter": self.reporter.to_json(self.site),
            "creator": self.reporter.to_json(self.site),
            "assignee": None if self.assignee is None else self.assignee.to_json(self.site),
            "created": _jira_time(timestamp_ms if self.created_ms is None else self.created_ms),
            "updated": _jira_time(timestamp_ms if self.updated_ms is None else self.updated_ms),
        }
        return {
            "id": self.issue_id,
            "self": f"{api}/issue/{self.issue_id}",
            "key": self.key,
            "fields": fields,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangelogItem:
    """One field change of a `jira:issue_updated` changelog (`from_` stands for `from`)."""

    field: str
    fieldtype: str = "jira"
    from_: str | None = None
    from_string: str | None = None
    to: str | None = None
    to_string: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The changelog item as Jira sends it."""
        return {
            "field": self.field,
            "fieldtype": self.fieldtype,
            "fieldId": self.field,
            "from": self.from_,
            "fromString": self.from_string,
            "to": self.to,
            "toString": self.to_string,
        }


_DEFAULT_CHANGE = (
    ChangelogItem(
        field="status", from_="10000", from_string="To Do", to="3", to_string="In Progress"
    ),
)


def _timestamp(timestamp_ms: int | None, clock: Callable[[], float]) -> int:
    if timestamp_ms is None:
        return int(clock() * 1000)
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int) or timestamp_ms < 0:
        raise ValueError(f"Invalid timestamp_ms={timestamp_ms!r}: expected an int >= 0")
    return timestamp_ms


def _envelope(
    event: str, type_name: str, issue: JiraIssue, user: JiraUser, timestamp_ms: int
) -> dict[str, Any]:
    return {
        "timestamp": timestamp_ms,
        "webhookEvent": event,
        "issue_event_type_name": type_name,
        "user": user.to_json(issue.site),
        "issue": issue.to_json(timestamp_ms),
    }


def issue_created(
    *,
    issue: JiraIssue | None = None,
    user: JiraUser | None = None,
    timestamp_ms: int | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The payload of a `jira:issue_created` delivery.

    Args:
        issue: the issue created (default: `JiraIssue()`, QA-123).
        user: who created it (default: the issue's reporter).
        timestamp_ms: the delivery time; when None, `clock()` (seconds) is read.
        clock: the injected wall clock.
    """
    issue = issue or JiraIssue()
    when = _timestamp(timestamp_ms, clock)
    return _envelope(ISSUE_CREATED, "issue_created", issue, user or issue.reporter, when)


def issue_updated(
    *,
    issue: JiraIssue | None = None,
    changes: Sequence[ChangelogItem] = _DEFAULT_CHANGE,
    changelog_id: str = "10100",
    event_type_name: str = "issue_updated",
    user: JiraUser | None = None,
    timestamp_ms: int | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The payload of a `jira:issue_updated` delivery, with its `changelog`.

    Args:
        issue: the issue after the change (default: `JiraIssue(status="In Progress")`).
        changes: the changelog items (default: status To Do -> In Progress).
        changelog_id: the changelog's id.
        event_type_name: `issue_updated`, or e.g. `issue_generic` for a transition.
        user: who changed it (default: the issue's reporter).
        timestamp_ms: the delivery time; when None, `clock()` (seconds) is read.
        clock: the injected wall clock.
    """
    issue = issue or JiraIssue(status="In Progress")
    when = _timestamp(timestamp_ms, clock)
    payload = _envelope(ISSUE_UPDATED, event_type_name, issue, user or issue.reporter, when)
    payload["changelog"] = {"id": changelog_id, "items": [item.to_json() for item in changes]}
    return payload


def comment_created(
    *,
    body: str = "Reproduced on UAT; logs attached.",
    comment_id: str = "10000",
    author: JiraUser | None = None,
    issue: JiraIssue | None = None,
    timestamp_ms: int | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The payload of a `comment_created` delivery, with its `comment`.

    Args:
        body: the comment text.
        comment_id: the comment's id.
        author: who wrote it (default: the issue's reporter).
        issue: the issue commented on (default: `JiraIssue()`).
        timestamp_ms: the delivery time; when None, `clock()` (seconds) is read.
        clock: the injected wall clock.
    """
    issue = issue or JiraIssue()
    author = author or issue.reporter
    when = _timestamp(timestamp_ms, clock)
    payload = _envelope(COMMENT_CREATED, "issue_commented", issue, author, when)
    author_json = author.to_json(issue.site)
    payload["comment"] = {
        "self": f"{issue.site}/rest/api/2/issue/{issue.issue_id}/comment/{comment_id}",
        "id": comment_id,
        "author": author_json,
        "body": body,
        "updateAuthor": author_json,
        "created": _jira_time(when),
        "updated": _jira_time(when),
        "jsdPublic": True,
    }
    return payload


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The UTF-8 JSON body Jira would send for `payload` (compact, non-ASCII kept).

    Numbers follow the one model (`harness._json`): integers exact, floats IEEE.

    Raises:
        UsageError: `payload` holds what JSON cannot (NaN, Infinity, a non-string key), named.
    """
    try:
        return encode(payload, root="payload")
    except JsonValueError as exc:
        raise UsageError(f"Jira payload: {exc}") from None


def jira_signature(body: bytes, secret: str) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the raw `body` under `secret`.

    Args:
        body: the exact bytes sent.
        secret: the Jira integration's secret.
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """True when `header` is exactly `sha256=<lower-case hex>` of `body` under `secret`.

    Args:
        body: the raw body received.
        secret: the expected secret.
        header: the `X-Hub-Signature` value, None when absent.
    """
    if header is None or _SIGNATURE_RE.fullmatch(header) is None:
        return False
    return hmac.compare_digest(header, jira_signature(body, secret))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class JiraDelivery:
    """One webhook POST: the raw body, its headers (with the signature) and the payload."""

    event: str
    body: bytes
    headers: Mapping[str, str]
    payload: Mapping[str, Any]

    @property
    def signature(self) -> str | None:
        """The `X-Hub-Signature` header, None when absent."""
        return self.headers.get(SIGNATURE_HEADER)

    def __repr__(self) -> str:
        return (
            f"JiraDelivery(event={self.event!r}, body=<{len(self.body)} bytes>, "
            f"signature={self.signature!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Make hypothesis print this repr rather than every field."""
        printer.text(repr(self))


def _headers(signature: str | None) -> Mapping[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "Atlassian Webhook HTTP Client"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return MappingProxyType(headers)


def signed_delivery(payload: Mapping[str, Any], secret: str) -> JiraDelivery:
    """The delivery of `payload`, signed with `secret` (which is not kept).

    Args:
        payload: a Jira payload, e.g. from `issue_created()`; needs a string `webhookEvent`.
        secret: the Jira integration's secret.
    """
    event = payload.get("webhookEvent")
    if not isinstance(event, str):
        raise ValueError("Invalid payload: 'webhookEvent' must be a string")
    if not isinstance(secret, str) or not secret:
        raise ValueError("Invalid secret: expected a non-empty string")
    body = encode_payload(payload)
    return JiraDelivery(
        event=event,
        body=body,
        headers=_headers(jira_signature(body, secret)),
        payload=MappingProxyType(dict(payload)),
    )


def with_tampered_body(delivery: JiraDelivery) -> JiraDelivery:
    """The same delivery with `timestamp` moved by 1 ms in the body, signature unchanged."""
    payload = dict(delivery.payload)
    payload["timestamp"] = int(payload.get("timestamp", 0)) + 1
    return replace(delivery, body=encode_payload(payload), payload=MappingProxyType(payload))


def with_wrong_secret(delivery: JiraDelivery, wrong_secret: str) -> JiraDelivery:
    """The same body signed with `wrong_secret`, which must differ from the delivery's secret.

    Args:
        delivery: a signed delivery.
        wrong_secret: another secret (e.g. another trigger's).
    """
    signature = jira_signature(delivery.body, wrong_secret)
    if signature == delivery.signature:
        raise ValueError("Invalid wrong_secret: it is the secret the delivery was signed with")
    return replace(delivery, headers=_headers(signature))


class SignatureDefect(StrEnum):
    """Ways a signature header can be malformed while derived from the right digest."""

    MISSING_PREFIX = "missing-prefix"
    WRONG_ALGORITHM = "wrong-algorithm"
    NON_HEX = "non-hex"
    TRUNCATED = "truncated"
    EMPTY = "empty"
    PREFIX_ONLY = "prefix-only"
    UPPER_CASE_HEX = "upper-case-hex"
    UPPER_CASE_PREFIX = "upper-case-prefix"

    @property
    def lenient_verifier_may_accept(self) -> bool:
        """True where a verifier that ignores case would accept it (an observation, not a bug)."""
        return self in {SignatureDefect.UPPER_CASE_HEX, SignatureDefect.UPPER_CASE_PREFIX}


def _malformed(digest: str, defect: SignatureDefect) -> str:
    forms = {
        SignatureDefect.MISSING_PREFIX: digest,
        SignatureDefect.WRONG_ALGORITHM: f"sha1={digest[:40]}",
        SignatureDefect.NON_HEX: f"sha256=g{digest[1:]}",
        SignatureDefect.TRUNCATED: f"sha256={digest[:32]}",
        SignatureDefect.EMPTY: "",
        SignatureDefect.PREFIX_ONLY: "sha256=",
        SignatureDefect.UPPER_CASE_HEX: f"sha256={digest.upper()}",
        SignatureDefect.UPPER_CASE_PREFIX: f"SHA256={digest}",
    }
    return forms[defect]


def with_malformed_signature(delivery: JiraDelivery, defect: SignatureDefect) -> JiraDelivery:
    """The delivery with its signature header malformed as `defect` says.

    Args:
        delivery: a signed delivery.
        defect: which malformation; see `SignatureDefect.lenient_verifier_may_accept`.
    """
    match = _SIGNATURE_RE.fullmatch(delivery.signature or "")
    if match is None:
        raise ValueError("Invalid delivery: it carries no well-formed signature to malform")
    return replace(delivery, headers=_headers(_malformed(match.group(1), SignatureDefect(defect))))


def without_signature(delivery: JiraDelivery) -> JiraDelivery:
    """The delivery with no `X-Hub-Signature` header."""
    return replace(delivery, headers=_headers(None))
