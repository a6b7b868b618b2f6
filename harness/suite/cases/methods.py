"""Contract cases: methods the API does not define, on each endpoint's path (invariant 7).

GET, PUT, DELETE and PATCH on the E1, E2 and E4 paths, and POST, PUT, DELETE on the E3 path,
all with the key. The docs define none of them, so the answer's code is open: 405, 404 or 401
(a POST on an E3 path may even be routed as E1 under a workspace called `status`) are all
correct, and any other 4xx too. What invariant 7 rules out is a 5xx: each answer is judged by
the `no_server_error` check only. A 2xx or 3xx is not judged either (the docs say nothing of
these methods).

PUT and PATCH carry a body every correct endpoint refuses (`message` not a string), so even a
server that treats them as POST starts no run: these cases run on production targets too.
"""

from __future__ import annotations

from typing import Final

from ..._models import Endpoint, Exchange
from ...checks import check_results
from .._context import SuiteContext, raise_failures, random_id
from .._registry import case
from .auth import placeholder_trigger

__all__ = ["WRONG_METHODS", "wrong_method_url"]

WRONG_METHODS: Final = {
    Endpoint.SYNC: ("GET", "PUT", "DELETE", "PATCH"),
    Endpoint.START: ("GET", "PUT", "DELETE", "PATCH"),
    Endpoint.STATUS: ("POST", "PUT", "DELETE"),
    Endpoint.JIRA: ("GET", "PUT", "DELETE", "PATCH"),
}
_REFUSED_BODY: Final = b'{"message": 42, "user_variables": {}}'
_JSON: Final = {"Content-Type": "application/json"}
_LITERALS: Final = {Endpoint.SYNC: (), Endpoint.START: ("start",), Endpoint.JIRA: ("jira", "start")}
_TRIGGER_FIELDS: Final = {
    Endpoint.SYNC: "sync_trigger",
    Endpoint.START: "background_trigger",
    Endpoint.JIRA: "jira_trigger",
}


def wrong_method_url(ctx: SuiteContext, endpoint: Endpoint) -> str:
    """The path of `endpoint` on the target: its own trigger where it names one."""
    if endpoint is Endpoint.STATUS:
        return ctx.url("status", workflow_id=random_id("contract-method"))
    trigger = getattr(ctx.target, _TRIGGER_FIELDS[endpoint]) or placeholder_trigger(ctx)
    return ctx.url(*_LITERALS[endpoint], trigger_id=trigger)


def _send(ctx: SuiteContext, endpoint: Endpoint, method: str, url: str) -> Exchange:
    if method in ("PUT", "PATCH"):
        return ctx.send(endpoint, method, url, content=_REFUSED_BODY, headers=_JSON)
    return ctx.send(endpoint, method, url)


def _register(endpoint: Endpoint) -> None:
    methods = WRONG_METHODS[endpoint]

    def run(ctx: SuiteContext) -> None:
        url = wrong_method_url(ctx, endpoint)
        checks = ctx.checks(endpoint=endpoint)
        results = [
            result
            for method in methods
            for result in check_results(
                checks, ctx.conclusive(_send(ctx, endpoint, method, url), endpoint=endpoint)
            )
            if result.name == "no_server_error"
        ]
        raise_failures(results)

    listed = ", ".join(methods)
    run.__doc__ = f"Invariant 7: {listed} on the {endpoint} path get any answer but a 5xx."
    case(f"methods.wrong.{endpoint}", f"{listed} on the {endpoint} path: never a 5xx")(run)


for _endpoint in WRONG_METHODS:
    _register(_endpoint)
