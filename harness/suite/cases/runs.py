"""Contract cases that start runs: E1 happy path, E2+E3 lifecycle, E4 signatures.

Every E4 negative (tampered body, another secret, no signature, another body's signature and
each strictly malformed header) must be refused with a 4xx and, on the mock, start no run
(`ctx.starts_nothing`; the count is skipped on real targets, which have no admin API).

The lifecycle cases follow a run with the target's poll interval until it is final, then poll
twice more: the history checks judge that the status only moved forward, that the final answer
never changed, that the run was found at once and ended in time, and that a completed run kept
the user variables (for E4: the whole Jira payload) that started it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, Final

from ..._client import workflow_id_of
from ..._exceptions import ApiError, HarnessError
from ..._jira import (
    SIGNATURE_HEADER,
    JiraDelivery,
    JiraIssue,
    SignatureDefect,
    issue_created,
    signed_delivery,
    with_malformed_signature,
    with_tampered_body,
    with_wrong_secret,
    without_signature,
)
from ..._models import Endpoint, Exchange, Observation, RunHistory, RunStatus, StopReason
from ..._protocol import interpret
from ...checks import note_idempotency
from .._context import SuiteContext, fail, random_id
from .._registry import case
from .auth import ask_status

__all__ = [
    "EXTRA_POLLS",
    "answered",
    "as_observation",
    "follow",
    "jira_payload",
    "poll_more",
]

EXTRA_POLLS: Final = 2


def answered(ctx: SuiteContext, endpoint: Endpoint, call: Callable[[], Observation]) -> Observation:
    """`call()`'s observation; an answer it refuses is judged by the checks first, then raised."""
    try:
        return call()
    except ApiError as exc:
        ctx.verify(exc.exchange, ctx.checks(endpoint=endpoint))
        raise


def as_observation(exchange: Exchange) -> Observation:
    """An exchange with its envelope parsed (None when it is not a valid 2xx envelope)."""
    return interpret(exchange, now_epoch=time.time()).observation


def poll_more(ctx: SuiteContext, workflow_id: str, count: int) -> tuple[Observation, ...]:
    """`count` more E3 answers, one poll interval apart (raw: none is retried)."""
    polls = []
    for _ in range(count):
        ctx.sleep(ctx.target.poll_interval_s)
        polls.append(as_observation(ask_status(ctx, workflow_id)))
    return tuple(polls)


def follow(ctx: SuiteContext, start: Observation, *, extra_polls: int = EXTRA_POLLS) -> RunHistory:
    """Poll a started run until final, then `extra_polls` more times; the whole history."""
    workflow_id = workflow_id_of(start)
    history = ctx.client.wait(workflow_id, start=start)
    if history.final is None:
        return history
    return dataclasses.replace(
        history, polls=history.polls + poll_more(ctx, workflow_id, extra_polls)
    )


def _judge_run(ctx: SuiteContext, history: RunHistory, variables: dict[str, Any]) -> None:
    checks = ctx.checks(expected_workflow_id=history.workflow_id)
    ctx.verify(history, checks)
    final = history.final
    if final is None:
        last = history.observations[-1]
        if history.stop_reason is StopReason.RATE_LIMITED:
            ctx.conclusive(last.exchange)
        raise fail(
            "run_followed",
            "Run could not be followed to its end",
            f"{history.workflow_id!r}: last answer HTTP {last.status_code}",
            *(observation.exchange for observation in history.observations),
            invariant=2,
        )
    if final.status == RunStatus.COMPLETED:
        final_obs = next(o for o in history.polls if o.envelope == final)
        ctx.verify(
            final_obs.exchange, dataclasses.replace(checks, expected_user_variables=variables)
        )


