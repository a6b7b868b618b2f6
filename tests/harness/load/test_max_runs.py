"""`load --max-runs`: Locust starts no more runs than the cap, and the report says it was hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.cli._edge import Edge

pytestmark = pytest.mark.load


def test_load_starts_no_more_runs_than_max_runs_and_says_so(tmp_path: Path) -> None:
    """Two users launching a flow every 0.2 s for 4 s would start ~40 runs; `--max-runs 3`
    lets exactly 3 E2 starts through, and the output and the load case say the cap was hit."""
    lines: list[str] = []
    result = CliRunner().invoke(
        main,
        ["load", "--target", "mock", "--scenario", "background", "--users", "2",
         "--spawn-rate", "10", "--pacing", "0.2", "--duration", "4s", "--max-runs", "3",
         "--seed", "5", "--report-dir", str(tmp_path / "reports")],
        obj=Edge(environ={}, cwd=tmp_path, echo=lines.append),
    )  # fmt: skip
    output = "\n".join(lines)
    assert "load: at most 3 runs (--max-runs 3); seed 5" in result.stderr
    assert "--max-runs 3 reached:" in output, result.output + output
    document = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    (load,) = document["load"]
    starts = [row for row in load["stats"] if row["name"] == "POST E2 start"]
    assert sum(row["requests"] for row in starts) == 3
    (case,) = [case for case in document["cases"] if case["suite"] == "load"]
    assert "--max-runs 3 reached" in case["message"]
    assert document["run"]["options"]["seed"] == 5
