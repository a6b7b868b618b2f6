"""Reading Locust's CSV output: statistics, the time series, failures and contract violations.

Request names are `<type> <name>`; rows of type `FLOW` are the locustfiles' flow metrics (not
HTTP requests). A contract violation is a failure whose error starts with `VIOLATION_PREFIX`;
an answer or flow that told nothing (no answer, 429, a transient 5xx, a status outside the
documented values) is a failure whose error starts with `INCONCLUSIVE_PREFIX`, counted apart:
never a violation.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..report import LoadSeriesPoint, LoadStatsRow

__all__ = [
    "FLOW_TYPE",
    "INCONCLUSIVE_PREFIX",
    "VIOLATION_PREFIX",
    "FailureRow",
    "count_inconclusive",
    "count_violations",
    "is_http",
    "parse_failures",
    "parse_history",
    "parse_stats",
]

VIOLATION_PREFIX: Final = "contract violation: "
INCONCLUSIVE_PREFIX: Final = "inconclusive: "
FLOW_TYPE: Final = "FLOW"
_AGGREGATED: Final = "Aggregated"


def _number(value: str | None) -> float:
    try:
        number = float(value or "nan")
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def parse_stats(text: str) -> tuple[LoadStatsRow, ...]:
    """One row per request name of `<prefix>_stats.csv` (named `<type> <name>`).

    The `Aggregated` row is left out: it mixes HTTP latencies with flow metrics.
    """
    result = []
    for row in _rows(text):
        if row.get("Name") == _AGGREGATED and not row.get("Type"):
            continue
        result.append(
            LoadStatsRow(
                name=f"{row.get('Type', '')} {row.get('Name', '')}".strip(),
                requests=int(_number(row.get("Request Count"))),
                failures=int(_number(row.get("Failure Count"))),
                p50_ms=_number(row.get("50%")),
                p95_ms=_number(row.get("95%")),
                p99_ms=_number(row.get("99%")),
                rps=_number(row.get("Requests/s")),
            )
        )
    return tuple(result)


def is_http(row: LoadStatsRow) -> bool:
    """Whether a statistics row is an HTTP request (not a flow metric)."""
    return not row.name.startswith(f"{FLOW_TYPE} ")


def parse_history(text: str) -> tuple[LoadSeriesPoint, ...]:
    """The run's time series from `<prefix>_stats_history.csv` (written with full history).

    Per timestamp: users, the summed rate and failure rate of HTTP requests, and the worst
    (highest) current p50 and p95 among HTTP request names. Flow metrics are left out.
    """
    by_time: dict[float, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(text):
        if row.get("Type") == FLOW_TYPE or row.get("Name") == _AGGREGATED:
            continue
        by_time[_number(row.get("Timestamp"))].append(row)
    users_at = {
        _number(row.get("Timestamp")): int(_number(row.get("User Count"))) for row in _rows(text)
    }
    if not users_at:
        return ()
    first = min(users_at)
    points = []
    for stamp in sorted(users_at):
        rows = by_time.get(stamp, [])
        points.append(
            LoadSeriesPoint(
                elapsed_s=stamp - first,
                users=users_at[stamp],
                rps=sum(_number(row.get("Requests/s")) for row in rows),
                failures_per_s=sum(_number(row.get("Failures/s")) for row in rows),
                p50_ms=max((_number(row.get("50%")) for row in rows), default=0.0),
                p95_ms=max((_number(row.get("95%")) for row in rows), default=0.0),
            )
        )
    return tuple(points)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureRow:
    """One row of `<prefix>_failures.csv`."""

    method: str
    name: str
    error: str
    occurrences: int


def parse_failures(text: str) -> tuple[FailureRow, ...]:
    """The rows of `<prefix>_failures.csv`."""
    return tuple(
        FailureRow(
            method=row.get("Method", ""),
            name=row.get("Name", ""),
            error=row.get("Error", ""),
            occurrences=int(_number(row.get("Occurrences"))),
        )
        for row in _rows(text)
    )


def count_violations(failures: Sequence[FailureRow]) -> int:
    """Contract violations among the failures (an error may name several, `|`-separated)."""
    total = 0
    for row in failures:
        if row.error.startswith(VIOLATION_PREFIX):
            titles = row.error[len(VIOLATION_PREFIX) :].split(" | ")
            total += row.occurrences * len(titles)
    return total


def count_inconclusive(failures: Sequence[FailureRow]) -> int:
    """Failures that told nothing about the contract (`INCONCLUSIVE_PREFIX`)."""
    return sum(row.occurrences for row in failures if row.error.startswith(INCONCLUSIVE_PREFIX))