@case(
    "sync.happy_path.E1",
    "E1 runs the sync trigger to a final status",
    needs={"sync_trigger", "starts_runs"},
)
def sync_happy_path(ctx: SuiteContext) -> None:
    """Invariants 1, 3-5, 9: E1 answers a final envelope in time; completed holds the variables."""
    variables = {"contract_case": random_id("sync"), "nested": {"list": [1, "two", None]}}
    try:
        observation = answered(
            ctx,
            Endpoint.SYNC,
            lambda: ctx.client.run_sync(message="contract happy path", user_variables=variables),
        )
    except ApiError as exc:
        if exc.status_code == 504:
            raise HarnessError("the sync trigger did not finish within the sync limit") from exc
        raise
    checks = ctx.checks(endpoint=Endpoint.SYNC, expected_user_variables=variables)
    ctx.verify(observation.exchange, checks)


@case(
    "background.lifecycle.E2E3",
    "E2 starts a run that E3 follows to a stable final status",
    needs={"background_trigger", "starts_runs"},
)
def background_lifecycle(ctx: SuiteContext) -> None:
    """Invariants 2, 3, 5, 6, 9: a background run moves forward, ends in time and stays final."""
    variables = {"contract_case": random_id("lifecycle"), "count": 3}
    start = answered(
        ctx,
        Endpoint.START,
        lambda: ctx.client.start(message="contract lifecycle", user_variables=variables),
    )
    _judge_run(ctx, follow(ctx, start), variables)


@case(
    "background.found_at_once.E2E3",
    "E3 finds a run the moment E2 answered",
    needs={"background_trigger", "starts_runs"},
)
def found_at_once(ctx: SuiteContext) -> None:
    """Invariant 6: the workflow id E2 returns is found by E3 at once, under the same workspace."""
    start = answered(ctx, Endpoint.START, lambda: ctx.client.start(message="contract"))
    workflow_id = workflow_id_of(start)
    poll = as_observation(ctx.conclusive(ask_status(ctx, workflow_id)))
    history = RunHistory(workflow_id=workflow_id, start=start, polls=(poll,), final=None)
    ctx.verify(history, ctx.checks(expected_workflow_id=workflow_id))


@case(
    "background.two_starts.E2",
    "Two identical E2 requests: two runs or one (A14)",
    needs={"background_trigger", "starts_runs"},
)
def two_starts(ctx: SuiteContext) -> None:
    """A14: two identical starts are both answered with valid envelopes; how many runs is noted."""
    variables = {"contract_case": random_id("twice")}
    first, second = (
        answered(ctx, Endpoint.START, lambda: ctx.client.start(user_variables=variables))
        for _ in range(2)
    )
    for observation in (first, second):
        ctx.verify(observation.exchange, ctx.checks(endpoint=Endpoint.START))
    ctx.note(note_idempotency(first.exchange, second.exchange))


def _start_with(ctx: SuiteContext, variables: dict[str, Any]) -> Observation:
    return answered(ctx, Endpoint.START, lambda: ctx.client.start(user_variables=variables))


@case(
    "background.distinct_runs.E2E3",
    "Two runs started back to back each keep their own workflow_id and variables",
    needs={"background_trigger", "starts_runs"},
)
def distinct_runs(ctx: SuiteContext) -> None:
    """Invariants 5 and 6: two E2 starts with different variables get two workflow ids, and
    E3 follows each to its own end, a completed one holding its own variables (any id format)."""
    variables = [{"contract_case": random_id("distinct"), "order": order} for order in (1, 2)]
    starts = [_start_with(ctx, chosen) for chosen in variables]
    first, second = (workflow_id_of(start) for start in starts)
    if first == second:
        raise fail(
            "distinct_workflow_ids",
            "Two runs got one workflow_id",
            f"two starts with different user_variables both answered {first!r}: E3 can "
            "follow only one of them",
            *(start.exchange for start in starts),
            invariant=6,
            severity="critical",
        )
    for start, chosen in zip(starts, variables, strict=True):
        _judge_run(ctx, follow(ctx, start), chosen)


_JIRA_NEEDS: Final = {"jira_trigger", "starts_runs"}


def jira_payload() -> dict[str, Any]:
    """A fresh `jira:issue_created` payload naming this contract case."""
    issue = JiraIssue(key="QA-1", summary=f"contract {random_id('jira')}")
    return issue_created(issue=issue, timestamp_ms=1_760_000_000_000)


