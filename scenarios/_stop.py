"""`--stop-on-threshold`: the master (or the one local runner) stops a run past a threshold.

Once a second, from the test's start to its stop, the runner that aggregates the statistics
(never a worker: the master holds the workers' figures) judges `FlowSettings.stop_thresholds`
on what Locust has counted so far (`harness.load.crossed_thresholds`, `running=True`): HTTP
request names with their current req/s, the failures, and the flows ended per kind. A flow
ended is an end-to-end or inconclusive flow event; it failed when its event carries an error
other than a contract violation (violations are judged by `--max-violations`). `--min-rps` is
judged only `RPS_GRACE_S` after spawning completed (the runner's state is `running`; Locust's
current rate is a ~10 s window).

When a threshold is crossed, one log line `FlowSettings.STOP_MARK + <the line>` says which, the
process exit code becomes 1 and the runner quits; the harness reads that line into the report.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

import gevent
from locust import events
from locust.runners import STATE_RUNNING, WorkerRunner

from harness.load import (
    VIOLATION_PREFIX,
    FailureRow,
    FlowSettings,
    Thresholds,
    crossed_thresholds,
)
from harness.report import FlowStatusCount, LoadStatsRow
from scenarios._metrics import FLOW_REQUEST_TYPE

__all__ = ["RPS_GRACE_S", "crossed_now", "live_flow_statuses"]

_log = logging.getLogger(__name__)

CHECK_EVERY_S: Final = 1.0
RPS_GRACE_S: Final = 10.0
"""Seconds after spawning completed before `--min-rps` is judged."""
_ENDED_SUFFIXES: Final = (": end-to-end (target ms)", ": inconclusive (count)")
_WATCHERS: dict[int, gevent.Greenlet] = {}


def _error_text(error: object) -> str:
    """An error as the failures CSV writes it (`LoadFailure`'s repr is its message)."""
    return error if isinstance(error, str) else repr(error)


def _failures(stats: Any) -> list[FailureRow]:
    return [
        FailureRow(
            method=entry.method,
            name=entry.name,
            error=_error_text(entry.error),
            occurrences=entry.occurrences,
        )
        for entry in stats.errors.values()
    ]


def _rows(stats: Any) -> list[LoadStatsRow]:
    return [
        LoadStatsRow(
            name=f"{entry.method} {entry.name}",
            requests=entry.num_requests,
            failures=entry.num_failures,
            p50_ms=entry.get_response_time_percentile(0.5) or 0.0,
            p95_ms=entry.get_response_time_percentile(0.95) or 0.0,
            p99_ms=entry.get_response_time_percentile(0.99) or 0.0,
            rps=entry.current_rps,
        )
        for entry in stats.entries.values()
    ]


def live_flow_statuses(stats: Any) -> list[FlowStatusCount]:
    """Flows ended so far per kind: `failed` (an error other than a violation) and `ended`.

    Args:
        stats: Locust's `RequestStats` (`environment.stats`).
    """
    ended: dict[str, int] = {}
    failed: dict[str, int] = {}
    for entry in stats.entries.values():
        if entry.method == FLOW_REQUEST_TYPE and entry.name.endswith(_ENDED_SUFFIXES):
            kind = entry.name.split(": ", 1)[0]
            ended[kind] = ended.get(kind, 0) + entry.num_requests
    for error in stats.errors.values():
        text = _error_text(error.error)
        if (
            error.method == FLOW_REQUEST_TYPE
            and error.name.endswith(_ENDED_SUFFIXES)
            and not text.startswith(VIOLATION_PREFIX)
        ):
            kind = error.name.split(": ", 1)[0]
            failed[kind] = failed.get(kind, 0) + error.occurrences
    statuses = []
    for kind, count in sorted(ended.items()):
        bad = min(failed.get(kind, 0), count)
        statuses.append(FlowStatusCount(flow=kind, status="failed", count=bad))
        statuses.append(FlowStatusCount(flow=kind, status="ended", count=count - bad))
    return statuses


def crossed_now(stats: Any, thresholds: Thresholds, *, judge_rps: bool) -> tuple[str, ...]:
    """The thresholds Locust's statistics `stats` cross so far (empty: all held)."""
    return crossed_thresholds(
        _rows(stats),
        _failures(stats),
        thresholds,
        live_flow_statuses(stats),
        running=True,
        judge_rps=judge_rps,
    )


def _watch(environment: Any, thresholds: Thresholds) -> None:
    """Judge `thresholds` every `CHECK_EVERY_S` s; stop the run at the first crossed."""
    spawned: float | None = None
    while True:
        gevent.sleep(CHECK_EVERY_S)
        if spawned is None and environment.runner.state == STATE_RUNNING:
            spawned = time.monotonic()
        judge_rps = spawned is not None and time.monotonic() - spawned >= RPS_GRACE_S
        crossed = crossed_now(environment.stats, thresholds, judge_rps=judge_rps)
        if crossed:
            _log.error("%s%s", FlowSettings.STOP_MARK, crossed[0])
            environment.process_exit_code = 1
            environment.runner.quit()
            return


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    thresholds = FlowSettings.stop_thresholds_of(environment.parsed_options)
    if thresholds is not None:
        _WATCHERS[id(environment)] = gevent.spawn(_watch, environment, thresholds)


@events.test_stop.add_listener
def _stop(environment: Any, **_: Any) -> None:
    watcher = _WATCHERS.pop(id(environment), None)
    if watcher is not None and watcher is not gevent.getcurrent():
        watcher.kill(block=False)
