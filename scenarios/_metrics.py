"""Flow metrics: end-to-end time, detection delay, polls and 429s per flow.

Each finished flow becomes a `FlowRecord`. It is fired as Locust request events of type `FLOW`
(so Locust's stats, CSV and HTML show their distributions) and kept raw in `flows.csv`, which
only the master (or the one local runner) writes (`FlowCsv`): a worker sends its records there
through Locust's messaging (`scenarios/_messaging.py`).

Times are in *target seconds*: virtual seconds on the mock (whose clock runs `time_scale` times
fast), real seconds on a real target. The CSV names the unit in every time column, and Locust
events carry target-time milliseconds in a name that says so.

Detection delay is the time from the run's end to the arrival of the first poll answer that
showed the final status, as bounds that hold the true figure (`harness.load.detection_delay`):
the run's end comes from the mock's admin API (`ended_at` of `/__admin/runs`, exact) or from
the final log entry's time (whole seconds, read as UTC), and the client's clock relates to the
target's through a `ClockMap`. Figures that cannot be a delay (the clocks differ) are counted
as artefacts, never shown as delays; with the target's clock unknown the delay is unknown.

`mock_clock` reads a mock's clock through its admin API, `detect_mock_clock` finds out whether
a host is such a mock, and `real_clock` is the client clock for anything else.

In distributed mode a worker queues its records in an `Outbox` whose batches travel to the
master as Locust messages (`scenarios/_messaging.py`); the master (or the one local runner)
keeps every flow in one `FlowOutcomes`: the rows of `flows.csv`, the final statuses, and the
workers with their flows and whether they left mid-run.

This module imports neither locust nor gevent: the Locust environment is passed in.
"""

from __future__ import annotations

import csv
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, Final, TextIO

import httpx

from harness import HarnessError, MockAdmin, RunHistory
from harness.load import (
    CLOCK_READINGS,
    INCONCLUSIVE_PREFIX,
    MACHINE_CLOCK,
    ClockMap,
    DelayArtefact,
    DelayBounds,
    RunEnd,
    WorkerRow,
    admin_root,
    count_flow_statuses,
    detection_delay,
    parse_iso,
    pick_clock,
)
from harness.report import FlowStatusCount

__all__ = [
    "BATCH_ROWS",
    "ERROR_CHARS",
    "FLOW_REQUEST_TYPE",
    "INCONCLUSIVE_STOPS",
    "MAX_QUEUED_ROWS",
    "RUN_FAILED_PREFIX",
    "ClockMap",
    "EndTimes",
    "FlowCsv",
    "FlowOutcomes",
    "FlowRecord",
    "Outbox",
    "detect_mock_clock",
    "fire_flow_events",
    "flow_record",
    "mock_clock",
    "real_clock",
]

FLOW_REQUEST_TYPE: Final = "FLOW"
RUN_FAILED_PREFIX: Final = "run ended failed: "
"""How a flow whose run ended `failed` is told (`FlowRecord.error`): the API behaved."""
INCONCLUSIVE_STOPS: Final = {
    "rate_limited": "rate-limited until following stopped",
    "unknown_status": "status outside the documented values",
    "connection_lost": "connection lost",
    "server_error": "server errors until following stopped",
}
"""`RunHistory.stop_reason` values (`StopReason`) that leave a run's end unknown: such a flow's
status is `inconclusive` (could not tell), neither ended nor lost."""
_NOT_LOCUST_FAILURES: Final = (RUN_FAILED_PREFIX, INCONCLUSIVE_PREFIX)
"""Flow ends the API answered correctly: counted by their own events, never Locust failures."""
_REFRESH_ATTEMPTS: Final = 3
_ADMIN_REFUSED: Final = frozenset({401, 403})
ERROR_CHARS: Final = 200
"""A flow record's `error` is cut to this many characters."""
BATCH_ROWS: Final = 2000
"""Flow rows in one message from a worker to the master, at most."""
MAX_QUEUED_ROWS: Final = 200_000
"""Flow rows a worker holds for the master, at most; beyond, rows are dropped and counted."""
_SILENT: Final = "sent no final report"
_log = logging.getLogger(__name__)

Clock = Callable[[], float]


