"""SIGTERM during the contract suite stops it at once: exit 143, verdict `interrupted`, only the
cases that ended in the report (issue 14). Before: `Terminated` was a `HarnessError`, so the
runner recorded `ERROR ...: Terminated: terminated (SIGTERM)` and went on through the suite,
exiting 1 with the verdict `failed`.

The target is a real `trigger-mock serve` process on real time (runs take minutes), signalled
once its journal shows the suite has started a background run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import psutil
import pytest

_BOUND_S = 60.0
_STOPPED_WITHIN_S = 30.0


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(psutil.Error):
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.fixture
def slow_target() -> Iterator[str]:
    """The demo world served by `trigger-mock` at time scale 1 (a background run takes
    minutes); yields its base URL."""
    command = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--time-scale", "1"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert server.stdout is not None
        first = server.stdout.readline().decode()
        assert first.startswith("serving "), first
        yield first.split()[1]
    finally:
        _kill(server)


def _started_background_run(base_url: str) -> bool:
    answer = httpx.get(
        f"{base_url}/__admin/requests/count",
        params={"path_prefix": "/trigger/start/demo/nightly-report"},
        timeout=5.0,
    )
    return bool(answer.json()["count"])


def test_sigterm_mid_suite_exits_143_with_the_verdict_interrupted(
    tmp_path: Path, slow_target: str
) -> None:
    """SIGTERM once a background case is following its run: 143 promptly, `interrupted`."""
    (tmp_path / "harness.toml").write_text(
        f"""
[targets.slow]
base_url = "{slow_target}"
workspace_id = "demo"
environment = "DEV"
api_key_env = "SLOW_KEY"
sync_trigger = "quick-answer"
background_trigger = "nightly-report"
poll_interval_s = 1
"""
    )
    command = [
        sys.executable, "-c", "from harness.cli import main; main()",
        "contract", "--target", "slow", "--report-dir", str(tmp_path / "reports"),
    ]  # fmt: skip
    harness = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={**_environ(), "SLOW_KEY": "demo-key"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + _BOUND_S
        while not _started_background_run(slow_target) and harness.poll() is None:
            assert time.monotonic() < deadline, "the suite never started a background run"
            time.sleep(0.2)
        assert harness.poll() is None, harness.communicate()
        harness.send_signal(signal.SIGTERM)
        _, stderr = harness.communicate(timeout=_STOPPED_WITHIN_S)
    finally:
        _kill(harness)
    assert harness.returncode == 143, stderr.decode()[-2000:]
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert results["verdict"] == "interrupted"
    assert not [case for case in results["cases"] if "Terminated" in (case["message"] or "")]


def _environ() -> dict[str, str]:
    """This environment without the harness's own variables (a target or targets file)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TRIGGER_")}
