"""Hypothesis strategies for the trigger API: odd messages, user variables, bodies, keys, ids.

Like hypothesis's own factories, each function checks its arguments when called and raises
`hypothesis.errors.InvalidArgument` naming the bad one (`max_depth=-1 must be >= 0`).
Use them in your own tests:

    import httpx
    from hypothesis import given, settings
    from harness import strategies as hs

    URL = "http://127.0.0.1:8080/trigger/demo/quick-answer/DEV"
    AUTH = {"Authorization": "Bearer demo-key"}

    @settings(max_examples=50, deadline=None)
    @given(payload=hs.valid_payloads(allow_omission=False, allow_extra_fields=False))
    def test_variables_come_back(payload):
        answer = httpx.post(URL, json=payload, headers=AUTH, timeout=160).json()
        if answer["status"] == "completed":
            for key, value in payload["user_variables"].items():
                assert answer["response"][key] == value

    @settings(max_examples=50, deadline=None)
    @given(body=hs.invalid_payloads(kinds=("wrong_type", "not_object", "invalid_json")))
    def test_bad_bodies_are_refused(body):
        headers = {**AUTH, "Content-Type": body.content_type} if body.content_type else AUTH
        answer = httpx.post(URL, content=body.content, headers=headers)
        if body.documented_invalid:
            assert 400 <= answer.status_code < 500, body.why
        else:
            assert answer.status_code < 500, body.why  # accepted or refused: an observation

What each factory draws:
- `messages()` strings: empty, ASCII, emoji (astral, ZWJ, flags), RTL with marks, zero-width,
  combining, control, very long; lone surrogates only with `allow_surrogates=True`.
- `user_variables()` JSON objects that round-trip exactly through `json.dumps`/`json.loads`.
- `valid_payloads()` E1/E2 bodies as Python objects (omission and extra fields are A7).
- `invalid_payloads()` `RawBody` values (bytes, content type, why, `documented_invalid`).
- `authorization_headers(key)` `AuthVariant` values that are never the right credential.
- `path_ids()`, `workspace_ids()`, `trigger_ids()`, `workflow_ids()` odd path segments.
- `jira_events()` Jira Cloud payloads; `jira_deliveries(secret)` the same, signed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .._jira import (
    ISSUE_CREATED,
    ISSUE_UPDATED,
    JIRA_EVENTS,
    ChangelogItem,
    JiraDelivery,
    JiraIssue,
    JiraUser,
    comment_created,
    issue_created,
    issue_updated,
    signed_delivery,
)
from ._auth import AuthVariant, authorization_headers, is_valid_credential
from ._bodies import (
    DEFAULT_MAX_BODY_BYTES,
    INVALID_KINDS,
    RawBody,
    invalid_payloads,
    user_variables,
    valid_payloads,
)
from ._text import NO_SURROGATES, check_int, check_strings, messages, path_ids

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INVALID_KINDS",
    "AuthVariant",
    "RawBody",
    "authorization_headers",
    "invalid_payloads",
    "is_valid_credential",
    "jira_deliveries",
    "jira_events",
    "messages",
    "path_ids",
    "trigger_ids",
    "user_variables",
    "valid_payloads",
    "workflow_ids",
    "workspace_ids",
]

_SLUGS = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)


def _with_known(
    extra: st.SearchStrategy[str], max_size: int, known: Iterable[str]
) -> st.SearchStrategy[str]:
    check_int("max_size", max_size, min_value=1)
    known_ids = check_strings("known", known)
    excluded = frozenset(known_ids)
    own = extra.map(lambda text: text[:max_size]).filter(lambda text: text not in excluded)
    return st.one_of(own, path_ids(max_size=max_size, known=known_ids))


def workspace_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Workspace ids a target should not know: slugs, odd path segments, near misses.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: existing workspace ids, never drawn exactly.
    """
    return _with_known(_SLUGS, max_size, known)


def trigger_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Trigger ids a workspace should not have: slugs, odd path segments, near misses.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: existing trigger ids, never drawn exactly.
    """
    return _with_known(_SLUGS, max_size, known)


def workflow_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Workflow ids E3 should not find: fresh UUIDs (in several spellings) and odd segments.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: workflow ids that exist, never drawn exactly.
    """
    return _with_known(st.uuids().map(str), max_size, known)


