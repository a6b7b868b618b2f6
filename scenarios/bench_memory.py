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

With `--http`, instead: bytes per stored run over HTTP. The mock serves in its own process
(`scenarios._mock_process`, time scale 100 so runs finish at once, journal on) and `wrk`
posts E2 requests with load-test-like variables for `--warmup-s` seconds (the journal fills
to its bound), then for `--duration-s` more; the figure is the mock's RSS growth over the runs
the second phase stored (`runs_stored` of `/__admin/metrics`) (target: 0.5 GiB per million).

With `--body`, instead: the RSS one E2 request with a 1 MiB body of small objects
(`{"user_variables": {"a": [{}, {}, ...]}}`, the A7 limit) leaves behind, measured in a fresh
process (`--body-child`, raw ASGI calls, the body sent in 64 KiB chunks as uvicorn does) after
two small requests of the same shape: after one such body (target: at most 2 MiB, the run's
kept variables included) and after `--bodies` of them.

    python -m scenarios.bench_memory [--runs 1000000] [--sample 10000] [--requests 20000]
    python -m scenarios.bench_memory --http [--warmup-s 5] [--duration-s 10]
    python -m scenarios.bench_memory --body [--bodies 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Final

import httpx

from mock_server import TriggerStore, VirtualClock, create_app
from scenarios._mock_process import FINISHED_TRIGGER, SETTLE_S, mock_config, populate, read_rss_mib

__all__ = [
    "BodyFigures",
    "HttpFigures",
    "MemoryFigures",
    "body_rss_mib",
    "e3_requests_per_s",
    "http_bytes_per_run",
    "main",
    "measure",
    "small_objects_body",
]

TARGET_BYTES_PER_RUN: Final = 550.0
TARGET_RSS_MIB: Final = 1024.0
TARGET_RATIO: Final = 0.9
TARGET_PURGED_SHARE: Final = 0.1
_START: Final = 1_780_000_000.0
_HEADERS: Final = [(b"host", b"bench"), (b"authorization", b"Bearer demo-key")]
TARGET_BODY_MIB: Final = 2.0
BODY_BYTES: Final = 1_048_576
"""The body's size: the default `max_body_bytes` (A7)."""
_CHUNK_BYTES: Final = 65_536
_E2_PATH: Final = b"/trigger/start/demo/quick-answer/DEV"
TARGET_GIB_PER_MILLION: Final = 0.5
_POST_SCRIPT: Final = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-key"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"message":"bench","user_variables":{"load_flow":"background","load_id":"%032x"}}', counter)
  return wrk.format(nil, "/trigger/start/demo/quick-answer/DEV", nil, body)
end
"""
"""wrk's E2 requests: the variables `populate` gives, one distinct id per request."""


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


def _scope(method: str, path: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of one HTTP request from 127.0.0.1."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


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
        await app(_scope("GET", path, _HEADERS), receive, send)
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


@dataclass(frozen=True, slots=True)
class BodyFigures:
    """RSS (MiB) of a fresh mock process around E2 requests with 1 MiB bodies of `{}`."""

    bodies: int
    kept_mib: float
    """The variables one such run keeps (compact JSON)."""
    rss_before_mib: float
    rss_one_mib: float
    rss_all_mib: float

    def lines(self) -> list[str]:
        """The figures and the verdict, one per line."""
        one = self.rss_one_mib - self.rss_before_mib
        verdict = "meets" if one <= TARGET_BODY_MIB else "MISSES"
        return [
            f"RSS before (fresh mock, two small bodies served): {self.rss_before_mib:,.1f} MiB",
            f"RSS one 1 MiB body of small objects costs: {one:+.1f} MiB, the run's kept "
            f"variables ({self.kept_mib:.2f} MiB) included ({verdict} the target "
            f"<= {TARGET_BODY_MIB:g} MiB)",
            f"RSS after {self.bodies} such bodies: {self.rss_all_mib - self.rss_before_mib:+.1f} "
            f"MiB ({self.bodies * self.kept_mib:.2f} MiB of it kept variables)",
        ]


def small_objects_body(size: int) -> bytes:
    """`{"user_variables": {"a": [{}, {}, ...]}}` with as many `{}` as fit in `size` bytes."""
    head, tail = b'{"user_variables": {"a": [', b"]}}"
    count = max((size - len(head) - len(tail) + 2) // 4, 1)
    return head + b", ".join([b"{}"] * count) + tail


async def _post(app: Any, path: bytes, body: bytes) -> int:
    """The status `app` answers a POST of `body` to `path` with, the body in 64 KiB chunks."""
    chunks = [body[at : at + _CHUNK_BYTES] for at in range(0, len(body), _CHUNK_BYTES)]
    messages = iter(
        [
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
            for index, chunk in enumerate(chunks)
        ]
    )
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    headers = [*_HEADERS, (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    await app(_scope("POST", path, headers), receive, send)
    return statuses[0]


async def _body_rounds(app: Any, bodies: int) -> dict[str, float]:
    """RSS (MiB) before, after one and after `bodies` E2 requests with 1 MiB bodies."""
    statuses = [await _post(app, _E2_PATH, small_objects_body(4096)) for _ in range(2)]
    gc.collect()
    rss = {"before": read_rss_mib()}
    for index in range(bodies):
        statuses.append(await _post(app, _E2_PATH, small_objects_body(BODY_BYTES)))
        gc.collect()
        rss["one" if index == 0 else "all"] = read_rss_mib()
    if set(statuses) != {200}:
        raise RuntimeError(f"E2 answered other than 200: {sorted(set(statuses))}")
    rss.setdefault("all", rss["one"])
    return rss


def body_rss_mib(bodies: int) -> BodyFigures:
    """Measure `BodyFigures` in a fresh Python process (this module with `--body-child`).

    Args:
        bodies: how many 1 MiB bodies the process is sent in all.

    Raises:
        subprocess.CalledProcessError: the measuring process failed.
    """
    command = [sys.executable, "-m", "scenarios.bench_memory", "--body-child"]
    done = subprocess.run(
        [*command, "--bodies", str(bodies)], capture_output=True, text=True, check=True, timeout=300
    )
    rss = json.loads(done.stdout.splitlines()[-1])
    variables = json.loads(small_objects_body(BODY_BYTES))["user_variables"]
    kept = len(json.dumps(variables, separators=(",", ":")))
    return BodyFigures(
        bodies=bodies,
        kept_mib=kept / 2**20,
        rss_before_mib=rss["before"],
        rss_one_mib=rss["one"],
        rss_all_mib=rss["all"],
    )


@dataclass(frozen=True, slots=True)
class HttpFigures:
    """The mock's RSS (MiB) before and after `runs` runs were stored over HTTP."""

    runs: int
    rss_warm_mib: float
    rss_full_mib: float

    @property
    def bytes_per_run(self) -> float:
        """RSS growth per stored run, in bytes."""
        return (self.rss_full_mib - self.rss_warm_mib) * 2**20 / self.runs

    def lines(self) -> list[str]:
        """The figures and the verdict, one per line."""
        per_million = self.bytes_per_run * 1e6 / 2**30
        verdict = "meets" if per_million <= TARGET_GIB_PER_MILLION else "MISSES"
        return [
            f"runs stored over HTTP: {self.runs:,} (RSS {self.rss_warm_mib:,.1f} -> "
            f"{self.rss_full_mib:,.1f} MiB)",
            f"RSS per stored run over HTTP: {self.bytes_per_run:,.0f} bytes "
            f"({per_million:.2f} GiB per million; {verdict} the target "
            f"<= {TARGET_GIB_PER_MILLION:g})",
        ]


def _runs_stored(client: httpx.Client) -> int:
    """`runs_stored` of the mock's metrics."""
    for line in client.get("/__admin/metrics").text.splitlines():
        if line.startswith("mock_runs_stored "):
            return int(float(line.split()[1]))
    raise RuntimeError("no mock_runs_stored in /__admin/metrics")


def _wrk_post(url: str, script: str, seconds: int) -> None:
    """Drive E2 on `url` with wrk (`script`) for `seconds`; every answer must be a 200."""
    output = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error answers:\n{output}")


def http_bytes_per_run(*, warmup_s: int, duration_s: int) -> HttpFigures:
    """Measure `HttpFigures` against a mock in its own process (see the module docstring).

    Args:
        warmup_s: seconds of E2 load before the first RSS reading.
        duration_s: seconds of E2 load between the two readings.

    Raises:
        RuntimeError: the mock did not start, or answered other than 200.
        FileNotFoundError: wrk is not installed.
    """
    command = [sys.executable, "-m", "scenarios._mock_process", "--time-scale", "100"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("serving "):
            raise RuntimeError(f"the mock did not start: {line!r}")
        url = line.removeprefix("serving ")
        with (
            tempfile.NamedTemporaryFile("w", suffix=".lua") as script,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            script.write(_POST_SCRIPT)
            script.flush()
            _wrk_post(url, script.name, warmup_s)
            warm_runs = _runs_stored(client)
            warm = read_rss_mib(process.pid)
            _wrk_post(url, script.name, duration_s)
            time.sleep(SETTLE_S / 100)  # the last runs end (time scale 100)
            runs = _runs_stored(client) - warm_runs
            return HttpFigures(runs=runs, rss_warm_mib=warm, rss_full_mib=read_rss_mib(process.pid))
    finally:
        process.terminate()
        process.wait(10)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="finished runs stored")
    parser.add_argument("--sample", type=int, default=10_000, help="runs traced for bytes/run")
    parser.add_argument("--requests", type=int, default=20_000, help="E3 requests per round")
    parser.add_argument("--polled", type=int, default=1000, help="distinct runs E3 asks for")
    parser.add_argument("--rounds", type=int, default=5, help="E3 rounds (best kept)")
    parser.add_argument("--body", action="store_true", help="measure 1 MiB bodies instead")
    parser.add_argument("--bodies", type=int, default=10, help="1 MiB bodies sent (--body)")
    parser.add_argument("--body-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--http", action="store_true", help="measure bytes per run over HTTP")
    parser.add_argument("--warmup-s", type=int, default=5, help="seconds of E2 load first")
    parser.add_argument("--duration-s", type=int, default=10, help="seconds of E2 load measured")
    args = parser.parse_args(argv)
    if min(args.runs, args.sample, args.requests, args.polled, args.rounds, args.bodies) < 1:
        parser.error("--runs, --sample, --requests, --polled, --rounds and --bodies must be >= 1")
    if args.body_child:
        app = create_app(mock_config())
        print(json.dumps(asyncio.run(_body_rounds(app, args.bodies))))
        return 0
    if args.body:
        print("\n".join(body_rss_mib(args.bodies).lines()))
        return 0
    if args.http:
        if min(args.warmup_s, args.duration_s) < 1:
            parser.error("--warmup-s and --duration-s must be >= 1")
        http = http_bytes_per_run(warmup_s=args.warmup_s, duration_s=args.duration_s)
        print("\n".join(http.lines()))
        return 0
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