def mock_clock(admin: MockAdmin, *, monotonic: Clock = time.monotonic) -> tuple[Clock, ClockMap]:
    """A client clock reading the mock's virtual epoch time (read a few times, extrapolated).

    Raises:
        HarnessError: the admin API's clock answer is not a clock reading.
    """
    samples = []
    for _ in range(CLOCK_READINGS):
        sent = monotonic()
        body = admin.clock()
        samples.append((body, sent, monotonic()))
    found = pick_clock(samples, monotonic=monotonic)
    if found is None:
        raise HarnessError("--mock-admin: /__admin/clock did not answer a clock reading")
    return found


def detect_mock_clock(
    http: httpx.Client,
    base_url: str,
    *,
    token: str | None = None,
    monotonic: Clock = time.monotonic,
) -> tuple[Clock, ClockMap] | None:
    """The host's clock when it is a mock whose admin API answers `/__admin/clock`, else None.

    A host whose `/__admin/clock` refuses the token (401, 403) is a trigger-mock whose clock
    (time scale and virtual epoch) this process cannot read: its client clock is the wall's
    with an unknown `ClockMap`, so no delay is computed from it (issue 16: never a negative
    delay from a scaled mock) and the flows say to give the admin token.

    Args:
        http: the client to ask through.
        base_url: Locust's host (the admin API is at its root).
        token: the mock's admin token, when one is known.
        monotonic: the real clock the returned client clock runs on.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    samples = []
    for _ in range(CLOCK_READINGS):
        sent = monotonic()
        try:
            answer = http.get(admin_root(base_url) + "/clock", headers=headers)
            body = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        if answer.status_code in _ADMIN_REFUSED:
            return _unreadable_mock_clock(answer.status_code)
        samples.append((body, sent, monotonic()))
    return pick_clock(samples, monotonic=monotonic)


def _unreadable_mock_clock(status_code: int) -> tuple[Clock, ClockMap]:
    """The wall clock, related to a mock's virtual clock by nothing known."""
    clock, _ = real_clock(1.0)
    unknown = ClockMap(
        source=(
            f"the host is a trigger-mock whose /__admin/clock refused the admin token "
            f"(HTTP {status_code}): its time scale is unknown; set the variable "
            "--admin-token-env names (default TRIGGER_MOCK_ADMIN_TOKEN)"
        ),
        scale=1.0,
        known=False,
    )
    return clock, unknown


def real_clock(scale: float) -> tuple[Clock, ClockMap]:
    """A client clock on the wall's epoch time, running `scale` target seconds per real second.

    At scale 1 it is this machine's clock, assumed in sync with the target's. At any other
    scale the target's clock is a mock's virtual clock this process cannot read, so its
    `ClockMap` is unknown and no delay is computed from it.
    """
    anchor, wall = time.monotonic(), time.time()

    def clock() -> float:
        return wall + (time.monotonic() - anchor) * scale

    if scale == 1:
        return clock, MACHINE_CLOCK
    unknown = ClockMap(
        source=(
            f"the target's clock is unknown (time scale {scale:g} and no readable "
            "/__admin/clock: give --mock-admin and the admin token)"
        ),
        scale=scale,
        known=False,
    )
    return clock, unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowRecord:
    """One finished flow, as written to the raw CSV (time columns name their unit).

    The detection delay is known to lie between its `low` and `high` columns (equal when
    exact); `detection` is `exact`, `bounded`, `artefact` (figures that cannot be a delay:
    `detection_note` says why) or `unknown`. `error` is how the flow ended when it did not
    hold (`contract violation: <titles>`, `run ended failed: <the run's error>`,
    `inconclusive: <why>`, `timed out`, `gave up polling`; at most `ERROR_CHARS` characters,
    the run's own text as the target sent it), empty when it held.
    """

    scenario: str
    flow: str
    workflow_id: str
    final_status: str
    started_epoch_s: float
    e2e_target_s: float
    e2e_real_s: float
    detection_delay_low_target_s: float | None
    detection_delay_high_target_s: float | None
    detection_delay_low_real_s: float | None
    detection_delay_high_real_s: float | None
    detection: str
    detection_source: str
    detection_note: str
    polls: int
    rate_limited: int
    time_scale: float
    error: str = ""


