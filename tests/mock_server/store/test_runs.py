"""Runs: drawn from the seeded RNG, statuses and envelopes derived from the clock, listings."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from mock_server._config import Duration, MockSettings, OutcomeRates, TriggerConfig
from mock_server.store import Run, Source
from mock_server.store._runs import count_by_status
from tests.mock_server.store._support import (
    ENVELOPE_KEYS,
    T0,
    ended_at,
    make_store,
    start,
    status,
    world,
)


def test_new_run_is_pending_with_an_empty_envelope() -> None:
    """A run just started is pending with `{}` response, no logs and no error (E2)."""
    store = make_store()
    run = start(store, "quick-answer")
    uuid.UUID(run.workflow_id, version=4)
    envelope = store.envelope(run)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope == {
        "workflow_id": run.workflow_id,
        "response": {},
        "status": "pending",
        "logs": [],
        "requires_input": False,
        "error": None,
    }
    assert run.source is Source.API


def test_completed_run_is_final_and_stable() -> None:
    """After its duration a run is completed with its variables, and later polls agree."""
    store = make_store()
    run = start(store, "quick-answer", user_variables={"ticket": "T-9"})
    store.clock.advance(8)
    first = store.envelope(run)
    assert first["status"] == "completed"
    assert first["response"]["workflow_id"] == run.workflow_id
    assert first["response"]["ticket"] == "T-9"
    assert first["error"] is None
    assert first["logs"][-1]["message"] == "Graph execution completed"
    store.clock.advance(3600)
    later = store.envelope(run)
    assert (later["status"], later["response"]) == ("completed", first["response"])
    assert ended_at(store, run) == pytest.approx(run.started_at + 2, abs=6)


def test_failed_run_has_error_and_empty_response() -> None:
    """A run drawn to fail ends `failed` with `{}` and a non-empty error."""
    store = make_store(world(TriggerConfig(id="bad", outcome=OutcomeRates(failed=1.0))))
    run = start(store, "bad", workspace_id="w")
    store.clock.advance(5)
    envelope = store.envelope(run)
    assert (envelope["status"], envelope["response"]) == ("failed", {})
    assert envelope["error"]
    assert envelope["logs"][-1]["status"] == "failed"


def test_background_limit_fails_a_long_run_at_the_limit() -> None:
    """long-batch (3000 s) is pending until 2700 s, then failed naming the limit (A2)."""
    store = make_store()
    run = start(store, "long-batch")
    store.clock.advance(2699)
    assert status(store, run) == "pending"
    store.clock.advance(1)
    envelope = store.envelope(run)
    assert envelope["status"] == "failed"
    assert "2700 s" in envelope["error"]
    assert "2700 s" in envelope["logs"][-1]["message"]
    assert ended_at(store, run) == T0 + 2700


def test_same_seed_same_runs() -> None:
    """Two stores with the same seed give the same ids, durations and outcomes in order."""

    def trace() -> list[tuple[str, float | None, str]]:
        store = make_store()
        runs = [start(store, name) for name in ("flaky-enrichment", "quick-answer") * 10]
        store.clock.advance(100)
        return [(r.workflow_id, ended_at(store, r), status(store, r)) for r in runs]

    first = trace()
    assert first == trace()
    assert len({wid for wid, _, _ in first}) == 20


def test_list_runs_filters_and_summarises() -> None:
    """The admin listing filters by workspace, trigger, status and source, in start order."""
    store = make_store()
    a = start(store, "quick-answer")
    store.clock.advance(1)
    b = start(store, "long-batch", source=Source.JIRA)
    store.clock.advance(1)
    c = start(store, "quick-answer", workspace_id="sandbox")
    store.clock.advance(10)
    rows = store.list_runs()
    assert [row["workflow_id"] for row in rows] == [a.workflow_id, b.workflow_id, c.workflow_id]
    assert rows[0]["started_at"] == "2026-06-10T00:10:00.000Z"
    assert rows[0]["ended_at"] is not None
    assert rows[1]["ended_at"] is None
    assert set(rows[0]) == {
        "workflow_id",
        "workspace_id",
        "trigger_id",
        "environment",
        "source",
        "status",
        "started_at",
        "ended_at",
        "message",
        "user_variables",
    }
    assert [r["workflow_id"] for r in store.list_runs(workspace_id="sandbox")] == [c.workflow_id]
    assert [r["workflow_id"] for r in store.list_runs(status="pending")] == [b.workflow_id]
    assert [r["workflow_id"] for r in store.list_runs(source="jira")] == [b.workflow_id]
    assert len(store.list_runs(trigger_id="quick-answer")) == 2


def test_count_by_status_counts_every_status() -> None:
    """Runs are counted under the status they show now; absent statuses count 0."""
    store = make_store()
    start(store, "quick-answer")
    start(store, "approval-flow")
    start(store, "long-batch")
    store.clock.advance(10)
    runs = [run for row in store.list_runs() if (run := store.run_record(row["workflow_id"]))]
    assert count_by_status(runs, store.clock.now()) == {
        "pending": 1,
        "waiting_for_input": 1,
        "completed": 1,
        "failed": 0,
    }


def test_run_records_are_slotted() -> None:
    """Run records have no per-instance __dict__ (memory: ~0.5 KB per stored run)."""
    store = make_store()
    run = start(store, "quick-answer")
    assert not hasattr(run, "__dict__")
    stored = store.run_record(run.workflow_id)
    assert stored is run
    assert "workflow_id" in Run.__slots__


def test_log_window_setting_limits_entries() -> None:
    """The envelope shows at most `log_window` entries (A11)."""
    trigger = TriggerConfig(id="t", duration=Duration(dist="fixed", s=100))
    store = make_store(replace(world(trigger), mock=MockSettings(log_window=2)))
    run = start(store, "t", workspace_id="w")
    store.clock.advance(100)
    logs = store.envelope(run)["logs"]
    assert len(logs) == 2
    assert logs[-1]["status"] == "success"
