"""The contract suite's building blocks: `Case`, `SuiteContext` and the violations cases raise.

`SuiteContext` is what a case runs with: the target, its client, the mock's admin API (None on
a real target) and a note sink. `ctx.verify` runs the registered checks and raises the failures
as `SuiteViolation`s named by check; `ctx.note` records open-question behaviour (never a
failure, except on the embedded demo mock, whose defaults are the notes' baseline).

An answer that says nothing about the target (`harness.checks.inconclusive_reason`: a 429 still
answered after the client's bounded retries, A8) is never judged: `ctx.verify` and
`ctx.conclusive` raise `CaseInconclusive`, and the case ends "could not tell", neither passed
nor failed. The suite's client re-sends a 429 after its `Retry-After` (a 429 processed nothing,
so re-sending even a POST is safe) within its retry policy's bounds.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from .._admin_client import MockAdmin
from .._client import TriggerClient
from .._exceptions import ContractViolation, UsageError
from .._models import Endpoint, Exchange, RunHistory
from .._protocol import join_url
from .._targets import PRODUCTION_SKIP_REASON, Target
from .._types import Sleep
from ..checks import (
    CheckContext,
    CheckResult,
    ContractViolations,
    Note,
    check_results,
    collect_notes,
    history_check_results,
    inconclusive_reason,
)

__all__ = [
    "ADMIN_SKIP",
    "NEEDS",
    "Case",
    "CaseFn",
    "CaseInconclusive",
    "SkipCase",
    "SuiteContext",
    "SuiteViolation",
    "fail",
    "raise_failures",
    "random_id",
]

NEEDS: Final = frozenset(
    {
        "sync_trigger",
        "background_trigger",
        "jira_trigger",
        "failing_trigger",
        "input_trigger",
        "slow_sync_trigger",
        "other_workspace",
        "admin",
        "starts_runs",
    }
)
CaseFn = Callable[["SuiteContext"], None]


class SkipCase(Exception):
    """Raised by a case that finds it cannot apply to this target; the message says why."""


class CaseInconclusive(Exception):
    """Raised when an answer a case needs said nothing about the target ("could not tell").

    Args:
        reason: why, as `inconclusive_reason` words it ("rate limited (HTTP 429, A8)").
        evidence: the (redacted) exchanges that said nothing.
    """

    def __init__(self, reason: str, *evidence: Exchange) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


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
    """One contract case: a stable id (`area.what.endpoint`), a title, needs and the function.

    `admin_reason` says why a case that needs the mock's admin API cannot run elsewhere (what
    it would wait for in real time); it is required with the `admin` need.
    """

    id: str
    title: str
    area: str
    needs: frozenset[str]
    fn: CaseFn
    admin_reason: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(self.needs - NEEDS)
        if unknown:
            raise UsageError(f"case {self.id!r}: unknown need {unknown[0]!r}")
        if ("admin" in self.needs) != bool(self.admin_reason):
            raise UsageError(f"case {self.id!r}: the admin need and admin_reason come together")


_TRIGGER_NEEDS: Final = (
    "sync_trigger",
    "background_trigger",
    "jira_trigger",
    "failing_trigger",
    "input_trigger",
    "slow_sync_trigger",
)
ADMIN_SKIP: Final = "needs the mock's admin API (virtual clock)"
"""How the skip reason of a case that only the mock can run begins; its `admin_reason` follows."""


def _no_key(key: str) -> str:
    return f"target names no {key}; set {key} in the targets file to run it"


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
        exchanges: where the client's response hook records every exchange of the current
            case, so a passing case still shows what it saw.
    """

    target: Target
    client: TriggerClient
    admin: MockAdmin | None = None
    sleep: Sleep = time.sleep
    log_window: int | None = None
    exact: bool = False
    allow_production: bool = False
    notes: list[Note] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    def skip_reason(self, case: Case) -> str | None:
        """Why `case` cannot run on this target, None when it can."""
        for need in sorted(case.needs):
            if need == "admin" and self.admin is None:
                return f"{ADMIN_SKIP}: {case.admin_reason}"
            if need in _TRIGGER_NEEDS and getattr(self.target, need) is None:
                return _no_key(need)
            if need == "other_workspace" and self.target.other_workspace_skip_reason:
                return self.target.other_workspace_skip_reason
            if need == "jira_trigger" and self.target.jira_skip_reason:
                return self.target.jira_skip_reason
            if need == "starts_runs" and not self.target.may_start_runs(
                allow_production=self.allow_production
            ):
                return PRODUCTION_SKIP_REASON
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
        """Record the notes these exchanges give (see `harness.checks._notes`)."""
        self.note(*collect_notes(exchanges))

    def verify(
        self, subject: Exchange | RunHistory, ctx: CheckContext, *, skip: Collection[str] = ()
    ) -> None:
        """Run every applicable check on `subject`; raise the violations found, named by check.

        A history gets its history checks and the response checks on each of its answers (its
        transient answers are the history checks' to skip). An answer that says nothing is
        judged as `judge` does: a 429 raises `CaseInconclusive` whatever the checks say (they
        would judge a request that was not processed); no answer does so unless a timing
        check faulted it (invariant 9: E1 past its limit).
        """
        if isinstance(subject, Exchange):
            results = check_results(ctx, subject, skip=skip)
            self.observe(subject)
            if subject.status_code is not None:
                self.conclusive(subject, endpoint=ctx.endpoint)
            raise_failures(results)
            self.conclusive(subject, endpoint=ctx.endpoint)
            return
        results = [
            result
            for observation in subject.observations
            for result in check_results(ctx, observation.exchange, skip=skip)
        ]
        results += history_check_results(ctx, subject, skip=skip)
        self.observe(*(observation.exchange for observation in subject.observations))
        raise_failures(results)

    def conclusive(self, exchange: Exchange, *, endpoint: Endpoint | None = None) -> Exchange:
        """`exchange`, when it says something about the target (`judge`'s rule).

        Raises:
            CaseInconclusive: it said nothing: a 429 (A8: the request was not processed,
                whatever its key or body) or no answer.
        """
        reason = inconclusive_reason(exchange, endpoint)
        if reason is not None:
            raise CaseInconclusive(reason, exchange)
        return exchange

    def url(self, *literals: str, trigger_id: str | None = None, **ids: str) -> str:
        """A full API URL: `start`/`status`/`jira` literals, then workspace, trigger, environment.

        Args:
            literals: path literals after `/trigger/` (e.g. `"start"`).
            trigger_id: the trigger segment; omitted for E3.
            ids: `workspace_id`, `environment` or `workflow_id` overrides.
        """
        workspace = ("workspace_id", ids.get("workspace_id", self.target.workspace_id))
        if "workflow_id" in ids:
            return join_url(
                self.target.base_url, *literals, workspace, ("workflow_id", ids["workflow_id"])
            )
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
        """A raw request (never raising on status) tagged with its endpoint; only a 429 is
        re-sent, as the suite's client does (`suite_context`)."""
        exchange = self.client.request(method, url, headers=headers, content=content, auth=auth)
        return dataclasses.replace(exchange, endpoint=endpoint)

    def run_count(self, **filters: str) -> int | None:
        """How many runs the mock holds matching `filters`; None without the admin API."""
        if self.admin is None:
            return None
        return len(self.admin.runs(**filters))

    def requested_runs(self) -> int | None:
        """Runs requests started in the target's workspace (not cron or manual ones, which the
        mock's clock fires at any time); None without the admin API."""
        return None if self.admin is None else self.admin.requested_runs(self.target.workspace_id)

    @contextmanager
    def starts_nothing(self, what: str) -> Iterator[None]:
        """On the mock, fail when the block started a run in the target's workspace (a cron
        tick that falls inside the block is not counted)."""
        before = self.requested_runs()
        yield
        after = self.requested_runs()
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
