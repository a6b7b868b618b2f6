"""Contract cases on runs that fail, wait for input or outlast a limit.

Failed runs, `waiting_for_input` and the sync limit run on any target that names the trigger
(`failing_trigger`, `input_trigger`, `slow_sync_trigger`): on the mock through the admin API
and its virtual clock (reset and frozen, then moved with `advance`, so each case takes
milliseconds, and reset again when it ends), on a real target in real time, polling every
`poll_interval_s` for at most `max_run_s`. A real target cannot be given input (the API has
no endpoint for it), so there the input case checks the pause only. The background limit,
retention and cron ticks take 45 minutes to a day: they need the admin API and are skipped
elsewhere, each with its reason. A mock that lacks a trigger skips the case and says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any, Final

from ..._admin_client import MockAdmin
from ..._client import workflow_id_of
from ..._exceptions import ApiError
from ..._models import Endpoint, Envelope, Observation, RunHistory, RunStatus
from ...checks import OPEN_QUESTIONS, Note, note_background_limit
from .._context import SkipCase, SuiteContext, fail
from .._registry import case
from .auth import ask_status
from .runs import answered, as_observation, follow

__all__ = ["DEMO_TRIGGERS", "frozen_history", "mock_reset", "start_on"]

DEMO_TRIGGERS: Final = {
    "long": "long-batch",
    "quick": "quick-answer",
    "cron": "hourly-health",
}
"""The demo world's triggers the admin-only cases use (the others come from the target)."""
_MOCK_ONLY: Final = {"admin", "starts_runs"}
_FAILED_SAMPLE: Final = 20
_DAY_S: Final = 86_400.0
_FAST_SCALE: Final = 10_000.0


@contextmanager
def mock_reset(ctx: SuiteContext, *, frozen: bool = True) -> Iterator[MockAdmin]:
    """Reset the mock (and freeze its clock); reset it again, running, whatever happens."""
    admin = ctx.admin
    assert admin is not None
    admin.reset()
    if frozen:
        admin.freeze(True)
    try:
        yield admin
    finally:
        admin.reset()


def _reset_on_mock(ctx: SuiteContext) -> AbstractContextManager[object]:
    """`mock_reset(ctx, frozen=False)` on the mock; nothing on a real target."""
    return mock_reset(ctx, frozen=False) if ctx.admin is not None else nullcontext()


def _trigger(ctx: SuiteContext, key: str) -> str:
    """The trigger id `key` names: a target field (`failing_trigger`, ...) or a demo trigger."""
    named = getattr(ctx.target, key, None) if key.endswith("_trigger") else DEMO_TRIGGERS[key]
    assert isinstance(named, str), f"{key} is a need of the case"
    return named


def start_on(ctx: SuiteContext, key: str, **variables: Any) -> Observation:
    """E2 on the trigger `key` names; skips the case when this target does not know it."""
    trigger = _trigger(ctx, key)
    try:
        return answered(
            ctx, Endpoint.START, lambda: ctx.client.start(trigger, user_variables=variables)
        )
    except ApiError as exc:
        if exc.status_code in (404, 409):
            raise SkipCase(f"the target has no usable trigger {trigger!r}") from exc
        raise


def _poll(ctx: SuiteContext, workflow_id: str) -> Observation:
    return as_observation(ask_status(ctx, workflow_id))


def frozen_history(start: Observation, polls: Sequence[Observation]) -> RunHistory:
    """The history of a run followed by hand: `final` is the first final envelope polled."""
    envelopes = (p.envelope for p in polls if p.envelope is not None and p.status_code == 200)
    final: Envelope | None = next((e for e in envelopes if e.is_final), None)
    return RunHistory(
        workflow_id=workflow_id_of(start), start=start, polls=tuple(polls), final=final
    )


def _status(observation: Observation) -> str | None:
    return observation.envelope.status if observation.envelope is not None else None


