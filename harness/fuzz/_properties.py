"""The fuzzed properties, for any target: plain functions over a `FuzzContext` and a drawn input.

Each answer is judged once (`FuzzContext.judge`): only an invariant of trigger-api.md gives a
finding; an open question answered unlike the mock is a note; no answer is inconclusive.

- `valid_payload_accepted` (E2) and `sync_valid_payload` (E1): a valid payload is taken (any
  2xx, A6; a refusal is an observation, X2) and, once the run completes, its user variables
  come back (invariant 5); E3 finds the run at once (invariant 6).
- `jira_delivery_accepted` (E4): a signed Jira delivery starts a run holding the payload.
- `invalid_payload_refused` (E1/E2): a body the docs make wrong gets a 4xx with a detail
  (invariant 7) and, on the mock, starts no run. A body wrong only under an assumption (A7:
  size, content type, null fields, what a lenient parser takes such as NaN) may be accepted or
  refused: an observation; only a 5xx is a finding.
- `wrong_key_refused` (E1-E3): no Authorization but the right key is accepted (invariant 8).
- `odd_ids_refused` (E1-E3): unknown workflow ids get a 4xx (invariant 7; the code is A3's);
  another workspace's ids a 4xx that shows nothing (invariant 8; the code is A3/A4's); an odd
  trigger (A4) or environment (A5) may be accepted or refused: an observation. None gets a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, Literal
from urllib.parse import unquote

from hypothesis import strategies as st

from .. import strategies as hs
from .._exceptions import MalformedResponse
from .._models import Endpoint, Envelope, Exchange, RunStatus
from .._protocol import decode_envelope, join_url
from .._targets import PRODUCTION_SKIP_REASON
from ..checks import (
    Expectation,
    accepted,
    answer_kind,
    found,
    open_question,
    refused,
)
from ..strategies import AuthVariant, RawBody
from ._context import FuzzContext
from ._repro import FuzzRequest, FuzzStep
from ._runner import Property

__all__ = [
    "PROPERTIES",
    "addressable",
    "advance_request",
    "body_expectation",
    "follow_to_end",
    "jira_request",
    "mock_refuses",
    "must_refuse",
    "run_request",
    "started_run",
    "status_request",
    "without_secrets",
]

_JSON: Final = "application/json"
_FOLLOW_SLACK_S: Final = 1.0
_ENVIRONMENTS: Final = frozenset({"DEV", "UAT", "PROD"})


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def run_request(
    ctx: FuzzContext,
    endpoint: Endpoint,
    body: bytes,
    *,
    content_type: str | None = _JSON,
    auth: bool | str = True,
    auth_description: str | None = None,
    workspace_id: str | None = None,
    trigger_id: str | None = None,
    environment: str | None = None,
) -> FuzzRequest:
    """An E1 or E2 request of the target's trigger (or the ids given)."""
    default = (
        ctx.target.sync_trigger if endpoint is Endpoint.SYNC else ctx.target.background_trigger
    )
    literals: tuple[str, ...] = () if endpoint is Endpoint.SYNC else ("start",)
    url = join_url(
        ctx.target.base_url,
        *literals,
        ("workspace_id", workspace_id or ctx.target.workspace_id),
        ("trigger_id", trigger_id or default or "fuzz-any-trigger"),
        ("environment", environment or ctx.target.environment),
    )
    return FuzzRequest(
        endpoint=endpoint,
        method="POST",
        url=url,
        body=body,
        content_type=content_type,
        auth=auth,
        auth_description=auth_description,
    )


def status_request(
    ctx: FuzzContext,
    workflow_id: str,
    *,
    workspace_id: str | None = None,
    auth: bool | str = True,
    auth_description: str | None = None,
) -> FuzzRequest:
    """An E3 request for `workflow_id` under the target's workspace (or another)."""
    url = join_url(
        ctx.target.base_url,
        "status",
        ("workspace_id", workspace_id or ctx.target.workspace_id),
        ("workflow_id", workflow_id),
    )
    return FuzzRequest(
        endpoint=Endpoint.STATUS,
        method="GET",
        url=url,
        auth=auth,
        auth_description=auth_description,
    )


