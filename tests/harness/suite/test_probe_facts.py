"""The probe's facts: what each answer settled, keyed by the mock config key that would make
the mock answer so, on the default mock and on mocks speaking other dialects; and the wire
traits W1 and W2."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from harness import TriggerClient, mock_target
from harness._embedded import open_session
from harness.suite import CALIBRATION_QUESTIONS, PROBE_QUESTIONS, WIRE_QUESTIONS, ProbeAnswer
from harness.suite._probe import probe_target
from mock_server import create_app, demo_config, parse_dialect

SCALE = 1000.0


def _ask(dialect: dict[str, Any] | None = None) -> dict[str, ProbeAnswer]:
    """The calibration questions asked of the demo world speaking `dialect`."""
    config = demo_config()
    mock = dataclasses.replace(config.mock, time_scale=SCALE)
    if dialect is not None:
        mock = dataclasses.replace(mock, dialect=parse_dialect(dialect))
    app = create_app(dataclasses.replace(config, mock=mock))
    with open_session(mock_target(), app=app, time_scale=SCALE) as session:
        client = TriggerClient(
            session.target, http=session.http, clock=session.clock, sleep=session.sleep
        )
        answers = probe_target(
            client, slow_trigger="slow-sync", questions=CALIBRATION_QUESTIONS, sleep=session.sleep
        )
    return {answer.question_id: answer for answer in answers}


def test_the_calibration_questions_are_the_probe_s_plus_the_wire_traits_with_a8_last() -> None:
    """Calibration asks every probe question and W1, W2; A8's burst still comes last."""
    ids = [question.question_id for question in CALIBRATION_QUESTIONS]
    assert set(ids) == {q.question_id for q in (*PROBE_QUESTIONS, *WIRE_QUESTIONS)}
    assert ids[-1] == "A8"


def test_the_default_mock_s_facts_are_its_defaults() -> None:
    """On the demo world every fact is the dialect's default value, and W1, W2 are same."""
    answers = _ask()
    facts: dict[str, Any] = {}
    for answer in answers.values():
        facts.update(answer.facts)
    assert (
        facts
        | {
            "e2_status": 200,
            "e4_status": 200,
            "lowercase_environments": "refuse",
            "extra_fields": "ignore",
            "missing_message": "default",
            "missing_user_variables": "default",
            "empty_body": "accept",
            "jira_auth_status": 401,
            "idempotency": "none",
            "content_type": "application/json",
            "compression": "never",
            "workflow_id_format": "uuid4",
            "extra_envelope_fields": [],
            "sync_timeout_policy": "504",
            "workflow_not_found_detail": "Workflow not found",
            "trigger_not_found_detail": "Trigger not found",
        }
        == facts
    )
    assert answers["W1"].same is True
    assert answers["W2"].same is True


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ({"e2_status": 202, "e4_status": 202}, {"e2_status": 202, "e4_status": 202}),
        ({"lowercase_environments": "accept"}, {"lowercase_environments": "accept"}),
        ({"extra_fields": "refuse"}, {"extra_fields": "refuse"}),
        ({"missing_message": "refuse"}, {"missing_message": "refuse", "empty_body": "accept"}),
        ({"empty_body": "refuse"}, {"empty_body": "refuse", "missing_message": "default"}),
        ({"jira_auth_status": 403}, {"jira_auth_status": 403}),
        ({"idempotency": "key"}, {"idempotency": "key"}),
        ({"workflow_not_found_detail": "Gone"}, {"workflow_not_found_detail": "Gone"}),
        ({"trigger_not_found_detail": "No trigger"}, {"trigger_not_found_detail": "No trigger"}),
        (
            {"content_type": "application/json; charset=utf-8"},
            {"content_type": "application/json; charset=utf-8"},
        ),
        ({"compression": "gzip"}, {"compression": "gzip"}),
        ({"workflow_id_format": "hex"}, {"workflow_id_format": "hex"}),
        (
            {"workflow_id_format": "prefixed", "workflow_id_prefix": "run-"},
            {"workflow_id_format": "prefixed", "workflow_id_prefix": "run-"},
        ),
        ({"extra_envelope_fields": {"region": "eu"}}, {"extra_envelope_fields": ["region"]}),
    ],
)
def test_each_dialect_key_is_read_back_as_a_fact(
    dialect: dict[str, Any], expected: dict[str, Any]
) -> None:
    """A mock speaking one non-default dialect value is read back as that value."""
    facts: dict[str, Any] = {}
    for answer in _ask(dialect).values():
        facts.update(answer.facts)
    assert {key: facts.get(key) for key in expected} == expected


def test_w2_keeps_the_extra_fields_values_for_calibration() -> None:
    """W2's extras hold the extra envelope fields' values (not compared, only written)."""
    answer = _ask({"extra_envelope_fields": {"region": "eu", "v": 2}})["W2"]
    assert answer.extras["extra_envelope_values"] == {"region": "eu", "v": 2}
    assert answer.same is False
