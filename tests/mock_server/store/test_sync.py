"""The synchronous limit (A1): when E1 answers, and whether it answered past the limit."""

from __future__ import annotations

from mock_server._config import Duration, TriggerConfig
from tests.mock_server.store._support import T0, make_store, start, world


def test_sync_answer_time_and_timeout() -> None:
    """E1 answers at the end, at the pause, or at the sync limit, whichever comes first."""
    store = make_store()
    quick = start(store, "quick-answer")
    waiting = start(store, "approval-flow")
    slow = start(store, "slow-sync")
    limit = store.sync_limit
    assert limit.answer_time(quick) == quick.end_at
    assert T0 + 2 <= quick.end_at <= T0 + 8
    assert limit.answer_time(waiting) == T0 + 10
    assert limit.answer_time(slow) == T0 + 150
    store.clock.advance(149)
    assert not limit.timed_out(slow, store.clock.now())
    store.clock.advance(1)
    assert limit.timed_out(slow, store.clock.now())
    assert not limit.timed_out(quick, store.clock.now())
    assert not limit.timed_out(waiting, store.clock.now())


def test_sync_timed_out_is_judged_at_the_answer_time() -> None:
    """`timed_out(run, at)` judges the run at `at`, not at a later now."""
    store = make_store()
    run = start(store, "slow-sync", message="", user_variables={}, sync=True)
    limit_at = run.started_at + 150
    store.clock.advance(10_000)  # now: the run (200 s) is long completed
    assert store.sync_limit.timed_out(run, limit_at)
    assert not store.sync_limit.timed_out(run, store.clock.now())
    assert not store.sync_limit.timed_out(run, limit_at - 1)


def test_failed_policy_ends_a_long_sync_run_at_the_limit() -> None:
    """Under `sync_timeout_policy = "failed"` a sync run past the limit fails there (A1)."""
    trigger = TriggerConfig(id="slow", duration=Duration(dist="fixed", s=200))
    store = make_store(world(trigger, sync_timeout_policy="failed"))
    run = start(store, "slow", workspace_id="w", sync=True)
    background = start(store, "slow", workspace_id="w")
    assert run.end_at == run.started_at + 150
    assert run.error_text == store.sync_limit.error()
    assert store.sync_limit.timed_out(run, run.end_at)
    assert background.end_at == background.started_at + 200
    store.clock.advance(150)
    envelope = store.envelope(run)
    assert (envelope["status"], envelope["error"]) == ("failed", store.sync_limit.error())
    assert envelope["logs"][-1]["message"] == store.sync_limit.error()


def test_failed_policy_leaves_a_run_that_ends_in_time_alone() -> None:
    """A sync run leaving `pending` before the limit is not changed by the failed policy."""
    store = make_store(world(TriggerConfig(id="t"), sync_timeout_policy="failed"))
    run = start(store, "t", workspace_id="w", sync=True)
    assert (run.end_at, run.error_text) == (run.started_at + 5, None)
    assert not store.sync_limit.fail_at_limit(run)
