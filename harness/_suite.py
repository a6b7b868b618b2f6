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

import dataclasses
import fnmatch
import importlib
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from ._admin_client import MockAdmin
from ._checks import (
    CheckContext,
    CheckResult,
    ContractViolations,
    check_results,
    history_check_results,
)
from ._client import TriggerClient
from ._exceptions import (
    AuthRejected,
    ContractViolation,
    HarnessError,
    UsageError,
)
from ._models import Endpoint, Exchange, RunHistory
from ._notes import Note, collect_notes
from ._protocol import join_url
from ._targets import Target
from ._types import Sleep
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
    "run_suite",
    "select_cases",
]

NEEDS: Final = frozenset(
    {"sync_trigger", "background_trigger", "jira_trigger", "admin", "starts_runs"}
)
CaseFn = Callable[["SuiteContext"], None]


class SkipCase(Exception):
    """Raised by a case that finds it cannot apply to this target; the message says why."""


class SuiteViolation(ContractViolation):
    """A violation that names its check (a registered check or a case-level rule)."""

    def __init__(
        self,
        check: str,
        title: str,
        message: str,
        *,
        severity: str = "high",
        evidence: tuple[Exchange, ...] = (),
        invariant: int | None = None,
    ) -> None:
        super().__init__(title, message, severity=severity, evidence=evidence)
        self.check = check
        self.invariant = invariant


