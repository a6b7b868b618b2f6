"""Benchmark: the mock's memory with a million stored runs, after retention, and E3 under it.

All in one process, on the demo world, with the store filled directly (`populate`):

1. bytes per stored run: tracemalloc over a sample of `--sample` finished runs (target: at most
   550, i.e. about 0.5 GiB per million);
2. RSS (VmRSS) with `--runs` finished runs stored (target: under 1 GiB for 1,000,000);
3. E3 throughput in process (raw ASGI calls into the app, journal on) asking for `--polled`
   runs at random, with `--runs` runs stored, against a store holding only the polled runs
   (the "empty" store): the ratio (target >= 0.9);
4. RSS once the retention window has passed and one catch-up purged every run (target: back
   near the baseline, i.e. keeping at most a tenth of what the runs added).

    python -m scenarios.bench_memory [--runs 1000000] [--sample 10000] [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Final

from mock_server import TriggerStore, VirtualClock, create_app
from scenarios._mock_process import FINISHED_TRIGGER, SETTLE_S, mock_config, populate, read_rss_mib

__all__ = ["MemoryFigures", "e3_requests_per_s", "main", "measure"]

TARGET_BYTES_PER_RUN: Final = 550.0
TARGET_RSS_MIB: Final = 1024.0
TARGET_RATIO: Final = 0.9
TARGET_PURGED_SHARE: Final = 0.1
_START: Final = 1_780_000_000.0
_HEADERS: Final = [(b"host", b"bench"), (b"authorization", b"Bearer demo-key")]


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    """What one benchmark run measured."""

    runs: int
    polled: int
    bytes_per_run: float
    rss_baseline_mib: float
    rss_full_mib: float
    rss_purged_mib: float
    fill_s: float
    purge_s: float
    e3_empty_rps: float
    e3_full_rps: float

    @property
    def ratio(self) -> float:
        """E3 requests/s with the runs stored over requests/s with an empty store."""
        return self.e3_full_rps / self.e3_empty_rps

    def lines(self) -> list[str]:
        """The figures and verdicts, one per line."""

        def verdict(ok: bool) -> str:
            return "meets" if ok else "MISSES"

        purged_over = self.rss_purged_mib - self.rss_baseline_mib
        grown = self.rss_full_mib - self.rss_baseline_mib
        return [
            f"runs stored: {self.runs:,} (filled in {self.fill_s:.1f} s)",
            f"bytes per stored run (tracemalloc): {self.bytes_per_run:,.0f} "
            f"({verdict(self.bytes_per_run <= TARGET_BYTES_PER_RUN)} the target "
            f"<= {TARGET_BYTES_PER_RUN:g})",
            f"RSS per stored run: {grown * 2**20 / self.runs:,.0f} bytes "
            f"({grown * 2**20 / self.runs * 1e6 / 2**30:.2f} GiB per million)",
            f"RSS baseline (empty store): {self.rss_baseline_mib:,.1f} MiB",
            f"RSS with {self.runs:,} finished runs: {self.rss_full_mib:,.1f} MiB "
            f"({verdict(self.rss_full_mib < TARGET_RSS_MIB)} the target < {TARGET_RSS_MIB:g} MiB)",
            f"RSS after the retention purge: {self.rss_purged_mib:,.1f} MiB, "
            f"{purged_over:+,.1f} MiB over the baseline (purge took {self.purge_s:.1f} s; "
            f"{verdict(purged_over <= TARGET_PURGED_SHARE * grown)} the target "
            f"<= {TARGET_PURGED_SHARE:.0%} of the {grown:,.1f} MiB the runs took)",
            f"E3 in process on {self.polled:,} runs, only they stored: "
            f"{self.e3_empty_rps:,.0f} requests/s",
            f"E3 in process on {self.polled:,} runs, {self.runs:,} runs stored: "
            f"{self.e3_full_rps:,.0f} requests/s",
            f"ratio full/empty: {self.ratio:.2f} "
            f"({verdict(self.ratio >= TARGET_RATIO)} the target >= {TARGET_RATIO})",
        ]


def _store() -> tuple[TriggerStore, VirtualClock]:
    clock = VirtualClock(start=_START, real_time=lambda: 0.0)
    return TriggerStore(mock_config(), clock), clock


def bytes_per_run(sample: int) -> float:
    """Traced bytes one stored, finished run takes (mean over `sample` runs).

    Args:
        sample: how many runs to store while tracing.
    """
    store, clock = _store()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        populate(store, sample)
        clock.advance(SETTLE_S)
        store.catch_up()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / sample


async def _drive(app: Any, paths: list[bytes]) -> float:
    """Seconds to answer one E3 request per path, each a raw ASGI call."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for path in paths:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path.decode(),
            "raw_path": path,
            "query_string": b"",
            "root_path": "",
            "headers": _HEADERS,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        await app(scope, receive, send)
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"E3 answered other than 200: {sorted(set(statuses))}")
    return elapsed


