"""Times read from runs: ISO stamps and a run's end from its final log entry."""

from __future__ import annotations

from harness.load import log_end_time, parse_iso
from tests.harness.factories import history, poll


def test_log_end_time_reads_the_last_log_entry_as_utc() -> None:
    """On a real target the run's end is its final log entry's time, read as UTC."""
    assert log_end_time(history(poll(1.0, "completed"))) == 1781050205.0
    assert log_end_time(history(poll(1.0))) is None


def test_parse_iso_reads_utc_stamps_with_or_without_zone() -> None:
    """`Z`, an explicit offset and a naive stamp (read as UTC) give the same epoch seconds."""
    assert parse_iso("2026-06-10T00:10:05Z") == 1781050205.0
    assert parse_iso("2026-06-10T00:10:05+00:00") == 1781050205.0
    assert parse_iso("2026-06-10T00:10:05") == 1781050205.0