def flow_record(
    *,
    scenario: str,
    flow: str,
    history: RunHistory,
    clock_map: ClockMap,
    end: RunEnd | None,
    finished_at: float,
    error: str = "",
) -> FlowRecord:
    """The record of one followed flow.

    Args:
        scenario: the scenario's name.
        flow: the kind of flow (`background`, `jira`, `sync`).
        history: everything seen of the run.
        clock_map: client clock to target epoch.
        end: when the run ended on the target's clock, None when unknown.
        finished_at: client clock reading when the flow ended.
        error: how the flow ended when it did not hold (`FlowRecord.error`), cut to
            `ERROR_CHARS` characters.
    """
    delay = detection_delay(history, end, clock_map)
    e2e = finished_at - history.start.at
    scale = clock_map.scale
    codes = [observation.status_code for observation in history.observations]
    low, high = (delay.lower_s, delay.upper_s) if isinstance(delay, DelayBounds) else (None, None)
    return FlowRecord(
        scenario=scenario,
        flow=flow,
        workflow_id=history.workflow_id,
        final_status=_final_status(history),
        started_epoch_s=clock_map.epoch(history.start.at),
        e2e_target_s=e2e,
        e2e_real_s=e2e / scale,
        detection_delay_low_target_s=low,
        detection_delay_high_target_s=high,
        detection_delay_low_real_s=None if low is None else low / scale,
        detection_delay_high_real_s=None if high is None else high / scale,
        detection=_detection(delay),
        detection_source="none" if end is None else end.source,
        detection_note=_detection_note(delay, clock_map),
        polls=len(history.polls),
        rate_limited=codes.count(429),
        time_scale=scale,
        error=error[:ERROR_CHARS],
    )


def _detection(delay: DelayBounds | DelayArtefact | None) -> str:
    if isinstance(delay, DelayBounds):
        return "exact" if delay.exact else "bounded"
    return "artefact" if isinstance(delay, DelayArtefact) else "unknown"


def _detection_note(delay: DelayBounds | DelayArtefact | None, clock_map: ClockMap) -> str:
    if isinstance(delay, DelayArtefact):
        return delay.reason
    return "" if clock_map.known else clock_map.source


def _final_status(history: RunHistory) -> str:
    if history.final is not None:
        return history.final.status
    if history.stop_reason in INCONCLUSIVE_STOPS:
        return "inconclusive"
    return "timed_out" if history.timed_out else "gave_up"


def fire_flow_events(environment: Any, record: FlowRecord, exception: Exception | None) -> None:
    """Fire the flow's metrics as Locust request events of type `FLOW`.

    Only a flow the API let down is a Locust failure: the end-to-end event carries `exception`
    (a contract violation, `timed out` or `gave up polling` before the run's limit). A flow
    the API answered correctly is none (issue 16: plain Locust exits 1 on any failure): a run
    that ended `failed` fires its end-to-end event without a failure plus an
    `ended failed (count)` event; a flow that told nothing (`exception` starting
    `inconclusive: `) fires an `inconclusive (count)` event, without a failure and out of the
    end-to-end times. Their texts travel in `FlowRecord.error` (`flows.csv`).
    The detection delay is two events, its lower and upper bound (equal when exact); a flow
    whose figures were an artefact fires one `detection delay artefacts (count)` event instead,
    never a delay.
    """
    fire = environment.events.request.fire
    prefix = record.flow

    def event(name: str, value: float, error: Exception | None = None) -> None:
        fire(
            request_type=FLOW_REQUEST_TYPE,
            name=f"{prefix}: {name}",
            response_time=value,
            response_length=0,
            exception=error,
            context={"workflow_id": record.workflow_id},
        )

    text = "" if exception is None else str(exception)
    failure = None if text.startswith(_NOT_LOCUST_FAILURES) else exception
    if text.startswith(INCONCLUSIVE_PREFIX):
        event("inconclusive (count)", 1.0)
    else:
        event("end-to-end (target ms)", record.e2e_target_s * 1000.0, failure)
    if record.final_status == "failed":
        event("ended failed (count)", 1.0)
    low, high = record.detection_delay_low_target_s, record.detection_delay_high_target_s
    if low is not None and high is not None:
        event("detection delay lower bound (target ms)", low * 1000.0)
        event("detection delay upper bound (target ms)", high * 1000.0)
    elif record.detection == "artefact":
        event("detection delay artefacts (count)", 1.0)
    if record.flow != "sync":
        event("polls per flow (count)", float(record.polls))
        event("429s per flow (count)", float(record.rate_limited))


