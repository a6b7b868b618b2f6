"""Load runs that count flows: an all-failing trigger, the partial report of an interrupted
run, and the thresholds' flags on `trigger-harness load`.

The mock is served on 127.0.0.1 (in a thread, or as a `trigger-harness load` subprocess's own
embedded mock); every Locust run is a few seconds long, every wait bounded.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from harness._embedded import embedded_app
from harness._exceptions import HarnessError
from harness.cli._edge import Edge
from harness.cli._load import load_cli
from harness.load import PROJECT_ROOT
from mock_server import serve_in_thread

pytestmark = pytest.mark.load

TIME_SCALE = 300.0
KEY = "failing-world-key-77"
FAILING_WORLD = {
    "workspaces": [
        {
            "id": "failing",
            "api_keys": [KEY],
            "triggers": [
                {"id": "always-fails", "duration": {"dist": "fixed", "s": 5},
                 "outcome": {"failed": 1.0}},
            ],
        }
    ]
}  # fmt: skip


@pytest.fixture(scope="module")
def failing_url() -> Iterator[str]:
    """A mock whose one trigger's runs all end `failed`, served on 127.0.0.1."""
    with serve_in_thread(embedded_app(TIME_SCALE, config=FAILING_WORLD)) as url:
        yield url


def _main(tmp_path: Path, environ: dict[str, str]) -> click.Group:
    @click.group()
    @click.pass_context
    def main(ctx: click.Context) -> None:
        ctx.obj = Edge(environ=environ, cwd=tmp_path, echo=click.echo)

    main.add_command(load_cli)
    return main


def _load(tmp_path: Path, url: str, *flags: str) -> tuple[int, str]:
    (tmp_path / "harness.toml").write_text(
        f'[targets.failing]\nbase_url = "{url}"\nworkspace_id = "failing"\n'
        'environment = "DEV"\napi_key_env = "FAILING_KEY"\nbackground_trigger = "always-fails"\n'
        "poll_interval_s = 2\n"
    )
    environ = {**os.environ, "FAILING_KEY": KEY}
    result = CliRunner().invoke(
        _main(tmp_path, environ),
        ["load", "--target", "failing", "--targets", str(tmp_path / "harness.toml"),
         "--scenario", "background", "--users", "2", "--spawn-rate", "10", "--duration", "4s",
         "--pacing", "0.25", "--report-dir", "reports", *flags],
    )  # fmt: skip
    assert not isinstance(result.exception, HarnessError), result.output
    return result.exit_code, result.output


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


def _load_section(results: dict[str, Any]) -> dict[str, Any]:
    """The one load summary of a `results.json`, wherever the reporter nests it."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "flow_statuses" in value and "stats" in value:
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(results)
    [section] = found
    return section


def test_an_all_failing_trigger_reports_its_failures_and_fails_the_flow_ratio(
    tmp_path: Path, failing_url: str
) -> None:
    """Every run ends `failed`: the terminal and report count them as failed flows with the
    run's error text, HTTP totals stay clean, and `--max-flow-fail-ratio 0.1` exits 1."""
    code, output = _load(tmp_path, failing_url, "--max-flow-fail-ratio", "0.1")
    assert code == 1, output
    assert "threshold crossed: flow fail ratio 1.0000" in output
    assert "--max-flow-fail-ratio 0.1" in output
    assert "failure: " in output
    assert "run ended failed: " in output
    [ended] = [line for line in output.splitlines() if line.startswith("background flows ended")]
    assert "failed" in ended
    assert "completed" not in ended
    assert KEY not in output
    load = _load_section(_results(tmp_path / "reports" / "latest"))
    assert {row["status"] for row in load["flow_statuses"]} == {"failed"}
    assert any("run ended failed" in text for text in load["failures"])
    assert load["locust_html"] == "locust.html"
    html = (tmp_path / "reports" / "latest" / "index.html").read_text()
    assert 'href="locust.html"' in html
    assert "requests (HTTP only: flows counted apart)" in html