def _users() -> st.SearchStrategy[JiraUser]:
    return st.builds(
        JiraUser,
        account_id=st.from_regex(r"[0-9a-f]{24}|712020:[0-9a-f-]{36}", fullmatch=True),
        display_name=messages(max_size=60),
        time_zone=st.sampled_from(("Etc/UTC", "Europe/Berlin", "Asia/Kolkata")),
    )


def _issues() -> st.SearchStrategy[JiraIssue]:
    projects = st.from_regex(r"[A-Z][A-Z0-9]{1,9}", fullmatch=True)
    label = st.text(st.characters(exclude_categories=["Cs", "Cc", "Zs"]), min_size=1, max_size=30)
    labels = st.lists(label, max_size=5)
    return st.builds(
        JiraIssue,
        key=st.builds(lambda project, n: f"{project}-{n}", projects, st.integers(1, 10**6)),
        issue_id=st.integers(10000, 10**7).map(str),
        summary=messages(max_size=255),
        description=st.none() | messages(max_size=2000),
        issue_type=st.sampled_from(("Task", "Bug", "Story", "Epic")) | messages(max_size=30),
        priority=st.sampled_from(("Highest", "High", "Medium", "Low", "Lowest")),
        status=st.sampled_from(("To Do", "In Progress", "Done")) | messages(max_size=30),
        labels=labels.map(tuple),
        reporter=_users(),
        assignee=st.none() | _users(),
    )


def _changes() -> st.SearchStrategy[ChangelogItem]:
    text = st.none() | messages(max_size=100)
    return st.builds(
        ChangelogItem,
        field=st.sampled_from(("status", "summary", "description", "labels", "assignee"))
        | st.text(NO_SURROGATES, min_size=1, max_size=20),
        fieldtype=st.sampled_from(("jira", "custom")),
        from_=text,
        from_string=text,
        to=text,
        to_string=text,
    )


@st.composite
def _jira_payloads(draw: st.DrawFn, events: tuple[str, ...]) -> dict[str, Any]:
    event = draw(st.sampled_from(events))
    issue = draw(_issues())
    when = draw(st.integers(min_value=1_577_836_800_000, max_value=2_082_758_400_000))
    if event == ISSUE_CREATED:
        return issue_created(issue=issue, timestamp_ms=when)
    if event == ISSUE_UPDATED:
        return issue_updated(
            issue=issue,
            changes=draw(st.lists(_changes(), min_size=1, max_size=4)),
            changelog_id=str(draw(st.integers(10000, 10**7))),
            timestamp_ms=when,
        )
    return comment_created(
        body=draw(messages(max_size=2000)),
        comment_id=str(draw(st.integers(10000, 10**7))),
        author=draw(_users()),
        issue=issue,
        timestamp_ms=when,
    )


def _check_events(events: Iterable[str]) -> tuple[str, ...]:
    chosen = check_strings("events", events)
    if not chosen or not set(chosen) <= set(JIRA_EVENTS):
        raise InvalidArgument(f"events={chosen!r} must be a non-empty subset of {JIRA_EVENTS}")
    return chosen


def jira_events(*, events: Iterable[str] = JIRA_EVENTS) -> st.SearchStrategy[dict[str, Any]]:
    """Jira Cloud webhook payloads with odd unicode in summaries, labels, names and comments.

    Args:
        events: which `webhookEvent`s to draw, a non-empty subset of
            `jira:issue_created`, `jira:issue_updated`, `comment_created`.
    """
    return _jira_payloads(_check_events(events))


def jira_deliveries(
    secret: str, *, events: Iterable[str] = JIRA_EVENTS
) -> st.SearchStrategy[JiraDelivery]:
    """`jira_events()` payloads signed with `secret`, ready to POST to E4.

    Args:
        secret: the trigger's Jira secret (non-empty; never shown in messages).
        events: which `webhookEvent`s to draw.
    """
    if not isinstance(secret, str) or not secret:
        raise InvalidArgument("secret must be a non-empty string")
    return _jira_payloads(_check_events(events)).map(
        lambda payload: signed_delivery(payload, secret)
    )
