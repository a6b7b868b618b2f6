"""What a stored run costs: the record's layout, the indexes' share, and the bytes per run.

The RSS figures (per million runs, after a purge) are benchmarks in `scenarios/bench_memory.py`;
these tests assert the structure they rely on, with tracemalloc on deterministic operations.
"""

from __future__ import annotations

import gc
import itertools
import platform
import sys
import tracemalloc

from mock_server._clock import VirtualClock
from mock_server._config import Duration, TriggerConfig, demo_config
from mock_server.store import Run, TriggerStore
from mock_server.store._malloc import pin_malloc_thresholds
from mock_server.store._runs import RunExtra
from tests.mock_server.store._support import make_store, start, world

RETENTION_S = 86_400.0
_SEEDS = itertools.count(920_000)  # ids unique to this module (records are found by id)


def _store() -> tuple[TriggerStore, VirtualClock]:
    clock = VirtualClock(start=1_780_000_000.0, real_time=lambda: 0.0)
    return TriggerStore(demo_config(seed=next(_SEEDS)), clock), clock


def _fill(store: TriggerStore, count: int) -> list[Run]:
    """`count` quick runs with load-test-like variables (a 32-character id each)."""
    return [
        store.start_run(
            workspace_id="demo",
            trigger_id="quick-answer",
            environment="DEV",
            message="bench",
            user_variables={"load_flow": "background", "load_id": f"{n:032x}"},
        )
        for n in range(count)
    ]


def test_a_run_is_twelve_slots_with_its_rare_fields_apart() -> None:
    """A run that never pauses is 128 bytes with no `__dict__` and no extra record."""
    run = start(make_store(), "quick-answer")
    assert not hasattr(run, "__dict__")
    assert len(Run.__slots__) == 12
    assert sys.getsizeof(run) <= 128
    assert run.extra is None
    assert (run.pause_at, run.resumed_at, run.input_message, run.error_text) == (
        float("inf"),
        float("inf"),
        None,
        None,
    )


def test_the_rare_fields_live_in_the_extra_record_once_set() -> None:
    """A pausing run gets its extra record at birth; input fills it in."""
    store = make_store()
    run = start(store, "approval-flow")
    assert isinstance(run.extra, RunExtra)
    store.clock.advance(10)
    store.provide_input(run.workflow_id, "ok")
    assert run.extra is not None
    assert (run.resumed_at, run.input_message) == (store.clock.now(), "ok")


def test_equal_short_messages_share_one_string() -> None:
    """Runs started with equal short messages keep one string between them."""
    store = make_store()
    first = start(store, "quick-answer", message="".join(["nightly ", "sync"]))
    second = start(store, "quick-answer", message="".join(["nightly", " sync"]))
    assert first.message is second.message


def test_a_stored_finished_run_takes_at_most_550_bytes() -> None:
    """Traced bytes per stored, finished run (record, id, times, seed, variables, indexes)."""
    store, clock = _store()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        runs = _fill(store, 4000)
        clock.advance(10)
        store.catch_up()
        store.active_background_runs("demo")
        del runs
        gc.collect()
        per_run = (tracemalloc.get_traced_memory()[0] - before) / 4000
    finally:
        tracemalloc.stop()
    assert per_run <= 550


def test_the_indexes_hold_runs_not_entries() -> None:
    """The expiry heap and the active index hold the runs themselves (no tuple per run), and
    finished runs leave the active index when counted."""
    store, clock = _store()
    runs = _fill(store, 50)
    heap = store._retention.heap
    assert len(heap) == 50
    assert all(type(entry) is Run for entry in heap)
    assert store.active_background_runs("demo")[0] == 50
    clock.advance(10)
    assert store.active_background_runs("demo") == (0, None)
    assert {run.workflow_id for run in runs} == {run.workflow_id for run in heap}


def test_a_sync_run_failed_at_the_limit_expires_from_the_limit() -> None:
    """Under the `failed` policy the end moves to the limit before the expiry is tracked, so
    the run is purged `retention_s` after the limit, not after its drawn end."""
    trigger = TriggerConfig(id="slow", duration=Duration(dist="fixed", s=200))
    store = make_store(world(trigger, sync_timeout_policy="failed", retention_s=1000))
    run = start(store, "slow", workspace_id="w", sync=True)
    store.clock.advance(150 + 1000)
    store.catch_up()
    assert store.run_record(run.workflow_id) is None
    assert store.metrics()["runs_purged_total"] == 1


def test_the_c_allocator_thresholds_are_pinned_on_glibc() -> None:
    """Building a store pins glibc's thresholds (once per process); elsewhere nothing changes."""
    make_store()
    assert pin_malloc_thresholds() is (platform.libc_ver()[0] == "glibc")
