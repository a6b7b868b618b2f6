"""`--stop-on-threshold`: the master (or the one local runner) stops a run past a threshold.

Once a second, from the test's start to its stop, the runner that aggregates the statistics
(never a worker: the master holds the workers' figures) judges `FlowSettings.stop_thresholds`
on what Locust has counted so far (`harness.load.crossed_thresholds`, `running=True`): HTTP
request names with their current req/s, the failures, and the flows ended per kind and final
status as the master aggregated them from every worker (`scenarios/_messaging.py`), counted
as the report counts them (`failed` and `lost` fail a flow). A ratio or percentile waits for
a minimum sample (`harness.load._thresholds.MIN_RUNNING_FLOWS` flows ended,
`MIN_RUNNING_REQUESTS` HTTP requests), so a handful of early failures stops nothing. `--min-rps` is
judged only `RPS_GRACE_S` after spawning completed (the runner's state is `running`; Locust's
current rate is a ~10 s window).

When a threshold is crossed, one log line `FlowSettings.STOP_MARK + <the line>` says which, the
process exit code becomes 1 and the runner quits; the harness reads that line into the report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Final

import gevent
from locust import events
from locust.runners import STATE_RUNNING, WorkerRunner

from harness.load import (
    FailureRow,
    FlowSettings,
    Thresholds,
    crossed_thresholds,
)
from harness.report import FlowStatusCount, LoadStatsRow
from scenarios._messaging import outcomes_of

__all__ = ["RPS_GRACE_S", "crossed_now"]

_log = logging.getLogger(__name__)

CHECK_EVERY_S: Final = 1.0
RPS_GRACE_S: Final = 10.0
"""Seconds after spawning completed before `--min-rps` is judged."""
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


def crossed_now(
    stats: Any,
    thresholds: Thresholds,
    statuses: Sequence[FlowStatusCount],
    *,
    judge_rps: bool,
) -> tuple[str, ...]:
    """The thresholds crossed so far (empty: all held).

    Args:
        stats: Locust's `RequestStats` (`environment.stats`; the master's aggregates).
        thresholds: the limits.
        statuses: flows ended so far per kind and final status (`FlowOutcomes.statuses`).
        judge_rps: whether `--min-rps` is judged yet.
    """
    return crossed_thresholds(
        _rows(stats),
        _failures(stats),
        thresholds,
        statuses,
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
        outcomes = outcomes_of(environment)
        statuses = outcomes.statuses() if outcomes is not None else ()
        crossed = crossed_now(environment.stats, thresholds, statuses, judge_rps=judge_rps)
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