def fail(
    check: str,
    title: str,
    message: str,
    *evidence: Exchange,
    invariant: int | None = None,
    severity: str = "high",
) -> SuiteViolation:
    """A `SuiteViolation` to raise from a case (`raise fail(...)`)."""
    return SuiteViolation(
        check, title, message, severity=severity, evidence=evidence, invariant=invariant
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One contract case: a stable id (`area.what.endpoint`), a title, needs and the function."""

    id: str
    title: str
    area: str
    needs: frozenset[str]
    fn: CaseFn

    def __post_init__(self) -> None:
        unknown = sorted(self.needs - NEEDS)
        if unknown:
            raise UsageError(f"case {self.id!r}: unknown need {unknown[0]!r}")


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


_TRIGGER_NEEDS: Final = ("sync_trigger", "background_trigger", "jira_trigger")
_SKIP_REASONS: Final = {
    "sync_trigger": "target names no sync_trigger",
    "background_trigger": "target names no background_trigger",
    "jira_trigger": "target names no jira_trigger",
    "admin": "needs the mock's admin API (virtual clock); skipped on real targets",
}


@dataclass(kw_only=True)
class SuiteContext:
    """What a case runs with: the target, its client, the mock's admin API and a note sink.

    Args:
        target: the (selected) target.
        client: the client the cases send through.
        admin: the mock's admin client; None on a real target.
        log_window: the mock's log window, checked on every envelope; None on a real target.
        exact: True on the embedded demo mock: an open question answered unlike the mock's
            default is then a violation, since the default is what the mock must do.
        allow_production: run cases that start runs on a production target.
        sleep: how a case waits between its own polls (the session's, virtual on the mock).
    """

    target: Target
    client: TriggerClient
    admin: MockAdmin | None = None
    sleep: Sleep = time.sleep
    log_window: int | None = None
    exact: bool = False
    allow_production: bool = False
    notes: list[Note] = field(default_factory=list)

    def skip_reason(self, case: Case) -> str | None:
        """Why `case` cannot run on this target, None when it can."""
        for need in sorted(case.needs):
            if need == "admin" and self.admin is None:
                return _SKIP_REASONS[need]
            if need in _TRIGGER_NEEDS and getattr(self.target, need) is None:
                return _SKIP_REASONS[need]
            if need == "jira_trigger" and self.target.jira_secret is None:
                return "target has no Jira secret (jira_secret_env)"
            if need == "starts_runs" and self.target.production and not self.allow_production:
                return "starts runs on a production target; pass --allow-production"
        return None

    def checks(self, **overrides: Any) -> CheckContext:
        """The `CheckContext` for this target; `overrides` set endpoint, authorized, etc."""
        base = CheckContext(
            sync_limit_s=self.target.sync_limit_s,
            max_run_s=self.target.max_run_s,
            log_window=self.log_window,
        )
        return dataclasses.replace(base, **overrides)

    def note(self, *notes: Note | None) -> None:
        """Record notes on open questions; on the exact mock a non-default answer fails."""
        for item in notes:
            if item is None:
                continue
            self.notes.append(item)
            if self.exact and not item.same:
                raise fail(
                    f"mock_default_{item.question_id}",
                    f"Mock answered {item.question_id} unlike its default",
                    f"{item.title}: observed {item.observed}; default {item.mock_default}",
                    *item.evidence,
                )

    def observe(self, *exchanges: Exchange) -> None:
        """Record the notes these exchanges give (see `harness._notes`)."""
        self.note(*collect_notes(exchanges))

    def verify(
        self, subject: Exchange | RunHistory, ctx: CheckContext, *, skip: Collection[str] = ()
    ) -> None:
        """Run every applicable check on `subject`; raise the violations found, named by check.

        A history gets its history checks and the response checks on each of its answers.
        """
        if isinstance(subject, Exchange):
            results = check_results(ctx, subject, skip=skip)
            self.observe(subject)
        else:
            results = [
                result
                for observation in subject.observations
                for result in check_results(ctx, observation.exchange, skip=skip)
            ]
            results += history_check_results(ctx, subject, skip=skip)
            self.observe(*(observation.exchange for observation in subject.observations))
        raise_failures(results)

    def url(self, *literals: str, trigger_id: str | None = None, **ids: str) -> str:
        """A full API URL: `start`/`status`/`jira` literals, then workspace, trigger, environment.

        Args:
            literals: path literals after `/trigger/` (e.g. `"start"`).
            trigger_id: the trigger segment; omitted for E3.
            ids: `workspace_id`, `environment` or `workflow_id` overrides.
        """
        workspace = ("workspace_id", ids.get("workspace_id", self.target.workspace_id))
        if "workflow_id" in ids:
            return join_url(self.target.base_url, *literals, workspace, ("wf", ids["workflow_id"]))
        if trigger_id is None:
            raise UsageError("url: a trigger_id is needed for E1, E2 and E4")
        environment = ids.get("environment", self.target.environment)
        return join_url(
            self.target.base_url,
            *literals,
            workspace,
            ("trigger_id", trigger_id),
            ("environment", environment),
        )

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
        auth: bool | str = True,
    ) -> Exchange:
        """A raw request (never retried, never raising on status) tagged with its endpoint."""
        exchange = self.client.request(method, url, headers=headers, content=content, auth=auth)
        return dataclasses.replace(exchange, endpoint=endpoint)

    def run_count(self, **filters: str) -> int | None:
        """How many runs the mock holds matching `filters`; None without the admin API."""
        if self.admin is None:
            return None
        return len(self.admin.runs(**filters))

    @contextmanager
    def starts_nothing(self, what: str) -> Iterator[None]:
        """On the mock, fail when the block started a run in the target's workspace."""
        before = self.run_count(workspace_id=self.target.workspace_id)
        yield
        after = self.run_count(workspace_id=self.target.workspace_id)
        if before is not None and after is not None and after != before:
            raise fail(
                "nothing_run_without_auth",
                "A refused request started a run",
                f"{what} started {after - before} run(s)",
                invariant=8,
                severity="critical",
            )


def raise_failures(results: Iterable[CheckResult]) -> None:
    """Raise the failed results as `SuiteViolation`s (one, or `ContractViolations` of many)."""
    violations = [
        SuiteViolation(
            result.name,
            result.violation.title,
            result.violation.message,
            severity=result.violation.severity,
            evidence=result.violation.evidence,
            invariant=result.invariant,
        )
        for result in results
        if result.violation is not None
    ]
    if len(violations) == 1:
        raise violations[0]
    if violations:
        raise ContractViolations(violations)


def random_id(prefix: str) -> str:
    """An id no target knows: `prefix` and a fresh UUID."""
    return f"{prefix}-{uuid.uuid4()}"


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
        outcome = {"outcome": Outcome.PASSED}
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
