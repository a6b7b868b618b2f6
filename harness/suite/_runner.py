"""The contract suite's runner: one suite for every target, under the CLI and under pytest.

A `Case` is a plain function `fn(ctx)` that sends requests through `ctx.client`, judges the
answers with the registered checks (`ctx.verify`) and raises a `ContractViolation` naming the
broken invariant. Behaviour the documentation leaves open goes to `ctx.note(...)`: a note is
never a failure (except on the embedded demo mock, whose defaults are the notes' baseline).
`run_suite` runs the selected cases, emits `SuiteStarted`, `CaseFinished` and `NoteRecorded`
events and returns the counts; pytest runs the same cases through `execute_case`.

Outcomes: a violation (or any `AssertionError`) fails a case; an answer that said nothing
(`CaseInconclusive`, or a `RateLimited` still answered after the client's bounded retries: A8)
makes it inconclusive, "could not tell", never failed or errored; any other `HarnessError` (an
answer the case could not use) is an error; `SkipCase` and a `skip_reason` skip it. A stop
(`Interrupted`/`Terminated`: SIGINT, SIGTERM, SIGHUP) is not an `Exception` and ends the run at
once; the cases that ended are already emitted. `SuiteOutcome.exit_code`: 1 when a case failed
or errored, else 4 (could not judge, as fuzz) when one was inconclusive, else 0.

Before the first case, `harness._preflight.preflight` raises `TargetUnavailable` (exit 3) when
the target cannot be reached, refuses the key or is not the trigger API. A target that stops
answering part-way is exit 3 too, never a failed case. The rule: when a case did not pass and
at least one of its requests got no answer, the runner asks whether the target still answers
anything (`reachable`: an E3 request tried four times over 3.5 target seconds). If it does,
the lost answer was a blip and the case's result stands; if it does not, the run stops with
"became unreachable after N cases", and that case is reported as an error naming the cause.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._embedded import DEFAULT_TIME_SCALE, MOCK_LOG_WINDOW, Session, open_session
from .._exceptions import (
    CannotJudge,
    ContractViolation,
    HarnessError,
    RateLimited,
    TargetUnavailable,
)
from .._models import Exchange
from .._preflight import became_unreachable, preflight, reachable
from .._targets import Target
from ..checks import ContractViolations, inconclusive_reason
from ..report import (
    CaseFinished,
    Event,
    NoteRecorded,
    Outcome,
    Suite,
    SuiteStarted,
    ViolationRecord,
)
from ._context import Case, CaseInconclusive, SkipCase, SuiteContext, SuiteViolation
from ._registry import select_cases

__all__ = [
    "SuiteOutcome",
    "execute_case",
    "run_contract",
    "run_suite",
    "suite_context",
]


def _records(exc: AssertionError) -> tuple[ViolationRecord, ...]:
    items = exc.violations if isinstance(exc, ContractViolations) else (exc,)
    records = []
    for item in items:
        if isinstance(item, ContractViolation):
            check = item.check if isinstance(item, SuiteViolation) else item.title
            records.append(ViolationRecord.from_violation(check, item))
        else:
            records.append(
                ViolationRecord(check="assertion", title="Assertion failed", message=str(item))
            )
    return tuple(records)


def _describe(record: ViolationRecord, invariants: dict[str, int | None]) -> str:
    invariant = invariants.get(record.check)
    where = record.check if invariant is None else f"{record.check}, invariant {invariant}"
    return f"[{where}] {record.title}: {record.message.strip()}"


def _invariants(exc: BaseException) -> dict[str, int | None]:
    items = exc.violations if isinstance(exc, ContractViolations) else (exc,)
    return {item.check: item.invariant for item in items if isinstance(item, SuiteViolation)}


PASSED_EVIDENCE: Final = 3
"""How many of a passing case's exchanges its result keeps, to show what was checked."""


