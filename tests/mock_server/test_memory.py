"""Memory structure of the store: slotted run records, and a retention purge that frees them.

The figures (bytes per run, RSS with a million runs) are benchmarks in
`scenarios/bench_memory.py`; these tests assert only the structure those figures rely on.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc

from mock_server._clock import VirtualClock
from mock_server._config import demo_config
from mock_server._store import RunRecord, TriggerStore

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
    return sum(
        1 for obj in gc.get_objects() if isinstance(obj, RunRecord) and obj.workflow_id in ids
    )


def test_run_records_are_slotted_without_an_instance_dict() -> None:
    """A stored run is a `__slots__` record: it has no per-instance `__dict__`."""
    store, _ = _store()
    (workflow_id,) = _start_runs(store, 1)
    run = store.run_record(workflow_id)
    assert run is not None
    assert "workflow_id" in RunRecord.__slots__
    assert not hasattr(run, "__dict__")


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
