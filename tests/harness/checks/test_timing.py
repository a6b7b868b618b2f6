"""Tests of the poll-timing verifiers over histories and journal rows."""

from __future__ import annotations

import pytest

from harness._exceptions import ContractViolation, UsageError
from harness._models import Endpoint
from harness.checks._timing import (
    JournalRow,
    no_polls_closer_than,
    no_request_after_final,
    retry_after_respected,
)
from tests.harness.factories import exchange, history, observation, poll


def test_polls_spaced_enough_pass() -> None:
    """Polls 5 s apart satisfy a 5 s minimum gap."""
    no_polls_closer_than(history(poll(0), poll(5), poll(10, "completed")), 5)
    no_polls_closer_than([(0.0, 200, {}), (5.0, 200, {})], 5)


def test_polls_too_close_fail_with_both_as_evidence() -> None:
    """Two polls 1 s apart break a 5 s minimum, naming both."""
    run = history(poll(0), poll(1), poll(10, "completed"))
    with pytest.raises(ContractViolation, match=r"1\.000 s apart") as info:
        no_polls_closer_than(run, 5)
    assert info.value.evidence == (run.polls[0].exchange, run.polls[1].exchange)


def test_journal_rows_too_close_fail() -> None:
    """Journal rows are sorted by time and judged the same way."""
    with pytest.raises(ContractViolation, match="Polled too often"):
        no_polls_closer_than([JournalRow(10.0, 200, {}), JournalRow(9.5, 200, {})], 1)


def test_retry_after_respected_passes_and_fails() -> None:
    """After a 429 with Retry-After 3 the next request must wait 3 s from the answer."""
    limited = observation(
        exchange(
            Endpoint.STATUS, 429, {"detail": "slow"}, headers={"Retry-After": "3"}, started_at=1
        )
    )
    polite = history(limited, poll(4.1), poll(9, "completed"))
    rude = history(limited, poll(2), poll(9, "completed"))
    retry_after_respected(polite)
    with pytest.raises(ContractViolation, match="Retry-After was 3 s") as info:
        retry_after_respected(rude)
    assert info.value.evidence == (limited.exchange, rude.polls[1].exchange)


def test_retry_after_on_journal_rows_and_unparsable_values() -> None:
    """Rows are judged from the 429's time; an HTTP-date Retry-After is not judged."""
    retry_after_respected([(0.0, 429, {"retry-after": "2"}), (2.0, 200, {})])
    with pytest.raises(ContractViolation):
        retry_after_respected([(0.0, 429, {"retry-after": "2"}), (1.0, 200, {})])
    date = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
    retry_after_respected([(0.0, 429, date), (0.1, 200, {})])


def test_no_request_after_final_passes_and_fails() -> None:
    """Polling stops at the first final answer; a poll after it is a violation."""
    no_request_after_final(history(poll(0), poll(5, "completed")))
    run = history(poll(0), poll(5, "completed"), poll(10, "completed"))
    with pytest.raises(ContractViolation, match="1 request") as info:
        no_request_after_final(run)
    assert info.value.evidence == (run.polls[1].exchange, run.polls[2].exchange)


def test_no_request_after_final_on_rows_needs_statuses() -> None:
    """Rows with statuses are judged; rows without any status are a usage error."""
    rows = [JournalRow(0, 200, {}, "pending"), JournalRow(5, 200, {}, "failed")]
    no_request_after_final(rows)
    with pytest.raises(ContractViolation):
        no_request_after_final([*rows, JournalRow(6, 200, {}, "failed")])
    with pytest.raises(UsageError, match="run status"):
        no_request_after_final([(0.0, 200, {})])


@pytest.mark.parametrize("value", ["\u0663", "\u00b2", "1.5", "-2"])
def test_retry_after_outside_the_rfc_grammar_is_not_judged(value: str) -> None:
    """The one parser (RFC 9110 §10.2.3) reads "٣" or "²" as unusable: nothing to respect."""
    retry_after_respected([(0.0, 429, {"retry-after": value}), (0.01, 200, {})])


def test_retry_after_is_judged_up_to_the_clients_max_wait() -> None:
    """A client bounding waits at max_wait_s respected `Retry-After: 86400` by waiting that."""
    rows = [(0.0, 429, {"retry-after": "86400"}), (60.0, 200, {})]
    retry_after_respected(rows, max_wait_s=60.0)
    with pytest.raises(ContractViolation, match="Retry-After ignored"):
        retry_after_respected(rows)
    with pytest.raises(ContractViolation, match="Retry-After ignored"):
        retry_after_respected(
            [(0.0, 429, {"retry-after": "86400"}), (59.0, 200, {})], max_wait_s=60
        )
