"""The contract suite: a registry of cases and the runner, one suite for every target.

A `Case` is a plain function `fn(ctx)` that sends requests through `ctx.client`, judges the
answers with the registered checks (`ctx.verify`) and raises a `ContractViolation` naming the
broken invariant. Behaviour the documentation leaves open goes to `ctx.note(...)`: a note is
never a failure (except on the embedded demo mock, whose defaults are the notes' baseline).
`run_suite` runs the selected cases, emits `SuiteStarted`, `CaseFinished` and `NoteRecorded`
events and returns the counts; pytest runs the same cases through `execute_case`.

Outcomes: a violation (or any `AssertionError`) fails a case; any other `HarnessError` (the
target unreachable mid-run, an answer the case could not use) is an error; `SkipCase` and a
`skip_reason` skip it. Before the first case a preflight request re-raises `TargetUnavailable`
when the target cannot be reached or refuses the key.
"""

from __future__ import annotations

import fnmatch
import importlib
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ._checks import ContractViolations
from ._exceptions import AuthRejected, ContractViolation, HarnessError, UsageError
from ._models import Endpoint, Exchange
from ._suite_context import (
    NEEDS,
    Case,
    CaseFn,
    SkipCase,
    SuiteContext,
    SuiteViolation,
    fail,
    random_id,
)
from .report._events import (
    CaseFinished,
    Event,
    NoteRecorded,
    Outcome,
    Suite,
    SuiteStarted,
    ViolationRecord,
)

__all__ = [
    "CASES",
    "CASE_MODULES",
    "NEEDS",
    "Case",
    "CaseFn",
    "SkipCase",
    "SuiteContext",
    "SuiteOutcome",
    "SuiteViolation",
    "case",
    "execute_case",
    "fail",
    "preflight",
    "random_id",
    "run_suite",
    "select_cases",
]

CASES: dict[str, Case] = {}


def case(
    id: str,
    title: str,
    *,
    needs: Collection[str] = (),
) -> Callable[[CaseFn], CaseFn]:
    """Register `fn` as the case `id` (its area is the id's first segment)."""

    def register(fn: CaseFn) -> CaseFn:
        if id in CASES:
            raise UsageError(f"A case with id {id!r} is already registered")
        CASES[id] = Case(
            id=id, title=title, area=id.split(".", 1)[0], needs=frozenset(needs), fn=fn
        )
        return fn

    return register


def select_cases(select: Sequence[str] | None = None) -> list[Case]:
    """The registered cases matching any of `select` (ids, `area` prefixes or globs); all if None.

    Args:
        select: case ids, id prefixes ending at a dot boundary, or fnmatch patterns.
    """
    cases = list(CASES.values())
    if not select:
        return cases
    for pattern in select:
        if not any(_matches(item.id, pattern) for item in cases):
            raise UsageError(f"--select: {pattern!r} matches no contract case")
    return [item for item in cases if any(_matches(item.id, p) for p in select)]


def _matches(case_id: str, pattern: str) -> bool:
    return (
        case_id == pattern
        or case_id.startswith(pattern.rstrip(".") + ".")
        or fnmatch.fnmatchcase(case_id, pattern)
    )


def preflight(ctx: SuiteContext) -> Exchange:
    """One E3 request for an unknown run; raises `TargetUnavailable` if unreachable or refused."""
    exchange = ctx.send(Endpoint.STATUS, "GET", ctx.url("status", workflow_id=random_id("probe")))
    if exchange.status_code == 401:
        raise AuthRejected(
            f"target {ctx.target.name!r} refused the configured key (401)", exchange=exchange
        )
    return exchange


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
    """Run one case and say how it ended (never raises but for `KeyboardInterrupt`-likes).

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

    @property
    def ok(self) -> bool:
        """True when no case failed or errored."""
        return self.failed == 0 and self.error == 0

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

    Raises `TargetUnavailable` (before any case) when the target cannot be reached or refuses
    the key.

    Args:
        ctx: the suite context (target, client, admin, note sink).
        emit: receives `SuiteStarted`, then one `CaseFinished` per case and the `NoteRecorded`s.
        select: case ids, area prefixes or globs; None runs every case.
    """
    cases = select_cases(select)
    emit(SuiteStarted(suite=Suite.CONTRACT))
    preflight(ctx)
    results: list[CaseFinished] = []
    seen: set[tuple[str, str, str]] = set()
    notes: list[NoteRecorded] = []
    for item in cases:
        ctx.notes.clear()
        result = execute_case(ctx, item)
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
        cases=tuple(results),
        notes=tuple(notes),
    )


def _register_cases() -> None:
    """Import the case modules, which register their cases here.

    `import_module` looks in `sys.modules` (not at the package's attributes), so a fresh import
    of this module (pytester restores `sys.modules` between runs) registers the cases again.
    """
    for name in CASE_MODULES:
        importlib.import_module(f"{__package__}.{name}")


CASE_MODULES: Final = (
    "_suite_cases_auth",
    "_suite_cases_body",
    "_suite_cases_runs",
    "_suite_cases_mock",
)
_register_cases()
