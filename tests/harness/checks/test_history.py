"""Tests of the checks over a whole run's history, each both ways."""

from __future__ import annotations

import pytest

from harness._exceptions import ContractViolation
from harness._models import Endpoint, RunHistory, StopReason
from harness.checks._history import settled, start_user_variables
from harness.checks._registry import (
    CheckContext,
    CheckOutcome,
    assert_checks,
    history_check_results,
    run_history_checks,
)
from tests.harness.factories import WORKFLOW_ID, body, exchange, history, observation, poll

CTX = CheckContext()


def failed(run: RunHistory, ctx: CheckContext = CTX) -> set[str]:
    """Names of the history checks that fail on `run`."""
    results = history_check_results(ctx, run)
    return {r.name for r in results if r.outcome is CheckOutcome.FAILED}


def test_a_normal_run_passes_every_history_check() -> None:
    """pending, pending, completed, completed is a clean run."""
    run = history(poll(1), poll(6), poll(11, "completed"), poll(16, "completed"))
    assert run_history_checks(CTX, run) == []


def test_status_moving_backwards_is_a_violation() -> None:
    """completed followed by pending breaks invariant 2, with both answers as evidence."""
    run = history(poll(1, "completed"), poll(6, "pending"))
    (violation,) = run_history_checks(CTX, run)
    assert violation.title == "Status moved backwards"
    assert violation.evidence == (run.polls[0].exchange, run.polls[1].exchange)


def test_waiting_and_pending_may_alternate() -> None:
    """waiting_for_input <-> pending and waiting -> completed are allowed moves."""
    run = history(
        poll(1, "waiting_for_input"),
        poll(6, "pending"),
        poll(11, "waiting_for_input"),
        poll(16, "completed"),
    )
    assert "status_moves_forward" not in failed(run)


def test_transient_answers_are_skipped_by_lifecycle_checks() -> None:
    """A 503 or a dropped connection between final answers breaks no history check."""
    dropped = observation(exchange(Endpoint.STATUS, None, started_at=8))
    run = history(poll(1, "completed"), poll(6, None, 503), dropped, poll(11, "completed"))
    assert run_history_checks(CTX, run) == []
    assert len(settled(run)) == 3


def test_final_answer_changing_is_a_violation() -> None:
    """A completed run whose later answer has another response breaks invariant 2."""
    stable = history(poll(1, "completed"), poll(6, "completed"))
    changed = history(
        poll(1, "completed"), poll(6, "completed", response={"workflow_id": WORKFLOW_ID, "x": 1})
    )
    flipped = history(poll(1, "completed"), poll(6, "failed"))
    assert "final_is_stable" not in failed(stable)
    assert "final_is_stable" in failed(changed)
    (violation,) = run_history_checks(CTX, flipped)
    assert "status" in violation.message


def test_poll_about_another_run_is_a_violation() -> None:
    """A poll carrying another workflow_id breaks invariant 6."""
    assert "poll_workflow_id_matches" not in failed(history(poll(1)))
    assert "poll_workflow_id_matches" in failed(history(poll(1, workflow_id="someone-else")))


def test_first_poll_404_is_a_violation() -> None:
    """A started run answered 404 by its first real poll breaks invariant 6."""
    lost = history(poll(1, None, 404), poll(6, "completed"))
    retried = history(poll(1, None, 502), poll(2), poll(6, "completed"))
    assert "start_found_at_once" in failed(lost)
    assert "start_found_at_once" not in failed(retried)


def test_run_still_pending_past_the_limit_is_a_violation() -> None:
    """A pending answer after more than max_run_s of running breaks invariant 9."""
    late = history(poll(1000), poll(2800), poll(2805, "failed"))
    in_time = history(poll(1000), poll(2690), poll(2705, "completed"))
    assert "run_within_max" in failed(late)
    assert "run_within_max" not in failed(in_time)


def test_a_run_seen_waiting_for_input_is_not_judged() -> None:
    """How waiting time counts is open (A10), so a run seen waiting gives no evidence."""
    run = history(poll(100, "waiting_for_input"), poll(2900, "pending"), poll(3000, "completed"))
    assert "run_within_max" not in failed(run)
    assert "run_within_max" not in failed(run, CheckContext(max_run_s=50))


def test_running_time_counts_from_the_start_answer_arrival() -> None:
    """The run existed only once E2 answered: a slow start answer shortens the evidence."""
    slow = observation(exchange(Endpoint.START, 200, body("pending"), elapsed_s=200.0))
    assert "run_within_max" not in failed(history(poll(2800), start=slow))
    assert "run_within_max" in failed(history(poll(2901), start=slow))


def test_pending_at_the_deadline_past_the_limit_is_never_finished() -> None:
    """Stopped at a deadline past max_run_s, still pending: "Run never finished" (inv. 9)."""
    run = history(poll(1000), poll(2715), stop_reason=StopReason.DEADLINE, deadline_s=2715)
    (violation,) = run_history_checks(CTX, run)
    assert violation.title == "Run never finished"
    assert "when the deadline passed" in violation.message


