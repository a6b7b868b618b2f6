"""The stateful fuzzer: a hypothesis `RuleBasedStateMachine` over the trigger API, any target.

Rules are single API operations: start a run (E2, E4; E1 runs are final at once), poll a
started run, poll it with a wrong key or under another workspace, poll unknown ids and, on the
mock, move the virtual clock. A `Bundle` carries the workflow ids between rules. After every
step the invariants hold: every answer the step got is judged (`FuzzContext.judge`: only an
invariant is a finding, an open question a note, no answer inconclusive), each run's status
only moves forward and a final answer never changes, and (on the mock) the runs the mock holds
for the workspace are those the plain-Python model started (plus at most the starts whose
answer never came, which may or may not have run).

A start may be answered with any 2xx (A6) or refused (X2: an observation, and no run to
follow); E3 for another workspace's run or an unknown id may be refused with any 4xx (A3). A
failure's reproduction replays every request of the program so far, in order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .. import strategies as hs
from .._models import Endpoint, Exchange, RunStatus
from .._protocol import decode_envelope
from .._targets import PRODUCTION_SKIP_REASON
from .._types import Clock
from ..checks import Expectation, accepted, answer_kind, found, refused
from ..report import CaseFinished, Outcome, Suite
from ._context import REQUEST_SOURCES, FuzzBudget, FuzzContext
from ._properties import (
    addressable,
    advance_request,
    jira_request,
    run_request,
    started_run,
    status_request,
    without_secrets,
)
from ._repro import FuzzRequest, FuzzStep
from ._runner import PropertyResult, run_test

__all__ = [
    "MACHINE_CASE_ID",
    "MachinePlan",
    "ModelRun",
    "TriggerMachine",
    "TriggerModel",
    "build_machine",
    "dump_payload",
    "run_machine",
]

MACHINE_CASE_ID: Final = "fuzz.state_machine"
_TITLE: Final = "Stateful: runs move forward, stay final, are found, isolated and counted"
_FINAL: Final = (RunStatus.COMPLETED, RunStatus.FAILED)
_MAX_ADVANCE_S: Final = 80_000.0
"""Total clock moves per machine: below the mock's 24 h retention, so no run expires."""
_MAX_REPRO_STEPS: Final = 40
_UNKNOWN_RUN: Final = refused("an unknown workflow id", question_id="A3", mock_code=404)
_OTHER_WORKSPACE: Final = refused(
    "a run polled under another workspace",
    invariant=8,
    question_id="A4",
    mock_code=401,
    title="Run revealed under another workspace",
)
_WRONG_KEY: Final = refused(
    "a run polled without the right key", invariant=8, title="Run revealed without the right key"
)


@dataclass(slots=True)
class ModelRun:
    """What the model knows of one run: the variables it must return and what was seen."""

    workflow_id: str
    variables: Mapping[str, Any]
    status: str = RunStatus.PENDING
    final_response: Mapping[str, Any] | None = None


@dataclass(slots=True)
class TriggerModel:
    """The plain-Python model: every run this machine started, by workflow id."""

    runs: dict[str, ModelRun] = field(default_factory=dict)
    advanced_s: float = 0.0

    def see(self, workflow_id: str, status: str, response: Mapping[str, Any]) -> str | None:
        """Record an answer for a run; the problem when it breaks invariant 2, else None."""
        run = self.runs[workflow_id]
        if run.status in _FINAL:
            if status != run.status:
                return f"final status changed from {run.status} to {status}"
            if dict(response) != dict(run.final_response or {}):
                return f"the {status} run's response changed between polls"
            return None
        # From pending (or waiting_for_input) any documented status may follow; an unknown
        # one is the `status_value` check's finding.
        run.status = status
        if status in _FINAL:
            run.final_response = dict(response)
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class MachinePlan:
    """What a machine may do on one target, and the target-bound strategies its rules draw."""

    background: bool
    sync: bool
    jira: bool
    payloads: st.SearchStrategy[dict[str, Any]]
    deliveries: st.SearchStrategy[Any]
    wrong_credentials: st.SearchStrategy[hs.AuthVariant]

    @classmethod
    def of(cls, ctx: FuzzContext) -> MachinePlan:
        """The plan for `ctx`: starts only where runs may start (`Target.may_start_runs`)."""
        target = ctx.target
        can_start = target.may_start_runs(allow_production=ctx.allow_production)
        secret = target.jira_secret.reveal() if target.jira_secret is not None else "unused"
        payloads = hs.valid_payloads(
            variables=hs.user_variables(max_depth=2, max_keys=4, max_leaves=12),
            allow_omission=ctx.exact,
            allow_extra_fields=ctx.exact,
        )
        return cls(
            background=can_start and target.background_trigger is not None,
            sync=can_start and target.sync_trigger is not None,
            jira=can_start and target.jira_trigger is not None and target.jira_secret is not None,
            payloads=payloads.filter(lambda payload: without_secrets(ctx, payload)),
            deliveries=hs.jira_deliveries(secret).filter(
                lambda delivery: without_secrets(ctx, delivery.body)
            ),
            wrong_credentials=hs.authorization_headers(ctx.key),
        )


