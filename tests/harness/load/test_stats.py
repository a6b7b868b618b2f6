"""Locust's CSV output: statistics rows, the time series and contract violations."""

from __future__ import annotations

from harness.load import (
    FailureRow,
    count_violations,
    http_totals,
    parse_failures,
    parse_flow_statuses,
    parse_history,
    parse_stats,
)
from harness.load._stats import (
    count_inconclusive,
    failure_texts,
    flow_end_failures,
    flow_fail_counts,
)
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


FLOWS_CSV = """scenario,flow,workflow_id,final_status,polls
mixed,background,a,completed,3
mixed,background,b,failed,3
mixed,background,c,timed_out,9
mixed,background,d,gave_up,1
mixed,sync,e,completed,0
mixed,sync,f,waiting_for_input,0
mixed,sync,g,\x1b[2Jodd,0
"""


def test_flow_statuses_count_each_kind_and_lost_flows() -> None:
    """Timed out and given up flows are `lost`; odd statuses keep a display-safe name."""
    statuses = parse_flow_statuses(FLOWS_CSV)
    assert [(row.flow, row.status, row.count) for row in statuses] == [
        ("background", "completed", 1),
        ("background", "failed", 1),
        ("background", "lost", 2),
        ("sync", "completed", 1),
        ("sync", "waiting_for_input", 1),
        ("sync", "\\x1b[2Jodd", 1),
    ]
    assert flow_fail_counts(statuses) == (3, 7)


def test_http_totals_leave_flow_metrics_out() -> None:
    """The sample's 109 Locust requests are 100 HTTP requests (1 failed) and 9 flows."""
    assert http_totals(parse_stats(STATS_CSV)) == (100, 1, 20.0)


def test_failure_texts_are_display_safe_and_most_frequent_first() -> None:
    """One line per failure row, by occurrences; control characters made visible."""
    rows = (
        FailureRow(method="FLOW", name="x", error="run ended failed: \x1b]0;t\x07", occurrences=2),
        FailureRow(method="GET", name="E3 status", error="HTTP 503", occurrences=4),
    )
    assert failure_texts(rows) == (
        "4 x GET E3 status: HTTP 503",
        "2 x FLOW x: run ended failed: \\x1b]0;t\\x07",
    )


ENDED_FLOWS_CSV = (
    "flow,final_status,error\n"
    "background,failed,run ended failed: boom\n"
    "background,failed,run ended failed: boom\n"
    "background,failed,contract violation: Pending with error\n"
    "background,timed_out,inconclusive: connection lost (last answer: none)\n"
    "background,timed_out,timed out\n"
    "jira,completed,\n"
    "sync,failed,run ended failed: \x1b[31mred\n"
)


def test_flow_end_failures_list_failed_and_inconclusive_flows_from_flows_csv() -> None:
    """Flows that ended `failed` or inconclusive (no Locust failures) become failure rows
    with their error texts; violations and lost flows (already Locust failures) do not."""
    rows = flow_end_failures(ENDED_FLOWS_CSV)
    found = {(row.name, row.error): row.occurrences for row in rows}
    assert found == {
        ("background: ended failed", "run ended failed: boom"): 2,
        ("background: inconclusive", "inconclusive: connection lost (last answer: none)"): 1,
        ("sync: ended failed", "run ended failed: \\x1b[31mred"): 1,
    }
    assert {row.method for row in rows} == {"FLOW"}
    assert count_inconclusive(rows) == 1
    assert failure_texts(rows)[0] == "2 x FLOW background: ended failed: run ended failed: boom"


def test_inconclusive_flows_count_neither_for_nor_against_the_target() -> None:
    """A flow whose following told nothing (A8 rate limits, ...) is its own status, outside
    both sides of the flow fail ratio: 1 failed of 2 ended, not 3 failed of 4."""
    text = (
        "flow,final_status\n"
        "background,completed\n"
        "background,failed\n"
        "background,inconclusive\n"
        "background,inconclusive\n"
    )
    statuses = parse_flow_statuses(text)
    assert [(row.status, row.count) for row in statuses] == [
        ("completed", 1),
        ("failed", 1),
        ("inconclusive", 2),
    ]
    assert flow_fail_counts(statuses) == (1, 2)
