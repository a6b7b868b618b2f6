"""The fuzzed properties, for any target: plain functions over a `FuzzContext` and a drawn input.

- `valid_payload_accepted` (E2) and `sync_valid_payload` (E1): a valid payload is accepted
  (200, pending on E2) and, once the run completes, its user variables come back.
- `jira_delivery_accepted` (E4): a signed Jira delivery starts a run holding the payload.
- `invalid_payload_refused` (E1/E2): an invalid body gets a 4xx with a detail, never a 5xx, and
  on the mock starts no run. A body wrong only under an assumption (A7) may be accepted by a
  real target (only a 5xx is a finding); the mock must answer it as its defaults say.
- `wrong_key_refused` (E1-E3): no Authorization but the right key is accepted.
- `odd_ids_refused` (E1-E3): unknown or odd workspace, trigger, environment and workflow ids
  never give a 5xx, always a 4xx, and show nothing of another workspace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote

from hypothesis import strategies as st

from .. import strategies as hs
from .._models import Endpoint, Exchange, RunStatus
from .._protocol import decode_envelope, join_url
from .._targets import PRODUCTION_SKIP_REASON
from ..strategies import AuthVariant, RawBody
from ._context import FuzzContext, Property
from ._repro import FuzzRequest

__all__ = [
    "ADDRESS_CHECKS",
    "PROPERTIES",
    "addressable",
    "follow_to_end",
    "mock_refuses",
    "must_refuse",
    "require",
    "run_request",
    "status_request",
    "without_secrets",
]

_JSON: Final = "application/json"
_FOLLOW_SLACK_S: Final = 1.0


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


def _code(exchange: Exchange) -> str:
    return "no answer" if exchange.status_code is None else f"HTTP {exchange.status_code}"


def require(
    ctx: FuzzContext, condition: bool, title: str, request: FuzzRequest, exchange: Exchange
) -> None:
    """Raise a `FuzzFailure` titled `title`, showing the answer, unless `condition` holds."""
    if not condition:
        body = exchange.response_body[:300].decode("utf-8", "replace")
        message = f"answered {_code(exchange)}: {body}"
        raise ctx.failure(title, message, request=request, exchange=exchange)


def follow_to_end(
    ctx: FuzzContext, request: FuzzRequest, started: Exchange, expected: dict[str, Any]
) -> None:
    """Follow the run `started` began until final; a completed one must hold `expected`.

    On the mock the virtual clock jumps past the longest run; elsewhere E3 is polled until
    the run ends or the time limit is near (a run still pending then is not a finding).
    """
    workflow_id = decode_envelope(started.response_body).workflow_id
    poll = status_request(ctx, workflow_id)
    checks = {"expected_workflow_id": workflow_id, "expected_user_variables": expected}
    if ctx.admin is not None:
        ctx.admin.advance(ctx.target.max_run_s + _FOLLOW_SLACK_S)
    while True:
        answer = ctx.send(poll)
        ctx.verify(poll, answer, **checks)
        require(ctx, answer.status_code == 200, "Started run not found by E3", poll, answer)
        status = decode_envelope(answer.response_body).status
        if status in (RunStatus.COMPLETED, RunStatus.FAILED):
            return
        require(ctx, ctx.admin is None, "Run not final past the background limit", poll, answer)
        if ctx.meter.out_of_time():
            return
        ctx.sleep(ctx.target.poll_interval_s)


def _check_valid(ctx: FuzzContext, endpoint: Endpoint, payload: dict[str, Any]) -> None:
    request = run_request(ctx, endpoint, _dumps(payload))
    answer = ctx.send(request)
    ctx.verify(request, answer)
    require(ctx, answer.status_code == 200, "Valid payload refused", request, answer)
    expected = payload.get("user_variables", {})
    if endpoint is Endpoint.SYNC:
        ctx.verify(request, answer, expected_user_variables=expected)
        return
    follow_to_end(ctx, request, answer, expected)


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


def _check_invalid(ctx: FuzzContext, drawn: tuple[Endpoint, RawBody]) -> None:
    endpoint, body = drawn
    request = run_request(ctx, endpoint, body.content, content_type=body.content_type)
    refuse = mock_refuses(body) if ctx.exact else must_refuse(body)
    if refuse:
        with ctx.starts_nothing(request, f"{endpoint} with {body.why}") as answers:
            answers.append(answer := ctx.send(request))
    else:
        answer = ctx.send(request)
    ctx.verify(request, answer)
    code = answer.status_code
    if refuse:
        require(
            ctx,
            code is not None and 400 <= code < 500,
            f"Invalid body not refused ({body.why})",
            request,
            answer,
        )


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
    with ctx.starts_nothing(request, f"{endpoint} with {variant.description}") as answers:
        answers.append(answer := ctx.send(request))
    ctx.verify(request, answer, authorized=False)
    require(
        ctx,
        answer.status_code == 401,
        f"Wrong credential not refused ({variant.description})",
        request,
        answer,
    )


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


ADDRESS_CHECKS: Final = ("unauthorized_refused", "unauthorized_body")
"""Checks that assume the request addresses an endpoint (skipped for ids holding "/")."""


def addressable(segment: str) -> bool:
    """Whether a path segment still addresses its endpoint when a server decodes `%2F`."""
    return "/" not in segment and "/" not in unquote(segment)


def _check_odd_ids(ctx: FuzzContext, drawn: tuple[str, Endpoint, str]) -> None:
    kind, endpoint, value = drawn
    body = _dumps({"message": "fuzz", "user_variables": {}})
    if kind == "workflow":
        request = status_request(ctx, value)
    elif kind == "foreign_workflow":
        request = status_request(ctx, value, workspace_id=f"fuzz-other-{ctx.target.workspace_id}")
    else:
        ids = {"trigger": "trigger_id", "workspace": "workspace_id", "environment": "environment"}
        request = run_request(ctx, endpoint, body, **{ids[kind]: value})
    before = ctx.run_count()
    answer = ctx.send(request)
    if kind == "trigger" and answer.status_code == 200:
        # Hypothesis also draws string literals of this project (the demo world's trigger
        # names among them): the id names a trigger that exists.
        ctx.verify(request, answer)
        return
    after = ctx.run_count()
    if before is not None and after is not None and after > before:
        what = f"{endpoint} with an odd {kind} id started {after - before} run(s)"
        raise ctx.failure("A refused request started a run", what, request=request, exchange=answer)
    authorized = kind not in ("workspace", "foreign_workflow")
    # An id holding "/" (once or twice decoded: starlette's TestClient decodes twice) no
    # longer addresses the endpoint on a server that decodes %2F: any 4xx is right then.
    skip = () if addressable(value) else ADDRESS_CHECKS
    ctx.verify(request, answer, authorized=authorized, skip=skip)
    code = answer.status_code
    require(
        ctx, code is not None and 400 <= code < 500, f"Odd {kind} id not refused", request, answer
    )
    if ctx.exact and kind == "workflow":
        require(ctx, code == 404, "Unknown workflow id not 404 (A3)", request, answer)


def _jira_deliveries(ctx: FuzzContext) -> st.SearchStrategy[Any]:
    assert ctx.target.jira_secret is not None
    deliveries = hs.jira_deliveries(ctx.target.jira_secret.reveal())
    return deliveries.filter(lambda delivery: without_secrets(ctx, delivery.body))


def _check_jira(ctx: FuzzContext, delivery: Any) -> None:
    url = join_url(
        ctx.target.base_url,
        "jira",
        "start",
        ("workspace_id", ctx.target.workspace_id),
        ("trigger_id", str(ctx.target.jira_trigger)),
        ("environment", ctx.target.environment),
    )
    request = FuzzRequest(
        endpoint=Endpoint.JIRA,
        method="POST",
        url=url,
        body=delivery.body,
        content_type=_JSON,
        auth=False,
        jira_signature=delivery.signature,
        jira_signed=True,
    )
    answer = ctx.send(request)
    ctx.verify(request, answer, endpoint=Endpoint.START)
    require(ctx, answer.status_code == 200, "Signed Jira delivery refused", request, answer)
    follow_to_end(ctx, request, answer, json.loads(delivery.body))


def _jira_reason(ctx: FuzzContext) -> str | None:
    if ctx.target.jira_secret is None:
        return "target has no Jira secret (jira_secret_env)"
    return _needs("jira_trigger")(ctx)


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
