"""Locust's CSV output: statistics rows, the time series and contract violations."""

from __future__ import annotations

from harness.load import FailureRow, count_violations, parse_failures, parse_history, parse_stats
from tests.harness.load.samples import FAILURES_CSV, HISTORY_CSV, STATS_CSV


def test_parse_stats_names_rows_by_type_and_skips_aggregated() -> None:
    """Stats rows are named `<type> <name>` and the mixed Aggregated row is left out."""
    rows = parse_stats(STATS_CSV)
    assert [row.name for row in rows] == [
        "POST E2 start",
        "GET E3 status",
        "FLOW background: end-to-end (target ms)",
    ]
    assert rows[1].requests == 90
    assert rows[1].p95_ms == 120
    assert rows[1].rps == 18.0
    assert rows[0].failures == 1


def test_parse_history_sums_http_rows_per_timestamp() -> None:
    """The series sums HTTP rates per timestamp and keeps the worst p95, flows left out."""
    series = parse_history(HISTORY_CSV)
    assert [point.elapsed_s for point in series] == [0, 1]
    assert series[0].users == 2
    assert series[0].rps == 12.0
    assert series[0].failures_per_s == 0.5
    assert series[0].p95_ms == 40
    assert series[1].users == 3
    assert series[1].rps == 12.0


def test_count_violations_counts_every_title() -> None:
    """Violations are the failures prefixed `contract violation:`, one per title listed."""
    failures = parse_failures(FAILURES_CSV)
    assert failures[0] == FailureRow(
        method="GET",
        name="E3 status",
        error="contract violation: Envelope has six typed fields",
        occurrences=3,
    )
    assert count_violations(failures) == 3 + 2 * 2
