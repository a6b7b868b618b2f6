"""Flow metrics: end-to-end time, detection delay, polls and 429s per flow.

Each finished flow becomes a `FlowRecord`. It is fired as Locust request events of type `FLOW`
(so Locust's stats, CSV and HTML show their distributions) and appended raw to a CSV file.

Times are in *target seconds*: virtual seconds on the mock (whose clock runs `time_scale` times
fast), real seconds on a real target. The CSV names the unit in every time column, and Locust
events carry target-time milliseconds in a name that says so.

Detection delay is the time from the run's end to the arrival of the first poll answer that
showed the final status. The run's end comes from the mock's admin API (`ended_at` of
`/__admin/runs`, exact) or, on a real target, from the time of the final envelope's last log
entry (whole seconds, read as UTC).

`mock_clock` / `real_clock` give the flows their client clock and its `ClockMap`.

This module imports neither locust nor gevent: the Locust environment is passed in.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, Final, TextIO

from harness import MockAdmin, RunHistory
from harness.load import first_final_at, parse_iso

__all__ = [
    "FLOW_REQUEST_TYPE",
    "ClockMap",
    "EndTimes",
    "FlowCsv",
    "FlowRecord",
    "detection_delay",
    "fire_flow_events",
    "flow_record",
    "mock_clock",
    "real_clock",
]

FLOW_REQUEST_TYPE: Final = "FLOW"
_REFRESH_ATTEMPTS: Final = 3


@dataclass(frozen=True, slots=True)
class ClockMap:
    """Relates the client's clock (target seconds) to the target's epoch time.

    `client_at` is a reading of the client clock taken when the target's clock read
    `target_epoch`; `scale` is target seconds per real second.
    """

    client_at: float
    target_epoch: float
    scale: float

    def epoch(self, client_time: float) -> float:
        """The target's epoch time at a client clock reading."""
        return self.target_epoch + (client_time - self.client_at)


def mock_clock(admin: MockAdmin) -> tuple[Callable[[], float], ClockMap]:
    """A client clock reading the mock's virtual epoch time (sampled once, then extrapolated)."""
    before = time.monotonic()
    reading = admin.clock()
    anchor = (before + time.monotonic()) / 2
    virtual = parse_iso(reading["now"])
    scale = 0.0 if reading.get("frozen") else float(reading["time_scale"])
    scale = scale or 1.0

    def clock() -> float:
        return virtual + (time.monotonic() - anchor) * scale

    return clock, ClockMap(client_at=virtual, target_epoch=virtual, scale=scale)


def real_clock(scale: float) -> tuple[Callable[[], float], ClockMap]:
    """A client clock on the wall's epoch time, running `scale` target seconds per real second."""
    anchor, wall = time.monotonic(), time.time()

    def clock() -> float:
        return wall + (time.monotonic() - anchor) * scale

    return clock, ClockMap(client_at=wall, target_epoch=wall, scale=scale)


def detection_delay(
    history: RunHistory, clock_map: ClockMap, ended_at: float | None
) -> float | None:
    """Target seconds from the run's end (epoch) to the first answer that showed it final."""
    seen = first_final_at(history)
    if seen is None or ended_at is None:
        return None
    return clock_map.epoch(seen) - ended_at


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowRecord:
    """One finished flow, as written to the raw CSV (time columns name their unit)."""

    scenario: str
    flow: str
    workflow_id: str
    final_status: str
    started_epoch_s: float
    e2e_target_s: float
    e2e_real_s: float
    detection_delay_target_s: float | None
    detection_delay_real_s: float | None
    detection_source: str
    polls: int
    rate_limited: int
    time_scale: float


def flow_record(
    *,
    scenario: str,
    flow: str,
    history: RunHistory,
    clock_map: ClockMap,
    ended_at: float | None,
    detection_source: str,
    finished_at: float,
) -> FlowRecord:
    """The record of one followed flow.

    Args:
        scenario: the scenario's name.
        flow: the kind of flow (`background`, `jira`, `sync`).
        history: everything seen of the run.
        clock_map: client clock to target epoch.
        ended_at: the run's end (target epoch), None when unknown.
        detection_source: `admin`, `logs` or `none`.
        finished_at: client clock reading when the flow ended.
    """
    delay = detection_delay(history, clock_map, ended_at)
    e2e = finished_at - history.start.at
    scale = clock_map.scale
    codes = [observation.status_code for observation in history.observations]
    return FlowRecord(
        scenario=scenario,
        flow=flow,
        workflow_id=history.workflow_id,
        final_status=_final_status(history),
        started_epoch_s=clock_map.epoch(history.start.at),
        e2e_target_s=e2e,
        e2e_real_s=e2e / scale,
        detection_delay_target_s=delay,
        detection_delay_real_s=None if delay is None else delay / scale,
        detection_source=detection_source if delay is not None else "none",
        polls=len(history.polls),
        rate_limited=codes.count(429),
        time_scale=scale,
    )


def _final_status(history: RunHistory) -> str:
    if history.final is not None:
        return history.final.status
    return "timed_out" if history.timed_out else "gave_up"


def fire_flow_events(environment: Any, record: FlowRecord, exception: Exception | None) -> None:
    """Fire the flow's metrics as Locust request events of type `FLOW`.

    The end-to-end event carries `exception` (a timeout or history violation) as its failure.
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

    event("end-to-end (target ms)", record.e2e_target_s * 1000.0, exception)
    if record.detection_delay_target_s is not None:
        event("detection delay (target ms)", record.detection_delay_target_s * 1000.0)
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

    @staticmethod
    def for_process(path: Path, *, worker: bool) -> Path:
        """The file this process writes: a worker adds its pid, so workers never collide."""
        if not worker:
            return path
        return path.with_name(f"{path.stem}-worker-{os.getpid()}{path.suffix}")


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
