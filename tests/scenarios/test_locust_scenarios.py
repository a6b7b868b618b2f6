"""Locust self-tests: each scenario runs headless in a subprocess against a thread-served mock.

Every run is a few seconds long and talks only to 127.0.0.1. Locust is never imported here.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from harness._embedded import embedded_app
from harness._exceptions import HarnessError
from harness._models import Endpoint
from harness._redact import Redactor
from harness._targets import mock_target
from harness.checks._registry import CheckContext, run_checks
from harness.cli._edge import Edge
from harness.cli._load import load_cli
from harness.load import (
    PROJECT_ROOT,
    SCENARIOS,
    FlowSettings,
    LoadPlan,
    LoadResult,
    Thresholds,
    run_load,
    scenario_file,
)
from mock_server import serve_in_thread
from tests.harness.factories import body, exchange

pytestmark = pytest.mark.load

SECRETS = ("demo-key", "demo-jira-secret")
TIME_SCALE = 300.0
EXPECTED_NAMES = {
    "sync": {"POST E1 run sync"},
    "background": {"POST E2 start", "GET E3 status"},
    "mixed": {"POST E1 run sync", "POST E2 start", "GET E3 status"},
    "jira-burst": {"POST E4 jira start", "GET E3 status"},
    "bad-key-storm": {"POST E1 run sync (bad key)", "GET E3 status (bad key)"},
    "soak": {"POST E1 run sync", "POST E2 start", "GET E3 status"},
}
QUICK_SCENARIOS = tuple(name for name in SCENARIOS if name != "soak")
"""Run here against the shared mock; the soak starts its own mock (tests/scenarios/test_soak.py)."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Scope]]
Send = Callable[[Scope], Awaitable[None]]


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """The demo world served on 127.0.0.1 at a high time scale."""
    with serve_in_thread(embedded_app(TIME_SCALE)) as url:
        yield url


def _run(scenario: str, host: str, out_dir: Path, *, workers: int = 0) -> LoadResult:
    flow = FlowSettings.for_target(
        mock_target(), host=host, poll_strategy="fixed", pacing=0.25, mock_admin=True,
        burst_size=3,
    )  # fmt: skip
    plan = LoadPlan(
        scenario=scenario,
        locustfile=scenario_file(scenario, PROJECT_ROOT),
        flow=flow,
        users=2,
        spawn_rate=10,
        duration_s=3,
        workers=workers,
    )
    return run_load(
        plan, Thresholds(), out_dir=out_dir, environ=os.environ, redactor=Redactor(list(SECRETS))
    )


def _leaked(out_dir: Path) -> list[str]:
    return [
        path.name
        for path in out_dir.iterdir()
        if path.is_file() and any(secret in path.read_text(errors="replace") for secret in SECRETS)
    ]


def _check_scenario(scenario: str, result: LoadResult) -> None:
    out_dir = result.out_dir
    requests = {row.name: row.requests for row in result.summary.stats}
    assert EXPECTED_NAMES[scenario] <= {name for name, count in requests.items() if count > 0}
    assert result.summary.thresholds_crossed == ()
    assert result.violations == 0
    assert (out_dir / "locust.html").is_file()
    assert result.summary.series
    assert _leaked(out_dir) == []
    if scenario == "bad-key-storm":
        return
    with (out_dir / "flows.csv").open() as handle:
        flows = list(csv.DictReader(handle))
    assert flows
    assert all(row["final_status"] in {"completed", "failed"} for row in flows)
    if scenario in {"background", "jira-burst"}:
        assert {row["detection_source"] for row in flows} == {"admin"}
        assert all(row["detection"] in {"exact", "bounded"} for row in flows)
        lows = [float(row["detection_delay_low_target_s"]) for row in flows]
        highs = [float(row["detection_delay_high_target_s"]) for row in flows]
        assert all(0 <= low <= high for low, high in zip(lows, highs, strict=True))
        assert any("detection delay upper bound (target ms)" in name for name in requests)


def test_each_scenario_runs_headless_and_produces_stats(mock_url: str, tmp_path: Path) -> None:
    """Every scenario runs against the mock, hits its endpoints without failures, leaks nothing."""
    assert set(EXPECTED_NAMES) == set(SCENARIOS)
    with ThreadPoolExecutor(max_workers=len(QUICK_SCENARIOS)) as pool:
        runs = {
            scenario: pool.submit(_run, scenario, mock_url, tmp_path / scenario)
            for scenario in QUICK_SCENARIOS
        }
    for scenario, run in runs.items():
        try:
            _check_scenario(scenario, run.result())
        except AssertionError as exc:
            raise AssertionError(f"scenario {scenario}: {exc}") from exc


def _break_error_field(app: Any) -> Any:
    """The mock, except that every pending E3 answer carries an `error` (invariant 3)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/trigger/status/" not in scope["path"]:
            await app(scope, receive, send)
            return
        start: Scope = {}

        async def capture(message: Scope) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = json.loads(message.get("body", b"") or b"null")
            if isinstance(body, dict) and body.get("status") == "pending":
                body["error"] = "mutated"
            content = json.dumps(body).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        await app(scope, receive, capture)

    return wrapped


def test_a_violation_from_a_mutated_mock_is_a_failure_named_by_its_title(tmp_path: Path) -> None:
    """A mock that breaks invariant 3 shows as Locust failures titled by the broken check."""
    with serve_in_thread(_break_error_field(embedded_app(TIME_SCALE))) as url:
        result = _run("background", url, tmp_path)
    mutated = exchange(Endpoint.STATUS, 200, body("pending", error="mutated"))
    titles = sorted({violation.title for violation in run_checks(CheckContext(), mutated)})
    assert titles
    errors = {row.error for row in result.failures if row.name == "E3 status"}
    assert errors == {f"contract violation: {' | '.join(titles)}"}
    assert result.violations > 0
    assert any("contract violations" in line for line in result.summary.thresholds_crossed)


def test_two_workers_run_distributed_and_a_crossed_threshold_exits_1(tmp_path: Path) -> None:
    """`load --workers 2` runs a master and two workers; an unmeetable p95 makes it exit 1."""

    @click.group()
    @click.pass_context
    def main(ctx: click.Context) -> None:
        ctx.obj = Edge(environ=dict(os.environ), cwd=tmp_path, echo=click.echo)

    main.add_command(load_cli)
    result = CliRunner().invoke(
        main,
        ["load", "--target", "mock", "--scenario", "background", "--users", "2",
         "--spawn-rate", "10", "--duration", "4s", "--workers", "2", "--pacing", "0.25",
         "--time-scale", str(TIME_SCALE), "--max-p95-ms", "0.001", "--report-dir", "reports"],
    )  # fmt: skip
    assert not isinstance(result.exception, HarnessError), result.output
    assert result.exit_code == 1, result.output
    assert "threshold crossed: p95 of GET E3 status" in result.output
    folder = tmp_path / "reports" / "latest"
    with (folder / "flows.csv").open() as handle:
        assert list(csv.DictReader(handle))
    assert list(folder.glob("flows-worker-*.csv")) == []
    assert _leaked(folder) == []
