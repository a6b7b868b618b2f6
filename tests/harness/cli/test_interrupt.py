"""Interruption: SIGTERM or SIGINT mid-run stops every process the command started, writes the
report with the verdict `interrupted`, and exits 143 / 130 (issue 14, interfaces.md).

Each test runs `trigger-harness` as a real subprocess, signals it once the work it is about has
begun (Locust, the soak's own mock, the `run` job's report), and then checks with psutil that
no process it started is left 5 s after the signal.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.load

_BOUND_S = 240.0
_LEFT_AFTER_S = 5.0
_SIGNALS = [(signal.SIGTERM, 143), (signal.SIGINT, 130)]


class Harness:
    """One `trigger-harness` subprocess and every descendant seen while it ran."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        command = [
            sys.executable, "-c", "from harness.cli import main; main()", *args,
            "--report-dir", str(tmp_path / "reports"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.seen: list[psutil.Process] = []

    def descendants(self) -> list[psutil.Process]:
        """The command's descendants now (remembered for `left` and the clean-up)."""
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            found = []
        self.seen.extend(child for child in found if child not in self.seen)
        return found

    def wait_until(self, ready: Callable[[list[psutil.Process]], bool], what: str) -> None:
        """Return once `ready` holds for the command's descendants (bounded wait)."""
        deadline = time.monotonic() + _BOUND_S
        while time.monotonic() < deadline and self.process.poll() is None:
            if ready(self.descendants()):
                return
            time.sleep(0.2)
        _, stderr = self.process.communicate(timeout=_BOUND_S)
        raise AssertionError(f"{what} never started: {stderr.decode()[-2000:]}")

    def stop(self, sig: signal.Signals) -> tuple[bytes, bytes]:
        """Signal the command and wait (bounded) for it to exit."""
        self.process.send_signal(sig)
        return self.process.communicate(timeout=_BOUND_S)

    def left(self) -> list[str]:
        """The command lines of descendants still alive 5 s after the command exited (a
        zombie nobody reaped is not alive)."""
        _gone, alive = psutil.wait_procs(self.seen, timeout=_LEFT_AFTER_S)
        return [_command_line(child) for child in alive if not _zombie(child)]

    def clean_up(self) -> None:
        """Kill whatever a failed test left running."""
        for child in [*self.seen, *self.descendants()]:
            with suppress(psutil.Error):
                child.kill()
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """Start `trigger-harness ARGS --report-dir <tmp>/reports`; anything left is killed."""
    started: list[Harness] = []

    def run(*args: str) -> Harness:
        started.append(Harness(tmp_path, *args))
        return started[-1]

    yield run
    for harness in started:
        harness.clean_up()


def _load(*args: str) -> tuple[str, ...]:
    return ("load", "--target", "mock", "--duration", "60s", "--users", "2", *args)


def _zombie(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _running(name: str, count: int = 1) -> Callable[[list[psutil.Process]], bool]:
    """Ready once `count` descendants run a command line holding `name`."""
    return lambda children: sum(name in _command_line(child) for child in children) >= count


def _latest_results(tmp_path: Path) -> dict[str, object]:
    results: dict[str, object] = json.loads(
        (tmp_path / "reports" / "latest" / "results.json").read_text()
    )
    return results


@pytest.mark.parametrize(("sig", "code"), _SIGNALS)
def test_a_signal_mid_load_stops_locust_and_reports_interrupted(
    tmp_path: Path, start: Callable[..., Harness], sig: signal.Signals, code: int
) -> None:
    """Before: SIGTERM left Locust sending load as an orphan with no report; Ctrl-C exited 1
    with a report saying PASSED (exit 0)."""
    harness = start(*_load("--scenario", "background"))
    harness.wait_until(_running("locust"), "locust")
    time.sleep(1.0)  # let Locust start its users
    _, stderr = harness.stop(sig)
    assert harness.process.returncode == code, stderr.decode()
    assert not harness.left()
    results = _latest_results(tmp_path)
    assert (results["verdict"], results["exit_code"]) == ("interrupted", code)
    assert b"Traceback" not in stderr


def test_sigterm_to_load_with_two_workers_leaves_no_process(
    tmp_path: Path, start: Callable[..., Harness]
) -> None:
    """The closing note's figure: processes left 5 s after SIGTERM to `load --workers 2` (0),
    the report's verdict (`interrupted`) and the exit code (143). Before: the master and both
    workers were re-parented to PID 1 and kept sending load for the rest of the run time."""
    harness = start(*_load("--scenario", "background", "--workers", "2"))
    harness.wait_until(_running("--worker", count=2), "two locust workers")
    _, stderr = harness.stop(signal.SIGTERM)
    left = harness.left()
    verdict = _latest_results(tmp_path)["verdict"]
    print(
        f"left after {_LEFT_AFTER_S:g} s: {len(left)}, {verdict}, exit {harness.process.returncode}"
    )
    assert harness.process.returncode == 143, stderr.decode()
    assert not left
    assert verdict == "interrupted"


def _listening_port(children: list[psutil.Process], name: str) -> int | None:
    for child in children:
        if name in _command_line(child):
            try:
                listening = [
                    c for c in child.net_connections("tcp") if c.status == psutil.CONN_LISTEN
                ]
            except psutil.Error:
                return None
            return listening[0].laddr.port if listening else None
    return None


@pytest.mark.parametrize(("sig", "code"), _SIGNALS)
def test_a_signal_mid_soak_stops_the_soaks_own_mock(
    tmp_path: Path, start: Callable[..., Harness], sig: signal.Signals, code: int
) -> None:
    """Before: SIGINT during `load --scenario soak` left the soak's mock listening."""
    mock = "scenarios._mock_process"
    harness = start(*_load("--scenario", "soak"))
    harness.wait_until(lambda found: _listening_port(found, mock) is not None, "the soak's mock")
    port = _listening_port(harness.seen, mock)
    assert port is not None
    _, stderr = harness.stop(sig)
    assert harness.process.returncode == code, stderr.decode()
    assert not harness.left()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    assert _latest_results(tmp_path)["verdict"] == "interrupted"


def test_run_json_prints_the_partial_result_when_terminated(
    tmp_path: Path, start: Callable[..., Harness]
) -> None:
    """Before: `run --json` printed nothing when interrupted. Terminated during its load
    stage, it prints the stages that ended, the verdict `interrupted` and the report."""
    harness = start("run", "--json")
    harness.wait_until(_running("locust"), "the run job's load stage")
    stdout, stderr = harness.stop(signal.SIGTERM)
    assert harness.process.returncode == 143, stderr.decode()
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert (summary["verdict"], summary["exit_code"]) == ("interrupted", 143)
    assert [stage["name"] for stage in summary["stages"]] == ["contract", "probe", "fuzz"]
    assert Path(summary["report"]).parent == (tmp_path / "reports" / "latest").resolve()
    assert not harness.left()


def test_run_json_prints_the_result_when_interrupted_at_once(
    tmp_path: Path, start: Callable[..., Harness]
) -> None:
    """Ctrl-C as soon as the report folder exists: exit 130 and still one JSON object."""
    harness = start("run", "--json")
    reports = tmp_path / "reports"
    deadline = time.monotonic() + _BOUND_S
    while harness.process.poll() is None and time.monotonic() < deadline:
        if reports.is_dir() and any(reports.iterdir()):
            break
        time.sleep(0.05)
    stdout, stderr = harness.stop(signal.SIGINT)
    assert harness.process.returncode == 130, stderr.decode()
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert (summary["verdict"], summary["exit_code"]) == ("interrupted", 130)
    assert _latest_results(tmp_path)["verdict"] == "interrupted"
