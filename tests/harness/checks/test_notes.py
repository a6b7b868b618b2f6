"""Tests of the open-question notes: each rule both ways, and the question table."""

from __future__ import annotations

from harness._models import Endpoint
from harness.checks._notes import (
    MAX_BODY_BYTES,
    OPEN_QUESTIONS,
    Note,
    collect_notes,
    note_background_limit,
    note_body_fields,
    note_body_size,
    note_environment_case,
    note_idempotency,
    note_jira_refusal,
    note_rate_limit,
    note_requires_input,
    note_start_code,
    note_sync_limit,
    note_unknown_workflow,
    note_www_authenticate,
    notes_for,
)
from tests.harness.factories import WORKFLOW_ID, body, exchange, history, poll

UNAUTHORIZED = {"detail": "Invalid authentication credentials"}


def same(note: Note | None) -> bool:
    """The note's `same`, after asserting a note was made."""
    assert note is not None
    return note.same


def test_open_questions_cover_a1_to_a15_with_defaults() -> None:
    """OPEN_QUESTIONS holds A1-A15, each with a question and the mock's default."""
    assert {f"A{n}" for n in range(1, 16)} <= set(OPEN_QUESTIONS)
    assert all(q.question and q.mock_default and q.id == key for key, q in OPEN_QUESTIONS.items())


def test_sync_limit_504_matches_and_200_failed_differs() -> None:
    """A1: a 504 is the mock's choice, a 200 failed naming the limit is the alternative."""
    gateway = note_sync_limit(exchange(Endpoint.SYNC, 504, {"detail": "Flow did not finish"}))
    failed = note_sync_limit(exchange(Endpoint.SYNC, 200, body("failed", error="Timed out")))
    assert gateway is not None
    assert gateway.same
    assert gateway.question_id == "A1"
    assert failed is not None
    assert not failed.same
    assert note_sync_limit(exchange(Endpoint.SYNC, 200, body("failed"))) is None


def test_unknown_workflow_404_matches_other_4xx_differs() -> None:
    """A3: 404 "Workflow not found" is the default; a 400 is noted as different."""
    default = note_unknown_workflow(
        exchange(Endpoint.STATUS, 404, {"detail": "Workflow not found"})
    )
    other = note_unknown_workflow(exchange(Endpoint.STATUS, 400, {"detail": "bad id"}))
    assert default is not None
    assert default.same
    assert other is not None
    assert not other.same
    assert "400" in other.observed
    assert note_unknown_workflow(exchange(Endpoint.STATUS, 401, UNAUTHORIZED)) is None


def test_lower_case_environment_accepted_is_noted() -> None:
    """A5: accepting "dev" differs from the mock's 422; refusing with 422 matches."""
    path = "/trigger/start/acme/summarise/dev"
    accepted = note_environment_case(exchange(Endpoint.START, 200, body("pending"), path=path))
    refused = note_environment_case(exchange(Endpoint.START, 422, {"detail": "env"}, path=path))
    assert accepted is not None
    assert not accepted.same
    assert "'dev' accepted" in accepted.observed
    assert refused is not None
    assert refused.same
    assert note_environment_case(exchange(Endpoint.START, 200, body("pending"))) is None


def test_start_code_other_than_200_is_noted() -> None:
    """A6: E2 answering 202 is noted as a difference, 200 as the same."""
    assert same(note_start_code(exchange(Endpoint.START, 202, body("pending")))) is False
    assert same(note_start_code(exchange(Endpoint.START, 200, body("pending")))) is True
    assert note_start_code(exchange(Endpoint.STATUS, 200, body())) is None


def test_large_body_accepted_or_refused() -> None:
    """A7: a body over 1 MiB refused with 413 matches; accepted is noted as different."""
    big = {"message": "x" * (MAX_BODY_BYTES + 1)}
    accepted = note_body_size(exchange(Endpoint.START, 200, body("pending"), request=big))
    refused = note_body_size(exchange(Endpoint.START, 413, {"detail": "too big"}, request=big))
    assert accepted is not None
    assert not accepted.same
    assert refused is not None
    assert refused.same
    small = exchange(Endpoint.START, 200, body("pending"), request={"message": "x"})
    assert note_body_size(small) is None


