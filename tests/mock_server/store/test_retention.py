"""Retention (A9): final runs expire `retention_s` after their end and the purge frees them.

The figures (bytes per run, RSS with a million runs) are benchmarks in
`scenarios/bench_memory.py`; these tests assert only the structure those figures rely on.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc

import pytest

from mock_server._clock import VirtualClock
from mock_server._config import Duration, TriggerConfig, demo_config
from mock_server.store import Run, TriggerStore, WorkflowNotFound
from mock_server.store._retention import Retention
from tests.mock_server.store._support import make_store, start, world

START = 1_780_000_000.0
RETENTION_S = 86_400.0
# Seeds no other test uses: workflow ids come from the seed, and live records are counted by id,
# so records still held by other tests' stores must not share them.
_SEEDS = itertools.count(910_000)


def _store() -> tuple[TriggerStore, VirtualClock]:
    clock = VirtualClock(start=START, real_time=lambda: 0.0)
    return TriggerStore(demo_config(seed=next(_SEEDS)), clock), clock


def _start_runs(store: TriggerStore, count: int) -> set[str]:
    return {
        store.start_run(
            workspace_id="demo",
            trigger_id="quick-answer",
            environment="DEV",
            message="memory",
            user_variables={"n": n},
        ).workflow_id
        for n in range(count)
    }


def _live_records(ids: set[str]) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Run) and obj.workflow_id in ids)


def test_retention_expires_final_runs() -> None:
    """A final run is visible until retention_s after its end, then gone, and purged (A9)."""
    store = make_store(world(TriggerConfig(id="slow", duration=Duration(dist="fixed", s=200))))
    run = start(store, "slow", workspace_id="w")
    store.clock.advance(200 + 86_400 - 1)
    store.catch_up()
    assert store.status_answer("w", run.workflow_id) is not None
    store.clock.advance(1)
    assert store.status_answer("w", run.workflow_id) is None
    assert store.run_record(run.workflow_id) is None
    assert store.list_runs() == []
    store.catch_up()
    assert store.run_record(run.workflow_id) is None
    assert store.metrics()["runs_stored"] == 0
    assert store.metrics()["runs_purged_total"] == 1
    with pytest.raises(WorkflowNotFound):
        store.provide_input(run.workflow_id, "late")


def test_the_retention_purge_empties_the_store_and_frees_every_record() -> None:
    """Once every run is past its retention, one catch-up leaves no run stored or alive."""
    store, clock = _store()
    ids = _start_runs(store, 300)
    assert _live_records(ids) == 300
    clock.advance(60 + RETENTION_S)
    store.catch_up()
    assert _live_records(ids) == 0
    assert store.list_runs(trigger_id="quick-answer") == []
    assert store.metrics()["runs_purged_total"] == 300
    assert store.active_background_runs("demo") == (0, None)


def test_runs_still_pending_at_the_purge_stay_stored() -> None:
    """The purge takes only runs past their retention; newer runs stay readable."""
    store, clock = _store()
    old = _start_runs(store, 50)
    clock.advance(RETENTION_S)
    new = _start_runs(store, 20)
    clock.advance(60)
    store.catch_up()
    assert all(store.run_record(workflow_id) is None for workflow_id in old)
    assert all(store.run_record(workflow_id) is not None for workflow_id in new)


def test_a_large_purge_gives_back_the_memory_the_runs_took() -> None:
    """After purging thousands of runs, under a tenth of the memory they took stays allocated."""
    store, clock = _store()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        _start_runs(store, 6000)
        filled = tracemalloc.get_traced_memory()[0]
        clock.advance(60 + RETENTION_S)
        store.catch_up()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert filled - before > 6000 * 200
    assert after - before < (filled - before) / 10


def test_a_large_purge_compacts_the_shared_run_map_in_place() -> None:
    """Purging thousands keeps the map's identity (the store shares it) and forgets each run."""
    store = make_store()
    runs: dict[str, Run] = {}
    forgotten: list[str] = []
    retention = Retention(100.0, runs, lambda run: forgotten.append(run.workflow_id))
    for _ in range(5000):
        run = start(store, "quick-answer")
        runs[run.workflow_id] = run
        retention.track(run)
    keep = start(store, "long-batch")
    runs[keep.workflow_id] = keep
    retention.track(keep)
    while retention.purge_due(store.clock.now() + 200, 1024):
        pass
    assert list(runs) == [keep.workflow_id]
    assert len(forgotten) == retention.purged == 5000
    assert retention.heap == [keep]


def test_a_run_expired_at_birth_is_counted_but_not_kept() -> None:
    """`admit` refuses a run already past its retention (a long-missed cron tick)."""
    store = make_store()
    retention = Retention(10.0, {}, lambda run: None)
    run = start(store, "quick-answer")
    assert not retention.admit(run, run.end_at + 10)
    assert (retention.purged, retention.heap) == (1, [])
    assert retention.admit(run, run.end_at + 9.9)
    assert retention.heap == [run]


def test_purge_due_handles_at_most_its_budget() -> None:
    """`purge_due` purges at most `budget` expiries a call and says whether some are left."""
    store = make_store()
    runs: dict[str, Run] = {}
    retention = Retention(100.0, runs, lambda run: None)
    for _ in range(10):
        run = start(store, "quick-answer")
        runs[run.workflow_id] = run
        retention.track(run)
    later = store.clock.now() + 200
    assert retention.purge_due(later, 4)
    assert len(runs) == 6
    assert retention.purge_due(later, 4)
    assert not retention.purge_due(later, 4)
    assert not runs