def test_a_deadline_short_of_the_limit_is_inconclusive() -> None:
    """A client deadline shorter than max_run_s shows nothing about invariant 9."""
    run = history(poll(5), poll(60), stop_reason=StopReason.DEADLINE, deadline_s=60)
    assert run.timed_out
    assert "run_within_max" not in failed(run)


@pytest.mark.parametrize(
    "reason",
    [
        StopReason.RATE_LIMITED,
        StopReason.UNKNOWN_STATUS,
        StopReason.CONNECTION_LOST,
        StopReason.SERVER_ERROR,
        StopReason.NOT_RETRYABLE,
    ],
)
def test_following_stopped_for_other_reasons_is_inconclusive(reason: StopReason) -> None:
    """Rate-limited, unknown status, lost or refused: not final, yet no invariant-9 finding."""
    transient = poll(30, None, 429) if reason is StopReason.RATE_LIMITED else poll(30)
    run = history(poll(1), transient, stop_reason=reason, deadline_s=30)
    assert not run.timed_out
    assert run_history_checks(CTX, run) == []


def test_a_cancelled_run_is_reported_once_by_the_status_check() -> None:
    """A status outside the enum is one "Unknown status" finding (response check), no more."""
    run = history(poll(1), poll(6, "cancelled"), stop_reason=StopReason.UNKNOWN_STATUS)
    with pytest.raises(ContractViolation) as info:
        assert_checks(CTX, run, skip=())
    assert info.value.title == "Unknown status"


def test_huge_integers_compare_exactly_and_bools_are_not_numbers() -> None:
    """2**64+1 kept is kept; turned into a float it is lost; 1.0 for 1 is the same number."""
    request = {"user_variables": {"n": 2**64 + 1, "one": 1}}
    kept = {"workflow_id": WORKFLOW_ID, "n": 2**64 + 1, "one": 1.0}
    rounded = {"workflow_id": WORKFLOW_ID, "n": float(2**64 + 1), "one": 1}
    assert "completed_has_user_variables" not in failed(
        history(poll(5, "completed", response=kept), request=request)
    )
    assert "completed_has_user_variables" in failed(
        history(poll(5, "completed", response=rounded), request=request)
    )


def test_final_answers_compare_as_json_values() -> None:
    """A later final answer holding `true` where the first held `1` has changed (JSON types)."""
    first = poll(5, "completed", response={"workflow_id": WORKFLOW_ID, "x": 1})
    same = poll(10, "completed", response={"workflow_id": WORKFLOW_ID, "x": 1.0})
    changed = poll(15, "completed", response={"workflow_id": WORKFLOW_ID, "x": True})
    assert "final_is_stable" not in failed(history(first, same))
    assert "final_is_stable" in failed(history(first, changed))


def test_completed_run_must_keep_the_start_variables() -> None:
    """The completed response must hold each user variable the start request sent."""
    request = {"message": "go", "user_variables": {"ticket": "T-1"}}
    kept = {"workflow_id": WORKFLOW_ID, "ticket": "T-1", "captured": 1}
    lost = {"workflow_id": WORKFLOW_ID}
    assert "completed_has_user_variables" not in failed(
        history(poll(5, "completed", response=kept), request=request)
    )
    run = history(poll(5, "completed", response=lost), request=request)
    (violation,) = run_history_checks(CTX, run)
    assert "'ticket' missing" in violation.message


def test_sync_history_checks_its_own_answer() -> None:
    """An E1 run (no polls) is checked for its variables; the E2-only checks do not apply."""
    start = observation(exchange(Endpoint.SYNC, 200, body(), request={"user_variables": {"a": 1}}))
    run = history(start=start)
    results = {r.name: r.outcome for r in history_check_results(CTX, run)}
    assert results["start_found_at_once"] is CheckOutcome.NOT_APPLICABLE
    assert results["completed_has_user_variables"] is CheckOutcome.FAILED


@pytest.mark.parametrize(
    ("endpoint", "request_body", "expected"),
    [
        (Endpoint.START, {"user_variables": {"a": 1}}, {"a": 1}),
        (Endpoint.START, {"message": "m"}, {}),
        (Endpoint.START, {"user_variables": "x"}, None),
        (Endpoint.JIRA, {"issue": {"key": "J-1"}}, {"issue": {"key": "J-1"}}),
        (Endpoint.START, [1], None),
    ],
)
def test_start_user_variables(
    endpoint: Endpoint, request_body: object, expected: dict[str, object] | None
) -> None:
    """The start's variables come from user_variables, or the whole body for a Jira start."""
    start = observation(exchange(endpoint, 200, body("pending"), request=request_body))
    assert start_user_variables(start) == expected
