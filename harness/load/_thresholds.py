"""Thresholds: the limits that fail a load run, and the lines saying which were crossed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._exceptions import UsageError
from ..report import LoadStatsRow
from ._stats import FailureRow, count_violations, is_http

__all__ = ["Thresholds", "crossed_thresholds"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Limits that fail a load run (exit code 1); None switches one off.

    Args:
        max_fail_ratio: failed HTTP requests / all HTTP requests, 0-1.
        max_p95_ms: the highest p95 latency any request name may have.
        max_violations: contract violations allowed.
    """

    max_fail_ratio: float | None = 0.01
    max_p95_ms: float | None = None
    max_violations: int | None = 0

    def __post_init__(self) -> None:
        ratio = self.max_fail_ratio
        if ratio is not None and not 0 <= ratio <= 1:
            raise UsageError(f"--max-fail-ratio: must be between 0 and 1, got {ratio!r}")
        if self.max_p95_ms is not None and not self.max_p95_ms > 0:
            raise UsageError(f"--max-p95-ms: must be > 0, got {self.max_p95_ms!r}")
        if self.max_violations is not None and self.max_violations < 0:
            raise UsageError(f"--max-violations: must be >= 0, got {self.max_violations!r}")


def crossed_thresholds(
    stats: Sequence[LoadStatsRow], failures: Sequence[FailureRow], thresholds: Thresholds
) -> tuple[str, ...]:
    """One line per threshold the run crossed (empty when every one held)."""
    http = [row for row in stats if is_http(row)]
    crossed = []
    requests = sum(row.requests for row in http)
    failed = sum(row.failures for row in http)
    if requests == 0:
        crossed.append("no HTTP request was made")
    ratio = failed / requests if requests else 0.0
    if thresholds.max_fail_ratio is not None and ratio > thresholds.max_fail_ratio:
        crossed.append(
            f"fail ratio {ratio:.4f} ({failed}/{requests}) > --max-fail-ratio "
            f"{thresholds.max_fail_ratio:g}"
        )
    if thresholds.max_p95_ms is not None:
        for row in http:
            if row.p95_ms > thresholds.max_p95_ms:
                crossed.append(
                    f"p95 of {row.name} {row.p95_ms:g} ms > --max-p95-ms {thresholds.max_p95_ms:g}"
                )
    violations = count_violations(failures)
    if thresholds.max_violations is not None and violations > thresholds.max_violations:
        crossed.append(
            f"{violations} contract violations > --max-violations {thresholds.max_violations}"
        )
    return tuple(crossed)