def advance_request(ctx: FuzzContext, seconds: float) -> FuzzRequest:
    """The mock's admin call moving its virtual clock by `seconds` (a reproduction step)."""
    return FuzzRequest(
        endpoint=None,
        method="POST",
        url=f"{ctx.target.base_url}/__admin/clock",
        body=_dumps({"advance_s": seconds}),
        content_type=_JSON,
        auth=False,
    )


def jira_request(ctx: FuzzContext, delivery: Any) -> FuzzRequest:
    """An E4 request of the target's Jira trigger carrying a signed `delivery`."""
    url = join_url(
        ctx.target.base_url,
        "jira",
        "start",
        ("workspace_id", ctx.target.workspace_id),
        ("trigger_id", str(ctx.target.jira_trigger)),
        ("environment", ctx.target.environment),
    )
    return FuzzRequest(
        endpoint=Endpoint.JIRA,
        method="POST",
        url=url,
        body=delivery.body,
        content_type=_JSON,
        auth=False,
        jira_signature=delivery.signature,
        jira_signed=True,
    )


def started_run(answer: Exchange) -> str | None:
    """The `workflow_id` an accepted start names, None when it names none (E4 may answer a
    2xx with no envelope: A6) or was not accepted."""
    if answer_kind(answer) != "accepted":
        return None
    try:
        return decode_envelope(answer.response_body).workflow_id
    except MalformedResponse:
        return None


def follow_to_end(
    ctx: FuzzContext, start: FuzzStep, expected: dict[str, Any], *, steps: tuple[FuzzStep, ...] = ()
) -> None:
    """Follow the run `start` began until final; a completed one must hold `expected`, and
    polled once more it must answer the same (invariant 2).

    On the mock the virtual clock jumps past the longest run; elsewhere E3 is polled every
    `poll_interval_s` until the run ends, waits for input (A10), the time limit is near or
    `max_run_s` has passed (a run still pending then is not a finding). An
    inconclusive poll (no answer, 429, injected 5xx) ends the following: nothing is known.
    A fault is reproduced by the whole sequence: `steps`, the start, the clock move, the poll.
    """
    assert start.workflow_id is not None
    poll = status_request(ctx, start.workflow_id)
    checks: dict[str, Any] = {
        "expected_workflow_id": start.workflow_id,
        "expected_user_variables": expected,
    }
    sequence = (*steps, start)
    if ctx.admin is not None:
        seconds = ctx.target.max_run_s + _FOLLOW_SLACK_S
        ctx.admin.advance(seconds)
        sequence = (*sequence, FuzzStep(request=advance_request(ctx, seconds)))
    for _ in range(_max_polls(ctx)):
        answer = ctx.send(poll)
        judgement = ctx.judge(poll, answer, found(), steps=sequence, **checks)
        if judgement.inconclusive:
            return
        envelope = decode_envelope(answer.response_body)
        if envelope.status in (RunStatus.COMPLETED, RunStatus.FAILED):
            _stays_final(ctx, poll, envelope, (*sequence, FuzzStep(request=poll)), checks)
            return
        status = envelope.status
        if status == RunStatus.WAITING_FOR_INPUT:
            return  # A10: it waits for input the fuzzer does not give
        if ctx.admin is not None:
            raise ctx.failure(
                "Run not final past the background limit",
                f"status {status!r} after {ctx.target.max_run_s:.0f} s",
                request=poll,
                exchange=answer,
                steps=(*sequence, FuzzStep(request=poll)),
                invariant=9,
            )
        if ctx.meter.out_of_time():
            return
        ctx.sleep(ctx.target.poll_interval_s)
        sequence = (*sequence, FuzzStep(request=poll))


def _max_polls(ctx: FuzzContext) -> int:
    """Polls enough to see a run through its longest documented life (2700 s, invariant 9)."""
    return int(ctx.target.max_run_s / ctx.target.poll_interval_s) + 2


