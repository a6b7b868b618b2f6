"""Contract cases: authentication negatives, unknown ids and workspace isolation (any target).

Invariant 8: without a valid key nothing is run and nothing is revealed, on every endpoint:
no header, another scheme, an empty token, a wrong key, and the right key on another
workspace id all get 401 with the documented body. Unknown trigger and workflow ids get a
4xx (never a 5xx), and no run of another workspace is ever shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..._client import workflow_id_of
from ..._models import Endpoint, Exchange
from ...checks import OPEN_QUESTIONS, Note
from .._context import SkipCase, SuiteContext, fail, random_id
from .._registry import case

__all__ = ["AUTH_VARIANTS", "RUN_BODY", "ask_status", "placeholder_trigger", "refuses_to_reveal"]

RUN_BODY: Final = b'{"message": "", "user_variables": {}}'
_JSON: Final = {"Content-Type": "application/json"}
_BASIC: Final = "Basic Y29udHJhY3Q6Y2hlY2s="  # "contract:check", no real credential


def placeholder_trigger(ctx: SuiteContext) -> str:
    """A trigger of the target for requests that must be refused before the trigger matters."""
    target = ctx.target
    named = target.sync_trigger or target.background_trigger or target.jira_trigger
    return named or "contract-any-trigger"


def _endpoint_url(ctx: SuiteContext, endpoint: Endpoint, workspace_id: str) -> str:
    if endpoint is Endpoint.STATUS:
        return ctx.url("status", workspace_id=workspace_id, workflow_id=random_id("contract"))
    literals = ("start",) if endpoint is Endpoint.START else ()
    return ctx.url(*literals, trigger_id=placeholder_trigger(ctx), workspace_id=workspace_id)


def _send_unauthorized(
    ctx: SuiteContext, endpoint: Endpoint, auth: bool | str, workspace_id: str
) -> Exchange:
    url = _endpoint_url(ctx, endpoint, workspace_id)
    if endpoint is Endpoint.STATUS:
        return ctx.send(endpoint, "GET", url, auth=auth)
    return ctx.send(endpoint, "POST", url, content=RUN_BODY, headers=_JSON, auth=auth)


def _key(ctx: SuiteContext) -> str:
    return ctx.target.api_key.reveal() if ctx.target.api_key is not None else "no-key"


AUTH_VARIANTS: Final[dict[str, tuple[str, Callable[[SuiteContext], bool | str], bool]]] = {
    # name: (title, Authorization value (True: the target's key, False: none), other workspace)
    "no_header": ("no Authorization header", lambda ctx: False, False),
    "other_scheme": ("the key under another scheme", lambda ctx: f"Token {_key(ctx)}", False),
    "basic_scheme": ("Basic credentials", lambda ctx: _BASIC, False),
    # "Bearer " with its trailing space is not a legal header value on the wire (h11).
    "empty_token": ("an empty bearer token", lambda ctx: "Bearer", False),
    "wrong_key": ("a wrong key", lambda ctx: f"Bearer {random_id('wrong-key')}", False),
    "other_workspace": ("the right key on another workspace id", lambda ctx: True, True),
}


def _register_auth_case(variant: str, endpoint: Endpoint) -> None:
    title, auth_of, other_workspace = AUTH_VARIANTS[variant]

    def run(ctx: SuiteContext) -> None:
        workspace = random_id("contract-ws") if other_workspace else ctx.target.workspace_id
        with ctx.starts_nothing(f"{endpoint} with {title}"):
            exchange = _send_unauthorized(ctx, endpoint, auth_of(ctx), workspace)
        if not other_workspace:
            ctx.verify(exchange, ctx.checks(endpoint=endpoint, authorized=False))
            return
        ctx.verify(exchange, ctx.checks(endpoint=endpoint))
        _require_client_error(exchange, "other_workspace_refused", "Another workspace's path")
        ctx.note(_other_workspace_note(endpoint, exchange))

    run.__doc__ = (
        f"Invariant 8: {endpoint} with {title} is refused and runs nothing. Without a valid key "
        "the answer is 401 with the documented body; the right key on another workspace's path "
        "may get any 4xx (A3, A4: which code is open)."
    )
    case(f"auth.{variant}.{endpoint}", f"{endpoint} refuses {title}")(run)


for _variant in AUTH_VARIANTS:
    for _endpoint in (Endpoint.SYNC, Endpoint.START, Endpoint.STATUS):
        _register_auth_case(_variant, _endpoint)


def _other_workspace_note(endpoint: Endpoint, exchange: Exchange) -> Note:
    """A3 (E3) or A4 (E1, E2): the code for a valid key on another workspace's path."""
    question = "A3" if endpoint is Endpoint.STATUS else "A4"
    return Note(
        question_id=question,
        title=f"{endpoint}: the right key on another workspace id",
        observed=_answer(exchange),
        mock_default=_FOREIGN_WORKSPACE_DEFAULT,
        same=exchange.status_code == 401,
        evidence=(exchange,),
    )


_FOREIGN_WORKSPACE_DEFAULT: Final = "401 (a key is refused outside its own workspace; A4)"
"""What the mock answers the right key on a workspace id that is not its own, on E1-E3 (its
`unknown_workspace_status`); the row's "same" compares with exactly this."""


def _answer(exchange: Exchange) -> str:
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {exchange.status_code}" + (f": {detail}" if isinstance(detail, str) else "")


