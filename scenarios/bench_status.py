"""Benchmark of the hot path E3 (`GET /trigger/status/...`) against a bare Starlette endpoint.

Starts two servers in turn on core 1 (`taskset -c 1`), each under uvicorn with the same settings:
the mock (journal on; `python -m scenarios._mock_process`, its store filled with `--runs` runs
before serving: finished ones, or with `--in-flight` runs pending for 45 min),
and a bare Starlette app returning the same JSON body on one route. Drives each with `wrk` on
core 0 (`taskset -c 0 wrk -t1 -c50 -d10s`, with the auth header) and prints both requests/s and
their ratio (target >= 0.8).

    python -m scenarios.bench_status [--runs 1000] [--in-flight] [--duration 10s] [--connections 50]
    python -m scenarios.bench_status --runs 100000 --in-flight     # E3 under state (>= 0.7)
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["main"]

KEY = "demo-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TARGET_RATIO = 0.8
_REQUESTS_PER_S = re.compile(r"Requests/sec:\s+([0-9.]+)")


def _baseline_app(body: bytes) -> Starlette:
    async def status(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/trigger/status/{workspace_id}/{workflow_id}", status)])


def serve_baseline(body_path: Path) -> None:
    """Serve the bare Starlette baseline on a free loopback port; first line is its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"serving http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    app = _baseline_app(body_path.read_bytes())
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def _server(command: list[str]) -> Iterator[str]:
    """Run a server command pinned to core 1; yields the URL from its first stdout line."""
    process = subprocess.Popen(["taskset", "-c", "1", *command], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("serving "):
            raise RuntimeError(f"server did not start: {line!r}")
        yield line.removeprefix("serving ")
    finally:
        process.terminate()
        process.wait(10)


def _wrk(url: str, duration: str, connections: int) -> float:
    """Requests per second wrk reaches on `url` from core 0."""
    output = subprocess.run(
        [
            "taskset",
            "-c",
            "0",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}",
            "-H",
            f"Authorization: Bearer {KEY}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error answers from {url}:\n{output}")
    match = _REQUESTS_PER_S.search(output)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{output}")
    return float(match.group(1))


def _prepare_mock(base_url: str, runs: int) -> str:
    """Create `runs` more background runs, let them finish; returns one finished run's E3 URL."""
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as client:
        ids = [
            client.post("/trigger/start/demo/quick-answer/DEV", json={"message": "bench"}).json()[
                "workflow_id"
            ]
            for _ in range(runs)
        ]
        client.post("/__admin/clock", json={"advance_s": 600}).raise_for_status()
        status_url = f"{base_url}/trigger/status/demo/{ids[len(ids) // 2]}"
        final = client.get(status_url)
        final.raise_for_status()
        if final.json()["status"] != "completed":
            raise RuntimeError(f"run not finished: {final.text}")
        return status_url


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print requests/s of both servers and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs stored before serving")
    parser.add_argument("--in-flight", action="store_true", help="the stored runs stay pending")
    parser.add_argument("--duration", default="10s", help="wrk duration per server")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--serve-baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline is not None:
        serve_baseline(args.serve_baseline)
        return 0
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(
            f"bench_status: {' and '.join(missing)} not found; install with "
            "`apt-get update && apt-get install -y wrk` (taskset is in util-linux)",
            file=sys.stderr,
        )
        return 2
    python = sys.executable
    in_flight = ["--in-flight"] if args.in_flight else []
    mock = [python, "-m", "scenarios._mock_process", "--runs", str(args.runs), *in_flight]
    with _server(mock) as mock_url:
        status_url = _prepare_mock(mock_url, 1)
        body = httpx.get(status_url, headers=AUTH).content
        mock_rps = _wrk(status_url, args.duration, args.connections)
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        command = [python, "-m", "scenarios.bench_status", "--serve-baseline", str(body_path)]
        with _server(command) as baseline_url:
            path = status_url.removeprefix(mock_url)
            baseline_rps = _wrk(baseline_url + path, args.duration, args.connections)
    ratio = mock_rps / baseline_rps
    state = "in-flight" if args.in_flight else "finished"
    print(f"E3 mock (journal on, {args.runs:,} {state} runs): {mock_rps:,.0f} requests/s")
    print(f"bare Starlette, same body:                    {baseline_rps:,.0f} requests/s")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio mock/baseline: {ratio:.2f} ({verdict} the target >= {TARGET_RATIO})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
