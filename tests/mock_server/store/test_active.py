"""Background runs going on per workspace: what the concurrency limit (A8) counts."""

from __future__ import annotations

import math

from tests.mock_server.store._support import T0, make_store, start


def test_only_background_runs_not_final_count_with_the_soonest_end() -> None:
    """Sync runs never count; final runs stop counting; the soonest end is reported."""
    store = make_store()
    assert store.active_background_runs("demo") == (0, None)
    quick = start(store, "quick-answer")
    batch = start(store, "long-batch")
    start(store, "quick-answer", sync=True)
    assert store.active_background_runs("demo") == (2, quick.end_at)
    store.clock.advance(10)
    assert store.active_background_runs("demo") == (1, batch.end_at)
    assert store.active_background_runs("sandbox") == (0, None)


def test_a_run_waiting_for_input_counts_with_no_end() -> None:
    """A waiting run is still going on: it counts, and its end is `inf` until input comes."""
    store = make_store()
    run = start(store, "approval-flow")
    store.clock.advance(10)
    assert store.active_background_runs("demo") == (1, math.inf)
    store.provide_input(run.workflow_id, "ok")
    count, end = store.active_background_runs("demo")
    assert count == 1
    assert end is not None
    assert T0 + 10 < end < math.inf