def test_extra_fields_refused_is_noted() -> None:
    """A7: extra fields accepted match the mock; refused is a noted difference."""
    request = {"message": "m", "user_variables": {}, "priority": 1}
    accepted = note_body_fields(exchange(Endpoint.START, 200, body("pending"), request=request))
    refused = note_body_fields(exchange(Endpoint.START, 422, {"detail": "extra"}, request=request))
    assert accepted is not None
    assert accepted.same
    assert "extra priority" in accepted.observed
    assert refused is not None
    assert not refused.same
    plain = {"message": "m", "user_variables": {}}
    assert note_body_fields(exchange(Endpoint.START, 200, body("pending"), request=plain)) is None


def test_rate_limit_with_and_without_retry_after() -> None:
    """A8: a 429 with whole-second Retry-After matches; without it differs."""
    with_header = exchange(Endpoint.STATUS, 429, {"detail": "slow"}, headers={"Retry-After": "2"})
    without = exchange(Endpoint.STATUS, 429, {"detail": "slow"})
    assert same(note_rate_limit(with_header)) is True
    assert same(note_rate_limit(without)) is False


def test_missing_www_authenticate_is_a_note() -> None:
    """X1: a 401 without WWW-Authenticate is noted, not failed."""
    bare = note_www_authenticate(exchange(Endpoint.STATUS, 401, UNAUTHORIZED))
    challenged = note_www_authenticate(
        exchange(
            Endpoint.STATUS,
            401,
            UNAUTHORIZED,
            headers={"content-type": "application/json", "WWW-Authenticate": "Bearer"},
        )
    )
    assert bare is not None
    assert not bare.same
    assert bare.question_id == "X1"
    assert challenged is not None
    assert challenged.same


def test_jira_refusal_403_differs() -> None:
    """A12: E4 refusing with 403 differs from the mock's 401 bearer body."""
    assert same(note_jira_refusal(exchange(Endpoint.JIRA, 401, UNAUTHORIZED))) is True
    assert same(note_jira_refusal(exchange(Endpoint.JIRA, 403, {"detail": "no"}))) is False


def test_idempotency_two_runs_match_the_mock() -> None:
    """A14: identical starts giving two ids match the mock; one id is noted as different."""
    request = {"message": "m"}
    first = exchange(Endpoint.START, 200, body("pending"), request=request)
    second = exchange(Endpoint.START, 200, body("pending", workflow_id="other"), request=request)
    assert same(note_idempotency(first, second)) is True
    assert same(note_idempotency(first, first)) is False


def test_background_limit_failure_is_noted() -> None:
    """A2: a run failing with an error naming the limit is noted with its answer."""
    run = history(poll(2700, "failed", error="Run exceeded the 2700 s limit"))
    note = note_background_limit(run)
    assert note is not None
    assert note.same
    assert note.evidence == (run.polls[0].exchange,)
    assert note_background_limit(history(poll(5, "completed"))) is None


def test_collect_notes_deduplicates_and_keeps_evidence() -> None:
    """The same observation from many exchanges becomes one note with the first as evidence."""
    answers = [exchange(Endpoint.START, 202, body("pending")) for _ in range(3)]
    notes = collect_notes(answers)
    assert len(notes) == 1
    assert notes[0].evidence == (answers[0],)
    assert notes_for(exchange(Endpoint.STATUS, 200, body(workflow_id=WORKFLOW_ID))) == []


def test_requires_input_out_of_step_is_an_a10_observation() -> None:
    """A10: requires_input true on a completed run is noted as different, never a violation."""
    odd = note_requires_input(
        exchange(Endpoint.STATUS, 200, body("completed", requires_input=True))
    )
    assert odd is not None
    assert odd.question_id == "A10"
    assert not odd.same
    assert note_requires_input(exchange(Endpoint.STATUS, 200, body("waiting_for_input"))) is None
    assert note_requires_input(exchange(Endpoint.STATUS, 200, body("completed"))) is None


def test_jira_refusal_with_any_4xx_is_noted() -> None:
    """A12: a 400 or 403 refusal of a bad signature is noted as different; 401 with the body is
    the default."""
    forbidden = note_jira_refusal(exchange(Endpoint.JIRA, 403, {"detail": "no"}))
    bad = note_jira_refusal(exchange(Endpoint.JIRA, 400, {"detail": "bad signature"}))
    default = note_jira_refusal(exchange(Endpoint.JIRA, 401, UNAUTHORIZED))
    assert forbidden is not None
    assert bad is not None
    assert default is not None
    assert (forbidden.same, bad.same, default.same) == (False, False, True)
