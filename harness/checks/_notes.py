"""Observations for what the documentation leaves open (A1-A15): notes, never violations.

`OPEN_QUESTIONS` holds each open question of trigger-api.md with the mock's default. A note
records what a target did on one of them and whether that is what the mock does by default
(`same`). A real endpoint that chooses differently is reported, never failed: only the
invariants (the check modules here) fail a run. `X1` and `X2` are assumptions the spec
states outside the A table: the 401's `WWW-Authenticate` header, and whether a request of the
documented shape holding big, deep or odd values is run (invariant 7 lets a target refuse
"huge or odd unicode values" with a 4xx). `harness.checks._judgement` turns these notes and the
checks into one verdict per answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

from .._models import Endpoint, Exchange, RunHistory, RunStatus
from ._registry import header
from ._response import UNAUTHORIZED_BODY

__all__ = [
    "MAX_BODY_BYTES",
    "NOTE_RULES",
    "OPEN_QUESTIONS",
    "Note",
    "OpenQuestion",
    "collect_notes",
    "make_note",
    "note_background_limit",
    "note_body_fields",
    "note_body_size",
    "note_environment_case",
    "note_idempotency",
    "note_jira_refusal",
    "note_rate_limit",
    "note_requires_input",
    "note_start_code",
    "note_sync_limit",
    "note_unknown_workflow",
    "note_www_authenticate",
    "notes_for",
]

MAX_BODY_BYTES = 1024 * 1024
_ENVIRONMENTS = frozenset({"DEV", "UAT", "PROD"})
_STARTS = frozenset({Endpoint.SYNC, Endpoint.START, Endpoint.JIRA})
_ENVELOPE_ENDPOINTS = frozenset({Endpoint.SYNC, Endpoint.START, Endpoint.STATUS})
_LIMIT_WORDS = re.compile(r"(?i)limit|time(d)?[ -]?out")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenQuestion:
    """One behaviour the documentation leaves open, and what the mock does by default."""

    id: str
    question: str
    mock_default: str


def _questions(*rows: tuple[str, str, str]) -> Mapping[str, OpenQuestion]:
    table = {qid: OpenQuestion(id=qid, question=q, mock_default=d) for qid, q, d in rows}
    return MappingProxyType(table)


OPEN_QUESTIONS: Mapping[str, OpenQuestion] = _questions(
    ("A1", "E1 past its limit", "HTTP 504 after sync_limit_s (alternative: 200 failed)"),
    ("A2", "a background run past 2700 s", "E3 turns failed with an error naming the limit"),
    ("A3", "unknown workflow_id, or another workspace's", '404 {"detail": "Workflow not found"}'),
    (
        "A4",
        "unknown workspace or trigger; trigger paused; environment with no build",
        "401 foreign key; 404 unknown trigger; 409 paused; 409 no build",
    ),
    ("A5", "environment not DEV/UAT/PROD, or lower case", "422 (exact upper case required)"),
    ("A6", "HTTP code of E2 / E4", "200"),
    (
        "A7",
        "missing message / user_variables; extra fields; size",
        "both optional; extra fields ignored; over 1 MiB: 413; not a JSON object: 422",
    ),
    ("A8", "rate limits", "none by default; when on: 429 with Retry-After in whole seconds"),
    ("A9", "retention of finished runs", "kept 24 h from the run's end, then 404"),
    (
        "A10",
        "requires_input for autonomous runs",
        "off; a trigger may pause once in waiting_for_input until input is given",
    ),
    ("A11", "log window", "last 5 entries"),
    (
        "A12",
        "Jira secret header",
        "X-Hub-Signature: sha256=<hex>; missing or wrong: 401 with the bearer failure body",
    ),
    ("A13", "cron dialect, timezone, overlap", "5 fields, UTC, overlapping runs allowed"),
    ("A14", "idempotency", "none: two identical POSTs start two runs"),
    (
        "A15",
        "one key across DEV/UAT/PROD",
        "yes; a key limited to some environments gets 401 elsewhere (404 on E3)",
    ),
    ("X1", "WWW-Authenticate on a 401", "WWW-Authenticate: Bearer"),
    (
        "X2",
        "a request of the documented shape with big, deep or odd values",
        "run: any JSON value is taken, integers exactly",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """What a target did on an open question; `same` when it matches the mock's default."""

    question_id: str
    title: str
    observed: str
    mock_default: str
    same: bool
    evidence: tuple[Exchange, ...]


