"""Jira Cloud webhook payloads with odd unicode, and the same payloads signed for E4."""

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
from ._text import NO_SURROGATES, check_strings, messages

__all__ = ["jira_deliveries", "jira_events"]


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
