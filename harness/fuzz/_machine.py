"""The stateful fuzzer: a hypothesis `RuleBasedStateMachine` over the trigger API, any target.

Rules are single API operations: start a run (E2, E4; E1 runs are final at once), poll a
started run, poll it with a wrong key or under another workspace, poll unknown ids and, on the
mock, move the virtual clock. A `Bundle` carries the workflow ids between rules. After every
step the invariants hold: the contract checks pass on every answer the step got, each run's
status only moves forward and a final answer never changes, and (on the mock) the runs the
mock holds for the workspace are exactly those the plain-Python model started.
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
    precondition,
    rule,
    run_state_machine_as_test,
)

from .. import strategies as hs
from .._models import Endpoint, Exchange, RunStatus
from .._protocol import decode_envelope, join_url
from .._targets import PRODUCTION_SKIP_REASON
from .._types import Clock
from ..report import CaseFinished, Outcome, Suite
from ._context import REQUEST_SOURCES, FuzzBudget, FuzzContext, PropertyResult, run_test
from ._properties import (
    ADDRESS_CHECKS,
    addressable,
    require,
    run_request,
    status_request,
    without_secrets,
)
from ._repro import FuzzRequest

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
_JSON: Final = "application/json"


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
        self.unchecked: list[tuple[FuzzRequest, Exchange, dict[str, Any]]] = []
        self.sync_ids: set[str] = set()
        self.baseline = self._mock_run_ids()

    def _mock_run_ids(self) -> set[str] | None:
        if self.ctx.admin is None:
            return None
        runs = self.ctx.admin.runs(workspace_id=self.ctx.target.workspace_id)
        return {str(run["workflow_id"]) for run in runs if run["source"] in REQUEST_SOURCES}

    def _send(self, request: FuzzRequest, **checks: Any) -> Exchange:
        answer = self.ctx.send(request)
        self.unchecked.append((request, answer, checks))
        return answer

    def _started(self, request: FuzzRequest, answer: Exchange, variables: Any) -> str:
        require(self.ctx, answer.status_code == 200, "Start refused", request, answer)
        envelope = decode_envelope(answer.response_body)
        self.model.runs[envelope.workflow_id] = ModelRun(
            workflow_id=envelope.workflow_id, variables=variables
        )
        return envelope.workflow_id

    @precondition(lambda self: self.plan.background)
    @rule(target=runs, payload=_planned("payloads"))
    def start_run(self, payload: dict[str, Any]) -> str:
        """E2 with a valid payload: 200 pending; the run joins the model."""
        request = run_request(self.ctx, Endpoint.START, dump_payload(payload))
        answer = self._send(request)
        return self._started(request, answer, payload.get("user_variables", {}))

    @precondition(lambda self: self.plan.jira)
    @rule(target=runs, delivery=_planned("deliveries"))
    def start_jira(self, delivery: Any) -> str:
        """E4 with a signed delivery: 200 pending; the payload is the run's variables."""
        request = FuzzRequest(
            endpoint=Endpoint.JIRA,
            method="POST",
            url=join_url(
                self.ctx.target.base_url,
                "jira",
                "start",
                ("workspace_id", self.ctx.target.workspace_id),
                ("trigger_id", str(self.ctx.target.jira_trigger)),
                ("environment", self.ctx.target.environment),
            ),
            body=delivery.body,
            content_type=_JSON,
            auth=False,
            jira_signature=delivery.signature,
            jira_signed=True,
        )
        answer = self._send(request, endpoint=Endpoint.START)
        return self._started(request, answer, delivery.payload)

    @precondition(lambda self: self.plan.sync)
    @rule(payload=_planned("payloads"))
    def run_sync(self, payload: dict[str, Any]) -> None:
        """E1 with a valid payload: a final answer holding the variables."""
        expected = payload.get("user_variables", {})
        request = run_request(self.ctx, Endpoint.SYNC, dump_payload(payload))
        answer = self._send(request, expected_user_variables=expected)
        require(self.ctx, answer.status_code == 200, "E1 refused a valid payload", request, answer)
        self.sync_ids.add(decode_envelope(answer.response_body).workflow_id)

    @rule(workflow_id=runs)
    def poll(self, workflow_id: str) -> None:
        """E3 finds a started run at once and its status only moves forward."""
        run = self.model.runs[workflow_id]
        request = status_request(self.ctx, workflow_id)
        answer = self._send(
            request, expected_workflow_id=workflow_id, expected_user_variables=run.variables
        )
        require(self.ctx, answer.status_code == 200, "Started run not found by E3", request, answer)
        envelope = decode_envelope(answer.response_body)
        problem = self.model.see(workflow_id, envelope.status, envelope.response)
        if problem is not None:
            raise self.ctx.failure(
                "Run status broke invariant 2", problem, request=request, exchange=answer
            )

    @rule(workflow_id=runs, variant=_planned("wrong_credentials"))
    def poll_with_wrong_key(self, workflow_id: str, variant: hs.AuthVariant) -> None:
        """E3 with any credential but the right key: 401, the run not shown."""
        auth: bool | str = False if variant.value is None else variant.value
        request = status_request(
            self.ctx, workflow_id, auth=auth, auth_description=variant.description
        )
        answer = self._send(request, authorized=False)
        self._not_revealed(request, answer, workflow_id)

    @rule(workflow_id=runs, workspace_id=hs.workspace_ids(max_size=64))
    def poll_other_workspace(self, workflow_id: str, workspace_id: str) -> None:
        """E3 under another workspace id: a 4xx that does not show the run."""
        if workspace_id == self.ctx.target.workspace_id:
            return
        request = status_request(self.ctx, workflow_id, workspace_id=workspace_id)
        skip = () if addressable(workspace_id) else ADDRESS_CHECKS
        answer = self._send(request, authorized=False, skip=skip)
        self._not_revealed(request, answer, workflow_id)

    @rule(workflow_id=hs.workflow_ids(max_size=64))
    def poll_unknown(self, workflow_id: str) -> None:
        """E3 for an id nobody started: a 4xx (404 on the mock), never a 5xx."""
        if workflow_id in self.model.runs or workflow_id in self.sync_ids:
            return
        request = status_request(self.ctx, workflow_id)
        answer = self._send(request)
        code = answer.status_code
        require(
            self.ctx,
            code is not None and 400 <= code < 500,
            "Unknown id not refused",
            request,
            answer,
        )
        if self.ctx.exact:
            require(self.ctx, code == 404, "Unknown workflow id not 404 (A3)", request, answer)

    @precondition(lambda self: self.ctx.admin is not None)
    @rule(seconds=st.sampled_from((1.0, 30.0, 300.0, 3000.0)))
    def advance_clock(self, seconds: float) -> None:
        """On the mock: move the virtual clock (bounded below the retention period)."""
        assert self.ctx.admin is not None
        if self.model.advanced_s + seconds > _MAX_ADVANCE_S:
            return
        self.ctx.admin.advance(seconds)
        self.model.advanced_s += seconds

    def _not_revealed(self, request: FuzzRequest, answer: Exchange, workflow_id: str) -> None:
        code = answer.status_code
        shown = workflow_id.encode() in answer.response_body
        refused = code is not None and 400 <= code < 500
        if not refused or shown:
            raise self.ctx.failure(
                "Run revealed without the right key and workspace",
                f"answered {code}" + (" naming the run" if shown else ""),
                request=request,
                exchange=answer,
                severity="critical",
            )

    @invariant()
    def contract_checks_hold(self) -> None:
        """Every answer of the last step passes the contract's response checks."""
        pending, self.unchecked = self.unchecked, []
        for request, answer, checks in pending:
            self.ctx.verify(request, answer, **checks)

    @invariant()
    def mock_holds_the_model_runs(self) -> None:
        """On the mock: the workspace's API and Jira runs are exactly the model's."""
        current = self._mock_run_ids()
        if current is None or self.baseline is None:
            return
        held = current - self.baseline
        expected = set(self.model.runs) | self.sync_ids
        if held != expected:
            missing, extra = sorted(expected - held), sorted(held - expected)
            raise self.ctx.failure(
                "Mock runs differ from the model",
                f"missing {missing[:3]}, unexpected {extra[:3]}",
                severity="critical",
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