def execute_case(
    ctx: SuiteContext, case: Case, *, clock: Callable[[], float] = time.monotonic
) -> CaseFinished:
    """Run one case and say how it ended (never raises but for a stop: `Interrupted`,
    `Terminated`, `KeyboardInterrupt`, which are no `Exception`).

    Args:
        ctx: the suite context.
        case: the case to run.
        clock: real seconds, for the case's duration.
    """
    common: dict[str, Any] = {"suite": Suite.CONTRACT, "case_id": case.id, "title": case.title}
    reason = ctx.skip_reason(case)
    if reason is not None:
        return CaseFinished(**common, outcome=Outcome.SKIPPED, message=reason, skip_reason=reason)
    started = clock()
    ctx.exchanges.clear()
    try:
        case.fn(ctx)
    except SkipCase as exc:
        reason = str(exc)
        outcome: dict[str, Any] = {
            "outcome": Outcome.SKIPPED,
            "message": reason,
            "skip_reason": reason,
        }
    except CaseInconclusive as exc:
        outcome = _inconclusive(exc.reason, exc.evidence)
    except AssertionError as exc:
        records = _records(exc)
        invariants = _invariants(exc)
        message = "\n".join(_describe(record, invariants) for record in records)
        evidence = tuple(e for record in records for e in record.evidence)
        outcome = {
            "outcome": Outcome.FAILED,
            "message": message,
            "violations": records,
            "evidence": evidence,
        }
    except RateLimited as exc:
        outcome = _inconclusive(inconclusive_reason(exc.exchange) or str(exc), (exc.exchange,))
    except HarnessError as exc:
        evidence = _error_evidence(exc)
        outcome = {
            "outcome": Outcome.ERROR,
            "message": f"{type(exc).__name__}: {exc}",
            "evidence": evidence,
        }
    except Exception as exc:
        outcome = {
            "outcome": Outcome.ERROR,
            "message": f"case crashed: {type(exc).__name__}: {exc}",
        }
    else:
        seen = tuple(ctx.exchanges[:PASSED_EVIDENCE])
        outcome = {"outcome": Outcome.PASSED, "evidence": seen}
    return CaseFinished(**common, duration_s=clock() - started, **outcome)


_COULD_NOT_TELL: Final = "could not tell: "
"""How an inconclusive case's message begins; the reason (`inconclusive_reason`) follows."""


def _inconclusive(reason: str, evidence: tuple[Exchange, ...]) -> dict[str, Any]:
    """The outcome fields of a case whose answers said nothing: "could not tell: <reason>"."""
    return {
        "outcome": Outcome.INCONCLUSIVE,
        "message": f"{_COULD_NOT_TELL}{reason}",
        "evidence": evidence,
    }


def _target_lost(ctx: SuiteContext, result: CaseFinished, *, done: int) -> TargetUnavailable | None:
    """The error that stops the run when `result` did not pass because the target went away.

    None when the case passed or was skipped, when every request of it was answered, or when
    the target still answers (a lost connection that was a blip: the result stands).
    """
    if result.outcome not in (Outcome.FAILED, Outcome.ERROR, Outcome.INCONCLUSIVE):
        return None
    unanswered = [e for e in ctx.exchanges if e.status_code is None]
    if not unanswered or reachable(ctx.client, sleep=ctx.sleep):
        return None
    cause = unanswered[-1].error or "no answer"
    return became_unreachable(ctx.target, done, "case", f"{result.case_id}: {cause}")


def _error_evidence(exc: HarnessError) -> tuple[Exchange, ...]:
    exchange = getattr(exc, "exchange", None)
    return (exchange,) if isinstance(exchange, Exchange) else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteOutcome:
    """What a suite run gave: counts, every case's result and the notes recorded."""

    passed: int
    failed: int
    skipped: int
    error: int
    cases: tuple[CaseFinished, ...]
    notes: tuple[NoteRecorded, ...]
    inconclusive: int = 0

    @property
    def ok(self) -> bool:
        """True when no case failed or errored (inconclusive cases are not failures)."""
        return self.failed == 0 and self.error == 0

    @property
    def exit_code(self) -> int:
        """1 when a case failed or errored; else 4 (`CannotJudge`: could not judge, as fuzz
        when its answers said nothing) when a case was inconclusive; else 0."""
        if not self.ok:
            return 1
        return CannotJudge.exit_code if self.inconclusive else 0

    @property
    def summary(self) -> str:
        """`N passed, F failed, K inconclusive, E errors, S skipped`."""
        return (
            f"{self.passed} passed, {self.failed} failed, {self.inconclusive} inconclusive, "
            f"{self.error} errors, {self.skipped} skipped"
        )

    def by_id(self) -> dict[str, CaseFinished]:
        """The case results by case id."""
        return {item.case_id: item for item in self.cases}