def _failed(history: RunHistory) -> bool:
    return history.final is not None and history.final.status == RunStatus.FAILED


def _failing_histories(ctx: SuiteContext) -> list[RunHistory]:
    """Runs of `failing_trigger`: on the mock `_FAILED_SAMPLE` at once on its frozen clock;
    on a real target one after another, each followed to its end, until one failed (at most
    `_FAILED_SAMPLE` runs)."""
    if ctx.admin is None:
        histories: list[RunHistory] = []
        for index in range(_FAILED_SAMPLE):
            histories.append(follow(ctx, start_on(ctx, "failing_trigger", n=index)))
            if _failed(histories[-1]):
                break
        return histories
    with mock_reset(ctx) as admin:
        starts = [start_on(ctx, "failing_trigger", n=index) for index in range(_FAILED_SAMPLE)]
        admin.advance(60)
        return [
            frozen_history(start, [_poll(ctx, workflow_id_of(start)) for _ in range(2)])
            for start in starts
        ]


@case(
    "mock.failed_runs.E2E3",
    "A failed run is HTTP 200 with status failed and an error",
    needs={"failing_trigger", "starts_runs"},
)
def failed_runs(ctx: SuiteContext) -> None:
    """Invariants 2, 3: failed runs answer 200, carry an error and `response: {}`, stay failed."""
    histories = _failing_histories(ctx)
    for history in histories:
        ctx.verify(history, ctx.checks(expected_workflow_id=history.workflow_id))
    failed = [history for history in histories if _failed(history)]
    if not failed:
        raise SkipCase(f"none of {len(histories)} runs of {ctx.target.failing_trigger!r} failed")
    for history in failed:
        assert history.final is not None
        if history.final.response:
            raise fail(
                "failed_response_empty",
                "Failed run carries a result",
                f"response is {dict(history.final.response)!r}, documented {{}}",
                history.polls[0].exchange,
            )


