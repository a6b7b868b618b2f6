"""Thresholds: the limits that fail a load run, and the lines saying which were crossed.

HTTP requests and flows are judged apart: the fail ratio, latency limits and `--min-rps`
read only HTTP request names; `--max-flow-fail-ratio` reads only the flows' final statuses
(a flow that ended `failed` or `lost` failed).

A latency limit is `--max-p95-ms` or `--max-p99-ms`, each given as `MS` (every HTTP request
name) or `ENDPOINT=MS` (the names of one endpoint, `E1`-`E4`), several times over; an
endpoint's own limit replaces the overall one for its names (`--max-p95-ms 500
--max-p95-ms E3=200`: E3 within 200 ms, the others within 500 ms).

While a run goes on (`--stop-on-threshold`) a ratio or a percentile is judged only on a
minimum sample: the flow fail ratio once `MIN_RUNNING_FLOWS` flows ended, the request fail
ratio once `MIN_RUNNING_REQUESTS` HTTP requests were made, and a name's percentiles once that
name made `MIN_RUNNING_REQUESTS` requests (two flows out of two failing is no evidence of a
fail ratio above 0.7). The verdict after the run judges every sample, however small.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .._exceptions import UsageError
from ..report import FlowStatusCount, LoadStatsRow
from ._stats import FailureRow, count_violations, flow_fail_counts, http_totals, is_http

__all__ = [
    "ENDPOINTS",
    "MIN_RUNNING_FLOWS",
    "MIN_RUNNING_REQUESTS",
    "LatencyLimit",
    "Thresholds",
    "crossed_thresholds",
    "latency_limits",
]

ENDPOINTS: Final = ("E1", "E2", "E3", "E4")
"""The endpoints a latency limit may name (the second word of a request name)."""
PERCENTILES: Final = (95, 99)
MIN_RUNNING_FLOWS: Final = 20
"""Flows ended before a running check judges `--max-flow-fail-ratio`."""
MIN_RUNNING_REQUESTS: Final = 100
"""HTTP requests (all names; one name for its percentiles) before a running check judges
`--max-fail-ratio` or a latency limit."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyLimit:
    """The highest `percentile` latency (ms) allowed, for one endpoint or (None) all."""

    percentile: int
    ms: float
    endpoint: str | None = None

    @property
    def flag(self) -> str:
        """`--max-p95-ms` for the 95th percentile."""
        return f"--max-p{self.percentile}-ms"

    def __post_init__(self) -> None:
        if self.percentile not in PERCENTILES:
            raise UsageError(f"latency limit: percentile must be 95 or 99, got {self.percentile}")
        if not (math.isfinite(self.ms) and self.ms > 0):
            raise UsageError(f"{self.flag}: must be a finite number of ms > 0, got {self.ms!r}")
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            known = ", ".join(ENDPOINTS)
            raise UsageError(f"{self.flag}: unknown endpoint {self.endpoint!r}; known: {known}")

    def applies_to(self, row: LoadStatsRow) -> bool:
        """Whether this limit judges HTTP request name `row` (`GET E3 status`: endpoint E3)."""
        words = row.name.split(" ", 2)
        return self.endpoint is None or (len(words) > 1 and words[1] == self.endpoint)


