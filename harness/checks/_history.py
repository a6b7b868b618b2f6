"""Checks over a whole run: the lifecycle invariants 2, 5, 6 and 9 across a `RunHistory`.

Transient answers (no answer, 429, 5xx) and answers that did not parse as an envelope are left
out of the lifecycle: the client retried them, and `no_server_error` reports each 5xx on its own
when response checks run over the polls. The response checks and these are separate registries;
`assert_checks(ctx, history)` runs both.
"""

from __future__ import annotations

from typing import Any

from .._exceptions import ContractViolation
from .._json import decode, json_equal
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
            if not json_equal(getattr(envelope, field), getattr(first_envelope, field))
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
    """Invariant 9: no answer shows the run pending after more than `max_run_s` of running.

    Only evidence counts, as a lower bound: a poll sent more than `max_run_s` after the start
    answer arrived (the run existed by then) that still shows `pending`. A final answer is not
    evidence (it is seen up to one poll late), nor is a status outside the enum. A run seen in
    `waiting_for_input` is not judged: whether and how waiting time counts is open (A10).
    Following that stopped for any reason but the deadline (`StopReason`: rate-limited, status
    outside the enum, connection lost, ...) is inconclusive: nothing is blamed for what was
    not seen. With a client deadline past `max_run_s` (the client's default), the last poll
    of a history that stopped at the deadline is that evidence: "Run never finished".
    """
    answers = settled(history)
    if any(envelope.status == RunStatus.WAITING_FOR_INPUT for _, envelope in answers):
        return
    began = history.start.at + history.start.exchange.elapsed_s
    late = [
        (observation, envelope)
        for observation, envelope in answers
        if envelope.status == RunStatus.PENDING and observation.at - began > ctx.max_run_s
    ]
    if not late:
        return
    observation, envelope = late[-1]
    running_s = observation.at - began
    never_finished = history.timed_out and observation is answers[-1][0]
    raise ContractViolation(
        "Run never finished" if never_finished else "Run exceeded its limit",
        f"{history.workflow_id!r} still {envelope.status!r} after {running_s:.0f} s "
        f"(limit {ctx.max_run_s:.0f} s)" + (" when the deadline passed" if never_finished else ""),
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
    """The user variables a start request sent (E4: the whole Jira payload); None if unknown.

    Read in the one number model (`_json.decode`): integers of any size stay exact.
    """
    try:
        body = decode(start.exchange.request_body or b"{}")
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
