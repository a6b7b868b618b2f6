"""Thresholds: which limits a load run crossed, and bad limits refused by flag."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness.load import (
    LatencyLimit,
    Thresholds,
    crossed_thresholds,
    latency_limits,
    parse_failures,
    parse_stats,
)
from harness.load._thresholds import MIN_RUNNING_FLOWS, MIN_RUNNING_REQUESTS
from harness.report import FlowStatusCount, LoadStatsRow
from tests.harness.load.samples import FAILURES_CSV, STATS_CSV


def _statuses(**counts: int) -> tuple[FlowStatusCount, ...]:
    return tuple(
        FlowStatusCount(flow="background", status=status, count=count)
        for status, count in counts.items()
    )


def test_thresholds_cross_on_fail_ratio_p95_and_violations() -> None:
    """Each threshold crossed gives one line; flow rows do not count as HTTP requests."""
    stats = parse_stats(STATS_CSV)
    failures = parse_failures(FAILURES_CSV)
    thresholds = Thresholds(
        max_fail_ratio=0.005, latency=latency_limits(95, ["100"]), max_violations=6
    )
    crossed = crossed_thresholds(stats, failures, thresholds)
    assert len(crossed) == 3
    assert crossed[0].startswith("fail ratio 0.0100 (1/100 HTTP requests)")
    assert "p95 of GET E3 status 120 ms > --max-p95-ms 100" in crossed[1]
    assert "7 contract violations" in crossed[2]
    assert crossed_thresholds(stats, failures, Thresholds(max_violations=None)) == ()


def test_an_endpoint_limit_replaces_the_overall_one_for_its_names() -> None:
    """`--max-p95-ms 10 --max-p95-ms E3=200`: E3 within 200 ms, E2 within 10; p99 apart."""
    stats = parse_stats(STATS_CSV)
    limits = latency_limits(95, ["10", "e3=200"]) + latency_limits(99, ["E3=50"])
    crossed = crossed_thresholds(stats, (), Thresholds(latency=limits, max_violations=None))
    assert crossed == (
        "p95 of POST E2 start 49 ms > --max-p95-ms 10",
        "p99 of GET E3 status 53 ms > --max-p99-ms E3=50",
    )


def test_min_rps_judges_the_http_rate_only() -> None:
    """The sample's HTTP rate is 20 req/s (its flow metric's 1.8/s is not counted)."""
    stats = parse_stats(STATS_CSV)
    held = Thresholds(min_rps=20, max_fail_ratio=None, max_violations=None)
    assert crossed_thresholds(stats, (), held) == ()
    low = Thresholds(min_rps=21, max_fail_ratio=None, max_violations=None)
    assert crossed_thresholds(stats, (), low) == ("20.00 HTTP requests/s < --min-rps 21",)


def test_flow_fail_ratio_counts_failed_and_lost_flows() -> None:
    """Failed and lost flows fail; waiting for input does not; no flow at all cannot hold."""
    stats = parse_stats(STATS_CSV)
    thresholds = Thresholds(max_flow_fail_ratio=0.1, max_fail_ratio=None, max_violations=None)
    held = _statuses(completed=9, failed=1, waiting_for_input=5)
    assert crossed_thresholds(stats, (), thresholds, held) == ()
    crossed = crossed_thresholds(stats, (), thresholds, _statuses(completed=8, failed=1, lost=1))
    assert crossed == (
        "flow fail ratio 0.2000 (2/10 flows failed or lost) > --max-flow-fail-ratio 0.1",
    )
    [none] = crossed_thresholds(stats, (), thresholds, ())
    assert "no flow ended" in none


def test_a_run_without_http_requests_crosses_a_threshold() -> None:
    """A load run that made no HTTP request fails rather than passing vacuously."""
    flow_only = (LoadStatsRow(name="FLOW x", requests=3, failures=0, p50_ms=1, p95_ms=1,
                              p99_ms=1, rps=1),)  # fmt: skip
    assert crossed_thresholds(flow_only, (), Thresholds()) == ("no HTTP request was made",)


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("max_fail_ratio", 1.5, "--max-fail-ratio"),
        ("max_flow_fail_ratio", -0.1, "--max-flow-fail-ratio"),
        ("min_rps", 0.0, "--min-rps"),
        ("min_rps", float("nan"), "--min-rps"),
        ("max_violations", -1, "--max-violations"),
    ],
)
def test_thresholds_reject_bad_values(field: str, value: float, flag: str) -> None:
    """A bad threshold names its flag."""
    with pytest.raises(UsageError, match=f"^{flag}: "):
        Thresholds(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (["fast"], "expected MS or ENDPOINT=MS"),
        (["E3="], "expected MS or ENDPOINT=MS"),
        (["=200"], "expected MS or ENDPOINT=MS"),
        ([" =200"], "expected MS or ENDPOINT=MS"),
        (["0"], "must be a finite number of ms > 0"),
        (["inf"], "must be a finite number of ms > 0"),
        (["E9=100"], "unknown endpoint 'E9'; known: E1, E2, E3, E4"),
        (["E3=100", "e3=200"], "E3 given twice"),
        (["100", "200"], "the overall limit given twice"),
    ],
)
def test_latency_limits_refuse_bad_values_naming_the_flag(values: list[str], words: str) -> None:
    """Every malformed `--max-p99-ms` value is a usage error that names the flag."""
    with pytest.raises(UsageError, match=r"^--max-p99-ms: ") as caught:
        latency_limits(99, values)
    assert words in str(caught.value)


def test_latency_limits_parse_overall_and_endpoint_forms() -> None:
    """`500` is the overall limit, ` E3 = 200 ` one endpoint's."""
    assert latency_limits(95, ["500", " E3 = 200 "]) == (
        LatencyLimit(percentile=95, ms=500.0),
        LatencyLimit(percentile=95, ms=200.0, endpoint="E3"),
    )


