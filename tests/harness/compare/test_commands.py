"""`calibrate` and `compare` as commands: announcements, the file written, user errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness import ProductionGuardError, UsageError
from harness.cli._calibrate import calibrate_command
from harness.cli._compare import compare_command
from harness.cli._edge import Edge

PROD_TARGETS = """
[targets.prod]
base_url = "https://example.invalid/api/v1/ai"
workspace_id = "ws"
environment = "PROD"
api_key_env = "PROD_KEY"
background_trigger = "batch"
"""


def test_calibrate_on_the_embedded_mock_writes_a_config_that_loads(tmp_path: Path) -> None:
    """`calibrate --target mock --runs 3` says how many runs it starts, writes a TOML mock
    config without the demo's key or Jira secret, and a report with a calibration section."""
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    code = calibrate_command(
        edge,
        target_name="mock",
        targets_file=None,
        report_dir=Path("reports"),
        allow_production=False,
        out=Path("calibrated.toml"),
        runs=3,
    )
    assert code == 0
    assert lines[0].startswith("calibrate starts 9 runs on mock (3 for each of 3 trigger(s))")
    text = (tmp_path / "calibrated.toml").read_text()
    assert "demo-key" not in text
    assert "demo-jira-secret" not in text
    triggers = tomllib.loads(text)["workspaces"][0]["triggers"]
    assert [t["id"] for t in triggers] == [
        "quick-answer",
        "nightly-report",
        "jira-triage",
        "slow-sync",
    ]
    report = next((tmp_path / "reports").glob("*calibrate*/index.html")).read_text()
    assert "Calibration:" in report


def test_calibrate_refuses_a_production_target_before_sending_anything(tmp_path: Path) -> None:
    """A PROD target without --allow-production is refused (exit 2), nothing written."""
    (tmp_path / "harness.toml").write_text(PROD_TARGETS)
    edge = Edge(environ={"PROD_KEY": "secret-value"}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(ProductionGuardError) as raised:
        calibrate_command(
            edge,
            target_name="prod",
            targets_file=None,
            report_dir=Path("reports"),
            allow_production=False,
            out=Path("out.toml"),
        )
    assert raised.value.exit_code == 2
    assert not (tmp_path / "out.toml").exists()


def test_calibrate_refuses_an_out_path_in_a_missing_folder(tmp_path: Path) -> None:
    """`--out` in a folder that does not exist is a usage error naming the flag."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(UsageError, match="--out"):
        calibrate_command(
            edge,
            target_name="mock",
            targets_file=None,
            report_dir=Path("reports"),
            allow_production=False,
            out=Path("no/such/dir/out.toml"),
        )


@pytest.mark.parametrize("sides", [{"target_names": ["mock"]}, {"target_names": ["mock"] * 3}])
def test_compare_needs_exactly_two_sides(tmp_path: Path, sides: dict[str, list[str]]) -> None:
    """One side, or three, is a usage error (exit 2) naming the accepted forms."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(UsageError, match="two sides") as raised:
        compare_command(edge, **sides)  # type: ignore[arg-type]
    assert raised.value.exit_code == 2
