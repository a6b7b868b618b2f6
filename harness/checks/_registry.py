"""Contract checks: a small registry of plain functions, the runners, and the response checks.

A check is a function `f(ctx, subject) -> None` that raises `ContractViolation` (or any
`AssertionError`) when the subject breaks the contract. Response checks look at one `Exchange`;
history checks (in `_history_checks.py`) at a whole `RunHistory`. The runners collect every
failure instead of stopping at the first; a check that crashes with any other exception is
reported as a violation of that check, never propagated. Nothing here imports pytest, so the
same checks serve pytest, a Locust task and the CLI.

Decisions:
- The endpoint a response check applies to is `ctx.endpoint` when set, else the exchange's own.
- Transient answers (no answer, 5xx, 429) are skipped by the history lifecycle checks, but the
  response check `no_server_error` still reports every 5xx (invariant 7); a test that injects
  faults passes `skip={"no_server_error"}`.
- Only E1 may answer 504 (the A1 sync-limit answer); any other 5xx is a finding.
- 429 and 413 need not carry `detail` (A8, A7: infrastructure may answer them); other 4xx must.
- E4's refusal of a bad signature (A12) may be any 4xx; E1-E3 must answer 401 with the exact body.
- A 429 processed nothing (A8): no response check faults it (not even a keyless request's);
  `judge` and the contract suite call the answer inconclusive.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from .._exceptions import ContractViolation, UsageError
from .._json import json_equal
from .._models import Endpoint, Exchange, RunHistory

__all__ = [
    "CHECK_TITLES",
    "Check",
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "ContractViolations",
    "HistoryCheck",
    "RegisteredCheck",
    "Registry",
    "Severity",
    "assert_checks",
    "check",
    "check_results",
    "header",
    "history_check",
    "history_check_results",
    "history_checks",
    "is_transient",
    "missing_variables",
    "response_checks",
    "run_checks",
    "run_history_checks",
]


class Severity(StrEnum):
    """How bad a violation is, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    """What a check needs to know beyond the exchange: the endpoint, the key, the limits.

    Args:
        endpoint: the endpoint the request aimed at; None to use each exchange's own.
        authorized: True when the request carried the right key (or Jira signature).
        sync_limit_s: the documented E1 limit.
        network_slack_s: time allowed on top of `sync_limit_s` for the network.
        max_run_s: the longest a background run may take.
        log_window: the configured log window on the mock; None on a real target.
        expected_workflow_id: the run an E3 answer must be about, when known.
        expected_user_variables: variables a completed run's `response` must hold.
    """

    endpoint: Endpoint | None = None
    authorized: bool = True
    sync_limit_s: float = 150.0
    network_slack_s: float = 10.0
    max_run_s: float = 2700.0
    log_window: int | None = None
    expected_workflow_id: str | None = None
    expected_user_variables: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("sync_limit_s", "max_run_s"):
            if getattr(self, name) <= 0:
                raise UsageError(f"Invalid {name}={getattr(self, name)!r} <= 0")
        if self.network_slack_s < 0:
            raise UsageError(f"Invalid network_slack_s={self.network_slack_s!r} < 0")
        if self.log_window is not None and self.log_window < 0:
            raise UsageError(f"Invalid log_window={self.log_window!r} < 0")


