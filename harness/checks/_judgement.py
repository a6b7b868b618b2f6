"""One judgement per answer: conforming, a violation, an observation or inconclusive.

Contract cases, fuzz properties, the state machine and load flows ask the same question of an
answer: does it break an invariant of trigger-api.md (1-9), answer an open question (A1-A15)
unlike the mock, or say nothing at all? `judge` answers it once, from three sources:

- the registered response checks (`_response.py`): each names the invariant it enforces;
- the note rules (`_notes.py`): what the answer says about an open question;
- an `Expectation`: what the documentation lets a target answer this request.

Rules (trigger-api.md):
- Only an invariant gives a `VIOLATION`. An expectation with `invariant=None` is an open
  question: accepted or refused is an `OBSERVATION` (a note), never a violation.
- `INCONCLUSIVE`: no answer (connection refused or reset, timeout); a 429 (A8); a 5xx where
  transient faults are expected (a fault-injecting mock). Elsewhere a 5xx breaks invariant 7,
  except E1's 504 (the A1 sync-limit answer).
- Refusing means any 4xx (the code is open unless a check says otherwise: E1-E3 answer 401
  without a valid key, invariant 8). Accepting means any 2xx (A6: E2/E4 may answer 202).
- A path that no longer addresses its endpoint (an id holding "/") asks no open question and
  is not held to the 401 rules.

Standard expectations: `accepted` (a documented-shape request; refusing it is open, X2),
`found` (E3 of a run E2 started: invariant 6), `refused` (a request the docs make wrong),
`open_question` (either answer is an observation) and `ANY_ANSWER`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from .._exceptions import ContractViolation, UsageError
from .._models import Endpoint, Exchange
from ._notes import OPEN_QUESTIONS, Note, make_note, notes_for
from ._registry import CheckContext, Severity, check_results

__all__ = [
    "ADDRESS_CHECKS",
    "ANY_ANSWER",
    "Expectation",
    "Judgement",
    "Verdict",
    "accepted",
    "answer_kind",
    "found",
    "inconclusive_reason",
    "judge",
    "open_question",
    "refused",
]

Outcome = Literal["accepted", "refused"]

ADDRESS_CHECKS: Final = (
    "unauthorized_refused",
    "unauthorized_body",
    "client_error_detail",
    "json_content_type",
)
"""Checks that assume the request addresses an endpoint (skipped for paths that do not)."""


class Verdict(StrEnum):
    """What one answer shows, least to most serious for a run's outcome."""

    CONFORMING = "conforming"
    OBSERVATION = "observation"
    INCONCLUSIVE = "inconclusive"
    VIOLATION = "violation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What the documentation lets a target answer one request.

    Args:
        outcome: the documented outcome (`invariant` set) or the mock's default on the open
            question `question_id`; None when any answer but a 5xx will do.
        invariant: the trigger-api.md invariant the other outcome breaks; None when the
            outcome is open.
        question_id: the open question (a key of `OPEN_QUESTIONS`) that leaves the outcome,
            or the refusal's code, open.
        what: the request in a few words ("a lower-case environment"); notes and messages.
        mock_code: the mock's default HTTP code for it; a note records another code.
        title: the violation's title (default: "<what> not <outcome>").
        topic: the note's title when several kinds of request share one ("Body not strict
            JSON"); the note then names `what` too. Default: `what`.
    """

    outcome: Outcome | None
    invariant: int | None = None
    question_id: str | None = None
    what: str = "the request"
    mock_code: int | None = None
    title: str | None = None
    topic: str | None = None

    def __post_init__(self) -> None:
        if self.question_id is not None and self.question_id not in OPEN_QUESTIONS:
            raise UsageError(f"Expectation: unknown open question {self.question_id!r}")
        if self.outcome is not None and self.invariant is None and self.question_id is None:
            raise UsageError("Expectation: an outcome needs an invariant or an open question")

    @property
    def violation_title(self) -> str:
        """The title a violation of this expectation is reported under."""
        return self.title or f"{self.what[:1].upper()}{self.what[1:]} not {self.outcome}"


ANY_ANSWER: Final = Expectation(outcome=None)
"""Any answer but a 5xx: the request asks no question of its own."""


def accepted(what: str, *, invariant: int | None = None, title: str | None = None) -> Expectation:
    """A request of the documented shape: a 2xx; a refusal is an observation (X2) unless
    `invariant` says the docs require acceptance."""
    question = None if invariant is not None else "X2"
    return Expectation(
        outcome="accepted", invariant=invariant, question_id=question, what=what, title=title
    )


def found(what: str = "a started run") -> Expectation:
    """E3 for a run E2 (or E4) just started: a 2xx (invariant 6)."""
    return Expectation(
        outcome="accepted", invariant=6, what=what, title="Started run not found by E3"
    )


def refused(
    what: str,
    *,
    invariant: int = 7,
    question_id: str | None = None,
    mock_code: int | None = None,
    title: str | None = None,
    topic: str | None = None,
) -> Expectation:
    """A request the docs make wrong: any 4xx (invariant 7, or 8 without a valid key); the
    code is open when `question_id` names the question (A3 404, A7 422, ...)."""
    return Expectation(
        outcome="refused",
        invariant=invariant,
        question_id=question_id,
        what=what,
        mock_code=mock_code,
        title=title,
        topic=topic,
    )


def open_question(
    question_id: str,
    what: str,
    *,
    mock_outcome: Outcome,
    mock_code: int | None = None,
    topic: str | None = None,
) -> Expectation:
    """A request whose outcome the docs leave open: accepted or refused is an observation."""
    return Expectation(
        outcome=mock_outcome,
        question_id=question_id,
        what=what,
        mock_code=mock_code,
        topic=topic,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """The verdict on one answer, with why, the invariant broken and the notes it gave.

    `violations` are set exactly for `VIOLATION`; `invariant` is the first one's number.
    `notes` holds every open-question note the answer gave, whatever the verdict.
    """

    verdict: Verdict
    reason: str
    invariant: int | None = None
    violations: tuple[ContractViolation, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def inconclusive(self) -> bool:
        """True when the answer says nothing about the target (no answer, transient fault)."""
        return self.verdict is Verdict.INCONCLUSIVE


def answer_kind(exchange: Exchange) -> str:
    """`accepted` (2xx), `refused` (4xx), `no answer`, or `HTTP <code>` for anything else."""
    code = exchange.status_code
    if code is None:
        return "no answer"
    if 200 <= code < 300:
        return "accepted"
    return "refused" if 400 <= code < 500 else f"HTTP {code}"


def inconclusive_reason(
    exchange: Exchange, endpoint: Endpoint | None = None, *, transient_faults: bool = False
) -> str | None:
    """Why the answer says nothing about the target, None when it does (the module's
    `INCONCLUSIVE` rule): `no answer (...)`, `rate limited (HTTP 429, A8)` (the request was not
    processed: neither accepted nor refused, whatever its key or body), or a 5xx where
    `transient_faults` are expected (never E1's 504, the A1 sync-limit answer).

    Args:
        exchange: the answer.
        endpoint: the endpoint the request aimed at; None uses the exchange's own.
        transient_faults: True where the target injects faults.
    """
    endpoint = endpoint if endpoint is not None else exchange.endpoint
    code = exchange.status_code
    if code is None:
        return f"no answer ({exchange.error or 'connection lost'})"
    if code == 429:
        return "rate limited (HTTP 429, A8)"
    sync_limit = code == 504 and endpoint is Endpoint.SYNC
    if code >= 500 and transient_faults and not sync_limit:
        return f"HTTP {code} where transient faults are expected"
    return None


def _expectation_note(
    expectation: Expectation, exchange: Exchange, notes: list[Note]
) -> Note | None:
    """The note on the expectation's open question, unless a note rule already made one."""
    question = expectation.question_id
    if question is None or any(note.question_id == question for note in notes):
        return None
    kind = answer_kind(exchange)
    if kind not in ("accepted", "refused"):
        return None
    code = exchange.status_code
    outcome_same = kind == expectation.outcome
    if outcome_same and expectation.mock_code is None:
        return None
    same = outcome_same and code == (expectation.mock_code or code)
    observed = f"{kind} (HTTP {code})"
    if expectation.topic is not None:
        return make_note(
            question, expectation.topic, f"{expectation.what} {observed}", same, exchange
        )
    title = expectation.what[:1].upper() + expectation.what[1:]
    return make_note(question, title, observed, same, exchange)


def judge(
    ctx: CheckContext,
    exchange: Exchange,
    expectation: Expectation = ANY_ANSWER,
    *,
    transient_faults: bool = False,
    addressed: bool = True,
    skip: Collection[str] = (),
) -> Judgement:
    """Classify one answer once: conforming, violation, observation or inconclusive.

    Args:
        ctx: the check context (endpoint, whether the key was valid, limits, expected run).
        exchange: the answer.
        expectation: what the docs let a target answer this request.
        transient_faults: True where the target injects faults (a 5xx is then inconclusive).
        addressed: False when the path no longer addresses its endpoint (an id holding "/"):
            no open question is asked and the `ADDRESS_CHECKS` are skipped.
        skip: check names not to run (e.g. `sync_within_limit` on a scaled clock).

    Raises:
        UsageError: `skip` names an unknown check.
    """
    endpoint = ctx.endpoint if ctx.endpoint is not None else exchange.endpoint
    skipped = (*skip, *(() if addressed else ADDRESS_CHECKS))
    results = check_results(ctx, exchange, skip=skipped)
    notes = notes_for(exchange) if addressed else []
    transient = inconclusive_reason(exchange, endpoint, transient_faults=transient_faults)
    found_violations = [
        result for result in results if result.violation is not None and transient is None
    ]
    if exchange.status_code is None:
        # Only a timing check can speak about no answer (invariant 9: E1 past its limit).
        found_violations = [r for r in results if r.violation is not None]
    if found_violations:
        first = found_violations[0]
        assert first.violation is not None
        return Judgement(
            verdict=Verdict.VIOLATION,
            reason=first.violation.title,
            invariant=first.invariant,
            violations=tuple(r.violation for r in found_violations if r.violation is not None),
            notes=tuple(notes),
        )
    if transient is not None:
        return Judgement(verdict=Verdict.INCONCLUSIVE, reason=transient, notes=tuple(notes))
    return _against(expectation, exchange, endpoint, notes, addressed)


def _against(
    expectation: Expectation,
    exchange: Exchange,
    endpoint: Endpoint | None,
    notes: list[Note],
    addressed: bool,
) -> Judgement:
    """The verdict of an answer no check faulted, against what the request expected."""
    kind = answer_kind(exchange)
    code = exchange.status_code
    if code == 504 and endpoint is Endpoint.SYNC:
        kind = "accepted"  # the A1 sync-limit answer: E1 took the request
    wanted = expectation.outcome if addressed else None
    if wanted is not None and kind != wanted and expectation.invariant is not None:
        body = exchange.response_body[:300].decode("utf-8", "replace")
        violation = ContractViolation(
            expectation.violation_title,
            f"{expectation.what}: expected {wanted}, answered HTTP {code}: {body}",
            severity=Severity.CRITICAL if kind == "accepted" else Severity.HIGH,
            evidence=(exchange,),
        )
        return Judgement(
            verdict=Verdict.VIOLATION,
            reason=violation.title,
            invariant=expectation.invariant,
            violations=(violation,),
            notes=tuple(notes),
        )
    if addressed:
        note = _expectation_note(expectation, exchange, notes)
        notes = [*notes, note] if note is not None else notes
    different = [note for note in notes if not note.same]
    if different:
        first = different[0]
        reason = f"{first.question_id} {first.title}: {first.observed}"
        return Judgement(verdict=Verdict.OBSERVATION, reason=reason, notes=tuple(notes))
    return Judgement(verdict=Verdict.CONFORMING, reason=f"{kind} (HTTP {code})", notes=tuple(notes))
