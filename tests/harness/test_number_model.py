"""One number model end to end, against the embedded mock: exact integers both ways."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from harness._embedded import open_session
from harness._jira import issue_created, signed_delivery
from harness._models import StopReason
from harness._protocol import build_start, decode_envelope
from harness._targets import mock_target
from harness.checks import CheckContext, assert_checks, run_history_checks
from harness.strategies import valid_payloads

BIG = 18446744073709551617  # 2**64 + 1


def test_start_with_a_64_bit_overflowing_variable_round_trips_and_passes_the_checks() -> None:
    """`start(user_variables={"n": 2**64})` runs, completes holding 2**64, and every check holds."""
    variables = {"n": 2**64, "m": BIG, "f": 0.1, "neg": -(2**70)}
    with open_session(mock_target()) as session:
        assert session.admin is not None
        client = session.client()
        started = client.start("quick-answer", user_variables=variables)
        session.admin.advance(60)
        history = client.wait(started.envelope.workflow_id, start=started)  # type: ignore[union-attr]
    assert history.stop_reason is StopReason.FINAL
    assert history.final is not None
    assert history.final.response["m"] == BIG
    assert type(history.final.response["n"]) is int
    assert_checks(CheckContext(expected_user_variables=variables), history)


def test_a_jira_payload_with_a_huge_integer_keeps_its_variables() -> None:
    """E4 with 18446744073709551617 in the payload: no "Completed run lost its variables"."""
    payload: dict[str, Any] = {**issue_created(timestamp_ms=1_780_000_000_000), "big": BIG}
    delivery = signed_delivery(payload, "demo-jira-secret")
    with open_session(mock_target()) as session:
        assert session.admin is not None
        client = session.client()
        started = client.send_jira(
            delivery.body, signature=delivery.signature, trigger_id="jira-triage"
        )
        session.admin.advance(3000)
        history = client.wait(started.envelope.workflow_id, start=started)  # type: ignore[union-attr]
    assert history.final is not None
    assert history.final.response["big"] == BIG
    assert run_history_checks(CheckContext(), history) == []


def test_an_envelope_holding_a_huge_integer_is_decoded_exactly() -> None:
    """The client's envelope decoder keeps 2**64 + 1 an int (orjson alone made it a float)."""
    body = (
        b'{"workflow_id": "w", "response": {"big": 18446744073709551617}, "status": "completed",'
        b' "logs": [], "requires_input": false, "error": null}'
    )
    assert decode_envelope(body).response["big"] == BIG


@settings(max_examples=50, deadline=None)
@given(valid_payloads(allow_omission=False, allow_extra_fields=False))
def test_default_valid_payloads_are_encoded_not_a_type_error(payload: dict[str, Any]) -> None:
    """Every default draw of `valid_payloads()` becomes a request body (no raw TypeError)."""
    spec = build_start(
        mock_target(), message=payload["message"], user_variables=payload["user_variables"]
    )
    assert spec.body.startswith(b'{"message":')