def latency_limits(percentile: int, values: Iterable[str]) -> tuple[LatencyLimit, ...]:
    """The limits of one flag's values (`"500"`, `"E3=200"`); at most one per endpoint.

    Raises:
        UsageError: a value is not `MS` or `ENDPOINT=MS` (`=200`: no endpoint), or one
            endpoint is given twice (the message names the flag).
    """
    flag = f"--max-p{percentile}-ms"
    limits: dict[str | None, LatencyLimit] = {}
    for value in values:
        endpoint, sep, ms = value.rpartition("=")
        key = endpoint.strip().upper() or None
        try:
            if sep and key is None:
                raise ValueError("an empty endpoint")
            number = float(ms)
        except ValueError:
            raise UsageError(
                f"{flag}: expected MS or ENDPOINT=MS (e.g. 500 or E3=200), got {value!r}"
            ) from None
        if key in limits:
            raise UsageError(f"{flag}: {key or 'the overall limit'} given twice")
        limits[key] = LatencyLimit(percentile=percentile, ms=number, endpoint=key)
    return tuple(limits.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Limits that fail a load run (exit code 1); None (or no latency limit) switches one off.

    Args:
        max_fail_ratio: failed HTTP requests / all HTTP requests, 0-1.
        max_flow_fail_ratio: flows ended `failed` or `lost` / all flows ended, 0-1.
        latency: p95/p99 limits, overall or per endpoint (`latency_limits`).
        min_rps: the lowest HTTP request rate (req/s, all names summed) the run must reach.
        max_violations: contract violations allowed.
    """

    max_fail_ratio: float | None = 0.01
    max_flow_fail_ratio: float | None = None
    latency: tuple[LatencyLimit, ...] = ()
    min_rps: float | None = None
    max_violations: int | None = 0

    def __post_init__(self) -> None:
        for flag, ratio in (
            ("--max-fail-ratio", self.max_fail_ratio),
            ("--max-flow-fail-ratio", self.max_flow_fail_ratio),
        ):
            if ratio is not None and not 0 <= ratio <= 1:
                raise UsageError(f"{flag}: must be between 0 and 1, got {ratio!r}")
        if self.min_rps is not None and not (math.isfinite(self.min_rps) and self.min_rps > 0):
            raise UsageError(f"--min-rps: must be a finite number > 0, got {self.min_rps!r}")
        if self.max_violations is not None and self.max_violations < 0:
            raise UsageError(f"--max-violations: must be >= 0, got {self.max_violations!r}")

    def limit_for(self, row: LoadStatsRow, percentile: int) -> LatencyLimit | None:
        """The latency limit judging `row` at `percentile`: its endpoint's, else the overall."""
        found = [
            limit
            for limit in self.latency
            if limit.percentile == percentile and limit.applies_to(row)
        ]
        return min(found, key=lambda limit: limit.endpoint is None, default=None)


def crossed_thresholds(
    stats: Sequence[LoadStatsRow],
    failures: Sequence[FailureRow],
    thresholds: Thresholds,
    flow_statuses: Sequence[FlowStatusCount] = (),
    *,
    running: bool = False,
    judge_rps: bool = True,
) -> tuple[str, ...]:
    """One line per threshold the run crossed (empty when every one held).

    Args:
        stats: HTTP request names and flow metrics (rps: req/s).
        failures: the failure rows (contract violations are counted from them).
        thresholds: the limits.
        flow_statuses: flows per final status.
        running: the run goes on (`--stop-on-threshold`): a ratio or percentile on fewer
            than `MIN_RUNNING_FLOWS` flows / `MIN_RUNNING_REQUESTS` requests crosses nothing.
        judge_rps: whether `min_rps` is judged (not while users are still spawning).
    """
    requests, failed, rps = http_totals(stats)
    crossed = [] if requests or running else ["no HTTP request was made"]
    ratio = failed / requests if requests else 0.0
    judged = not running or requests >= MIN_RUNNING_REQUESTS
    if judged and thresholds.max_fail_ratio is not None and ratio > thresholds.max_fail_ratio:
        crossed.append(
            f"fail ratio {ratio:.4f} ({failed}/{requests} HTTP requests) > --max-fail-ratio "
            f"{thresholds.max_fail_ratio:g}"
        )
    crossed += _flow_ratio(flow_statuses, thresholds.max_flow_fail_ratio, running=running)
    crossed += _latency(stats, thresholds, running=running)
    if judge_rps and thresholds.min_rps is not None and rps < thresholds.min_rps:
        crossed.append(f"{rps:.2f} HTTP requests/s < --min-rps {thresholds.min_rps:g}")
    violations = count_violations(failures)
    if thresholds.max_violations is not None and violations > thresholds.max_violations:
        crossed.append(
            f"{violations} contract violations > --max-violations {thresholds.max_violations}"
        )
    return tuple(crossed)


def _flow_ratio(
    statuses: Sequence[FlowStatusCount], limit: float | None, *, running: bool
) -> list[str]:
    if limit is None:
        return []
    failed, flows = flow_fail_counts(statuses)
    if running and flows < MIN_RUNNING_FLOWS:
        return []
    if flows == 0:
        return [f"no flow ended, so --max-flow-fail-ratio {limit:g} cannot hold"]
    ratio = failed / flows
    if ratio <= limit:
        return []
    return [
        f"flow fail ratio {ratio:.4f} ({failed}/{flows} flows failed or lost) > "
        f"--max-flow-fail-ratio {limit:g}"
    ]


def _latency(stats: Sequence[LoadStatsRow], thresholds: Thresholds, *, running: bool) -> list[str]:
    crossed = []
    for row in stats:
        if not is_http(row) or (running and row.requests < MIN_RUNNING_REQUESTS):
            continue
        for percentile, value in ((95, row.p95_ms), (99, row.p99_ms)):
            limit = thresholds.limit_for(row, percentile)
            if limit is not None and value > limit.ms:
                where = f"{limit.endpoint}=" if limit.endpoint else ""
                crossed.append(
                    f"p{percentile} of {row.name} {value:g} ms > {limit.flag} {where}{limit.ms:g}"
                )
    return crossed
