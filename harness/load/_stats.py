"""Reading Locust's CSV output: statistics, the time series, failures and contract violations.

Request names are `<type> <name>`; rows of type `FLOW` are the locustfiles' flow metrics (not
HTTP requests). A contract violation is a failure whose error starts with `VIOLATION_PREFIX`;
an answer that told nothing (no answer, 429, a transient 5xx, a status outside the documented
values) is a failure whose error starts with `INCONCLUSIVE_PREFIX`, counted apart: never a
violation. A flow whose run ended `failed`, or whose end could not be told, is no Locust
failure (the API behaved; issue 16): `flow_end_failures` reads them from `flows.csv`, as rows
shaped like failures so the report lists their texts and `count_inconclusive` counts them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from .._display import display_safe
from ..report import FlowStatusCount, LoadSeriesPoint, LoadStatsRow

__all__ = [
    "FLOW_STATUSES",
    "FLOW_TYPE",
    "INCONCLUSIVE_PREFIX",
    "VIOLATION_PREFIX",
    "WORKERS_FILE",
    "FailureRow",
    "WorkerRow",
    "count_flow_statuses",
    "count_inconclusive",
    "count_violations",
    "failure_texts",
    "flow_end_failures",
    "flow_fail_counts",
    "http_totals",
    "is_http",
    "parse_failures",
    "parse_flow_statuses",
    "parse_history",
    "parse_stats",
    "parse_workers",
]

VIOLATION_PREFIX: Final = "contract violation: "
INCONCLUSIVE_PREFIX: Final = "inconclusive: "
FLOW_TYPE: Final = "FLOW"
_AGGREGATED: Final = "Aggregated"
FLOW_STATUSES: Final = ("completed", "failed", "waiting_for_input", "lost", "inconclusive")
"""The final statuses a flow is counted under, in report order. `inconclusive`: following it
told nothing (rate-limited, a status outside the documented values, the connection lost,
server errors): could not tell, so neither a failed flow nor one that ended."""
_LOST: Final = frozenset({"timed_out", "gave_up"})
"""`flows.csv` statuses of a flow left without a final status: counted as `lost`."""
_FAILED_FLOW: Final = frozenset({"failed", "lost"})
_FAILURE_TEXT_CHARS: Final = 300
WORKERS_FILE: Final = "flows_workers.json"
"""Written by the Locust master next to `flows.csv`: the workers it saw (`parse_workers`)."""


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


def http_totals(stats: Sequence[LoadStatsRow]) -> tuple[int, int, float]:
    """HTTP requests, failed HTTP requests and their summed rate (req/s); flows left out."""
    http = [row for row in stats if is_http(row)]
    return (
        sum(row.requests for row in http),
        sum(row.failures for row in http),
        sum(row.rps for row in http),
    )


def parse_flow_statuses(text: str) -> tuple[FlowStatusCount, ...]:
    """Flows per kind and final status, from the raw `flows.csv` (`FlowRecord` rows).

    Counted as `count_flow_statuses` counts (a row without a status is `lost`).
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in _rows(text):
        counts[row.get("flow") or "?", row.get("final_status") or "lost"] += 1
    return count_flow_statuses(counts)


