"""Many pollers: the async client follows thousands of in-flight runs at once and loses none.

The reduced-size run of `scenarios/bench_pollers.py` (full size: 10,000 pollers).
"""

from __future__ import annotations

import pytest

from scenarios.bench_pollers import poll_many

POLLERS = 2000


def test_two_thousand_concurrent_pollers_in_process_receive_every_final_status() -> None:
    """2,000 runs polled concurrently in process each end with the store's final status."""
    figures = poll_many(POLLERS, time_scale=100.0)
    assert figures.started == POLLERS
    assert figures.final == POLLERS
    assert figures.lost == 0
    assert figures.errors == 0
    assert figures.requests >= POLLERS
    assert figures.seen_pending > POLLERS // 4


@pytest.mark.socket
def test_concurrent_pollers_over_a_real_socket_share_a_bounded_pool_and_lose_nothing() -> None:
    """300 pollers over 20 pooled 127.0.0.1 connections all receive their final status."""
    figures = poll_many(300, socket=True, time_scale=300.0, connections=20)
    assert figures.transport.startswith("socket http://127.0.0.1:")
    assert figures.final == 300
    assert figures.lost == 0
    assert figures.errors == 0
