"""Benchmark: `AsyncTriggerClient` polling 10,000 in-flight runs at once, in one process.

The mock (demo world, journal on) runs at a high time scale. Every run is started on a frozen
clock, so all are pending when the clock is let go; then one `wait()` per run polls E3 with a
fixed interval, all of them concurrently. The mock is reached in process
(`httpx.ASGITransport`) or, with `--socket`, over a real 127.0.0.1 socket (`serve_in_thread`,
`--connections` pooled connections). A run is lost when its poller ends without a final status,
or with one that differs from the store's. Prints the time, requests, errors and lost runs.

    python -m scenarios.bench_pollers [--pollers 10000] [--socket] [--time-scale 600]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Final

import httpx

from harness import AsyncTriggerClient, Exchange, RunHistory, fixed, mock_target
from mock_server import TriggerStore, VirtualClock, create_app, serve_in_thread
from scenarios._mock_process import mock_config

__all__ = ["PollerFigures", "main", "poll_many"]

DEFAULT_TRIGGER: Final = "nightly-report"
_REAL_BOUND_S: Final = 300.0
_IN_PROCESS_URL: Final = "http://testserver"


@dataclass(frozen=True, slots=True)
class PollerFigures:
    """What one run of the benchmark measured."""

    pollers: int
    transport: str
    started: int
    final: int
    seen_pending: int
    lost: int
    requests: int
    errors: int
    start_s: float
    poll_s: float

    def lines(self) -> list[str]:
        """The figures, one per line."""
        rate = self.requests / self.poll_s if self.poll_s else 0.0
        return [
            f"pollers: {self.pollers:,} ({self.transport})",
            f"runs started: {self.started:,} in {self.start_s:.1f} s",
            f"runs polled while pending: {self.seen_pending:,}",
            f"final statuses received: {self.final:,}",
            f"lost runs: {self.lost}",
            f"requests: {self.requests:,} ({rate:,.0f}/s while polling)",
            f"errors (no answer or 4xx/5xx): {self.errors}",
            f"polling time: {self.poll_s:.1f} s",
        ]


class _Tally:
    """A response hook counting requests and error answers."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0

    def __call__(self, exchange: Exchange) -> None:
        self.requests += 1
        if exchange.status_code is None or exchange.status_code >= 400:
            self.errors += 1


@asynccontextmanager
async def _http(app: Any, base_url: str, connections: int) -> AsyncIterator[httpx.AsyncClient]:
    if base_url == _IN_PROCESS_URL:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http
        return
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # A request may wait for a pooled connection as long as the whole run is allowed.
    timeout = httpx.Timeout(30.0, pool=_REAL_BOUND_S)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        yield http


@contextmanager
def _served(app: Any, socket: bool) -> Iterator[str]:
    if not socket:
        yield _IN_PROCESS_URL
        return
    with serve_in_thread(app) as url:
        yield url


def _lost(history: RunHistory, store: TriggerStore) -> bool:
    run = store.run_record(history.workflow_id)
    if history.final is None or run is None:
        return True
    return history.final.status != run.status_at(store.clock.now())


async def _run(
    pollers: int,
    *,
    clock: VirtualClock,
    store: TriggerStore,
    app: Any,
    base_url: str,
    trigger_id: str,
    interval_s: float,
    connections: int,
) -> PollerFigures:
    scale = clock.time_scale
    tally = _Tally()

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / scale)

    target = dataclasses.replace(mock_target(), base_url=base_url, embedded=False)
    async with _http(app, base_url, connections) as http:
        client = AsyncTriggerClient(
            target, http=http, clock=clock.now, sleep=sleep, event_hooks={"response": [tally]}
        )
        clock.set_frozen(True)
        began = time.perf_counter()
        starts = await asyncio.gather(*(client.start(trigger_id) for _ in range(pollers)))
        start_s = time.perf_counter() - began
        tally.requests = tally.errors = 0
        clock.set_frozen(False)
        began = time.perf_counter()
        histories = await asyncio.wait_for(
            asyncio.gather(
                *(
                    client.wait(
                        started.envelope.workflow_id,
                        start=started,
                        strategy=fixed(interval_s),
                        deadline_s=store.config.mock.background_limit_s + 60,
                    )
                    for started in starts
                    if started.envelope is not None
                )
            ),
            timeout=_REAL_BOUND_S,
        )
        poll_s = time.perf_counter() - began
    seen_pending = sum(
        1
        for history in histories
        if any(poll.envelope is not None and not poll.envelope.is_final for poll in history.polls)
    )
    return PollerFigures(
        pollers=pollers,
        transport="in process" if base_url == _IN_PROCESS_URL else f"socket {base_url}",
        started=len(histories),
        final=sum(history.final is not None for history in histories),
        seen_pending=seen_pending,
        lost=pollers - len(histories) + sum(_lost(history, store) for history in histories),
        requests=tally.requests,
        errors=tally.errors,
        start_s=start_s,
        poll_s=poll_s,
    )


def poll_many(
    pollers: int,
    *,
    socket: bool = False,
    time_scale: float = 600.0,
    trigger_id: str = DEFAULT_TRIGGER,
    interval_s: float = 30.0,
    connections: int = 500,
) -> PollerFigures:
    """Start `pollers` runs on a fresh mock and follow them all at once; count what was lost.

    Args:
        pollers: how many runs (one concurrent poller each).
        socket: serve the mock on 127.0.0.1 in a thread instead of calling it in process.
        time_scale: the mock's virtual seconds per real second.
        trigger_id: the demo trigger to start (nightly-report: minutes long).
        interval_s: the pollers' fixed interval, virtual seconds.
        connections: socket only: the client's connection pool size.
    """
    config = mock_config(time_scale=time_scale)
    clock = VirtualClock.from_settings(config.mock)
    store = TriggerStore(config, clock)
    app = create_app(config, store=store, clock=clock)
    with _served(app, socket) as base_url:
        return asyncio.run(
            _run(
                pollers,
                clock=clock,
                store=store,
                app=app,
                base_url=base_url,
                trigger_id=trigger_id,
                interval_s=interval_s,
                connections=connections,
            )
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a run was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=10_000, help="concurrent pollers")
    parser.add_argument("--socket", action="store_true", help="serve on 127.0.0.1 (a thread)")
    parser.add_argument("--time-scale", type=float, default=600.0, help="virtual s per real s")
    parser.add_argument("--trigger", default=DEFAULT_TRIGGER, help="demo trigger to start")
    parser.add_argument("--interval", type=float, default=30.0, help="poll interval, virtual s")
    parser.add_argument("--connections", type=int, default=500, help="socket: pool size")
    args = parser.parse_args(argv)
    if min(args.pollers, args.connections) < 1 or not min(args.time_scale, args.interval) > 0:
        parser.error("--pollers and --connections must be >= 1, --time-scale and --interval > 0")
    figures = poll_many(
        args.pollers,
        socket=args.socket,
        time_scale=args.time_scale,
        trigger_id=args.trigger,
        interval_s=args.interval,
        connections=args.connections,
    )
    print("\n".join(figures.lines()))
    return 1 if figures.lost else 0


if __name__ == "__main__":
    sys.exit(main())