def count_flow_statuses(counts: Mapping[tuple[str, str], int]) -> tuple[FlowStatusCount, ...]:
    """Flows per kind and final status from `(flow, final_status) -> flows`.

    `timed_out` and `gave_up` (no final status seen) count as `lost`; a status outside
    `FLOW_STATUSES` keeps its own (display-safe) name. Ordered by kind, then `FLOW_STATUSES`.
    """
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for (flow, status), count in counts.items():
        shown = "lost" if status in _LOST else display_safe(status)
        merged[display_safe(flow), shown] += count

    def order(key: tuple[str, str]) -> tuple[str, int, str]:
        flow, status = key
        rank = FLOW_STATUSES.index(status) if status in FLOW_STATUSES else len(FLOW_STATUSES)
        return flow, rank, status

    return tuple(
        FlowStatusCount(flow=flow, status=status, count=merged[flow, status])
        for flow, status in sorted(merged, key=order)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerRow:
    """One Locust worker as the master saw it (a row of `WORKERS_FILE`).

    `name` is `<host>:<pid>` (as the worker reported it; Locust's client id before its first
    report); `flows` the flow rows received from it; `left` why it left before the run ended
    (`missing heartbeat`, `quit before the run ended`, `sent no final report`), None when it
    stayed to the end.
    """

    name: str
    flows: int
    left: str | None = None


def parse_workers(text: str) -> tuple[tuple[WorkerRow, ...], int]:
    """The workers of a `WORKERS_FILE` and the flow rows its workers could not send (dropped).

    The file is `{"workers": [{"name", "flows", "left"}], "rows_dropped": N}`; an empty,
    unreadable or foreign file reads as no workers (a run without workers writes none).
    """
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return (), 0
    if not isinstance(data, dict):
        return (), 0
    workers = []
    for item in data.get("workers") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            left = item.get("left")
            workers.append(
                WorkerRow(
                    name=display_safe(item["name"]),
                    flows=int(_number(str(item.get("flows")))),
                    left=display_safe(left) if isinstance(left, str) else None,
                )
            )
    return tuple(workers), int(_number(str(data.get("rows_dropped"))))


def flow_fail_counts(statuses: Sequence[FlowStatusCount]) -> tuple[int, int]:
    """Flows that ended `failed` or `lost`, and the flows that ended (all but `inconclusive`:
    a flow that told nothing is never counted for or against the target, A8)."""
    failed = sum(row.count for row in statuses if row.status in _FAILED_FLOW)
    return failed, sum(row.count for row in statuses if row.status != "inconclusive")


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


def flow_end_failures(text: str) -> tuple[FailureRow, ...]:
    """Flows of `flows.csv` that ended `failed` or inconclusive, as failure rows.

    Such a flow is no Locust failure, so `<prefix>_failures.csv` lacks it; its row's `error`
    column (`run ended failed: <the run's error>`, `inconclusive: <why>`) says how it ended.
    Rows are grouped by kind and error: method `FLOW`, name `<kind>: ended failed` or
    `<kind>: inconclusive`, error display-safe and cut to 300 characters. A flow with a
    contract violation is left out: Locust counted it as a failure already; so is a row
    without an error text (a `flows.csv` written before flows carried one).
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in _rows(text):
        error = row.get("error") or ""
        if error.startswith(INCONCLUSIVE_PREFIX):
            name = "inconclusive"
        elif (
            row.get("final_status") == "failed" and error and not error.startswith(VIOLATION_PREFIX)
        ):
            name = "ended failed"
        else:
            continue
        flow = display_safe(row.get("flow") or "?")
        counts[f"{flow}: {name}", display_safe(error[:_FAILURE_TEXT_CHARS])] += 1
    return tuple(
        FailureRow(method=FLOW_TYPE, name=name, error=error, occurrences=count)
        for (name, error), count in counts.items()
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
    """Failures that told nothing about the contract (`INCONCLUSIVE_PREFIX`): answers from
    `<prefix>_failures.csv`, flows from `flow_end_failures`."""
    return sum(row.occurrences for row in failures if row.error.startswith(INCONCLUSIVE_PREFIX))


def failure_texts(failures: Sequence[FailureRow]) -> tuple[str, ...]:
    """One display-safe line per failure row, most frequent first: `<n> x <name>: <error>`.

    The error is cut to 300 characters; the rows come from files already redacted.
    """
    ordered = sorted(failures, key=lambda row: -row.occurrences)
    return tuple(
        display_safe(
            f"{row.occurrences} x {row.method} {row.name}: {row.error[:_FAILURE_TEXT_CHARS]}"
        )
        for row in ordered
    )