def _stays_final(
    ctx: FuzzContext,
    poll: FuzzRequest,
    final: Envelope,
    steps: tuple[FuzzStep, ...],
    checks: dict[str, Any],
) -> None:
    """Invariant 2: polled again, a final run answers the same status and response."""
    answer = ctx.send(poll)
    if ctx.judge(poll, answer, found(), steps=steps, **checks).inconclusive:
        return
    again = decode_envelope(answer.response_body)
    if (again.status, dict(again.response)) != (final.status, dict(final.response)):
        changed = "status" if again.status != final.status else "response"
        raise ctx.failure(
            "Run status broke invariant 2",
            f"the {final.status} run's {changed} changed on the next poll: now {again.status!r}",
            request=poll,
            exchange=answer,
            steps=(*steps, FuzzStep(request=poll)),
            invariant=2,
        )


def _check_valid(ctx: FuzzContext, endpoint: Endpoint, payload: dict[str, Any]) -> None:
    request = run_request(ctx, endpoint, _dumps(payload))
    answer = ctx.send(request)
    expected = payload.get("user_variables", {})
    judged = accepted(f"a valid payload on {endpoint}")
    if endpoint is Endpoint.SYNC:
        ctx.judge(request, answer, judged, expected_user_variables=expected)
        return
    ctx.judge(request, answer, judged)
    workflow_id = started_run(answer)
    if workflow_id is not None:
        follow_to_end(ctx, FuzzStep(request=request, workflow_id=workflow_id), expected)


def without_secrets(ctx: FuzzContext, payload: Any) -> bool:
    """True when `payload` holds no secret of the target (hypothesis mines string literals,
    the demo key among them; answers are redacted, so a sent secret would not come back)."""
    dumped = payload if isinstance(payload, bytes) else _dumps(payload)
    return ctx.redactor.redact_bytes(dumped) == dumped


def _valid_payloads(ctx: FuzzContext) -> st.SearchStrategy[dict[str, Any]]:
    # Omitted fields and extra fields are valid only under A7: drawn on the mock only.
    payloads = hs.valid_payloads(allow_omission=ctx.exact, allow_extra_fields=ctx.exact)
    return payloads.filter(lambda payload: without_secrets(ctx, payload))


def _needs(field_name: str) -> Callable[[FuzzContext], str | None]:
    def reason(ctx: FuzzContext) -> str | None:
        if getattr(ctx.target, field_name) is None:
            return f"target names no {field_name}"
        if not ctx.target.may_start_runs(allow_production=ctx.allow_production):
            return PRODUCTION_SKIP_REASON
        return None

    return reason


def mock_refuses(body: RawBody) -> bool:
    """Whether the mock's defaults (A7) refuse `body`.

    The mock reads a JSON body sent with no Content-Type, and takes an empty body as both
    fields absent; it refuses every other wrong body.
    """
    no_content_type = body.kind == "content_type" and body.content_type is None
    return not (no_content_type or body.content == b"")


def must_refuse(body: RawBody) -> bool:
    """Whether any target must refuse `body`: documented wrong, and not empty.

    An empty body is wrong only under an assumption: A7 lets both fields be absent.
    """
    return body.documented_invalid and body.content != b""


_BODY_TOPICS: Final = {
    "wrong_type": "Body field of the wrong type",
    "not_object": "Body not a JSON object",
    "invalid_json": "Body not JSON",
    "content_type": "Body content type",
    "oversized": "Body size",
}


def body_expectation(body: RawBody) -> Expectation:
    """What a target may answer `body`: a 4xx when the docs make it wrong (invariant 7), else
    accepted or refused (A7, the mock's answer as default); the refusal's code is A7's."""
    lenient = body.kind == "invalid_json" and not body.documented_invalid
    topic = "Body not strict JSON" if lenient else _BODY_TOPICS[body.kind]
    what = f"a body with {body.why}" if body.kind == "wrong_type" else f"a body ({body.why})"
    mock_code = 413 if body.kind == "oversized" else 422
    if must_refuse(body):
        return refused(
            what,
            question_id="A7",
            mock_code=mock_code,
            title="Invalid body not refused",
            topic=topic,
        )
    outcome: Literal["accepted", "refused"] = "refused" if mock_refuses(body) else "accepted"
    code = mock_code if outcome == "refused" else 200
    return open_question("A7", what, mock_outcome=outcome, mock_code=code, topic=topic)


def _check_invalid(ctx: FuzzContext, drawn: tuple[Endpoint, RawBody]) -> None:
    endpoint, body = drawn
    request = run_request(ctx, endpoint, body.content, content_type=body.content_type)
    with ctx.starts_nothing(request, f"{endpoint} with {body.why}") as answers:
        answers.append(answer := ctx.send(request))
    ctx.judge(request, answer, body_expectation(body))


