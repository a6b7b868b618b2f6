"""`trigger-harness load`: flags refused before the budget line, and what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli._edge import Edge
from harness.cli._load import _print_load, load_cli
from harness.load import LoadResult, WorkerRow
from harness.report import LoadSummary


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--users", "0"), ("--spawn-rate", "0"), ("--workers", "-1")],
)
def test_a_bad_count_is_refused_naming_its_flag_before_the_budget_line(
    tmp_path: Path, flag: str, value: str
) -> None:
    """`--users 0` is exit 2 naming `--users`, never `at most 0 runs` then a `--max-runs` error."""
    args = ["--target", "mock", "--scenario", "background", "--report-dir", str(tmp_path)]
    result = CliRunner().invoke(load_cli, [*args, flag, value])
    assert result.exit_code == 2
    assert flag in result.output
    assert "at most" not in result.output
    assert "--max-runs" not in result.output


def test_a_worker_lost_mid_run_is_printed_with_its_kept_flows(tmp_path: Path) -> None:
    """A worker that left early is one stdout line naming it and its kept flows."""
    lines: list[str] = []
    result = LoadResult(
        summary=LoadSummary(scenario="background", stats=()),
        failures=(),
        violations=0,
        exit_code=0,
        out_dir=tmp_path,
        workers=(
            WorkerRow(name="h1:11", flows=7),
            WorkerRow(name="h2:22", flows=3, left="missing heartbeat"),
        ),
    )
    _print_load(Edge(environ={}, cwd=tmp_path, echo=lines.append), result, 10)
    [line] = [line for line in lines if line.startswith("worker ")]
    assert line == (
        "worker h2:22 disconnected mid-run (missing heartbeat): its 3 flows up to its last "
        "report are kept"
    )