def _planned(name: str) -> st.SearchStrategy[Any]:
    """The running machine's plan strategy `name`, drawn through `st.runner()`."""
    return st.runner().flatmap(lambda machine: getattr(machine.plan, name))


class TriggerMachine(RuleBasedStateMachine):
    """Start, poll, poll wrongly, move the clock; the model must agree after every step.

    Hypothesis builds a machine without arguments, so the target comes in as class
    attributes: `build_machine(ctx)` returns a subclass bound to one `FuzzContext` and its
    `MachinePlan`. Strategies that depend on the target are drawn from the plan through
    `st.runner()` (the machine itself), so this class body needs no target.
    """

    ctx: ClassVar[FuzzContext]
    plan: ClassVar[MachinePlan]
    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.ctx.meter.tick()
        self.model = TriggerModel()
        self.sync_ids: set[str] = set()
        self.unknown_outcomes = 0
        self.steps: list[FuzzStep] = []
        self.baseline = self._mock_run_ids()

    def _mock_run_ids(self) -> set[str] | None:
        if self.ctx.admin is None:
            return None
        runs = self.ctx.admin.runs(workspace_id=self.ctx.target.workspace_id)
        return {str(run["workflow_id"]) for run in runs if run["source"] in REQUEST_SOURCES}

    def _send(
        self,
        request: FuzzRequest,
        expectation: Expectation,
        *,
        addressed: bool = True,
        **checks: Any,
    ) -> tuple[Exchange, bool]:
        """Send and judge one request: (its answer, True when the answer was conclusive)."""
        answer = self.ctx.send(request)
        steps = tuple(self.steps[-_MAX_REPRO_STEPS:])
        self.steps.append(FuzzStep(request=request, workflow_id=started_run(answer)))
        judgement = self.ctx.judge(
            request, answer, expectation, steps=steps, addressed=addressed, **checks
        )
        return answer, not judgement.inconclusive

    def _started(self, answer: Exchange, conclusive: bool, variables: Any) -> Any:
        """The run a start began, for the bundle (its workflow id, or `multiple()` adding
        nothing when it was refused or its outcome is unknown)."""
        workflow_id = started_run(answer)
        if workflow_id is None:
            # Refused (an observation), or no answer: the run may exist all the same.
            self.unknown_outcomes += int(not conclusive or answer_kind(answer) == "accepted")
            return multiple()
        self.model.runs[workflow_id] = ModelRun(workflow_id=workflow_id, variables=variables)
        return workflow_id

    @precondition(lambda self: self.plan.background)
    @rule(target=runs, payload=_planned("payloads"))
    def start_run(self, payload: dict[str, Any]) -> Any:
        """E2 with a valid payload: a 2xx pending (A6); the run joins the model."""
        request = run_request(self.ctx, Endpoint.START, dump_payload(payload))
        answer, conclusive = self._send(request, accepted("a valid payload on E2"))
        return self._started(answer, conclusive, payload.get("user_variables", {}))

    @precondition(lambda self: self.plan.jira)
    @rule(target=runs, delivery=_planned("deliveries"))
    def start_jira(self, delivery: Any) -> Any:
        """E4 with a signed delivery: a 2xx (A6); the payload is the run's variables."""
        request = jira_request(self.ctx, delivery)
        answer, conclusive = self._send(request, accepted("a signed Jira delivery"))
        return self._started(answer, conclusive, delivery.payload)

    @precondition(lambda self: self.plan.sync)
    @rule(payload=_planned("payloads"))
    def run_sync(self, payload: dict[str, Any]) -> None:
        """E1 with a valid payload: a final answer holding the variables."""
        expected = payload.get("user_variables", {})
        request = run_request(self.ctx, Endpoint.SYNC, dump_payload(payload))
        answer, conclusive = self._send(
            request, accepted("a valid payload on E1"), expected_user_variables=expected
        )
        workflow_id = started_run(answer)
        if workflow_id is not None:
            self.sync_ids.add(workflow_id)
        elif not conclusive:
            self.unknown_outcomes += 1

    @rule(workflow_id=runs)
    def poll(self, workflow_id: str) -> None:
        """E3 finds a started run at once and its status only moves forward."""
        run = self.model.runs[workflow_id]
        request = status_request(self.ctx, workflow_id)
        answer, conclusive = self._send(
            request,
            found(),
            expected_workflow_id=workflow_id,
            expected_user_variables=run.variables,
        )
        if not conclusive:
            return
        envelope = decode_envelope(answer.response_body)
        problem = self.model.see(workflow_id, envelope.status, envelope.response)
        if problem is not None:
            raise self.ctx.failure(
                "Run status broke invariant 2",
                problem,
                request=request,
                exchange=answer,
                steps=tuple(self.steps[-_MAX_REPRO_STEPS:]),
                invariant=2,
            )

    @rule(workflow_id=runs, variant=_planned("wrong_credentials"))
    def poll_with_wrong_key(self, workflow_id: str, variant: hs.AuthVariant) -> None:
        """E3 with any credential but the right key: 401, the run not shown (invariant 8)."""
        auth: bool | str = False if variant.value is None else variant.value
        request = status_request(
            self.ctx, workflow_id, auth=auth, auth_description=variant.description
        )
        self._send(request, _WRONG_KEY, authorized=False)

    @rule(workflow_id=runs, workspace_id=hs.workspace_ids(max_size=64))
    def poll_other_workspace(self, workflow_id: str, workspace_id: str) -> None:
        """E3 under another workspace id: any 4xx (A4: the key is not that workspace's), never
        the run (invariant 8)."""
        if workspace_id == self.ctx.target.workspace_id:
            return
        request = status_request(self.ctx, workflow_id, workspace_id=workspace_id)
        self._send(request, _OTHER_WORKSPACE, addressed=addressable(workspace_id))

    @rule(workflow_id=hs.workflow_ids(max_size=64))
    def poll_unknown(self, workflow_id: str) -> None:
        """E3 for an id nobody started: any 4xx (A3; 404 on the mock), never a 5xx."""
        if workflow_id in self.model.runs or workflow_id in self.sync_ids:
            return
        request = status_request(self.ctx, workflow_id)
        self._send(request, _UNKNOWN_RUN, addressed=addressable(workflow_id))

    @precondition(lambda self: self.ctx.admin is not None)
    @rule(seconds=st.sampled_from((1.0, 30.0, 300.0, 3000.0)))
    def advance_clock(self, seconds: float) -> None:
        """On the mock: move the virtual clock (bounded below the retention period)."""
        assert self.ctx.admin is not None
        if self.model.advanced_s + seconds > _MAX_ADVANCE_S:
            return
        self.ctx.admin.advance(seconds)
        self.steps.append(FuzzStep(request=advance_request(self.ctx, seconds)))
        self.model.advanced_s += seconds

    @invariant()
    def mock_holds_the_model_runs(self) -> None:
        """On the mock: the workspace's API and Jira runs are the model's, plus at most one
        per start whose outcome is unknown (no answer, or a 2xx naming no run)."""
        current = self._mock_run_ids()
        if current is None or self.baseline is None:
            return
        held = current - self.baseline
        expected = set(self.model.runs) | self.sync_ids
        missing, extra = sorted(expected - held), sorted(held - expected)
        if missing or len(extra) > self.unknown_outcomes:
            raise self.ctx.failure(
                "Mock runs differ from the model",
                f"missing {missing[:3]}, unexpected {extra[:3]}",
                severity="critical",
                steps=tuple(self.steps[-_MAX_REPRO_STEPS:]),
            )