def _require_client_error(exchange: Exchange, check: str, what: str) -> None:
    code = exchange.status_code
    if code is None or not 400 <= code < 500:
        raise fail(
            check, f"{what} not refused", f"answered {_answer(exchange)}", exchange, invariant=7
        )


def _unknown_trigger(endpoint: Endpoint) -> None:
    def run(ctx: SuiteContext) -> None:
        literals = ("start",) if endpoint is Endpoint.START else ()
        url = ctx.url(*literals, trigger_id=random_id("contract-no-trigger"))
        with ctx.starts_nothing(f"{endpoint} on an unknown trigger"):
            exchange = ctx.send(endpoint, "POST", url, content=RUN_BODY, headers=_JSON)
        ctx.verify(exchange, ctx.checks(endpoint=endpoint))
        _require_client_error(exchange, "unknown_trigger_refused", "An unknown trigger")
        ctx.note(
            Note(
                question_id="A4",
                title="Unknown trigger",
                observed=_answer(exchange),
                mock_default=OPEN_QUESTIONS["A4"].mock_default,
                same=exchange.status_code == 404,
                evidence=(exchange,),
            )
        )

    run.__doc__ = f"Invariant 7: {endpoint} on an unknown trigger id answers a 4xx, runs nothing."
    case(f"unknown.trigger.{endpoint}", f"{endpoint} refuses an unknown trigger id")(run)


for _endpoint in (Endpoint.SYNC, Endpoint.START):
    _unknown_trigger(_endpoint)


def ask_status(ctx: SuiteContext, workflow_id: str, *, workspace_id: str | None = None) -> Exchange:
    """A raw E3 request (no retry) for `workflow_id`, under the target's or another workspace."""
    url = ctx.url(
        "status", workspace_id=workspace_id or ctx.target.workspace_id, workflow_id=workflow_id
    )
    return ctx.send(Endpoint.STATUS, "GET", url)


def refuses_to_reveal(exchange: Exchange, workflow_id: str, what: str) -> None:
    """Fail unless `exchange` is a 4xx that shows nothing of run `workflow_id`."""
    code = exchange.status_code
    shown = workflow_id.encode() in exchange.response_body
    if code is not None and 400 <= code < 500 and not shown:
        return
    raise fail(
        "no_foreign_run_revealed",
        "Another workspace's run revealed",
        f"{what} answered {_answer(exchange)}" + (" naming the run" if shown else ""),
        exchange,
        invariant=8,
        severity="critical",
    )


@case("unknown.workflow.E3", "E3 refuses an unknown workflow id")
def unknown_workflow(ctx: SuiteContext) -> None:
    """Invariant 7 and A3: E3 for a workflow id nobody started answers a 4xx with a detail."""
    exchange = ask_status(ctx, random_id("contract-no-run"))
    ctx.verify(exchange, ctx.checks(endpoint=Endpoint.STATUS))
    _require_client_error(exchange, "unknown_workflow_refused", "An unknown workflow id")


@case(
    "isolation.other_workspace.E3",
    "E3 under another workspace id does not show the run",
    needs={"background_trigger", "starts_runs"},
)
def other_workspace_status(ctx: SuiteContext) -> None:
    """Invariant 8: a run started here is not shown under another workspace id with this key."""
    started = ctx.client.start(user_variables={"contract_case": random_id("isolation")})
    ctx.verify(started.exchange, ctx.checks(endpoint=Endpoint.START))
    workflow_id = workflow_id_of(started)
    exchange = ask_status(ctx, workflow_id, workspace_id=random_id("contract-ws"))
    ctx.verify(exchange, ctx.checks(endpoint=Endpoint.STATUS))
    refuses_to_reveal(exchange, workflow_id, "E3 under another workspace id")


def _start_elsewhere(ctx: SuiteContext) -> str:
    """Start a run in `other_workspace_id` with its own key (E2 on the target's sync or
    background trigger id); its workflow id. Skips when that workspace has no such trigger."""
    other = ctx.target.other_api_key
    assert other is not None
    assert ctx.target.other_workspace_id is not None
    trigger = placeholder_trigger(ctx)
    url = ctx.url("start", trigger_id=trigger, workspace_id=ctx.target.other_workspace_id)
    exchange = ctx.send(
        Endpoint.START,
        "POST",
        url,
        content=RUN_BODY,
        headers=_JSON,
        auth=f"Bearer {other.reveal()}",
    )
    ctx.conclusive(exchange)
    body = exchange.json()
    workflow_id = body.get("workflow_id") if isinstance(body, dict) else None
    if exchange.status_code not in (200, 201, 202) or not isinstance(workflow_id, str):
        raise SkipCase(
            f"other_workspace_id could not start a run of {trigger!r} "
            f"(answered {_answer(exchange)})"
        )
    return workflow_id


@case(
    "isolation.foreign_run.E3",
    "E3 never shows a run of another workspace",
    needs={"other_workspace", "starts_runs"},
)
def foreign_run(ctx: SuiteContext) -> None:
    """A3: a run started in `other_workspace_id` with its own key is a 4xx here, never shown."""
    workflow_id = _start_elsewhere(ctx)
    exchange = ask_status(ctx, workflow_id)
    ctx.verify(exchange, ctx.checks(endpoint=Endpoint.STATUS))
    refuses_to_reveal(exchange, workflow_id, "E3 for another workspace's run")