def make_note(question_id: str, title: str, observed: str, same: bool, *evidence: Exchange) -> Note:
    """A note on the open question `question_id` (a key of `OPEN_QUESTIONS`).

    Args:
        question_id: the question, e.g. "A5".
        title: what was asked, in a few words.
        observed: what the target did.
        same: True when that is the mock's default.
        evidence: the exchanges that show it.
    """
    return Note(
        question_id=question_id,
        title=title,
        observed=observed,
        mock_default=OPEN_QUESTIONS[question_id].mock_default,
        same=same,
        evidence=evidence,
    )


def _answer(exchange: Exchange) -> str:
    """`HTTP 404: <detail>` in a few words."""
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {exchange.status_code}" + (f": {detail}" if isinstance(detail, str) else "")


def _judged(exchange: Exchange) -> bool:
    """True when the answer says something about an open question (not absent, 5xx or 429)."""
    code = exchange.status_code
    return code is not None and code < 500 and code != 429


def _ok(exchange: Exchange) -> bool:
    return exchange.status_code is not None and 200 <= exchange.status_code < 300


def note_sync_limit(exchange: Exchange) -> Note | None:
    """A1: how E1 answered a flow that outlived the synchronous limit."""
    if exchange.endpoint is not Endpoint.SYNC:
        return None
    if exchange.status_code == 504:
        return make_note("A1", "E1 past its limit", _answer(exchange), True, exchange)
    body = exchange.json() if _ok(exchange) else None
    error = body.get("error") if isinstance(body, dict) else None
    if body and body.get("status") == RunStatus.FAILED and _LIMIT_WORDS.search(str(error)):
        observed = f"HTTP {exchange.status_code} failed: {error}"
        return make_note("A1", "E1 past its limit", observed, False, exchange)
    return None


def note_unknown_workflow(exchange: Exchange) -> Note | None:
    """A3: how E3 refused a workflow id it does not show (404 is the mock's answer)."""
    code = exchange.status_code
    if exchange.endpoint is not Endpoint.STATUS or code is None or not 400 <= code < 500:
        return None
    if code in (401, 429):
        return None
    same = code == 404 and exchange.json() == {"detail": "Workflow not found"}
    return make_note("A3", "Unknown workflow", _answer(exchange), same, exchange)


def _environment(exchange: Exchange) -> str | None:
    segments = urlsplit(exchange.url).path.rstrip("/").split("/")
    return segments[-1] if exchange.endpoint in _STARTS and "trigger" in segments else None


def note_environment_case(exchange: Exchange) -> Note | None:
    """A5: an environment other than exactly DEV, UAT or PROD accepted or refused."""
    environment = _environment(exchange)
    if environment is None or environment in _ENVIRONMENTS or not _judged(exchange):
        return None
    if exchange.status_code == 401:
        return None
    verdict = "accepted" if _ok(exchange) else "refused"
    observed = f"environment {environment!r} {verdict} ({_answer(exchange)})"
    return make_note("A5", "Environment spelling", observed, exchange.status_code == 422, exchange)


def note_start_code(exchange: Exchange) -> Note | None:
    """A6: the 2xx code E2 or E4 answers a start with."""
    if exchange.endpoint not in (Endpoint.START, Endpoint.JIRA) or not _ok(exchange):
        return None
    observed = f"HTTP {exchange.status_code}"
    return make_note("A6", "Start answer code", observed, exchange.status_code == 200, exchange)


def note_body_size(exchange: Exchange) -> Note | None:
    """A7: a request body over 1 MiB accepted or refused."""
    size = len(exchange.request_body)
    if exchange.endpoint not in _STARTS or size <= MAX_BODY_BYTES or not _judged(exchange):
        return None
    verdict = "accepted" if _ok(exchange) else "refused"
    observed = f"{size} byte body {verdict} ({_answer(exchange)})"
    return make_note("A7", "Body over 1 MiB", observed, exchange.status_code == 413, exchange)


def note_body_fields(exchange: Exchange) -> Note | None:
    """A7: a body with extra fields, or without message/user_variables, accepted or refused."""
    if exchange.endpoint not in (Endpoint.SYNC, Endpoint.START) or not _judged(exchange):
        return None
    try:
        body = json.loads(exchange.request_body)
    except ValueError:
        return None
    if not isinstance(body, dict) or exchange.status_code in (401, 413):
        return None
    extra = sorted(set(body) - {"message", "user_variables"})
    missing = sorted({"message", "user_variables"} - set(body))
    if not extra and not missing:
        return None
    parts = [
        f"extra {', '.join(extra)}" if extra else "",
        f"no {', '.join(missing)}" if missing else "",
    ]
    verdict = "accepted" if _ok(exchange) else f"refused ({_answer(exchange)})"
    observed = f"body with {'; '.join(p for p in parts if p)} {verdict}"
    return make_note("A7", "Body fields", observed, _ok(exchange), exchange)


