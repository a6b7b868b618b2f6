"""The store as a whole: E3's visibility rules and cache, run-now, metrics and reset."""

from __future__ import annotations

import orjson
import pytest

from mock_server.store import Source, TriggerNotFound
from mock_server.store._trigger_store import FINAL_ENVELOPE_CACHE, FINAL_ENVELOPE_MAX_BYTES
from tests.mock_server.store._support import T0, make_store, start


def test_status_answer_hides_other_workspaces_and_environments() -> None:
    """E3 finds a run only in its own workspace and for keys allowed its environment (A3, A15)."""
    store = make_store()
    run = start(store, "quick-answer", env="PROD")
    assert store.status_answer("demo", run.workflow_id) is not None
    assert store.status_answer("sandbox", run.workflow_id) is None
    assert store.status_answer("demo", run.workflow_id, frozenset({"DEV"})) is None
    assert store.status_answer("demo", run.workflow_id, frozenset({"PROD"})) is not None
    assert store.status_answer("demo", "unknown-id") is None


def test_final_envelopes_are_kept_ready_and_bounded() -> None:
    """A final run's E3 envelope is built once and reused; the cache keeps only the newest."""
    store = make_store()
    runs = [start(store, "quick-answer") for _ in range(FINAL_ENVELOPE_CACHE + 1)]
    pending = store.status_answer("demo", runs[0].workflow_id)
    assert pending is not store.status_answer("demo", runs[0].workflow_id)
    store.clock.advance(10)
    first = store.status_answer("demo", runs[0].workflow_id)
    assert first is not None
    assert first[0] == "completed"
    assert orjson.loads(first[1])["status"] == "completed"
    assert store.status_answer("demo", runs[0].workflow_id) is first
    for run in runs[1:]:
        store.status_answer("demo", run.workflow_id)
    again = store.status_answer("demo", runs[0].workflow_id)
    assert again == first
    assert again is not first


def test_large_final_envelopes_are_not_kept() -> None:
    """A final envelope over FINAL_ENVELOPE_MAX_BYTES is rendered per read, never cached."""
    store = make_store()
    big = {"a": [{} for _ in range(FINAL_ENVELOPE_MAX_BYTES)]}
    run = store.start_run(
        workspace_id="demo",
        trigger_id="quick-answer",
        environment="DEV",
        message="",
        user_variables=big,
    )
    store.clock.advance(10)
    first = store.status_answer("demo", run.workflow_id)
    assert first is not None
    assert orjson.loads(first[1])["response"]["a"] == big["a"]
    assert store.status_answer("demo", run.workflow_id) is not first


def test_reset_returns_to_config_and_replays_the_same_ids() -> None:
    """reset() clears runs, restores pause flags, the clock and the RNG."""
    store = make_store()
    first = start(store, "quick-answer").workflow_id
    store.triggers.set_paused("demo", "quick-answer", True)
    store.clock.advance(500)
    store.reset()
    assert store.clock.now() == T0
    assert store.list_runs() == []
    assert start(store, "quick-answer").workflow_id == first


def test_run_now_uses_the_cron_environment_and_message() -> None:
    """run-now starts a manual run with the cron's environment, message and variables."""
    store = make_store()
    run = store.run_now("demo", "hourly-health")
    assert (run.source, run.environment, run.message, run.started_at) == (
        Source.MANUAL,
        "DEV",
        "scheduled health check",
        T0,
    )
    other = store.run_now("demo", "uat-only")
    assert (other.environment, other.message, other.user_variables) == ("UAT", "", {})
    with pytest.raises(TriggerNotFound):
        store.run_now("demo", "nope")


def test_metrics_count_starts_and_statuses() -> None:
    """Metrics count runs started by source and stored runs by status."""
    store = make_store()
    start(store, "quick-answer")
    start(store, "long-batch")
    store.run_now("demo", "quick-answer")
    store.clock.advance(10)
    metrics = store.metrics()
    assert metrics["runs_started_api_total"] == 2
    assert metrics["runs_started_manual_total"] == 1
    assert metrics["runs_stored"] == 3
    assert metrics["runs_pending"] == 1
    assert metrics["runs_completed"] == 2


def test_metrics_name_every_counter_and_gauge() -> None:
    """A fresh store reports every counter at 0 and a per-workspace gauge of active runs."""
    metrics = make_store().metrics()
    assert set(metrics) == {
        "runs_started_api_total",
        "runs_started_cron_total",
        "runs_started_jira_total",
        "runs_started_manual_total",
        "cron_ticks_fired_total",
        "cron_ticks_skipped_paused_total",
        "cron_ticks_skipped_overlap_total",
        "runs_purged_total",
        "runs_stored",
        "runs_pending",
        "runs_waiting_for_input",
        "runs_completed",
        "runs_failed",
        'background_runs_active{workspace="demo"}',
        'background_runs_active{workspace="sandbox"}',
    }
    assert set(metrics.values()) == {0.0}