def _secret(ctx: SuiteContext) -> str:
    assert ctx.target.jira_secret is not None
    return ctx.target.jira_secret.reveal()


def _jira_runs(ctx: SuiteContext) -> int | None:
    return ctx.run_count(workspace_id=ctx.target.workspace_id, source="jira")


@case(
    "jira.signed.E4", "E4 accepts a signed delivery; the payload reaches the run", needs=_JIRA_NEEDS
)
def jira_signed(ctx: SuiteContext) -> None:
    """E4 (like E2) starts one run from a signed delivery; a completed run holds the payload."""
    payload = jira_payload()
    delivery = signed_delivery(payload, _secret(ctx))
    before = _jira_runs(ctx)
    try:
        start = ctx.client.send_jira(delivery.body, signature=delivery.signature)
    except ApiError as exc:
        ctx.verify(exc.exchange, ctx.checks(endpoint=Endpoint.JIRA))
        raise fail(
            "jira_signature_accepted",
            "Signed Jira delivery refused",
            f"HTTP {exc.status_code}",
            exc.exchange,
        ) from exc
    ctx.verify(start.exchange, ctx.checks(endpoint=Endpoint.START))
    after = _jira_runs(ctx)
    if before is not None and after is not None and after - before != 1:
        raise fail(
            "jira_one_run",
            "Signed delivery did not start exactly one run",
            f"{after - before} runs started",
            start.exchange,
        )
    _judge_run(ctx, follow(ctx, start), payload)


def _register_jira_negative(
    name: str, title: str, derive: Callable[[SuiteContext, Any], Any]
) -> None:
    def run(ctx: SuiteContext) -> None:
        delivery = derive(ctx, signed_delivery(jira_payload(), _secret(ctx)))
        with ctx.starts_nothing(f"E4 with {title}"):
            exchange = ctx.send(
                Endpoint.JIRA,
                "POST",
                ctx.url("jira", "start", trigger_id=ctx.target.jira_trigger or ""),
                content=delivery.body,
                headers=dict(delivery.headers),
                auth=False,
            )
        ctx.verify(exchange, ctx.checks(endpoint=Endpoint.JIRA, authorized=False))

    run.__doc__ = f"A12, invariant 8: E4 refuses a delivery with {title} (4xx) and runs nothing."
    case(f"jira.{name}.E4", f"E4 refuses {title}", needs=_JIRA_NEEDS)(run)


_register_jira_negative("tampered_body", "a tampered body", lambda ctx, d: with_tampered_body(d))
_register_jira_negative(
    "wrong_secret",
    "a signature under another secret",
    lambda ctx, d: with_wrong_secret(d, random_id("wrong-secret")),
)
_register_jira_negative("missing_signature", "no signature", lambda ctx, d: without_signature(d))


def _signature_of_another_body(ctx: SuiteContext, delivery: JiraDelivery) -> JiraDelivery:
    """`delivery` carrying the (valid) signature of a different delivery's body."""
    other = signed_delivery(jira_payload(), _secret(ctx))
    headers = {**delivery.headers, SIGNATURE_HEADER: other.signature or ""}
    return dataclasses.replace(delivery, headers=headers)


_register_jira_negative("another_body", "the signature of another body", _signature_of_another_body)


def _malformed_as(defect: SignatureDefect) -> Callable[[SuiteContext, JiraDelivery], JiraDelivery]:
    def derive(ctx: SuiteContext, delivery: JiraDelivery) -> JiraDelivery:
        return with_malformed_signature(delivery, defect)

    return derive


for _defect in SignatureDefect:
    # Case-only variants are left out: a verifier ignoring case may accept them (not a bug).
    if not _defect.lenient_verifier_may_accept:
        _register_jira_negative(
            f"malformed_{_defect.value.replace('-', '_')}",
            f"a malformed signature ({_defect.value})",
            _malformed_as(_defect),
        )
