"""`trigger-harness run --target NAME`: the main job on a target other than the embedded mock.

The fast tests hold the job's guards: `--max-runs` below one run per capped stage, and a
production target without `--allow-production`, are refused (exit 2) before any request; the
run budget is on stderr before the first request. The socket test runs the whole job against a
second `trigger-mock serve` process named by a targets file with every optional trigger key set:
one report with every section, every stage passing on this correct mock, and no contract case
skipped but those that need the mock's admin API, each listed with its reason.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness._exceptions import TargetUnavailable
from harness._targets import Target
from harness.cli import _run, main
from harness.cli._edge import Edge
from harness.suite import ADMIN_SKIP
from tests.fixtures.served_mock import served_mock as serve

ENABLED_BY_KEYS = (
    "mock.failed_runs.E2E3",
    "mock.waiting_for_input.E2E3",
    "mock.waiting_for_input.E1",
    "mock.sync_limit.E1",
    "isolation.foreign_run.E3",
)
"""The contract cases failing_trigger, input_trigger, slow_sync_trigger and
other_workspace_id make possible on a target without the admin API."""

UNREACHABLE = """
[targets.dev]
base_url = "http://127.0.0.1:9/api/v1/ai"
workspace_id = "ws-1"
environment = "{environment}"
api_key_env = "DEV_KEY"
sync_trigger = "quick"
background_trigger = "nightly"
"""


def _invoke(tmp_path: Path, args: list[str], environ: dict[str, str]) -> tuple[int, list[str], str]:
    """Run `trigger-harness ARGS` in process: (exit code, echoed lines, stderr)."""
    lines: list[str] = []
    edge = Edge(environ=environ, cwd=tmp_path, echo=lines.append)
    result = CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    return result.exit_code, lines, result.stderr


def _unreachable(tmp_path: Path, environment: str) -> list[str]:
    targets = tmp_path / "harness.toml"
    targets.write_text(UNREACHABLE.format(environment=environment))
    return ["run", "--target", "dev", "--targets", str(targets)]


@pytest.fixture
def no_request(monkeypatch: pytest.MonkeyPatch) -> list[Target]:
    """Record every preflight (the job's first request) and refuse it: nothing is sent."""
    preflights: list[Target] = []

    def refuse(target: Target) -> None:
        preflights.append(target)
        raise TargetUnavailable("test: no request is sent")

    monkeypatch.setattr(_run, "preflight_target", refuse)
    return preflights


def test_max_runs_below_one_per_capped_stage_is_refused(
    tmp_path: Path, no_request: list[Target]
) -> None:
    """`--max-runs 2` leaves a capped stage nothing: exit 2 naming the flag, nothing sent."""
    args = [*_unreachable(tmp_path, "DEV"), "--max-runs", "2"]
    code, _, stderr = _invoke(tmp_path, args, {"DEV_KEY": "k-1"})
    assert code == 2
    assert "--max-runs: must be >= 3" in stderr
    assert no_request == []
    assert not (tmp_path / "reports").exists()


def test_a_production_target_is_refused_without_allow_production(
    tmp_path: Path, no_request: list[Target]
) -> None:
    """A PROD target without `--allow-production`: exit 2, no budget, no report, nothing sent."""
    code, _, stderr = _invoke(tmp_path, _unreachable(tmp_path, "PROD"), {"DEV_KEY": "k-1"})
    assert code == 2
    assert "--allow-production" in stderr
    assert "run: at most" not in stderr
    assert no_request == []
    assert not (tmp_path / "reports").exists()


def test_the_budget_is_stated_before_the_first_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run budget is on stderr when the preflight (the first request) starts; `--max-runs`
    splits evenly across fuzz, load and sizing."""
    seen: list[str] = []

    def preflight(target: Target) -> None:
        seen.append(capsys.readouterr().err)
        raise TargetUnavailable("test: stop at the first request")

    monkeypatch.setattr(_run, "preflight_target", preflight)
    monkeypatch.setattr(_run, "announce", lambda line: print(line, file=sys.stderr))
    edge = Edge(environ={"DEV_KEY": "k-1"}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(TargetUnavailable):
        _run.main_job(
            edge,
            report_dir=Path("reports"),
            target_name="dev",
            targets_file=Path(_unreachable(tmp_path, "DEV")[-1]),
            max_runs=9,
            quiet=True,
        )
    assert len(seen) == 1
    assert seen[0].startswith("run: at most 9 runs from fuzz, load and sizing (fuzz 3, load 3, ")


def _targets_file(tmp_path: Path, base_url: str) -> Path:
    """Every optional key set: the demo world's triggers and its second workspace."""
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
[targets.served]
base_url = "{base_url}"
workspace_id = "demo"
environment = "DEV"
api_key_env = "SERVED_KEY"
sync_trigger = "quick-answer"
background_trigger = "nightly-report"
jira_trigger = "jira-triage"
jira_secret_env = "SERVED_JIRA"
failing_trigger = "flaky-enrichment"
input_trigger = "approval-flow"
slow_sync_trigger = "slow-sync"
other_workspace_id = "sandbox"
other_api_key_env = "SANDBOX_KEY"
poll_interval_s = 2
sync_limit_s = 150
max_run_s = 900
"""
    )
    return path


@pytest.fixture
def served_mock(tmp_path: Path) -> Iterator[str]:
    """The demo world served by `trigger-mock serve` at time scale 100; its base URL."""
    with serve(tmp_path, time_scale=100) as base_url:
        yield base_url


@pytest.mark.socket
@pytest.mark.load
def test_run_on_a_served_mock_covers_every_case_but_the_admin_ones(
    tmp_path: Path, served_mock: str
) -> None:
    """One report with every section; every stage passes on this correct mock; with every
    optional key set only the mock-admin cases are skipped, each with its reason."""
    targets = _targets_file(tmp_path, served_mock)
    environ = {"SERVED_KEY": "demo-key", "SERVED_JIRA": "demo-jira-secret"}
    environ["SANDBOX_KEY"] = "sandbox-key"
    args = ["run", "--target", "served", "--targets", str(targets), "--max-runs", "30"]
    code, lines, stderr = _invoke(tmp_path, args, environ)
    output = "\n".join(lines)
    assert code == 0, output + stderr
    assert stderr.startswith("run: at most 30 runs from fuzz, load and sizing (fuzz 10, ")
    folder = tmp_path / "reports" / "latest"
    assert lines[-1] == f"report: {folder.resolve() / 'index.html'}"
    for stage in ("contract", "probe", "fuzz", "load", "sizing"):
        assert any(line.startswith(f"  ok   {stage}") for line in lines), output
    results = json.loads((folder / "results.json").read_text())
    contract = {case["case_id"]: case for case in results["cases"] if case["suite"] == "contract"}
    skipped = {
        case_id: case["skip_reason"]
        for case_id, case in contract.items()
        if case["outcome"] == "skipped"
    }
    assert skipped, "the admin-API cases are listed as skipped"
    assert all(reason.startswith(ADMIN_SKIP) for reason in skipped.values()), skipped
    assert {contract[case_id]["outcome"] for case_id in ENABLED_BY_KEYS} == {"passed"}
    summary = (folder / "summary.md").read_text()
    unescaped = summary.replace("\\", "")
    for case_id, reason in skipped.items():
        assert f"- contract / {case_id}: {reason}" in unescaped
    for secret in environ.values():
        assert secret not in output + stderr + summary