def note_rate_limit(exchange: Exchange) -> Note | None:
    """A8: a 429, and whether it says when to come back in whole seconds."""
    if exchange.status_code != 429:
        return None
    retry_after = header(exchange.response_headers, "retry-after")
    observed = f"429 with Retry-After {retry_after!r}" if retry_after else "429 without Retry-After"
    same = retry_after is not None and retry_after.strip().isdigit()
    return make_note("A8", "Rate limited", observed, same, exchange)


def note_www_authenticate(exchange: Exchange) -> Note | None:
    """X1: whether an E1-E3 401 carries `WWW-Authenticate: Bearer` (the docs show no header)."""
    if exchange.status_code != 401 or exchange.endpoint not in _STARTS | {Endpoint.STATUS}:
        return None
    if exchange.endpoint is Endpoint.JIRA:
        return None
    value = header(exchange.response_headers, "www-authenticate")
    observed = f"WWW-Authenticate: {value}" if value else "no WWW-Authenticate header"
    same = value is not None and value.strip().lower().startswith("bearer")
    return make_note("X1", "401 challenge header", observed, same, exchange)


def note_jira_refusal(exchange: Exchange) -> Note | None:
    """A12: how E4 refused a delivery (any 4xx; 401 with the bearer body is the mock's)."""
    code = exchange.status_code
    if exchange.endpoint is not Endpoint.JIRA or code is None or not 400 <= code < 500:
        return None
    if code in (413, 429):
        return None
    same = exchange.status_code == 401 and exchange.json() == UNAUTHORIZED_BODY
    return make_note("A12", "Jira delivery refused", _answer(exchange), same, exchange)


def note_requires_input(exchange: Exchange) -> Note | None:
    """A10: `requires_input` on an envelope, when it is not true exactly with waiting_for_input.

    The envelope table gives `false` for autonomous runs and `true` together with
    `waiting_for_input`; when a run needs input is left open (A10), so another pairing is
    an observation, never a violation.
    """
    body = exchange.json() if _ok(exchange) else None
    if exchange.endpoint not in _ENVELOPE_ENDPOINTS or not isinstance(body, dict):
        return None
    requires, status = body.get("requires_input"), body.get("status")
    if not isinstance(requires, bool) or requires == (status == RunStatus.WAITING_FOR_INPUT):
        return None
    observed = f"requires_input={str(requires).lower()} with status {status!r}"
    return make_note("A10", "requires_input", observed, False, exchange)


NOTE_RULES: tuple[Callable[[Exchange], Note | None], ...] = (
    note_sync_limit,
    note_unknown_workflow,
    note_environment_case,
    note_start_code,
    note_body_size,
    note_body_fields,
    note_rate_limit,
    note_www_authenticate,
    note_jira_refusal,
    note_requires_input,
)


def notes_for(exchange: Exchange) -> list[Note]:
    """Every note one exchange gives."""
    return [note for rule in NOTE_RULES if (note := rule(exchange)) is not None]


def collect_notes(exchanges: Iterable[Exchange]) -> list[Note]:
    """Notes of many exchanges, one per (question, title, observed) with its first evidence."""
    seen: dict[tuple[str, str, str], Note] = {}
    for exchange in exchanges:
        for note in notes_for(exchange):
            seen.setdefault((note.question_id, note.title, note.observed), note)
    return list(seen.values())


def note_idempotency(first: Exchange, second: Exchange) -> Note | None:
    """A14: whether two identical start requests started two runs."""
    ids = [_workflow_id(item) for item in (first, second)]
    if None in ids or first.request_body != second.request_body:
        return None
    same = ids[0] != ids[1]
    observed = "two runs started" if same else f"both answered {ids[0]!r}"
    return make_note("A14", "Identical starts", observed, same, first, second)


def _workflow_id(exchange: Exchange) -> str | None:
    body = exchange.json() if _ok(exchange) else None
    value = body.get("workflow_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def note_background_limit(history: RunHistory) -> Note | None:
    """A2: how a background run that hit its limit ended (failed naming the limit is default)."""
    final = history.final
    if final is None or not _LIMIT_WORDS.search(str(final.error)):
        return None
    observed = f"{final.status}: {final.error}"
    seen = (o.exchange for o in history.observations if o.envelope == final)
    evidence = next(seen, history.start.exchange)
    return make_note("A2", "Background run past its limit", observed, True, evidence)
