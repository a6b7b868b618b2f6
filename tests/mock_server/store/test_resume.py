"""Input resume (A10): a waiting run goes on after input, never waits twice, limit unchanged."""

from __future__ import annotations

import pytest

from mock_server._config import Duration, OutcomeRates, TriggerConfig
from mock_server.store import NotWaitingForInput, WorkflowNotFound
from tests.mock_server.store._support import ended_at, make_store, start, status, world


def test_waiting_run_resumes_after_input_and_never_waits_twice() -> None:
    """approval-flow pauses with requires_input, resumes on input and then ends final."""
    store = make_store()
    run = start(store, "approval-flow")
    with pytest.raises(NotWaitingForInput):
        store.provide_input(run.workflow_id, "too early")
    store.clock.advance(10)
    waiting = store.envelope(run)
    assert (waiting["status"], waiting["requires_input"], waiting["response"]) == (
        "waiting_for_input",
        True,
        {},
    )
    store.clock.advance(1000)
    assert status(store, run) == "waiting_for_input"
    assert ended_at(store, run) is None
    store.provide_input(run.workflow_id, "approved")
    resumed = store.envelope(run)
    assert (resumed["status"], resumed["requires_input"]) == ("pending", False)
    store.clock.advance(10)
    final = store.envelope(run)
    assert final["status"] == "completed"
    assert final["response"]["agent_output"] == "Continued after input: approved"
    with pytest.raises(NotWaitingForInput) as info:
        store.provide_input(run.workflow_id, "again")
    assert info.value.status_code == 409


def test_provide_input_to_unknown_run() -> None:
    """Input for an unknown id is WorkflowNotFound (404)."""
    store = make_store()
    with pytest.raises(WorkflowNotFound) as info:
        store.provide_input("no-such-run", "x")
    assert (info.value.status_code, info.value.detail) == (404, "Workflow not found")


def test_waiting_time_does_not_count_towards_the_background_limit() -> None:
    """A resumed run may end after started_at + limit: only running time counts (A10)."""
    trigger = TriggerConfig(
        id="approve",
        duration=Duration(dist="fixed", s=2000),
        outcome=OutcomeRates(waiting_for_input=1.0),
    )
    store = make_store(world(trigger))
    run = start(store, "approve", workspace_id="w")
    store.clock.advance(5000)
    store.provide_input(run.workflow_id, "go on")
    store.clock.advance(699)
    assert status(store, run) == "pending"
    store.clock.advance(1)
    envelope = store.envelope(run)
    assert envelope["status"] == "failed"
    assert "2700 s" in envelope["error"]


def test_a_resumed_run_is_kept_for_the_retention_after_its_new_end() -> None:
    """Retention counts from the resumed run's end, not from when the run started (A9)."""
    trigger = TriggerConfig(
        id="approve",
        duration=Duration(dist="fixed", s=10),
        outcome=OutcomeRates(waiting_for_input=1.0),
    )
    store = make_store(world(trigger, retention_s=100))
    run = start(store, "approve", workspace_id="w")
    store.clock.advance(500)
    store.provide_input(run.workflow_id, "ok")
    store.clock.advance(10 + 99)
    store.catch_up()
    assert store.status_answer("w", run.workflow_id) is not None
    store.clock.advance(1)
    store.catch_up()
    assert store.run_record(run.workflow_id) is None
