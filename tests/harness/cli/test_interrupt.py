"""Interruption: SIGTERM or SIGINT mid-run stops every process the command started, writes the
report with the verdict `interrupted`, and exits 143 / 130 (issue 14, interfaces.md)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.load

_BOUND_S = 60.0


def _start_load(tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from harness.cli import main; main()", "load",
        "--target", "mock", "--scenario", "background", "--duration", "60s", "--users", "2",
        "--report-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_locust(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The command's Locust children, once started (bounded wait)."""
    deadline = time.monotonic() + _BOUND_S
    while time.monotonic() < deadline and process.poll() is None:
        children = psutil.Process(process.pid).children(recursive=True)
        if any("locust" in " ".join(child.cmdline()) for child in children):
            time.sleep(1.0)
            return psutil.Process(process.pid).children(recursive=True)
        time.sleep(0.2)
    raise AssertionError("locust never started")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_load_stops_locust_and_reports_interrupted(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """Before: SIGTERM left Locust sending load as an orphan with no report; Ctrl-C exited 1
    with a report saying PASSED (exit 0)."""
    process = _start_load(tmp_path)
    children = _wait_for_locust(process)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=_BOUND_S)
    assert process.returncode == code, stderr.decode()
    _gone, alive = psutil.wait_procs(children, timeout=5.0)
    assert not alive, [child.cmdline() for child in alive]
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert (results["verdict"], results["exit_code"]) == ("interrupted", code)
    assert b"Traceback" not in stderr