def _endpoints_with_triggers(ctx: FuzzContext) -> list[Endpoint]:
    found = [Endpoint.SYNC] if ctx.target.sync_trigger else []
    return found + ([Endpoint.START] if ctx.target.background_trigger else [])


def _invalid_inputs(ctx: FuzzContext) -> st.SearchStrategy[tuple[Endpoint, RawBody]]:
    return st.tuples(st.sampled_from(_endpoints_with_triggers(ctx)), hs.invalid_payloads())


def _any_run_trigger(ctx: FuzzContext) -> str | None:
    if not _endpoints_with_triggers(ctx):
        return "target names neither sync_trigger nor background_trigger"
    return None


_AUTH_ENDPOINTS: Final = (Endpoint.SYNC, Endpoint.START, Endpoint.STATUS)


def _wrong_keys(ctx: FuzzContext) -> st.SearchStrategy[tuple[Endpoint, AuthVariant]]:
    return st.tuples(st.sampled_from(_AUTH_ENDPOINTS), hs.authorization_headers(ctx.key))


def _check_wrong_key(ctx: FuzzContext, drawn: tuple[Endpoint, AuthVariant]) -> None:
    endpoint, variant = drawn
    auth: bool | str = False if variant.value is None else variant.value
    if endpoint is Endpoint.STATUS:
        request = status_request(
            ctx, "fuzz-wrong-key", auth=auth, auth_description=variant.description
        )
    else:
        body = _dumps({"message": "fuzz", "user_variables": {}})
        request = run_request(ctx, endpoint, body, auth=auth, auth_description=variant.description)
    what = f"{variant.description} on {endpoint}"
    with ctx.starts_nothing(request, what, invariant=8) as answers:
        answers.append(answer := ctx.send(request))
    expectation = refused(what, invariant=8, title="Wrong credential not refused")
    ctx.judge(request, answer, expectation, authorized=False)


_ODD_KINDS: Final = ("workflow", "foreign_workflow", "trigger", "workspace", "environment")


@st.composite
def _odd_ids(draw: st.DrawFn, ctx: FuzzContext) -> tuple[str, Endpoint, str]:
    kind = draw(st.sampled_from(_ODD_KINDS))
    target = ctx.target
    if kind in ("workflow", "foreign_workflow"):
        return kind, Endpoint.STATUS, draw(hs.workflow_ids(max_size=512))
    endpoint = draw(st.sampled_from(_endpoints_with_triggers(ctx) or [Endpoint.START]))
    if kind == "trigger":
        known = [
            t for t in (target.sync_trigger, target.background_trigger, target.jira_trigger) if t
        ]
        return kind, endpoint, draw(hs.trigger_ids(max_size=512, known=known))
    if kind == "workspace":
        return kind, endpoint, draw(hs.workspace_ids(max_size=512, known=[target.workspace_id]))
    environments = st.sampled_from(("dev", "Dev", "PROD ", "STAGING", ""))
    odd = st.one_of(
        environments.filter(bool), hs.path_ids(max_size=64, known=("DEV", "UAT", "PROD"))
    )
    return kind, endpoint, draw(odd)


def addressable(segment: str) -> bool:
    """Whether a path segment still addresses its endpoint when a server decodes `%2F`."""
    return "/" not in segment and "/" not in unquote(segment)


_ODD_EXPECTATIONS: Final = {
    "workflow": refused("an unknown workflow id", question_id="A3", mock_code=404),
    "foreign_workflow": refused(
        "a workflow id under another workspace",
        invariant=8,
        question_id="A3",
        mock_code=401,
        title="Another workspace's run shown",
    ),
    "workspace": refused(
        "a start in another workspace",
        invariant=8,
        question_id="A4",
        mock_code=401,
        title="Start in another workspace not refused",
    ),
    "trigger": open_question("A4", "an unknown trigger id", mock_outcome="refused", mock_code=404),
    "environment": open_question(
        "A5", "an odd environment id", mock_outcome="refused", mock_code=422
    ),
}
"""What a target may answer each kind of odd id (trigger-api.md A3-A5, invariants 7 and 8)."""