def test_a_running_test_crosses_nothing_before_its_first_request_or_flow() -> None:
    """`running=True` (`--stop-on-threshold`): no request and no flow ended yet is no crossing,
    and `--min-rps` waits for `judge_rps` (spawning complete)."""
    thresholds = Thresholds(max_flow_fail_ratio=0.1, min_rps=5)
    assert crossed_thresholds((), (), thresholds, running=True, judge_rps=False) == ()
    [rps] = crossed_thresholds(
        parse_stats(STATS_CSV), (), Thresholds(min_rps=21), running=True, judge_rps=True
    )
    assert "--min-rps 21" in rps


def test_a_running_test_judges_the_flow_ratio_only_on_min_running_flows() -> None:
    """2/2 flows failed is no evidence while running; at `MIN_RUNNING_FLOWS` ended it crosses.
    The verdict after the run still judges the 2 flows."""
    thresholds = Thresholds(max_fail_ratio=None, max_flow_fail_ratio=0.7)
    few = _statuses(failed=2, ended=0)
    assert crossed_thresholds((), (), thresholds, few, running=True, judge_rps=False) == ()
    [final] = crossed_thresholds((), (), thresholds, few)[-1:]
    assert final.startswith("flow fail ratio 1.0000 (2/2 flows")
    enough = _statuses(failed=MIN_RUNNING_FLOWS, ended=0)
    [flows] = crossed_thresholds((), (), thresholds, enough, running=True, judge_rps=False)
    assert flows.startswith(f"flow fail ratio 1.0000 ({MIN_RUNNING_FLOWS}/{MIN_RUNNING_FLOWS}")


def _row(requests: int, failures: int) -> LoadStatsRow:
    return LoadStatsRow(
        name="GET E3 status",
        requests=requests,
        failures=failures,
        p50_ms=5.0,
        p95_ms=900.0,
        p99_ms=900.0,
        rps=1.0,
    )


def test_a_running_test_judges_request_ratio_and_percentiles_only_on_min_running_requests() -> None:
    """Fewer than `MIN_RUNNING_REQUESTS` requests: neither the fail ratio nor a percentile is
    judged while running; at that count both are; after the run both always are."""
    thresholds = Thresholds(max_fail_ratio=0.01, latency=latency_limits(95, ["100"]))
    few = (_row(MIN_RUNNING_REQUESTS - 1, 50),)
    assert crossed_thresholds(few, (), thresholds, running=True, judge_rps=False) == ()
    assert len(crossed_thresholds(few, (), thresholds)) == 2
    enough = (_row(MIN_RUNNING_REQUESTS, 50),)
    ratio, p95 = crossed_thresholds(enough, (), thresholds, running=True, judge_rps=False)
    assert ratio.startswith("fail ratio 0.5000")
    assert p95.startswith("p95 of GET E3 status 900 ms")
