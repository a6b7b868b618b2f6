"""Checks over a whole run: the lifecycle invariants 2, 5, 6 and 9 across a `RunHistory`.

Transient answers (no answer, 429, 5xx) and answers that did not parse as an envelope are left
out of the lifecycle: the client retried them, and `no_server_error` reports each 5xx on its own
when response checks run over the polls. The response checks and these are separate registries;
`assert_checks(ctx, history)` runs both.
"""

from __future__ import annotations

import json
from typing import Any

from .._exceptions import ContractViolation
from .._models import Endpoint, Envelope, Observation, RunHistory, RunStatus
from ._registry import CheckContext, Severity, history_check, is_transient, missing_variables

__all__ = [
    "completed_has_user_variables",
    "final_is_stable",
    "poll_workflow_id_matches",
    "run_within_max",
    "settled",
    "start_found_at_once",
    "start_user_variables",
    "status_moves_forward",
]

_BACKGROUND_STARTS = frozenset({Endpoint.START, Endpoint.JIRA})


def settled(history: RunHistory) -> list[tuple[Observation, Envelope]]:
    """The observations of `history` that are neither transient nor unparsed, with envelopes."""
    return [
        (observation, observation.envelope)
        for observation in history.observations
        if observation.envelope is not None and not is_transient(observation.exchange)
    ]


@history_check(title="Status only moves forward", invariant=2)
def status_moves_forward(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 2: after completed or failed no answer shows a non-final status again."""
    first_final: Observation | None = None
    for observation, envelope in settled(history):
        if first_final is None and envelope.is_final:
            first_final = observation
        elif first_final is not None and not envelope.is_final:
            raise ContractViolation(
                "Status moved backwards",
                f"{_status_of(first_final)!r} then {envelope.status!r}",
                severity=Severity.CRITICAL,
                evidence=(first_final.exchange, observation.exchange),
            )


@history_check(title="A final answer never changes", invariant=2)
def final_is_stable(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 2: later final answers repeat the status, workflow_id, response and error."""
    finals = [(obs, env) for obs, env in settled(history) if env.is_final]
    if not finals:
        return
    first, first_envelope = finals[0]
    for observation, envelope in finals[1:]:
        changed = [
            field
            for field in ("status", "workflow_id", "response", "error")
            if getattr(envelope, field) != getattr(first_envelope, field)
        ]
        if changed:
            raise ContractViolation(
                "Final answer changed",
                f"{', '.join(changed)} changed after the run was {first_envelope.status!r}",
                severity=Severity.CRITICAL,
                evidence=(first.exchange, observation.exchange),
            )


@history_check(title="Every answer is about the run", invariant=6)
def poll_workflow_id_matches(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 6: the start answer and every poll carry the run's workflow_id."""
    for observation, envelope in settled(history):
        if envelope.workflow_id != history.workflow_id:
            raise ContractViolation(
                "Answer about another run",
                f"expected {history.workflow_id!r}, got {envelope.workflow_id!r}",
                severity=Severity.CRITICAL,
                evidence=(observation.exchange,),
            )


@history_check(title="A started run is found at once", invariant=6, endpoints=_BACKGROUND_STARTS)
def start_found_at_once(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 6: the first (non-transient) E3 poll after E2 does not answer 404."""
    first = next((obs for obs in history.polls if not is_transient(obs.exchange)), None)
    if first is not None and first.status_code == 404:
        raise ContractViolation(
            "Started run not found",
            f"the first poll for {history.workflow_id!r} answered 404",
            severity=Severity.CRITICAL,
            evidence=(history.start.exchange, first.exchange),
        )


@history_check(title="A background run ends in time", invariant=9, endpoints=_BACKGROUND_STARTS)
def run_within_max(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 9: no answer shows the run unfinished after `max_run_s` of running time.

    Time seen in `waiting_for_input` does not count (A10). A final answer is not evidence: it
    is seen up to one poll late. A history that timed out is a violation unless the client's
    own deadline was shorter than `max_run_s`.
    """
    if history.timed_out and (history.deadline_s is None or history.deadline_s >= ctx.max_run_s):
        last = history.observations[-1]
        raise ContractViolation(
            "Run never finished",
            f"{history.workflow_id!r} still not final when the deadline passed",
            severity=Severity.HIGH,
            evidence=(history.start.exchange, last.exchange),
        )
    running_s, previous = 0.0, history.start
    for observation, envelope in settled(history)[1:]:
        if _status_of(previous) != RunStatus.WAITING_FOR_INPUT:
            running_s += observation.at - previous.at
        previous = observation
        if not envelope.is_final and running_s > ctx.max_run_s:
            raise ContractViolation(
                "Run exceeded its limit",
                f"{envelope.status!r} after {running_s:.0f} s, limit {ctx.max_run_s:.0f} s",
                severity=Severity.HIGH,
                evidence=(history.start.exchange, observation.exchange),
            )


@history_check(title="Completed run keeps the start's variables", invariant=5)
def completed_has_user_variables(ctx: CheckContext, history: RunHistory) -> None:
    """Invariant 5: a completed run's response holds the user variables the start sent."""
    completed = next(
        ((obs, env) for obs, env in settled(history) if env.status == RunStatus.COMPLETED), None
    )
    expected = start_user_variables(history.start)
    if completed is None or expected is None:
        return
    observation, envelope = completed
    problems = missing_variables(envelope.response, expected)
    if problems:
        raise ContractViolation(
            "Completed run lost its variables",
            "; ".join(problems),
            severity=Severity.HIGH,
            evidence=(history.start.exchange, observation.exchange),
        )


def start_user_variables(start: Observation) -> dict[str, Any] | None:
    """The user variables a start request sent (E4: the whole Jira payload); None if unknown."""
    try:
        body = json.loads(start.exchange.request_body or b"{}")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if start.exchange.endpoint is Endpoint.JIRA:
        return body
    variables = body.get("user_variables", {})
    return variables if isinstance(variables, dict) else None


def _status_of(observation: Observation) -> str | None:
    return observation.envelope.status if observation.envelope is not None else None
