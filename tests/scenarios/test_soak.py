"""The short soak: `scenarios/soak.py` for 10 s against its own `flaky` mock process.

Locust runs in a subprocess (never imported here); the soak starts its mock on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parents[2]
REPORT = re.compile(
    r"soak: lost runs: (\d+), unexpected 5xx: (\d+), RSS start/end: ([0-9.]+)/([0-9.]+) MiB"
    r".*runs started: (\d+), finals seen: (\d+), injected 5xx: (\d+)"
)


def test_a_short_soak_under_flaky_loses_no_run_and_sees_only_injected_5xx(tmp_path: Path) -> None:
    """A 10 s soak reports zero lost runs and zero unexpected 5xx, with RSS sampled, and exits 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "soak.py"),
        "--headless", "-u", "4", "-r", "4", "-t", "10s", "--pacing", "0.2",
        "--soak-time-scale", "300", "--soak-retention-s", "600", "--only-summary",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False
    )
    output = done.stdout + done.stderr
    match = REPORT.search(output)
    assert match is not None, output[-2000:]
    lost, unexpected, rss_start, rss_end, started, finals, injected = match.groups()
    assert (int(lost), int(unexpected)) == (0, 0)
    assert float(rss_start) > 0
    assert float(rss_end) > 0
    assert int(started) > 20
    assert int(finals) > 0
    assert int(injected) > 0
    assert done.returncode == 0, output[-2000:]
