"""Flow outcomes across Locust's messaging, without processes: the worker's outbox and what the
master keeps (rows, statuses, workers), and the live threshold judged on those statuses
(`scenarios._stop` imports locust, which gevent-patches the process: that one runs in a
subprocess)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import astuple, replace
from pathlib import Path
from typing import Any

from harness.load import PROJECT_ROOT, parse_workers
from scenarios._metrics import FlowCsv, FlowOutcomes, FlowRecord, Outbox

RECORD = FlowRecord(
    scenario="background", flow="background", workflow_id="wf-1", final_status="completed",
    started_epoch_s=1.0, e2e_target_s=30.0, e2e_real_s=0.1,
    detection_delay_low_target_s=1.0, detection_delay_high_target_s=2.0,
    detection_delay_low_real_s=None, detection_delay_high_real_s=None,
    detection="bounded", detection_source="log", detection_note="", polls=6, rate_limited=0,
    time_scale=300.0,
)  # fmt: skip


def _through_json(messages: list[dict[str, Any]]) -> list[Any]:
    """As the wire carries them: lists, not tuples (msgpack and JSON alike)."""
    loaded: list[Any] = json.loads(json.dumps(messages))
    return loaded


def test_the_outbox_sends_everything_queued_in_bounded_batches_naming_the_worker() -> None:
    """Five rows at two per message: three messages, each naming the worker; then nothing."""
    outbox = Outbox("host:7", batch_rows=2)
    for _ in range(5):
        outbox.add(RECORD)
    messages = outbox.drain()
    assert [len(message["rows"]) for message in messages] == [2, 2, 1]
    assert {message["worker"] for message in messages} == {"host:7"}
    assert outbox.drain() == [{"worker": "host:7", "rows": [], "dropped": 0}]


def test_a_full_outbox_drops_and_counts_rows() -> None:
    """Past `max_rows` a row is dropped, and the count rides on the next message."""
    outbox = Outbox("w", max_rows=2)
    for _ in range(5):
        outbox.add(RECORD)
    [message] = outbox.drain()
    assert (len(message["rows"]), message["dropped"]) == (2, 3)


def test_the_master_keeps_workers_flows_in_flows_csv_and_counts_statuses(tmp_path: Path) -> None:
    """Rows received are written once to the master's flows.csv and counted per status."""
    path = tmp_path / "flows.csv"
    outcomes = FlowOutcomes(FlowCsv(path))
    first, second = Outbox("a:1"), Outbox("b:2")
    first.add(RECORD)
    second.add(replace(RECORD, workflow_id="wf-2", final_status="failed"))
    second.add(replace(RECORD, workflow_id="wf-3", final_status="timed_out"))
    outcomes.connected("id-a")
    outcomes.connected("id-b")
    for message in _through_json(first.drain()):
        outcomes.receive("id-a", message)
    for message in _through_json(second.drain()):
        outcomes.receive("id-b", message)
    assert outcomes.csv is not None
    outcomes.csv.close()
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["workflow_id"] for row in rows] == ["wf-1", "wf-2", "wf-3"]
    assert {(s.status, s.count) for s in outcomes.statuses()} == {
        ("completed", 1),
        ("failed", 1),
        ("lost", 1),
    }
    assert [(w.name, w.flows) for w in outcomes.workers()] == [("a:1", 1), ("b:2", 2)]


def test_malformed_messages_are_skipped_never_fatal() -> None:
    """A message that is no mapping, or rows of the wrong shape, count nothing."""
    outcomes = FlowOutcomes(None)
    outcomes.receive("x", "not a mapping")
    outcomes.receive("x", {"rows": [[1, 2], "row", [None] * 17], "dropped": "many"})
    assert outcomes.statuses() == ()
    assert outcomes.rows_dropped == 0


def test_workers_that_left_are_named_once_in_the_workers_file(tmp_path: Path) -> None:
    """A worker lost mid-run keeps its flows and reason; one silent after the stop is named
    too; one that reported after the stop stayed to the end."""
    outcomes = FlowOutcomes(None)
    for node in ("lost", "silent", "stayed"):
        outcomes.connected(node)
        row = list(astuple(RECORD))
        outcomes.receive(node, {"worker": f"{node}:1", "rows": [row], "dropped": 0})
    assert outcomes.mark_left("lost", "missing heartbeat")
    assert not outcomes.mark_left("lost", "again")
    assert not outcomes.mark_left("unknown", "missing heartbeat")
    outcomes.stopped = True
    outcomes.receive("stayed", {"worker": "stayed:1", "rows": [], "dropped": 1})
    outcomes.mark_silent()
    path = tmp_path / "flows_workers.json"
    outcomes.write_workers(path)
    workers, dropped = parse_workers(path.read_text(encoding="utf-8"))
    assert [(w.name, w.flows, w.left) for w in workers] == [
        ("lost:1", 1, "missing heartbeat"),
        ("silent:1", 1, "sent no final report"),
        ("stayed:1", 1, None),
    ]
    assert dropped == 1


def test_no_workers_file_without_workers(tmp_path: Path) -> None:
    """A local run (no workers) writes no workers file."""
    FlowOutcomes(None).write_workers(tmp_path / "flows_workers.json")
    assert not (tmp_path / "flows_workers.json").exists()


LIVE_THRESHOLD = """
from dataclasses import replace
from harness.load import Thresholds
from harness.load._thresholds import MIN_RUNNING_FLOWS
from scenarios._metrics import FlowOutcomes
from scenarios._stop import crossed_now
from tests.scenarios.test_distributed_messaging import RECORD

class NoStats:
    entries = {}
    errors = {}

outcomes = FlowOutcomes(None)
for _ in range(MIN_RUNNING_FLOWS // 2):
    outcomes.add(RECORD)
    outcomes.add(replace(RECORD, final_status="failed"))
for ratio in (0.25, 0.5):
    limits = Thresholds(max_flow_fail_ratio=ratio)
    print(crossed_now(NoStats(), limits, outcomes.statuses(), judge_rps=False))
"""


def test_the_live_flow_threshold_is_judged_on_the_aggregated_statuses() -> None:
    """--max-flow-fail-ratio crosses on the master's counts of failed and lost flows."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LIVE_THRESHOLD],
        capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT, env=env, check=True,
    )  # fmt: skip
    crossed, held = done.stdout.strip().splitlines()
    assert "flow fail ratio" in crossed
    assert held == "()"