def run_suite(
    ctx: SuiteContext,
    *,
    emit: Callable[[Event], None],
    select: Sequence[str] | None = None,
) -> SuiteOutcome:
    """Run the selected cases against `ctx.target`, emitting report events as they end.

    Raises `TargetUnavailable` (exit 3) before any case when the target cannot be reached,
    refuses the key or is not the trigger API, and part-way when it stops answering (the
    module docstring gives the rule).

    Args:
        ctx: the suite context (target, client, admin, note sink).
        emit: receives `SuiteStarted`, then one `CaseFinished` per case and the `NoteRecorded`s.
        select: case ids, area prefixes or globs; None runs every case.
    """
    cases = select_cases(select)
    emit(SuiteStarted(suite=Suite.CONTRACT))
    preflight(ctx.client, sleep=ctx.sleep)
    results: list[CaseFinished] = []
    seen: set[tuple[str, str, str]] = set()
    notes: list[NoteRecorded] = []
    for item in cases:
        ctx.notes.clear()
        result = execute_case(ctx, item)
        lost = _target_lost(ctx, result, done=len(results))
        if lost is not None:
            emit(
                dataclasses.replace(result, outcome=Outcome.ERROR, message=str(lost), violations=())
            )
            raise lost
        results.append(result)
        emit(result)
        for note in ctx.notes:
            key = (note.question_id, note.title, note.observed)
            if key in seen:
                continue
            seen.add(key)
            recorded = NoteRecorded(
                question_id=note.question_id,
                title=note.title,
                observed=note.observed,
                mock_default=note.mock_default,
                same=note.same,
            )
            notes.append(recorded)
            emit(recorded)
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in Outcome}
    return SuiteOutcome(
        passed=counts[Outcome.PASSED],
        failed=counts[Outcome.FAILED],
        skipped=counts[Outcome.SKIPPED],
        error=counts[Outcome.ERROR],
        inconclusive=counts[Outcome.INCONCLUSIVE],
        cases=tuple(results),
        notes=tuple(notes),
    )


def suite_context(
    session: Session, *, allow_production: bool = False, exact: bool | None = None
) -> SuiteContext:
    """A contract `SuiteContext` over `session`: its client, admin API and sleep.

    The client re-sends every call answered 429 after its `Retry-After` (A8: nothing was
    processed, so even a start is safe to re-send), within its retry policy (`max_wait_s` a
    wait, `call_deadline_s` a call); a 429 after that makes the case inconclusive.

    Args:
        session: an open session.
        allow_production: let run-starting cases run on a production target.
        exact: judge open questions against the mock's defaults; default: True for the
            embedded mock (its demo world keeps every default), False elsewhere.
    """
    embedded = session.target.embedded
    exchanges: list[Exchange] = []
    return SuiteContext(
        target=session.target,
        client=session.client(
            event_hooks={"response": [exchanges.append]}, retry_rate_limited=True
        ),
        exchanges=exchanges,
        admin=session.admin,
        sleep=session.sleep,
        log_window=MOCK_LOG_WINDOW if session.admin is not None else None,
        exact=embedded if exact is None else exact,
        allow_production=allow_production,
    )


def run_contract(
    target: Target,
    *,
    emit: Callable[[Event], None],
    select: Sequence[str] | None = None,
    allow_production: bool = False,
    in_process: bool = True,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> SuiteOutcome:
    """Open a session on `target` and run the contract suite on it (what `contract` runs).

    Raises `TargetUnavailable` when the target cannot be reached or refuses the key.

    Args:
        target: a selected target (secrets read).
        emit: receives the suite's events (`SuiteStarted`, `CaseFinished`, `NoteRecorded`).
        select: case ids, area prefixes or globs; None runs every case.
        allow_production: let run-starting cases run on a production target.
        in_process: embedded only: serve the mock in process (else on 127.0.0.1).
        time_scale: embedded only: the mock's virtual seconds per real second.
    """
    with open_session(target, in_process=in_process, time_scale=time_scale) as session:
        context = suite_context(session, allow_production=allow_production)
        return run_suite(context, emit=emit, select=select)
