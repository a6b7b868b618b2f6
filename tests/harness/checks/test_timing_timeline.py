"""`timeline_rows`: the mock's run timeline as rows the poll-timing verifiers judge."""

from __future__ import annotations

from typing import Any

import pytest

from harness import ContractViolation, UsageError
from harness.checks._timing import (
    JournalRow,
    no_polls_closer_than,
    no_request_after_final,
    retry_after_respected,
    timeline_rows,
)


def entry(real: float, code: int | None, status: str | None, **extra: Any) -> dict[str, Any]:
    """One timeline entry as the admin API answers it (virtual time 1000 s ahead)."""
    row = {
        "virtual_time": real + 1000.0,
        "real_time": real,
        "endpoint": "E3",
        "status_code": code,
        "run_status": status,
        "retry_after": None,
    }
    row.update(extra)
    return row


TIMELINE = [
    entry(0.0, 200, "pending", endpoint="E2"),
    entry(0.2, 200, "pending"),
    entry(1.2, 429, None, retry_after="2"),
    entry(2.0, 200, "completed"),
]


def test_rows_carry_time_code_retry_after_and_status() -> None:
    """Each entry becomes a row with its real time, code, Retry-After header and run status."""
    rows = timeline_rows(TIMELINE)
    assert rows[2] == JournalRow(1.2, 429, {"Retry-After": "2"}, None)
    assert timeline_rows(TIMELINE, clock="virtual")[0].time == 1000.0


def test_polls_only_drops_the_start() -> None:
    """With polls_only, only status requests (E3) are kept."""
    assert [row.time for row in timeline_rows(TIMELINE, polls_only=True)] == [0.2, 1.2, 2.0]


def test_verifiers_judge_timeline_rows() -> None:
    """A retry 0.8 s after `Retry-After: 2` is caught; the final answer ends the run cleanly."""
    rows = timeline_rows(TIMELINE, polls_only=True)
    with pytest.raises(ContractViolation, match="Retry-After ignored"):
        retry_after_respected(rows)
    with pytest.raises(ContractViolation, match="Polled too often"):
        no_polls_closer_than(rows, 1.0)
    no_request_after_final(rows)


def test_unknown_clock_is_a_usage_error() -> None:
    """A clock other than real or virtual is refused, naming it."""
    with pytest.raises(UsageError, match="clock"):
        timeline_rows(TIMELINE, clock="wall")  # type: ignore[arg-type]
