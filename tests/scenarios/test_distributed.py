"""`trigger-harness load --expect-workers N` with plain `locust --worker` processes, on loopback.

A `trigger-mock serve` subprocess (free port, high time scale) is the target; the harness runs
only the Locust master and the test starts the workers as another machine would: plain
`locust -f scenarios/background.py --worker --master-host 127.0.0.1 --master-port P`, each in
its own empty working directory, with no flow option (they come from the master) and the key
in its own environment. The flows reach the master through Locust's messaging: the report
counts exactly the runs the mock started. Every wait is bounded; no process is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from harness.load import PROJECT_ROOT

pytestmark = pytest.mark.load

BIN = Path(sys.executable).parent
KEY_ENV = "DISTRIBUTED_TEST_KEY"
WAIT_S = 120.0
"""The most any one process of these tests may take (a bound, never a timing assertion)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def mock_url(tmp_path: Path) -> Iterator[str]:
    """A `trigger-mock serve` subprocess on a free port, 300 virtual seconds per real one."""
    process = subprocess.Popen(
        [str(BIN / "trigger-mock"), "serve", "--port", "0", "--time-scale", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving "), line
        yield line.split()[1]
    finally:
        process.terminate()
        process.communicate(timeout=WAIT_S)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[Any]]]:
    """The processes a test starts: any still running at its end (a failed test) is killed."""
    processes: list[subprocess.Popen[Any]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=WAIT_S)


def _targets(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(
        f'[targets.remote]\nbase_url = "{url}"\nworkspace_id = "demo"\nenvironment = "DEV"\n'
        f'api_key_env = "{KEY_ENV}"\nbackground_trigger = "nightly-report"\n'
        "poll_interval_s = 5\n",
        encoding="utf-8",
    )
    return path


def _harness(
    started: list[subprocess.Popen[Any]], tmp_path: Path, url: str, port: int, *extra: str
) -> subprocess.Popen[str]:
    command = [
        str(BIN / "trigger-harness"), "load", "--target", "remote",
        "--targets", str(_targets(tmp_path, url)), "--scenario", "background",
        "--users", "2", "--spawn-rate", "10", "--pacing", "0.25", "--seed", "1",
        "--report-dir", str(tmp_path / "reports"),
        "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
        "--master-bind-port", str(port), "--expect-workers-max-wait", "30", *extra,
    ]  # fmt: skip
    env = {**os.environ, KEY_ENV: "demo-key"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    started.append(process)
    return process


def _worker(started: list[subprocess.Popen[Any]], home: Path, port: int) -> subprocess.Popen[bytes]:
    """A plain Locust worker in its own empty folder: no flow option, the key in its env."""
    home.mkdir()
    command = [
        str(BIN / "locust"), "-f", str(PROJECT_ROOT / "scenarios" / "background.py"),
        "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
    ]  # fmt: skip
    env = {**os.environ, KEY_ENV: "demo-key"}
    process = subprocess.Popen(
        command, cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    started.append(process)
    return process


def _results(harness: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = harness.communicate(timeout=WAIT_S)
    assert out.strip(), err
    report = Path(out.strip().splitlines()[-1].removeprefix("report: "))
    data = json.loads((report.parent / "results.json").read_text(encoding="utf-8"))
    return harness.returncode, data, err


def _api_runs(url: str) -> int:
    answer = httpx.get(f"{url}/__admin/runs", params={"source": "api"}, timeout=30)
    return len(answer.json()["runs"])


def _settle(*processes: subprocess.Popen[Any]) -> None:
    """Every process ended (bounded), and none of this test's children is left."""
    for process in processes:
        process.wait(timeout=WAIT_S)
    assert [c for c in psutil.Process().children(recursive=True) if "mock" not in c.name()] == []


def test_two_plain_workers_report_every_flow_through_the_master(
    tmp_path: Path, mock_url: str, started: list[subprocess.Popen[Any]]
) -> None:
    """The report counts exactly the runs the mock started, per final status; the workers take
    --max-runs (their share) and every flow option from the master and write nothing."""
    port = _free_port()
    harness = _harness(started, tmp_path, mock_url, port, "--duration", "6s", "--max-runs", "12")
    workers = [_worker(started, tmp_path / f"worker-{i}", port) for i in (1, 2)]
    code, data, err = _results(harness)
    _settle(*workers)

    assert code == 0, err
    assert f"--worker --master-host 127.0.0.1 --master-port {port}" in err
    assert "demo-key" not in err
    [load] = data["load"]
    statuses = {row["status"]: row["count"] for row in load["flow_statuses"]}
    assert sum(statuses.values()) == _api_runs(mock_url) == 12
    assert statuses == {"completed": 12}
    assert "2 Locust workers reported flows to the master" in data["cases"][0]["message"]
    assert [p.name for p in tmp_path.glob("worker-*/*")] == []


def test_a_worker_killed_mid_run_is_named_and_its_reported_flows_kept(
    tmp_path: Path, mock_url: str, started: list[subprocess.Popen[Any]]
) -> None:
    """SIGKILL to one worker mid-run: the master marks it missing, the report names it
    (`<host>:<pid>`) with the flows it reported, and the run still ends."""
    port = _free_port()
    harness = _harness(started, tmp_path, mock_url, port, "--duration", "14s")
    first, second = (_worker(started, tmp_path / f"worker-{i}", port) for i in (1, 2))
    reported = _wait_for_runs(mock_url, harness)
    second.send_signal(signal.SIGKILL)
    code, data, err = _results(harness)
    _settle(first, second)

    assert reported, err
    assert code == 0, err
    message = data["cases"][0]["message"]
    name = f"{socket.gethostname()}:{second.pid}"
    assert f"worker {name} disconnected mid-run (missing heartbeat)" in message
    kept = sum(row["count"] for row in data["load"][0]["flow_statuses"])
    assert 0 < kept <= _api_runs(mock_url)


def _wait_for_runs(url: str, harness: subprocess.Popen[str]) -> bool:
    """Until the mock has seen runs for a few seconds (bounded); False if it never did."""
    seen = 0
    for _ in range(int(WAIT_S)):
        if harness.poll() is not None:
            return False
        if _api_runs(url) >= 10:
            seen += 1
        if seen >= 4:
            return True
        with contextlib.suppress(subprocess.TimeoutExpired):
            harness.wait(timeout=1.0)  # a one-second pause that ends early if the harness does
    return False


def test_workers_that_never_come_end_the_wait_with_a_clear_message(
    tmp_path: Path, mock_url: str, started: list[subprocess.Popen[Any]]
) -> None:
    """No worker within --expect-workers-max-wait: exit 2, naming the flag and the command."""
    port = _free_port()
    command = [
        str(BIN / "trigger-harness"), "load", "--target", "remote",
        "--targets", str(_targets(tmp_path, mock_url)), "--scenario", "background",
        "--duration", "5s", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
        "--master-bind-port", str(port), "--expect-workers-max-wait", "2",
        "--report-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env={**os.environ, KEY_ENV: "demo-key"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--expect-workers 1: the workers did not all connect within 2 s" in done.stderr
    assert "Traceback" not in done.stderr
    assert _api_runs(mock_url) == 0
    _settle()