def build_machine(ctx: FuzzContext) -> type[TriggerMachine]:
    """`TriggerMachine` bound to `ctx` (hypothesis builds machines without arguments)."""
    attributes = {"ctx": ctx, "plan": MachinePlan.of(ctx), "__doc__": TriggerMachine.__doc__}
    return type("TriggerMachine", (TriggerMachine,), attributes)


def dump_payload(payload: Any) -> bytes:
    """A payload as the UTF-8 JSON bytes sent (non-ASCII kept as is)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def run_machine(
    ctx: FuzzContext,
    budget: FuzzBudget,
    *,
    database: ExampleDatabase | None = None,
    clock: Clock = time.monotonic,
) -> PropertyResult:
    """Run the state machine under `budget` (as many programs as examples per property).

    Args:
        ctx: the fuzz context.
        budget: examples, seed and profile.
        database: where hypothesis keeps failing programs; None for none.
        clock: real seconds, for the case's duration.
    """
    if not ctx.target.may_start_runs(allow_production=ctx.allow_production):
        reason = PRODUCTION_SKIP_REASON
        case = CaseFinished(
            suite=Suite.FUZZ,
            case_id=MACHINE_CASE_ID,
            title=_TITLE,
            outcome=Outcome.SKIPPED,
            message=reason,
            skip_reason=reason,
        )
        return PropertyResult(case=case, finding=None, examples=0, requests=0)
    machine = build_machine(ctx)
    if budget.seed is not None:
        machine = fixed_seed(budget.seed)(machine)
    options = budget.settings(database)

    def test() -> None:
        run_state_machine_as_test(machine, settings=options)

    return run_test(
        ctx,
        case_id=MACHINE_CASE_ID,
        title=_TITLE,
        test=test,
        last_input=lambda: None,
        clock=clock,
    )
