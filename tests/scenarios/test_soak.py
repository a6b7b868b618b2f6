"""The short soak: `scenarios/soak.py` against its own `flaky` mock process, directly and
through `trigger-harness load --scenario soak`.

Locust runs in a subprocess (never imported here); the soak starts its mock on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli._edge import Edge
from harness.cli._load import load_cli

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


def test_the_harness_runs_the_soak_and_reports_its_verdict(tmp_path: Path) -> None:
    """`load --target mock --scenario soak` exits 0, writes soak.json and the case's figures."""
    edge = Edge(environ=dict(os.environ), cwd=tmp_path, echo=click.echo)
    result = CliRunner().invoke(
        load_cli,
        ["--target", "mock", "--scenario", "soak", "--duration", "8s", "--users", "4",
         "--spawn-rate", "4", "--pacing", "0.2", "--time-scale", "300",
         "--report-dir", str(tmp_path)],
        obj=edge,
    )  # fmt: skip
    assert result.exit_code == 0, result.output[-2000:]
    [folder] = [path for path in tmp_path.iterdir() if path.is_dir() and path.name != "latest"]
    figures = json.loads((folder / "soak.json").read_text())
    assert figures["passed"] is True
    assert (figures["lost_runs"], figures["unexpected_5xx"]) == (0, 0), figures["lost"]
    assert figures["runs_started"] > 0
    assert figures["rss_start_mib"] > 0
    results = json.loads((folder / "results.json").read_text())
    [case] = [case for case in results["cases"] if case["case_id"] == "load.soak"]
    assert case["outcome"] == "passed"
    assert case["message"].startswith("soak held: lost runs: 0, unexpected 5xx: 0, RSS start/end: ")
    assert f"injected 5xx: {figures['injected_5xx']}" in case["message"]
    assert "soak held: lost runs: 0" in (folder / "summary.md").read_text()
