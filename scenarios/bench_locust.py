"""Benchmark: requests per core-second of the harness's Locust user against a plain `FastHttpUser`.

Both run the same start-then-poll flow against one mock (`trigger-mock serve`, demo world,
pinned to core 1, `--time-scale 600` by default: a `nightly-report` run, about 180 target s,
ends in about 0.3 real s, polled every 5 target s, so about 97% of requests are E3 polls):

- harness: `locust -f scenarios/background.py` (1 user, a flow every `--pacing` real s, at most
  `--max-flows` in flight, every answer judged by the contract checks);
- plain: `locust -f scenarios/_bench_plain.py` (`--max-flows` users, one flow each at a time,
  polling every 5 target s in real seconds).

Each Locust runs headless on core 0, unniced (this script nices itself), the two alternating
(`--pairs`). Its CPU time is user + sys of the process tree (psutil when it starts ramping up,
`os.wait4` when it exits), its requests the `Aggregated` row of its `_stats.csv`. Prints, per
pair, requests per core-second of each, their ratio (harness / plain) and the 1-minute load
average of the machine; then the median ratio.

    python -m scenarios.bench_locust [--pairs 3] [--duration 12] [--time-scale 600]
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import psutil  # type: ignore[import-untyped]  # no stubs installed

__all__ = ["LocustFigures", "main", "run_locust"]

_ROOT: Final = Path(__file__).resolve().parent.parent
_LOCUST: Final = (sys.executable, "-m", "locust")
_LOCUST_CORE: Final = 0
_MOCK_CORE: Final = 1
_POLL_TARGET_S: Final = 5.0
_READY_WAIT_S: Final = 20.0
_TAIL_LINES: Final = 20
_STARTED: Final = "Ramping to"
"""Locust's log line when users start: the CPU spent before it (imports, setup) is not counted."""


@dataclass(frozen=True, slots=True)
class LocustFigures:
    """One Locust run: requests, failures and CPU seconds after its users started."""

    kind: str
    requests: int
    failures: int
    cpu_s: float

    @property
    def per_core_second(self) -> float:
        """Requests per CPU second of the Locust process tree."""
        return self.requests / self.cpu_s if self.cpu_s > 0 else 0.0


def _pin(pid: int, core: int) -> None:
    """Keep process `pid` on `core`, at nice 0 (this script runs niced; the measured do not).

    Lowering the nice needs privileges; without them the process keeps this script's nice
    (a note says so).
    """
    process = psutil.Process(pid)
    process.cpu_affinity([core])
    try:
        process.nice(0)
    except psutil.AccessDenied:
        print(f"note: pid {pid} runs at nice {process.nice()} (no privilege to lower it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_mock(time_scale: float) -> Iterator[str]:
    """`trigger-mock serve` on core 1 at `time_scale`; yields its URL, stops it on exit."""
    port = _free_port()
    command = [sys.executable, "-m", "mock_server", "serve", "--port", str(port)]
    command += ["--time-scale", str(time_scale)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pin(process.pid, _MOCK_CORE)
    try:
        _wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _READY_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the mock exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise SystemExit(f"the mock did not listen on port {port} within {_READY_WAIT_S:.0f} s")


def _command(kind: str, url: str, args: argparse.Namespace, prefix: Path) -> list[str]:
    common = ["--headless", "-t", f"{args.duration}s", "--host", url, "--csv", str(prefix)]
    if kind == "harness":
        flow = [
            "--pacing", str(args.pacing), "--max-flows-per-user", str(args.max_flows),
            "--poll-strategy", "fixed", "--poll-interval", str(_POLL_TARGET_S),
        ]  # fmt: skip
        return [*_LOCUST, "-f", "scenarios/background.py", "-u", "1", "-r", "1", *common, *flow]
    poll = ["--poll-real-s", str(_POLL_TARGET_S / args.time_scale)]
    users = ["-u", str(args.max_flows), "-r", str(args.max_flows)]
    return [*_LOCUST, "-f", "scenarios/_bench_plain.py", *users, *common, *poll]


def _tree_cpu_s(process: psutil.Process) -> float:
    """User + sys CPU seconds of `process` and its living children."""
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        with_children = member.cpu_times()
        total += with_children.user + with_children.system
    return total


def _watch_start(
    stream: IO[bytes], process: psutil.Process, started: list[float], tail: deque[str]
) -> None:
    """Read Locust's log; at the first `Ramping to` line record the tree's CPU seconds so far."""
    for raw in stream:
        line = raw.decode(errors="replace")
        tail.append(line)
        if not started and _STARTED in line:
            started.append(_tree_cpu_s(process))


def _aggregated(prefix: Path) -> tuple[int, int]:
    with Path(f"{prefix}_stats.csv").open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                return int(row["Request Count"]), int(row["Failure Count"])
    raise SystemExit(f"no Aggregated row in {prefix}_stats.csv")


def run_locust(kind: str, url: str, args: argparse.Namespace) -> LocustFigures:
    """Run one Locust (`harness` or `plain`) against `url`; its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp:
        prefix = Path(tmp) / kind
        popen = subprocess.Popen(
            _command(kind, url, args, prefix),
            cwd=_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _pin(popen.pid, _LOCUST_CORE)
        assert popen.stderr is not None
        started: list[float] = []
        tail: deque[str] = deque(maxlen=_TAIL_LINES)
        reader = threading.Thread(
            target=_watch_start, args=(popen.stderr, psutil.Process(popen.pid), started, tail)
        )
        reader.start()
        _, _, usage = os.wait4(popen.pid, 0)
        popen.returncode = 0  # reaped above
        reader.join(timeout=10)
        if not started:
            raise SystemExit(f"{kind}: Locust never started its users:\n{''.join(tail)}")
        requests, failures = _aggregated(prefix)
    cpu = usage.ru_utime + usage.ru_stime - started[0]
    return LocustFigures(kind=kind, requests=requests, failures=failures, cpu_s=cpu)


def _line(figures: LocustFigures) -> str:
    return (
        f"{figures.kind:>7}: {figures.requests:>7,} requests ({figures.failures:,} failed), "
        f"{figures.cpu_s:5.1f} CPU s, {figures.per_core_second:7,.0f} requests/core-s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="harness/plain pairs (default 3)")
    parser.add_argument("--duration", type=int, default=12, help="seconds per run (default 12)")
    parser.add_argument("--time-scale", type=float, default=600.0, help="the mock's time scale")
    parser.add_argument("--pacing", type=float, default=0.01, help="harness: s between flows")
    parser.add_argument("--max-flows", type=int, default=50, help="flows in flight, at most")
    args = parser.parse_args(argv)
    os.nice(10)
    ratios = []
    with serve_mock(args.time_scale) as url:
        print(f"mock {url} on core {_MOCK_CORE}, time scale {args.time_scale:g}; Locust on core 0")
        for pair in range(1, args.pairs + 1):
            load = os.getloadavg()[0]
            harness = run_locust("harness", url, args)
            plain = run_locust("plain", url, args)
            ratio = harness.per_core_second / plain.per_core_second
            ratios.append(ratio)
            print(f"pair {pair} (load average {load:.2f} -> {os.getloadavg()[0]:.2f})")
            print(_line(harness))
            print(_line(plain))
            print(f"  ratio harness/plain: {ratio:.2f}")
    print(f"median ratio over {len(ratios)} pairs: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
