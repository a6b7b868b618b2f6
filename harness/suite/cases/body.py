"""Contract cases: request bodies E1 and E2 must refuse, and the ones they accept.

`user_variables` not an object, `message` not a string and a body that is not JSON are
refused with a 4xx carrying a `detail` (422 documented; never a 5xx) and start nothing; an
empty body is accepted (both fields are optional; a refusal is an A7 note, a 5xx a finding).
An environment in lower case is an open
question (A5): accepted or refused, only a 5xx is a finding. A long string of odd unicode
(invariant 7: "huge or odd unicode values") is run or refused with a 4xx, never a 5xx; E1's
completed run holds it unchanged (invariant 5).
"""

from __future__ import annotations

import json
from typing import Final

from ..._models import Endpoint, Exchange
from ...checks import OPEN_QUESTIONS, Note
from .._context import SuiteContext, fail
from .._registry import case

__all__ = ["INVALID_BODIES", "run_url"]

_JSON: Final = {"Content-Type": "application/json"}
_FULL_BODY: Final = b'{"message": "contract", "user_variables": {}}'

INVALID_BODIES: Final[dict[str, tuple[str, bytes]]] = {
    "user_variables_not_object": (
        "user_variables that is not an object",
        b'{"message": "contract", "user_variables": ["not", "an", "object"]}',
    ),
    "message_not_string": (
        "a message that is not a string",
        b'{"message": 42, "user_variables": {}}',
    ),
    "invalid_json": ("a body that is not JSON", b'{"message": "unterminated'),
}

_NEEDS: Final = {Endpoint.SYNC: "sync_trigger", Endpoint.START: "background_trigger"}
ODD_UNICODE: Final = ("Zoë – 東京 🚀 a\u0301 \u200d\U0001f9d1\u200d\U0001f52c ∑ ") * 80
"""About 2,000 characters: accents, CJK, an emoji, a combining mark and a ZWJ sequence."""


def run_url(ctx: SuiteContext, endpoint: Endpoint, *, environment: str | None = None) -> str:
    """The E1 or E2 URL of the target's trigger for `endpoint`."""
    if endpoint is Endpoint.SYNC:
        trigger = ctx.target.sync_trigger
        literals: tuple[str, ...] = ()
    else:
        trigger = ctx.target.background_trigger
        literals = ("start",)
    assert trigger is not None
    ids = {} if environment is None else {"environment": environment}
    return ctx.url(*literals, trigger_id=trigger, **ids)


def _answer(exchange: Exchange) -> str:
    return f"HTTP {exchange.status_code}"


def _register_invalid(name: str, endpoint: Endpoint) -> None:
    what, body = INVALID_BODIES[name]

    def run(ctx: SuiteContext) -> None:
        with ctx.starts_nothing(f"{endpoint} with {what}"):
            exchange = ctx.send(
                endpoint, "POST", run_url(ctx, endpoint), content=body, headers=_JSON
            )
        ctx.verify(exchange, ctx.checks(endpoint=endpoint))
        code = exchange.status_code
        if code is None or not 400 <= code < 500:
            raise fail(
                "invalid_body_refused",
                "Invalid body not refused",
                f"{endpoint} with {what} answered {_answer(exchange)}",
                exchange,
                invariant=7,
            )
        ctx.note(
            Note(
                question_id="A7",
                title="Invalid body refused",
                observed=f"{what}: {_answer(exchange)}",
                mock_default=OPEN_QUESTIONS["A7"].mock_default,
                same=code == 422,
                evidence=(exchange,),
            )
        )

    run.__doc__ = f"Invariant 7: {endpoint} refuses {what} with a 4xx and a detail, runs nothing."
    case(f"body.{name}.{endpoint}", f"{endpoint} refuses {what}", needs={_NEEDS[endpoint]})(run)


def _register_empty(endpoint: Endpoint) -> None:
    def run(ctx: SuiteContext) -> None:
        exchange = ctx.send(endpoint, "POST", run_url(ctx, endpoint), headers=_JSON)
        ctx.verify(exchange, ctx.checks(endpoint=endpoint))
        code = exchange.status_code
        accepted = code is not None and 200 <= code < 300
        verdict = "accepted" if accepted else f"refused ({_answer(exchange)})"
        ctx.note(
            Note(
                question_id="A7",
                title="Empty body",
                observed=f"{endpoint} empty body {verdict}",
                mock_default=OPEN_QUESTIONS["A7"].mock_default,
                same=accepted,
                evidence=(exchange,),
            )
        )

    run.__doc__ = f"A7: {endpoint} accepts an empty body (both fields optional); never a 5xx."
    case(
        f"body.empty.{endpoint}",
        f"{endpoint} accepts an empty body",
        needs={_NEEDS[endpoint], "starts_runs"},
    )(run)


for _endpoint in (Endpoint.SYNC, Endpoint.START):
    for _name in INVALID_BODIES:
        _register_invalid(_name, _endpoint)
    _register_empty(_endpoint)


@case(
    "body.lower_case_environment.E2",
    "E2 with a lower-case environment: refused or accepted, never a 5xx",
    needs={"background_trigger", "starts_runs"},
)
def lower_case_environment(ctx: SuiteContext) -> None:
    """A5: an environment in lower case gets an answer that is not a 5xx (422 on the mock)."""
    url = run_url(ctx, Endpoint.START, environment=ctx.target.environment.lower())
    exchange = ctx.send(Endpoint.START, "POST", url, content=_FULL_BODY, headers=_JSON)
    ctx.verify(exchange, ctx.checks(endpoint=Endpoint.START))


def _register_odd_unicode(endpoint: Endpoint) -> None:
    def run(ctx: SuiteContext) -> None:
        variables = {"contract_case": "odd unicode", "text": ODD_UNICODE}
        fields = {"message": "contract", "user_variables": variables}
        body = json.dumps(fields, ensure_ascii=False).encode()
        exchange = ctx.send(endpoint, "POST", run_url(ctx, endpoint), content=body, headers=_JSON)
        expected = variables if endpoint is Endpoint.SYNC else None
        ctx.verify(exchange, ctx.checks(endpoint=endpoint, expected_user_variables=expected))

    run.__doc__ = (
        f"Invariants 7 and 5: {endpoint} with a long string of odd unicode runs it (a completed "
        "E1 run holds it unchanged) or refuses it with a 4xx; never a 5xx."
    )
    case(
        f"body.odd_unicode.{endpoint}",
        f"{endpoint} with a long string of odd unicode: run or refused, never a 5xx",
        needs={_NEEDS[endpoint], "starts_runs"},
    )(run)


for _endpoint in (Endpoint.SYNC, Endpoint.START):
    _register_odd_unicode(_endpoint)