def test_http_totals_leave_the_flows_out(tmp_path: Path, failing_url: str) -> None:
    """The terminal's HTTP total is the sum of the HTTP rows alone; flows are listed apart."""
    code, output = _load(tmp_path, failing_url, "--max-flow-fail-ratio", "1")
    assert code == 0, output
    lines = output.splitlines()
    total = next(line for line in lines if line.startswith("HTTP total (flows not counted)"))
    header = next(i for i, line in enumerate(lines) if line.startswith("HTTP request "))
    http_rows = lines[header + 1 : lines.index(total)]
    assert http_rows
    assert not any(row.startswith("FLOW") for row in http_rows)
    assert int(total.split()[5]) == sum(int(row.split()[-5]) for row in http_rows)
    assert any(line.startswith("FLOW background: end-to-end") for line in lines)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--max-p95-ms", "E7=100"], "--max-p95-ms: unknown endpoint 'E7'"),
        (["--max-p99-ms", "soon"], "--max-p99-ms: expected MS or ENDPOINT=MS"),
        (["--max-flow-fail-ratio", "2"], "--max-flow-fail-ratio: must be between 0 and 1"),
        (["--min-rps", "0"], "--min-rps: must be a finite number > 0"),
    ],
)
def test_a_bad_threshold_is_exit_2_naming_its_flag(
    tmp_path: Path, flags: list[str], named: str
) -> None:
    """A malformed threshold stops `load` before Locust starts, naming the flag."""

    class Group(click.Group):
        def invoke(self, ctx: click.Context) -> object:
            try:
                return super().invoke(ctx)
            except HarnessError as exc:
                click.echo(f"error: {exc}", err=True)
                ctx.exit(exc.exit_code)

    @click.group(cls=Group)
    @click.pass_context
    def main(ctx: click.Context) -> None:
        ctx.obj = Edge(environ={}, cwd=tmp_path, echo=click.echo)

    main.add_command(load_cli)
    result = CliRunner().invoke(
        main, ["load", "--target", "mock", "--scenario", "background", *flags]
    )
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert not (tmp_path / "reports").exists()


def _wait_for(path_glob: str, root: Path, seconds: float) -> list[Path]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(root.glob(path_glob))
        if found and found[0].stat().st_size > 0:
            return found
        time.sleep(0.2)
    return []


def test_sigterm_during_load_leaves_a_report_with_the_partial_figures(tmp_path: Path) -> None:
    """`trigger-harness load` stopped by SIGTERM mid-run exits 143 and its report holds the
    load summary of what ran (marked interrupted), from the CSVs Locust wrote on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from harness.cli import main; main()",
         "load", "--target", "mock", "--scenario", "background",
         "--users", "2", "--spawn-rate", "10", "--duration", "120s", "--pacing", "0.25",
         "--time-scale", str(TIME_SCALE), "--report-dir", "reports"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )  # fmt: skip
    try:
        assert _wait_for("reports/*/locust_stats_history.csv", tmp_path, 60.0)
        time.sleep(2.0)  # a few seconds of load, so the partial figures are not empty
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=90)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, output
    [folder] = [
        path.parent
        for path in tmp_path.glob("reports/*/results.json")
        if not path.parent.is_symlink()
    ]
    load = _load_section(_results(folder))
    assert load["interrupted"] is True
    assert sum(row["requests"] for row in load["stats"]) > 0
    assert "Interrupted: the figures are what ran" in (folder / "index.html").read_text()


@pytest.mark.parametrize("workers", ["0", "1"])
def test_stop_on_threshold_ends_an_all_failing_run_early(
    tmp_path: Path, failing_url: str, workers: str
) -> None:
    """`--stop-on-threshold`: the local runner, or the master with workers, stops a 60 s run
    at the first failed flows; the report names the threshold that stopped it; exit 1."""
    started = time.monotonic()
    code, output = _load(
        tmp_path, failing_url, "--max-flow-fail-ratio", "0.1", "--stop-on-threshold",
        "--duration", "60s", "--workers", workers,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert code == 1, output
    stopped = "threshold crossed: run stopped early by --stop-on-threshold: flow fail ratio"
    assert stopped in output
    load = _load_section(_results(tmp_path / "reports" / "latest"))
    assert load["thresholds_crossed"][0].startswith("run stopped early by --stop-on-threshold")
    assert "--max-flow-fail-ratio 0.1" in load["thresholds_crossed"][0]
    assert elapsed < 40, elapsed


def test_plain_locust_exits_0_when_every_run_correctly_ends_failed(
    tmp_path: Path, failing_url: str
) -> None:
    """Plain `locust -f` (no harness thresholds): runs that end `failed` are the API behaving,
    so Locust counts them (`ended failed (count)`, `flows.csv`) without a failure: exit 0."""
    command = [
        sys.executable, "-m", "locust", "-f", str(PROJECT_ROOT / "scenarios" / "background.py"),
        "--host", failing_url, "--workspace", "failing", "--background-trigger", "always-fails",
        "--api-key-env", "FAILING_KEY", "--headless", "-u", "2", "-r", "10", "-t", "4s",
        "--csv", str(tmp_path / "plain"),
    ]  # fmt: skip
    done = subprocess.run(
        command, env={**os.environ, "FAILING_KEY": KEY}, capture_output=True, text=True,
        timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    with (tmp_path / "plain_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    ended = stats["background: ended failed (count)"]
    assert int(ended["Request Count"]) > 0
    assert int(ended["Failure Count"]) == 0
    assert int(stats["Aggregated"]["Failure Count"]) == 0
    with (tmp_path / "plain_flows.csv").open() as handle:
        flows = list(csv.DictReader(handle))
    assert flows
    assert {row["final_status"] for row in flows} == {"failed"}
    assert all(row["error"].startswith("run ended failed: ") for row in flows)
