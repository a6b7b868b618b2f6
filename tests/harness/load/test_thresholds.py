"""Thresholds: which limits a load run crossed, and bad limits refused by flag."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness.load import Thresholds, crossed_thresholds, parse_failures, parse_stats
from harness.report import LoadStatsRow
from tests.harness.load.samples import FAILURES_CSV, STATS_CSV


def test_thresholds_cross_on_fail_ratio_p95_and_violations() -> None:
    """Each threshold crossed gives one line; flow rows do not count as HTTP requests."""
    stats = parse_stats(STATS_CSV)
    failures = parse_failures(FAILURES_CSV)
    crossed = crossed_thresholds(
        stats, failures, Thresholds(max_fail_ratio=0.005, max_p95_ms=100, max_violations=6)
    )
    assert len(crossed) == 3
    assert crossed[0].startswith("fail ratio 0.0100 (1/100)")
    assert "p95 of GET E3 status 120 ms" in crossed[1]
    assert "7 contract violations" in crossed[2]
    assert crossed_thresholds(stats, failures, Thresholds(max_violations=None)) == ()


def test_a_run_without_http_requests_crosses_a_threshold() -> None:
    """A load run that made no HTTP request fails rather than passing vacuously."""
    flow_only = (LoadStatsRow(name="FLOW x", requests=3, failures=0, p50_ms=1, p95_ms=1,
                              p99_ms=1, rps=1),)  # fmt: skip
    assert crossed_thresholds(flow_only, (), Thresholds()) == ("no HTTP request was made",)


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_fail_ratio", 1.5), ("max_p95_ms", 0), ("max_violations", -1)],
)
def test_thresholds_reject_bad_values(field: str, value: float) -> None:
    """A bad threshold names its flag."""
    with pytest.raises(UsageError, match=field.replace("_", "-")):
        Thresholds(**{field: value})  # type: ignore[arg-type]