def _until_paused(ctx: SuiteContext, workflow_id: str) -> list[Observation]:
    """Poll every `poll_interval_s` until the run waits for input or ends (at most `max_run_s`)."""
    polls: list[Observation] = []
    for _ in range(int(ctx.target.max_run_s // ctx.target.poll_interval_s) + 1):
        polls.append(_poll(ctx, workflow_id))
        status = _status(polls[-1])
        if status == RunStatus.WAITING_FOR_INPUT or polls[-1].envelope is None:
            break
        if polls[-1].envelope.is_final:
            break
        ctx.sleep(ctx.target.poll_interval_s)
    return polls


def _pause_on_target(ctx: SuiteContext) -> None:
    """A real target: the run of `input_trigger` reaches `waiting_for_input` (no input given)."""
    start = start_on(ctx, "input_trigger", contract="approval")
    workflow_id = workflow_id_of(start)
    ctx.verify(start.exchange, ctx.checks(endpoint=Endpoint.START))
    polls = _until_paused(ctx, workflow_id)
    for poll in polls:
        ctx.verify(
            poll.exchange, ctx.checks(endpoint=Endpoint.STATUS, expected_workflow_id=workflow_id)
        )
    if _status(polls[-1]) != RunStatus.WAITING_FOR_INPUT:
        raise fail(
            "waiting_for_input_seen",
            "Run did not pause for input",
            f"statuses {[_status(o) for o in polls]!r} (HTTP {polls[-1].status_code})",
            polls[-1].exchange,
        )


@case(
    "mock.waiting_for_input.E2E3",
    "A run pauses in waiting_for_input and goes on after input",
    needs={"input_trigger", "starts_runs"},
)
def waiting_for_input(ctx: SuiteContext) -> None:
    """Invariant 2, A10: waiting_for_input (requires_input true) then pending, then final.

    On a real target only the pause is checked: the API gives no way to provide input.
    """
    if ctx.admin is None:
        _pause_on_target(ctx)
        return
    with mock_reset(ctx) as admin:
        start = start_on(ctx, "input_trigger", contract="approval")
        workflow_id = workflow_id_of(start)
        admin.advance(15)
        waiting = _poll(ctx, workflow_id)
        if _status(waiting) != RunStatus.WAITING_FOR_INPUT:
            raise fail(
                "waiting_for_input_seen",
                "Run did not pause for input",
                f"status {_status(waiting)!r} (HTTP {waiting.status_code})",
                waiting.exchange,
            )
        admin.provide_input(workflow_id, "approved by the contract suite")
        resumed = _poll(ctx, workflow_id)
        admin.advance(60)
        finals = [_poll(ctx, workflow_id) for _ in range(2)]
    history = frozen_history(start, [waiting, resumed, *finals])
    ctx.verify(history, ctx.checks(expected_workflow_id=workflow_id))
    if history.final is None:
        raise fail(
            "input_resumes_run",
            "Run did not end after input",
            f"statuses {[_status(o) for o in history.polls]!r}",
            *(o.exchange for o in history.polls),
            invariant=2,
        )


@case(
    "mock.waiting_for_input.E1",
    "E1 answers waiting_for_input as soon as the pause begins",
    needs={"input_trigger", "starts_runs"},
)
def sync_waiting_for_input(ctx: SuiteContext) -> None:
    """A10: E1 on a trigger that pauses answers 200 waiting_for_input with requires_input true."""
    trigger = _trigger(ctx, "input_trigger")
    with _reset_on_mock(ctx):
        try:
            observation = answered(ctx, Endpoint.SYNC, lambda: ctx.client.run_sync(trigger))
        except ApiError as exc:
            if exc.status_code in (404, 409):
                raise SkipCase(f"the target has no usable trigger {trigger!r}") from exc
            raise
    ctx.verify(observation.exchange, ctx.checks(endpoint=Endpoint.SYNC))
    envelope = observation.envelope
    if envelope is None or envelope.status != RunStatus.WAITING_FOR_INPUT:
        raise fail(
            "sync_waiting_for_input",
            "E1 did not hand over for input",
            f"status {_status(observation)!r}",
            observation.exchange,
        )


@case(
    "mock.sync_limit.E1",
    "E1 past the sync limit answers the A1 error, never completed",
    needs={"slow_sync_trigger", "starts_runs"},
)
def sync_limit(ctx: SuiteContext) -> None:
    """A1, invariant 9: a flow longer than the sync limit gets 504 (or 200 failed), in time.

    On a real target the answer takes the sync limit in real time.
    """
    trigger = _trigger(ctx, "slow_sync_trigger")
    with _reset_on_mock(ctx):
        if ctx.admin is not None:
            ctx.admin.set_time_scale(_FAST_SCALE)
        try:
            exchange = answered(ctx, Endpoint.SYNC, lambda: ctx.client.run_sync(trigger)).exchange
        except ApiError as exc:
            if exc.status_code in (404, 409):
                raise SkipCase(f"the target has no usable trigger {trigger!r}") from exc
            exchange = exc.exchange
    ctx.verify(exchange, ctx.checks(endpoint=Endpoint.SYNC))
    body = exchange.json()
    if exchange.status_code != 504 and not (
        isinstance(body, dict) and body.get("status") == "failed"
    ):
        raise fail(
            "sync_limit_enforced",
            "E1 outlived the sync limit",
            f"a flow longer than the limit answered HTTP {exchange.status_code}",
            exchange,
            invariant=9,
        )


@case(
    "mock.background_limit.E2E3",
    "A background run past 2700 s turns failed naming the limit",
    needs=_MOCK_ONLY,
    admin_reason="a run must outlast max_run_s (45 minutes by default) of real time",
)
def background_limit(ctx: SuiteContext) -> None:
    """A2, invariant 9: a run longer than the background limit ends failed at the limit."""
    with mock_reset(ctx) as admin:
        start = start_on(ctx, "long")
        workflow_id = workflow_id_of(start)
        admin.advance(ctx.target.max_run_s + 1)
        history = frozen_history(start, [_poll(ctx, workflow_id) for _ in range(2)])
    ctx.verify(history, ctx.checks(expected_workflow_id=workflow_id))
    if history.final is None or history.final.status != RunStatus.FAILED:
        raise fail(
            "background_limit_enforced",
            "Run outlived the background limit",
            f"status {_status(history.polls[0])!r} after {ctx.target.max_run_s + 1:g} s",
            history.polls[0].exchange,
            invariant=9,
        )
    ctx.note(note_background_limit(history))


@case(
    "mock.retention.E3",
    "A finished run is kept 24 h, then 404",
    needs=_MOCK_ONLY,
    admin_reason="a finished run must be polled again 24 h after it ended",
)
def retention(ctx: SuiteContext) -> None:
    """A9, invariant 2: a final run answers the same for 24 h after its end, then 404."""
    with mock_reset(ctx) as admin:
        start = start_on(ctx, "quick", contract="retention")
        workflow_id = workflow_id_of(start)
        admin.advance(30)
        early = _poll(ctx, workflow_id)
        admin.advance(_DAY_S - 60)
        late = _poll(ctx, workflow_id)
        admin.advance(120)
        gone = ask_status(ctx, workflow_id)
    ctx.verify(frozen_history(start, [early, late]), ctx.checks(expected_workflow_id=workflow_id))
    ctx.verify(gone, ctx.checks(endpoint=Endpoint.STATUS))
    ctx.note(
        Note(
            question_id="A9",
            title="Retention of finished runs",
            observed=f"HTTP {gone.status_code} a day after the run ended",
            mock_default=OPEN_QUESTIONS["A9"].mock_default,
            same=gone.status_code == 404,
            evidence=(gone,),
        )
    )


def _half_past_next_hour(now: str) -> str:
    """Half past the hour after `now` (ISO 8601): a day from there holds 24 hourly ticks, each
    at least 30 min from both ends, so the first run is still retained (A9: 24 h from its end)
    when the last one has ended; wherever the mock's clock happened to be."""
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return (hour + timedelta(hours=1, minutes=30)).isoformat()


@case(
    "mock.cron_24h",
    "24 h of virtual time fire 24 hourly cron runs, each final",
    needs=_MOCK_ONLY,
    admin_reason="24 h of cron ticks, counted in the mock's run list",
)
def cron_day(ctx: SuiteContext) -> None:
    """A13: advancing 24 h fires exactly 24 runs of the hourly trigger, each pollable to final."""
    trigger = DEMO_TRIGGERS["cron"]
    with mock_reset(ctx) as admin:
        admin.set_now(_half_past_next_hour(str(admin.clock()["now"])))
        before = {run["workflow_id"] for run in admin.runs(trigger_id=trigger, source="cron")}
        admin.advance(_DAY_S)
        fired = [
            run
            for run in admin.runs(trigger_id=trigger, source="cron")
            if run["workflow_id"] not in before
        ]
        admin.advance(120)
        polls = [ask_status(ctx, str(run["workflow_id"])) for run in fired]
    if not fired and not before:
        raise SkipCase(f"the mock fired no cron run of {trigger!r}")
    if len(fired) != 24:
        raise fail(
            "cron_fires_each_tick",
            "Cron ticks missed or doubled",
            f"{len(fired)} runs in 24 h, expected 24",
        )
    for run, exchange in zip(fired, polls, strict=True):
        ctx.verify(
            exchange, ctx.checks(endpoint=Endpoint.STATUS, expected_workflow_id=run["workflow_id"])
        )
        observation = as_observation(exchange)
        if observation.envelope is None or not observation.envelope.is_final:
            raise fail(
                "cron_run_final",
                "Cron run not final",
                f"{run['workflow_id']!r}: status {_status(observation)!r}",
                exchange,
            )