def _odd_request(ctx: FuzzContext, kind: str, endpoint: Endpoint, value: str) -> FuzzRequest:
    if kind == "workflow":
        return status_request(ctx, value)
    if kind == "foreign_workflow":
        return status_request(ctx, value, workspace_id=f"fuzz-other-{ctx.target.workspace_id}")
    body = _dumps({"message": "fuzz", "user_variables": {}})
    ids = {"trigger": "trigger_id", "workspace": "workspace_id", "environment": "environment"}
    return run_request(ctx, endpoint, body, **{ids[kind]: value})


def _names_a_real_one(ctx: FuzzContext, kind: str, value: str) -> bool:
    """True when the drawn id is the target's own (hypothesis mines this project's literals)."""
    own = {"workspace": ctx.target.workspace_id, "environment": ctx.target.environment}
    return value == own.get(kind) or (kind == "environment" and value in _ENVIRONMENTS)


def _check_odd_ids(ctx: FuzzContext, drawn: tuple[str, Endpoint, str]) -> None:
    kind, endpoint, value = drawn
    if _names_a_real_one(ctx, kind, value):
        return
    request = _odd_request(ctx, kind, endpoint, value)
    with ctx.starts_nothing(request, f"{endpoint} with an odd {kind} id") as answers:
        answers.append(answer := ctx.send(request))
    expectation = _ODD_EXPECTATIONS[kind]
    if kind == "trigger" and answer_kind(answer) == "accepted":
        # Hypothesis also draws string literals of this project (the demo world's trigger
        # names among them): the id names a trigger that exists.
        expectation = accepted("a trigger id that exists")
    # An id holding "/" (once or twice decoded: starlette's TestClient decodes twice) no
    # longer addresses the endpoint on a server that decodes %2F: any answer but a 5xx.
    ctx.judge(request, answer, expectation, addressed=addressable(value))


def _jira_deliveries(ctx: FuzzContext) -> st.SearchStrategy[Any]:
    assert ctx.target.jira_secret is not None
    deliveries = hs.jira_deliveries(ctx.target.jira_secret.reveal())
    return deliveries.filter(lambda delivery: without_secrets(ctx, delivery.body))


def _check_jira(ctx: FuzzContext, delivery: Any) -> None:
    request = jira_request(ctx, delivery)
    answer = ctx.send(request)
    ctx.judge(request, answer, accepted("a signed Jira delivery"))
    workflow_id = started_run(answer)
    if workflow_id is not None:
        start = FuzzStep(request=request, workflow_id=workflow_id)
        follow_to_end(ctx, start, json.loads(delivery.body))


def _jira_reason(ctx: FuzzContext) -> str | None:
    return ctx.target.jira_skip_reason


PROPERTIES: Final = (
    Property(
        name="valid_payload_accepted",
        title="E2 accepts a valid payload and a completed run returns its variables",
        draw=_valid_payloads,
        check=lambda ctx, payload: _check_valid(ctx, Endpoint.START, payload),
        skip_reason=_needs("background_trigger"),
    ),
    Property(
        name="sync_valid_payload",
        title="E1 answers a valid payload with a final status holding its variables",
        draw=_valid_payloads,
        check=lambda ctx, payload: _check_valid(ctx, Endpoint.SYNC, payload),
        skip_reason=_needs("sync_trigger"),
    ),
    Property(
        name="invalid_payload_refused",
        title="E1/E2 refuse an invalid body with a 4xx and a detail, never a 5xx",
        draw=_invalid_inputs,
        check=_check_invalid,
        skip_reason=_any_run_trigger,
    ),
    Property(
        name="wrong_key_refused",
        title="E1-E3 accept no Authorization but the right key",
        draw=_wrong_keys,
        check=_check_wrong_key,
    ),
    Property(
        name="odd_ids_refused",
        title="Unknown or odd ids get a 4xx, never a 5xx",
        draw=_odd_ids,
        check=_check_odd_ids,
    ),
    Property(
        name="jira_delivery_accepted",
        title="E4 accepts a signed Jira delivery and the run returns its payload",
        draw=_jira_deliveries,
        check=_check_jira,
        skip_reason=_jira_reason,
    ),
)
