"""`probe`: ask a target the open questions that can be asked safely, and compare with the mock.

Each question is a small function sending a few requests through the client's raw `request`
(so no answer raises) and returning a `ProbeAnswer`: what the target did, the mock's default,
and whether they are the same. Questions that would need a run the harness cannot start safely
(a trigger known to outlast the sync limit, a paused trigger) are answered "not asked" unless
the caller names such a trigger.

Requests that could start runs use the target's background trigger (A6, A7, A14); the others
use a trigger id that cannot exist, so nothing runs (A4, A5, A7 size, A15).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .._client import TriggerClient
from .._models import Exchange
from .._targets import ENVIRONMENTS
from ..checks import OPEN_QUESTIONS

__all__ = ["PROBE_QUESTIONS", "ProbeAnswer", "probe_target"]

_MISSING_TRIGGER = "harness-probe-no-such-trigger"
_JSON = {"Content-Type": "application/json"}
_RATE_PROBE_REQUESTS = 25
_OVERSIZE_BYTES = 1024 * 1024 + 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeAnswer:
    """One row of the probe table; `same` is None when the question was not asked."""

    question_id: str
    question: str
    observed: str
    mock_default: str
    same: bool | None
    evidence: tuple[Exchange, ...] = ()


Question = Callable[["_Probe"], ProbeAnswer]


class _Probe:
    """The requests a probe sends, built from one client and its target."""

    def __init__(self, client: TriggerClient, *, slow_trigger: str | None) -> None:
        self.client = client
        self.target = client.target
        self.slow_trigger = slow_trigger

    def post(
        self, kind: str, trigger: str, environment: str, body: bytes, **kwargs: Any
    ) -> Exchange:
        segments = [kind] if kind else []
        path = _path("trigger", *segments, self.target.workspace_id, trigger, environment)
        return self.client.request("POST", path, headers=_JSON, content=body, **kwargs)

    def status(self, workspace_id: str, workflow_id: str) -> Exchange:
        return self.client.request("GET", _path("trigger", "status", workspace_id, workflow_id))

    def answer(
        self, question_id: str, observed: str, same: bool | None, *evidence: Exchange
    ) -> ProbeAnswer:
        question = OPEN_QUESTIONS[question_id]
        return ProbeAnswer(
            question_id=question_id,
            question=question.question,
            observed=observed,
            mock_default=question.mock_default,
            same=same,
            evidence=evidence,
        )


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def _body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def _said(exchange: Exchange) -> str:
    """`HTTP 404 "Workflow not found"`, or what happened instead of an answer."""
    if exchange.status_code is None:
        return f"no answer ({exchange.error})"
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    suffix = f" {json.dumps(detail)[:80]}" if isinstance(detail, str) else ""
    return f"HTTP {exchange.status_code}{suffix}"


def _ok(exchange: Exchange) -> bool:
    return exchange.status_code is not None and 200 <= exchange.status_code < 300


def ask_sync_limit(probe: _Probe) -> ProbeAnswer:
    """A1: what E1 answers when the flow outlives the synchronous limit."""
    if probe.slow_trigger is None:
        return probe.answer("A1", "not asked: no trigger known to outlast the sync limit", None)
    exchange = probe.post("", probe.slow_trigger, probe.target.environment, _body(message="probe"))
    body = exchange.json() if _ok(exchange) else None
    if exchange.status_code == 504:
        return probe.answer("A1", _said(exchange), True, exchange)
    if isinstance(body, dict) and body.get("status") == "failed":
        return probe.answer(
            "A1", f"HTTP {exchange.status_code} failed: {body.get('error')}", False, exchange
        )
    return probe.answer("A1", _said(exchange), False, exchange)


def ask_unknown_workflow(probe: _Probe) -> ProbeAnswer:
    """A3: what E3 answers for a workflow id nobody started."""
    exchange = probe.status(probe.target.workspace_id, str(uuid.uuid4()))
    same = exchange.status_code == 404 and exchange.json() == {"detail": "Workflow not found"}
    return probe.answer("A3", _said(exchange), same, exchange)


def ask_unknown_workspace_and_trigger(probe: _Probe) -> ProbeAnswer:
    """A4: the key on a workspace that is not its own, and an unknown trigger id."""
    foreign = probe.status(f"harness-probe-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()))
    missing = probe.post("start", _MISSING_TRIGGER, probe.target.environment, _body(message=""))
    observed = f"other workspace: {_said(foreign)}; unknown trigger: {_said(missing)}"
    same = foreign.status_code == 401 and missing.status_code == 404
    return probe.answer("A4", observed, same, foreign, missing)


def ask_environment_case(probe: _Probe) -> ProbeAnswer:
    """A5: is a lower-case environment accepted? (unknown trigger: nothing starts)."""
    lower = probe.target.environment.lower()
    exchange = probe.post("start", _MISSING_TRIGGER, lower, _body(message=""))
    if exchange.status_code == 422:
        return probe.answer(
            "A5", f"{lower!r} refused as invalid ({_said(exchange)})", True, exchange
        )
    verdict = "accepted" if exchange.status_code in (200, 404, 409) else "answered"
    return probe.answer("A5", f"{lower!r} {verdict} ({_said(exchange)})", False, exchange)


def ask_start_code(probe: _Probe) -> ProbeAnswer:
    """A6: the HTTP code of a successful E2."""
    if probe.target.background_trigger is None:
        return probe.answer("A6", "not asked: the target names no background_trigger", None)
    exchange = probe.post(
        "start",
        probe.target.background_trigger,
        probe.target.environment,
        _body(message="probe A6"),
    )
    return probe.answer("A6", _said(exchange), exchange.status_code == 200, exchange)


def ask_body_rules(probe: _Probe) -> ProbeAnswer:
    """A7: missing fields, extra fields, a body over 1 MiB, a body that is not a JSON object."""
    findings: list[str] = []
    evidence: list[Exchange] = []
    same = True
    environment = probe.target.environment
    if probe.target.background_trigger is not None:
        trigger = probe.target.background_trigger
        empty = probe.post("start", trigger, environment, b"{}")
        extra = probe.post(
            "start",
            trigger,
            environment,
            _body(message="probe A7", user_variables={}, harness_extra=1),
        )
        findings += [f"no fields: {_said(empty)}", f"extra field: {_said(extra)}"]
        evidence += [empty, extra]
        same = same and _ok(empty) and _ok(extra)
    oversize = probe.post(
        "start", _MISSING_TRIGGER, environment, b'{"message": "' + b"x" * _OVERSIZE_BYTES + b'"}'
    )
    not_object = probe.post("start", _MISSING_TRIGGER, environment, b"[1, 2]")
    findings += [f"over 1 MiB: {_said(oversize)}", f"JSON array: {_said(not_object)}"]
    evidence += [oversize, not_object]
    same = same and oversize.status_code == 413 and not_object.status_code == 422
    return probe.answer("A7", "; ".join(findings), same, *evidence)


def ask_rate_limit(probe: _Probe) -> ProbeAnswer:
    """A8: does a short burst of status requests meet a 429? (bounded: a few dozen requests)."""
    workflow_id = str(uuid.uuid4())
    limited = None
    for _ in range(_RATE_PROBE_REQUESTS):
        exchange = probe.status(probe.target.workspace_id, workflow_id)
        if exchange.status_code == 429:
            limited = exchange
            break
    if limited is None:
        observed = f"no 429 in {_RATE_PROBE_REQUESTS} back-to-back status requests"
        return probe.answer("A8", observed, True)
    retry_after = limited.response_headers.get("retry-after") or limited.response_headers.get(
        "Retry-After"
    )
    return probe.answer("A8", f"429 with Retry-After {retry_after!r}", False, limited)


def ask_idempotency(probe: _Probe) -> ProbeAnswer:
    """A14: do two identical starts start two runs?"""
    if probe.target.background_trigger is None:
        return probe.answer("A14", "not asked: the target names no background_trigger", None)
    body = _body(message="probe A14", user_variables={"probe": "idempotency"})
    first, second = (
        probe.post("start", probe.target.background_trigger, probe.target.environment, body)
        for _ in range(2)
    )
    ids = [
        item.json().get("workflow_id") if _ok(item) and isinstance(item.json(), dict) else None
        for item in (first, second)
    ]
    if None in ids:
        return probe.answer(
            "A14", f"could not tell: {_said(first)}, {_said(second)}", None, first, second
        )
    same = ids[0] != ids[1]
    observed = (
        "two runs started (two workflow ids)" if same else "both answered the same workflow id"
    )
    return probe.answer("A14", observed, same, first, second)


def ask_key_environments(probe: _Probe) -> ProbeAnswer:
    """A15: is the key accepted in every environment? (unknown trigger: nothing starts)."""
    answers = {
        environment: probe.post("start", _MISSING_TRIGGER, environment, _body(message=""))
        for environment in ENVIRONMENTS
    }
    refused = [env for env, exchange in answers.items() if exchange.status_code == 401]
    observed = (
        "key accepted in " + ", ".join(env for env in ENVIRONMENTS if env not in refused)
        if not refused
        else "key refused (401) in " + ", ".join(refused)
    )
    return probe.answer("A15", observed, not refused, *answers.values())


PROBE_QUESTIONS: tuple[Question, ...] = (
    ask_sync_limit,
    ask_unknown_workflow,
    ask_unknown_workspace_and_trigger,
    ask_environment_case,
    ask_start_code,
    ask_body_rules,
    ask_rate_limit,
    ask_idempotency,
    ask_key_environments,
)


def probe_target(
    client: TriggerClient,
    *,
    slow_trigger: str | None = None,
    questions: Sequence[Question] = PROBE_QUESTIONS,
) -> list[ProbeAnswer]:
    """Ask every question in order and return the table's rows.

    Args:
        client: a client for the target (its key is sent; nothing else of it is shown).
        slow_trigger: a trigger known to outlast the sync limit, to ask A1; None skips A1.
        questions: which questions to ask.
    """
    probe = _Probe(client, slow_trigger=slow_trigger)
    return [question(probe) for question in questions]