SubjectT = TypeVar("SubjectT", Exchange, RunHistory)
Check = Callable[[CheckContext, Exchange], None]
HistoryCheck = Callable[[CheckContext, RunHistory], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredCheck(Generic[SubjectT]):
    """A check with its stable name, human title, invariant number and applicable endpoints."""

    name: str
    title: str
    invariant: int | None
    endpoints: frozenset[Endpoint] | None
    function: Callable[[CheckContext, SubjectT], None]

    def applies_to(self, endpoint: Endpoint | None) -> bool:
        """True when the check is meant for answers of `endpoint` (None: every endpoint)."""
        return self.endpoints is None or endpoint in self.endpoints


class Registry(Generic[SubjectT]):
    """Checks by name, in registration order."""

    def __init__(self) -> None:
        self._checks: dict[str, RegisteredCheck[SubjectT]] = {}

    def add(self, registered: RegisteredCheck[SubjectT]) -> None:
        """Register a check; its name must be new in every registry."""
        if registered.name in CHECK_TITLES:
            raise UsageError(f"A check named {registered.name!r} is already registered")
        self._checks[registered.name] = registered

    def discard(self, name: str) -> None:
        """Unregister the check called `name`, if there is one."""
        self._checks.pop(name, None)

    def __iter__(self) -> Iterator[RegisteredCheck[SubjectT]]:
        return iter(tuple(self._checks.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __len__(self) -> int:
        return len(self._checks)


response_checks: Registry[Exchange] = Registry()
history_checks: Registry[RunHistory] = Registry()


class _CheckTitles(Mapping[str, str]):
    """Live, read-only view `name -> title` over both registries."""

    def _all(self) -> dict[str, str]:
        checks = [*response_checks, *history_checks]
        return {registered.name: registered.title for registered in checks}

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(response_checks) + len(history_checks)


CHECK_TITLES: Mapping[str, str] = _CheckTitles()


def _registrar(
    registry: Registry[SubjectT],
    *,
    title: str,
    invariant: int | None,
    endpoints: Collection[Endpoint] | None,
) -> Callable[[Callable[[CheckContext, SubjectT], None]], Callable[[CheckContext, SubjectT], None]]:
    """A decorator adding a function to `registry` under its name, returning it unchanged."""

    def register(
        function: Callable[[CheckContext, SubjectT], None],
    ) -> Callable[[CheckContext, SubjectT], None]:
        scope = None if endpoints is None else frozenset(endpoints)
        registry.add(
            RegisteredCheck(
                name=function.__name__,
                title=title,
                invariant=invariant,
                endpoints=scope,
                function=function,
            )
        )
        return function

    return register


def check(
    *, title: str, invariant: int | None = None, endpoints: Collection[Endpoint] | None = None
) -> Callable[[Check], Check]:
    """Register a response check under its function name.

    Args:
        title: the human title reports show.
        invariant: the trigger-api.md invariant it enforces, if any.
        endpoints: endpoints whose answers it looks at; None for every answer.
    """
    return _registrar(response_checks, title=title, invariant=invariant, endpoints=endpoints)


def history_check(
    *, title: str, invariant: int | None = None, endpoints: Collection[Endpoint] | None = None
) -> Callable[[HistoryCheck], HistoryCheck]:
    """Register a history check; `endpoints` filters on the endpoint that started the run."""
    return _registrar(history_checks, title=title, invariant=invariant, endpoints=endpoints)


class CheckOutcome(StrEnum):
    """What running one check on one subject gave."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check's result on one subject; `violation` is set exactly when it failed."""

    name: str
    title: str
    invariant: int | None
    outcome: CheckOutcome
    violation: ContractViolation | None = None


def _evaluate(
    registry: Registry[SubjectT],
    ctx: CheckContext,
    subject: SubjectT,
    *,
    endpoint: Endpoint | None,
    evidence: tuple[Exchange, ...],
    skip: Collection[str],
) -> list[CheckResult]:
    unknown = sorted(set(skip) - set(CHECK_TITLES)) if skip else []
    if unknown:
        raise UsageError(f"Unknown check name(s) to skip: {', '.join(unknown)}")
    results = []
    for registered in registry:
        outcome, violation = CheckOutcome.PASSED, None
        if registered.name in skip:
            outcome = CheckOutcome.SKIPPED
        elif not registered.applies_to(endpoint):
            outcome = CheckOutcome.NOT_APPLICABLE
        else:
            violation = _call(registered, ctx, subject, evidence)
            outcome = CheckOutcome.PASSED if violation is None else CheckOutcome.FAILED
        results.append(
            _unfailed(registered.name, registered.title, registered.invariant, outcome)
            if violation is None
            else CheckResult(
                name=registered.name,
                title=registered.title,
                invariant=registered.invariant,
                outcome=outcome,
                violation=violation,
            )
        )
    return results


@functools.lru_cache(maxsize=1024)
def _unfailed(name: str, title: str, invariant: int | None, outcome: CheckOutcome) -> CheckResult:
    """A result without a violation: one shared immutable value per check and outcome (building
    a frozen dataclass for each of ~15 checks on every answer cost a load user ~13 µs a request,
    issue 18)."""
    return CheckResult(name=name, title=title, invariant=invariant, outcome=outcome)


def _call(
    registered: RegisteredCheck[SubjectT],
    ctx: CheckContext,
    subject: SubjectT,
    evidence: tuple[Exchange, ...],
) -> ContractViolation | None:
    try:
        registered.function(ctx, subject)
    except ContractViolation as violation:
        return violation
    except AssertionError as exc:
        return ContractViolation(
            registered.title, str(exc) or "assertion failed", evidence=evidence
        )
    except Exception as exc:
        return ContractViolation(
            f"Check {registered.name} crashed",
            f"{type(exc).__name__}: {exc}",
            severity=Severity.HIGH,
            evidence=evidence,
        )
    return None


def check_results(
    ctx: CheckContext, exchange: Exchange, *, skip: Collection[str] = ()
) -> list[CheckResult]:
    """Run every response check on `exchange`; one result per registered check."""
    endpoint = ctx.endpoint if ctx.endpoint is not None else exchange.endpoint
    return _evaluate(
        response_checks, ctx, exchange, endpoint=endpoint, evidence=(exchange,), skip=skip
    )


def history_check_results(
    ctx: CheckContext, history: RunHistory, *, skip: Collection[str] = ()
) -> list[CheckResult]:
    """Run every history check on `history`; one result per registered check."""
    evidence = tuple(observation.exchange for observation in history.observations)
    endpoint = history.start.exchange.endpoint
    return _evaluate(history_checks, ctx, history, endpoint=endpoint, evidence=evidence, skip=skip)


def run_checks(
    ctx: CheckContext, exchange: Exchange, *, skip: Collection[str] = ()
) -> list[ContractViolation]:
    """Every violation the response checks find in `exchange` (empty when it holds)."""
    return [r.violation for r in check_results(ctx, exchange, skip=skip) if r.violation]


def run_history_checks(
    ctx: CheckContext, history: RunHistory, *, skip: Collection[str] = ()
) -> list[ContractViolation]:
    """Every violation the history checks find in `history` (response checks not included)."""
    return [r.violation for r in history_check_results(ctx, history, skip=skip) if r.violation]


class ContractViolations(ContractViolation):
    """Several violations at once; `violations` lists them, the message names each."""

    def __init__(self, violations: Sequence[ContractViolation]) -> None:
        worst = min((v.severity for v in violations), key=_severity_rank)
        unique = {id(item): item for v in violations for item in v.evidence}
        evidence = tuple(unique.values())
        lines = "\n".join(f"- {v.title}: {v.message}" for v in violations)
        super().__init__(
            f"{len(violations)} contract violations",
            f"\n{lines}",
            severity=worst,
            evidence=evidence,
        )
        self.violations = tuple(violations)


def _severity_rank(severity: str) -> int:
    """Position in `Severity` (0 is worst); an unknown label ranks as HIGH."""
    labels = [member.value for member in Severity]
    return labels.index(severity) if severity in labels else labels.index(Severity.HIGH)


def assert_checks(
    ctx: CheckContext, subject: Exchange | RunHistory, *, skip: Collection[str] = ()
) -> None:
    """Raise the violation found in `subject`, or `ContractViolations` when there are several.

    A `RunHistory` gets its history checks plus the response checks on every observation.
    """
    if isinstance(subject, Exchange):
        violations = run_checks(ctx, subject, skip=skip)
    else:
        violations = [
            violation
            for observation in subject.observations
            for violation in run_checks(ctx, observation.exchange, skip=skip)
        ]
        violations += run_history_checks(ctx, subject, skip=skip)
    if len(violations) == 1:
        raise violations[0]
    if violations:
        raise ContractViolations(violations)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, looked up without regard to case."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def is_transient(exchange: Exchange) -> bool:
    """True for answers a client retries: none at all, 429 and 5xx."""
    code = exchange.status_code
    return code is None or code == 429 or code >= 500


def missing_variables(response: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """One line per expected variable that `response` lacks or holds with another value.

    Values compare in JSON's data model (`harness._json.json_equal`): `1 == 1.0`, `true != 1`,
    integers exactly.
    """
    return [
        f"user variable {key!r} missing"
        if key not in response
        else f"user variable {key!r} changed"
        for key, value in expected.items()
        if key not in response or not json_equal(response[key], value)
    ]
