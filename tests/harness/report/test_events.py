"""Tests of harness.report._events: events, the bus and the run record."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from harness._exceptions import ContractViolation
from harness.report import (
    CaseFinished,
    Event,
    EventBus,
    Outcome,
    RunRecord,
    RunStarted,
    Suite,
    SuiteStarted,
    ViolationRecord,
    fan_out,
)

from .conftest import START, make_exchange, sample_events


class Collecting:
    """A reporter that remembers what it got."""

    def __init__(self, *, fail_on_close: bool = False) -> None:
        self.events: list[Event] = []
        self.closed = False
        self.fail_on_close = fail_on_close

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True
        if self.fail_on_close:
            raise OSError("disk full")


def test_events_are_frozen() -> None:
    """An event cannot be changed after it is made."""
    event = SuiteStarted(suite=Suite.FUZZ)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.suite = Suite.LOAD  # type: ignore[misc]


def test_string_suite_and_outcome_are_coerced_and_checked() -> None:
    """Plain strings become the enum members; an unknown outcome is refused."""
    case = CaseFinished(suite="probe", case_id="x", title="x", outcome="passed")  # type: ignore[arg-type]
    assert case.suite is Suite.PROBE
    assert case.outcome is Outcome.PASSED
    with pytest.raises(ValueError, match="nope"):
        CaseFinished(suite=Suite.PROBE, case_id="x", title="x", outcome="nope")  # type: ignore[arg-type]


def test_run_started_options_are_a_read_only_copy() -> None:
    """Changing the options dict after emitting does not change the event."""
    options: dict[str, Any] = {"users": 5}
    event = RunStarted(
        command="load", target_name="m", base_url="u", started_at=START, options=options
    )
    options["users"] = 50
    assert event.options["users"] == 5
    with pytest.raises(TypeError):
        event.options["users"] = 1  # type: ignore[index]


def test_violation_record_copies_a_contract_violation() -> None:
    """A record built from a ContractViolation keeps its title, message, severity and evidence."""
    evidence = (make_exchange(),)
    violation = ContractViolation("Bad status", "went back", severity="critical", evidence=evidence)
    record = ViolationRecord.from_violation("status_forward", violation)
    assert (record.check, record.title, record.message, record.severity) == (
        "status_forward",
        "Bad status",
        "went back",
        "critical",
    )
    assert record.evidence == evidence


def test_bus_delivers_every_event_to_every_reporter_in_order() -> None:
    """Each reporter receives the same events in emission order and is closed at exit."""
    first, second = Collecting(), Collecting()
    events = sample_events()
    with fan_out([first, second]) as bus:
        for event in events:
            bus.emit(event)
    assert first.events == events
    assert second.events == events
    assert first.closed
    assert second.closed


def test_bus_closes_all_reporters_even_when_one_fails() -> None:
    """A reporter failing on close does not stop the others from closing; the error surfaces."""
    failing, healthy = Collecting(fail_on_close=True), Collecting()
    bus = EventBus([failing, healthy])
    with pytest.raises(OSError, match="disk full"):
        bus.close()
    assert healthy.closed


def test_bus_refuses_events_after_close() -> None:
    """Emitting on a closed bus is a programming error, reported as such."""
    bus = EventBus([])
    bus.close()
    with pytest.raises(RuntimeError, match="after the bus was closed"):
        bus.emit(SuiteStarted(suite=Suite.CONTRACT))


def test_record_counts_outcomes_per_suite_in_start_order() -> None:
    """The record tallies each suite's outcomes, suites in the order they started."""
    record = RunRecord()
    for event in sample_events():
        record.add(event)
    counts = {c.suite: (c.passed, c.failed, c.skipped, c.error) for c in record.counts()}
    assert list(counts) == [Suite.CONTRACT, Suite.FUZZ, Suite.LOAD, Suite.SIZING]
    assert counts[Suite.CONTRACT] == (1, 1, 1, 0)
    assert counts[Suite.LOAD] == (0, 0, 0, 0)
    assert [case.case_id for case in record.problems()] == ["E2.envelope", "fuzz.no_5xx"]


@pytest.mark.parametrize(
    ("exit_code", "verdict"), [(0, "passed"), (1, "failed"), (2, "error"), (3, "error")]
)
def test_verdict_follows_the_exit_code(exit_code: int, verdict: str) -> None:
    """The verdict is passed for 0, failed for 1, error for usage or target problems."""
    record = RunRecord()
    for event in sample_events(exit_code=exit_code):
        record.add(event)
    assert record.verdict == verdict


def test_unfinished_run_is_incomplete() -> None:
    """Without RunFinished the verdict says the run is incomplete."""
    record = RunRecord()
    for event in sample_events()[:-1]:
        record.add(event)
    assert record.verdict == "incomplete"
    assert record.exit_code is None
