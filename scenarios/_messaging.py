"""Flow outcomes in Locust's distributed mode: the workers send them, the master alone keeps them.

A worker queues each finished flow's `FlowRecord` (its `flows.csv` row: the values in field
order; ids, statuses and times, never a secret) in an `Outbox`. Each time Locust sends the
worker's statistics to the master (`report_to_master`: every few seconds, and once more when
the master says quit), and when the worker itself quits, the queue goes to the master as custom
messages `FLOWS_MESSAGE` of at most `BATCH_ROWS` rows: one message per report, more only when
more than `BATCH_ROWS` flows ended since the last. A queue past `MAX_QUEUED_ROWS` drops rows and
counts them (`scenarios._metrics.Outbox`). Nothing is written on a worker's disk.

The master (or the one local runner) keeps every flow in one `scenarios._metrics.FlowOutcomes`:
it writes
`flows.csv` (`--flow-csv`, else `<--csv prefix>_flows.csv`), counts final statuses per kind
(what `--stop-on-threshold` judges, `scenarios/_stop.py`) and flows per worker. It follows the
workers Locust's heartbeats report: one that goes missing (no heartbeat for about 3 s), leaves
before the run ends, or sends nothing after the run stopped is marked as left, with its flows
up to its last report kept, and named in `WORKERS_FILE` next to `flows.csv`, which the harness
reads into the report.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any, Final

import gevent
from locust import events
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    MasterRunner,
    WorkerRunner,
)

from harness.load import WORKERS_FILE
from scenarios._metrics import FlowCsv, FlowOutcomes, FlowRecord, Outbox

__all__ = ["FLOWS_MESSAGE", "outcomes_of", "record"]

_log = logging.getLogger(__name__)

FLOWS_MESSAGE: Final = "trigger_harness_flows"
WATCH_EVERY_S: Final = 1.0
"""How often the master looks for workers that left (Locust's heartbeat interval)."""
_MISSING: Final = "missing heartbeat"
_QUIT: Final = "quit before the run ended"


_OUTCOMES: dict[int, FlowOutcomes] = {}
_OUTBOXES: dict[int, Outbox] = {}


def outcomes_of(environment: Any) -> FlowOutcomes | None:
    """The flows kept by this process (the master or the one local runner), None on a worker."""
    return _OUTCOMES.get(id(environment))


def record(environment: Any, flow: FlowRecord) -> None:
    """Keep one finished flow: queued for the master on a worker, kept here otherwise."""
    outbox = _OUTBOXES.get(id(environment))
    if outbox is not None:
        outbox.add(flow)
        return
    outcomes = _OUTCOMES.get(id(environment))
    if outcomes is not None:
        outcomes.add(flow)


def _csv_path(parsed: Any) -> Path | None:
    """`--flow-csv`, else `<--csv prefix>_flows.csv`, else None (no file)."""
    path = getattr(parsed, "flow_csv", None) or ""
    prefix = getattr(parsed, "csv_prefix", None) or ""
    if not path and prefix:
        path = f"{prefix}_flows.csv"
    return Path(path) if path else None


@events.init.add_listener
def _init(environment: Any, runner: Any = None, **_: Any) -> None:
    if runner is None:
        return
    if isinstance(runner, WorkerRunner):
        _init_worker(environment, runner)
        return
    path = _csv_path(environment.parsed_options)
    outcomes = FlowOutcomes(FlowCsv(path) if path is not None else None)
    _OUTCOMES[id(environment)] = outcomes
    if isinstance(runner, MasterRunner):
        _init_master(environment, runner, outcomes)
    environment.events.quitting.add_listener(lambda **_: _close(outcomes, path))


def _close(outcomes: FlowOutcomes, path: Path | None) -> None:
    outcomes.mark_silent()
    if outcomes.csv is not None:
        outcomes.csv.close()
    if path is not None:
        outcomes.write_workers(path.with_name(WORKERS_FILE))


def _init_worker(environment: Any, runner: Any) -> None:
    outbox = Outbox(f"{socket.gethostname()}:{os.getpid()}")
    _OUTBOXES[id(environment)] = outbox

    def send(**_: Any) -> None:
        for message in outbox.drain():
            runner.send_message(FLOWS_MESSAGE, message)

    environment.events.report_to_master.add_listener(send)
    environment.events.quitting.add_listener(send)


def _init_master(environment: Any, runner: Any, outcomes: FlowOutcomes) -> None:
    runner.register_message(
        FLOWS_MESSAGE, lambda environment, msg, **_: outcomes.receive(msg.node_id, msg.data)
    )
    environment.events.worker_connect.add_listener(
        lambda client_id, **_: outcomes.connected(client_id)
    )

    def stopped(**_: Any) -> None:
        outcomes.stopped = True

    environment.events.test_stop.add_listener(stopped)
    watcher = gevent.spawn(_watch_workers, runner, outcomes)
    environment.events.quitting.add_listener(lambda **_: watcher.kill(block=False))


def _watch_workers(runner: Any, outcomes: FlowOutcomes) -> None:
    """Every `WATCH_EVERY_S`, while the run runs: mark the workers Locust lost as left."""
    while True:
        gevent.sleep(WATCH_EVERY_S)
        if runner.state not in (STATE_SPAWNING, STATE_RUNNING) or outcomes.stopped:
            continue
        for node_id in outcomes.known():
            node = runner.clients.get(node_id)
            if node is None:
                outcomes.mark_left(node_id, _QUIT)
            elif node.state == STATE_MISSING:
                outcomes.mark_left(node_id, _MISSING)