def e3_requests_per_s(app: Any, workflow_ids: list[str], requests: int, *, seed: int = 1) -> float:
    """E3 requests/s of `app` in process, on ids drawn at random from `workflow_ids`.

    Args:
        app: the mock's ASGI app.
        workflow_ids: runs to ask for.
        requests: how many requests.
        seed: the draw's seed.
    """
    rng = random.Random(seed)
    paths = [f"/trigger/status/demo/{rng.choice(workflow_ids)}".encode() for _ in range(requests)]
    return requests / asyncio.run(_drive(app, paths))


def measure(
    runs: int, *, sample: int, requests: int, polled: int = 1000, rounds: int = 5
) -> MemoryFigures:
    """Run the whole benchmark (see the module docstring) and return its figures.

    Args:
        runs: finished runs stored for the RSS and E3 figures.
        sample: runs traced for the bytes-per-run figure.
        requests: E3 requests per measurement round.
        polled: how many distinct runs the E3 requests ask for, in both stores.
        rounds: rounds per E3 figure (the best is kept).
    """
    per_run = bytes_per_run(sample)
    gc.collect()
    small_store, small_clock = _store()
    small_ids = populate(small_store, polled)
    small_clock.advance(SETTLE_S)
    small_app = create_app(small_store.config, store=small_store, clock=small_clock)
    store, clock = _store()
    app = create_app(store.config, store=store, clock=clock)
    gc.collect()
    baseline = read_rss_mib()
    started = time.perf_counter()
    ids = populate(store, runs)
    fill_s = time.perf_counter() - started
    clock.advance(SETTLE_S)
    store.catch_up()
    # Fresh copies: a kept id would pin the allocator arena it shares with purged runs.
    polled_ids = ["".join(list(i)) for i in random.Random(0).sample(ids, min(polled, runs))]
    ids.clear()
    gc.collect()
    full = read_rss_mib()
    empty_rps = full_rps = 0.0
    for index in range(rounds):  # alternated, so drift in the machine's speed hits both
        empty_rps = max(empty_rps, e3_requests_per_s(small_app, small_ids, requests, seed=index))
        full_rps = max(full_rps, e3_requests_per_s(app, polled_ids, requests, seed=index))
    clock.advance(store.config.mock.retention_s + SETTLE_S)
    started = time.perf_counter()
    store.catch_up()
    purge_s = time.perf_counter() - started
    if store.list_runs(trigger_id=FINISHED_TRIGGER):
        raise RuntimeError("stored runs are left after the retention window")
    gc.collect()
    return MemoryFigures(
        runs=runs,
        polled=len(polled_ids),
        bytes_per_run=per_run,
        rss_baseline_mib=baseline,
        rss_full_mib=full,
        rss_purged_mib=read_rss_mib(),
        fill_s=fill_s,
        purge_s=purge_s,
        e3_empty_rps=empty_rps,
        e3_full_rps=full_rps,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="finished runs stored")
    parser.add_argument("--sample", type=int, default=10_000, help="runs traced for bytes/run")
    parser.add_argument("--requests", type=int, default=20_000, help="E3 requests per round")
    parser.add_argument("--polled", type=int, default=1000, help="distinct runs E3 asks for")
    parser.add_argument("--rounds", type=int, default=5, help="E3 rounds (best kept)")
    args = parser.parse_args(argv)
    if min(args.runs, args.sample, args.requests, args.polled, args.rounds) < 1:
        parser.error("--runs, --sample, --requests, --polled and --rounds must be >= 1")
    figures = measure(
        args.runs,
        sample=args.sample,
        requests=args.requests,
        polled=args.polled,
        rounds=args.rounds,
    )
    print("\n".join(figures.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
