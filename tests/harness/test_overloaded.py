"""The `overloaded` preset: 429s with `Retry-After` until the deadline, never giving up earlier.

As on the embedded mock at a high time scale, the client counts virtual seconds while the
mock's rate limits count "real" ones, so it reads each `Retry-After` as VIRTUAL_SCALE /
RATE_SCALE times shorter than meant and meets long runs of 429s. Here "real" time runs
RATE_SCALE times faster than the wall clock so that the whole test takes a few seconds.
Before the fix the client gave up after 6 consecutive 429s (12-143 of 500 runs lost).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx

from harness import AsyncTriggerClient
from harness._models import StopReason
from harness._targets import mock_target
from mock_server import create_app, demo_config

VIRTUAL_SCALE = 100.0
RATE_SCALE = 10.0
RUNS = 500
BATCH = 100
DEADLINE_S = 120.0


def _rate_time() -> float:
    return time.monotonic() * RATE_SCALE


def _virtual_now() -> float:
    return time.monotonic() * VIRTUAL_SCALE


async def _virtual_sleep(seconds: float) -> None:
    await asyncio.sleep(max(seconds, 0.0) / VIRTUAL_SCALE)


async def _follow_batches(client: AsyncTriggerClient) -> list[StopReason | None]:
    reasons: list[StopReason | None] = []
    for _ in range(RUNS // BATCH):
        starts = await asyncio.gather(
            *(
                client.start("quick-answer", retry_rate_limited=True, deadline_s=DEADLINE_S)
                for _ in range(BATCH)
            )
        )
        histories = await asyncio.gather(
            *(
                client.wait(started.envelope.workflow_id, start=started, deadline_s=DEADLINE_S)
                for started in starts
                if started.envelope is not None
            )
        )
        reasons += [history.stop_reason for history in histories]
    return reasons


def test_five_hundred_runs_under_the_overloaded_preset_all_end_final() -> None:
    """500 runs started 100 at a time on `overloaded` each end final: 429s never stop following."""
    world = demo_config(seed=7)
    settings = dataclasses.replace(
        world.mock, scenario="overloaded", time_scale=VIRTUAL_SCALE / RATE_SCALE
    )
    app = create_app(dataclasses.replace(world, mock=settings), real_time=_rate_time)

    async def main() -> list[StopReason | None]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            target = dataclasses.replace(mock_target(), base_url="http://testserver")
            client = AsyncTriggerClient(target, http=http, clock=_virtual_now, sleep=_virtual_sleep)
            return await asyncio.wait_for(_follow_batches(client), timeout=120.0)

    reasons = asyncio.run(main())
    assert len(reasons) == RUNS
    assert reasons.count(StopReason.FINAL) == RUNS, {r: reasons.count(r) for r in set(reasons)}