class FlowCsv:
    """Appends `FlowRecord`s to a CSV file, opened on the first write; safe across greenlets.

    Args:
        path: the file; its parent is created.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self._writer: Any = None

    def write(self, record: FlowRecord) -> None:
        """Append one row (the header first, once)."""
        with self._lock:
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("w", newline="", encoding="utf-8")
                self._writer = csv.writer(self._file)
                self._writer.writerow([field.name for field in fields(FlowRecord)])
            self._writer.writerow(["" if value is None else value for value in astuple(record)])
            assert self._file is not None
            self._file.flush()

    def close(self) -> None:
        """Close the file if it was opened."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
                self._writer = None


class EndTimes:
    """`workflow_id -> ended_at` (target epoch) from the mock's `/__admin/runs`, cached.

    One listing resolves every run that ended before it, so flows that finish together share
    a refresh; refreshes are at least `min_interval_s` real seconds apart.

    Args:
        fetch: returns the admin API's run rows (`workflow_id`, `ended_at`).
        min_interval_s: shortest real time between two listings.
        monotonic: real clock; sleep: real sleep (gevent's under Locust).
    """

    def __init__(
        self,
        fetch: Callable[[], Iterable[dict[str, Any]]],
        *,
        min_interval_s: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fetch = fetch
        self._min_interval_s = min_interval_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._ended: dict[str, float] = {}
        self._last_refresh = -float("inf")
        self._lock = threading.Lock()

    def lookup(self, workflow_id: str) -> float | None:
        """The run's end, refreshing the listing (a bounded number of times) when unknown."""
        for _ in range(_REFRESH_ATTEMPTS):
            if workflow_id in self._ended:
                return self._ended[workflow_id]
            with self._lock:
                if workflow_id in self._ended:
                    return self._ended[workflow_id]
                wait = self._last_refresh + self._min_interval_s - self._monotonic()
                if wait > 0:
                    self._sleep(wait)
                self._refresh()
        return self._ended.get(workflow_id)

    def _refresh(self) -> None:
        for row in self._fetch():
            ended = row.get("ended_at")
            if isinstance(ended, str) and isinstance(row.get("workflow_id"), str):
                self._ended[row["workflow_id"]] = parse_iso(ended)
        self._last_refresh = self._monotonic()


class Outbox:
    """A worker's flow rows waiting for the next report, bounded by `max_rows`.

    Args:
        name: how the master names this worker (`<host>:<pid>`).
        batch_rows: rows in one message, at most.
        max_rows: rows held, at most; more are dropped and counted.
    """

    def __init__(
        self, name: str, *, batch_rows: int = BATCH_ROWS, max_rows: int = MAX_QUEUED_ROWS
    ) -> None:
        self.name = name
        self._batch_rows = batch_rows
        self._max_rows = max_rows
        self._rows: list[list[Any]] = []
        self._dropped = 0

    def add(self, flow: FlowRecord) -> None:
        """Queue one finished flow (dropped and counted when the queue is full)."""
        if len(self._rows) >= self._max_rows:
            self._dropped += 1
            return
        self._rows.append(list(astuple(flow)))

    def drain(self) -> list[dict[str, Any]]:
        """The messages that carry everything queued (at least one: it names the worker).

        Each is `{"worker": name, "rows": [[value, ...], ...], "dropped": N}`; the count of
        dropped rows rides on the first.
        """
        rows, self._rows = self._rows, []
        dropped, self._dropped = self._dropped, 0
        chunks = [rows[i : i + self._batch_rows] for i in range(0, len(rows), self._batch_rows)]
        return [
            {"worker": self.name, "rows": chunk, "dropped": dropped if index == 0 else 0}
            for index, chunk in enumerate(chunks or [[]])
        ]


@dataclass(slots=True)
class _Worker:
    name: str
    flows: int = 0
    left: str | None = None
    heard_after_stop: bool = False


class FlowOutcomes:
    """Every flow the run's master (or local runner) learnt of: rows, statuses, workers.

    Args:
        csv: where the rows go (`flows.csv`), None: nowhere.
    """

    def __init__(self, csv: FlowCsv | None) -> None:
        self.csv = csv
        self._counts: dict[tuple[str, str], int] = defaultdict(int)
        self._workers: dict[str, _Worker] = {}
        self.rows_dropped = 0
        self.stopped = False
        """Set when the run stopped: later departures are no longer mid-run."""

    def add(self, flow: FlowRecord) -> None:
        """Keep one finished flow."""
        self._counts[flow.flow, flow.final_status] += 1
        if self.csv is not None:
            self.csv.write(flow)

    def connected(self, node_id: str) -> None:
        """A worker connected (named by Locust's client id until it reports)."""
        self._workers.setdefault(node_id, _Worker(name=node_id))

    def receive(self, node_id: str, data: object) -> None:
        """Keep the flows of one `FLOWS_MESSAGE` from worker `node_id`; malformed rows are
        skipped and logged (a worker of another version), never fatal to the master."""
        worker = self._workers.setdefault(node_id, _Worker(name=node_id))
        worker.heard_after_stop = worker.heard_after_stop or self.stopped
        if not isinstance(data, dict):
            _log.warning("trigger-harness: a flows message that is no mapping, from %s", node_id)
            return
        if isinstance(data.get("worker"), str):
            worker.name = data["worker"]
        dropped = data.get("dropped")
        self.rows_dropped += dropped if isinstance(dropped, int) else 0
        bad = 0
        for row in data.get("rows") or ():
            flow = _flow_of(row)
            if flow is None:
                bad += 1
                continue
            worker.flows += 1
            self.add(flow)
        if bad:
            _log.warning("trigger-harness: %d malformed flow rows from %s skipped", bad, node_id)

    def known(self) -> list[str]:
        """The Locust client ids of the workers seen."""
        return list(self._workers)

    def mark_left(self, node_id: str, reason: str) -> bool:
        """Record that worker `node_id` left mid-run; True the first time."""
        worker = self._workers.get(node_id)
        if worker is None or worker.left is not None:
            return False
        worker.left = reason
        _log.warning(
            "trigger-harness: worker %s disconnected mid-run (%s); its %d flows up to its last "
            "report are kept",
            worker.name,
            reason,
            worker.flows,
        )
        return True

    def mark_silent(self) -> None:
        """At the end: every worker still counted present that sent nothing after the stop."""
        for node_id, worker in self._workers.items():
            if worker.left is None and not worker.heard_after_stop:
                self.mark_left(node_id, _SILENT)

    def statuses(self) -> tuple[FlowStatusCount, ...]:
        """Flows so far per kind and final status (as the report counts them)."""
        return count_flow_statuses(self._counts)

    def workers(self) -> list[WorkerRow]:
        """The workers seen, in order of connection."""
        return [
            WorkerRow(name=worker.name, flows=worker.flows, left=worker.left)
            for worker in self._workers.values()
        ]

    def write_workers(self, path: Path) -> None:
        """Write `WORKERS_FILE` (`harness.load.parse_workers` reads it); nothing without
        workers."""
        if not self._workers:
            return
        rows = [{"name": w.name, "flows": w.flows, "left": w.left} for w in self.workers()]
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"workers": rows, "rows_dropped": self.rows_dropped}, indent=2)
        path.write_text(text + "\n", encoding="utf-8")


_RECORD_FIELDS: Final = tuple(field.name for field in fields(FlowRecord))
_KINDS: Final[dict[str, tuple[type, ...]]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "float | None": (int, float, type(None)),
}
_RECORD_KINDS: Final = tuple(_KINDS[str(field.type)] for field in fields(FlowRecord))


def _flow_of(row: object) -> FlowRecord | None:
    """The record a row of values (in field order) holds, None when it holds none."""
    if not isinstance(row, list | tuple) or len(row) != len(_RECORD_FIELDS):
        return None
    for value, kinds in zip(row, _RECORD_KINDS, strict=True):
        if isinstance(value, bool) or not isinstance(value, kinds):
            return None
    return FlowRecord(**dict(zip(_RECORD_FIELDS, row, strict=True)))
