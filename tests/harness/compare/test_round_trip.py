"""Round trips: `calibrate` against a mock speaking a dialect writes a config whose mock answers
every probe question alike (`compare` says "same"); two different dialects differ by name."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from harness.cli._compare import compare_command
from harness.cli._edge import Edge
from harness.compare import (
    PLACEHOLDER_API_KEY,
    Side,
    Verdict,
    calibrate,
    compare_sides,
    observe,
    open_side,
    render_mock_config,
)

Config = Callable[..., dict[str, Any]]
SCALE = 1000.0
"""Virtual seconds per real second of the embedded mocks (the probe's waits are real)."""


def _calibrated(config: dict[str, Any]) -> str:
    """The mock config `calibrate` writes for a mock serving `config` (10 runs per trigger)."""
    with open_side(Side(name="dialect", config=config), time_scale=SCALE) as session:
        return render_mock_config(calibrate(session, runs=10, slow_trigger="slow"))


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def test_calibrated_config_answers_every_probe_question_like_its_dialect(
    dialect: str, dialect_config: Config
) -> None:
    """For each dialect, the calibrated config (no secret in it) makes a mock that settles
    every probe question with the same facts, and the whole comparison says "same"."""
    original = dialect_config(dialect)
    text = _calibrated(original)
    written = tomllib.loads(text)
    assert "k-1" not in text
    assert "jira-secret-x" not in text
    assert written["workspaces"][0]["api_keys"] == [PLACEHOLDER_API_KEY]
    observations = []
    for side in (Side(name="dialect", config=original), Side(name="calibrated", config=written)):
        with open_side(side, time_scale=SCALE) as session:
            observations.append(observe(session, runs=10, slow_trigger="slow", contract=False))
    comparison = compare_sides(*observations)
    questions = [row for row in comparison.rows if row.group == "open questions"]
    unsettled = [(r.topic, r.verdict, r.why) for r in questions if r.verdict is not Verdict.SAME]
    assert unsettled == [], unsettled
    assert comparison.verdict is Verdict.SAME, [
        r for r in comparison.rows if r.verdict is not Verdict.SAME
    ]


def test_compare_command_says_same_for_a_calibrated_config(
    dialect_config: Config, tmp_path: Path
) -> None:
    """`compare --mock-config dialect.toml --mock-config calibrated.toml` exits 0 and prints
    "overall: same"."""
    original = _write(tmp_path / "dialect.toml", dialect_config("strict-202"))
    calibrated = tmp_path / "calibrated.toml"
    calibrated.write_text(_calibrated(dialect_config("strict-202")), encoding="utf-8")
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    code = compare_command(
        edge,
        mock_configs=[original, calibrated],
        report_dir=Path("reports"),
        runs=10,
        contract=False,
    )
    assert code == 0, "\n".join(lines)
    assert "overall: same" in lines


def test_compare_of_two_dialects_names_each_difference(
    dialect_config: Config, tmp_path: Path
) -> None:
    """The strict-202 dialect against the default: exit 1, and each key the dialect changes
    is named in a "different" line."""
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    code = compare_command(
        edge,
        mock_configs=[
            _write(tmp_path / "default.toml", dialect_config(None)),
            _write(tmp_path / "strict.toml", dialect_config("strict-202")),
        ],
        report_dir=Path("reports"),
        runs=10,
        contract=False,
    )
    assert code == 1
    named = "\n".join(line for line in lines if line.startswith("different:"))
    for expected in (
        "e2_status: 200 vs 202",
        "lowercase_environments: 'refuse' vs 'accept'",
        "extra_fields: 'ignore' vs 'refuse'",
        "jira_auth_status: 401 vs 403",
    ):
        assert expected in named, named
    assert "overall: different" in lines
    report = next((tmp_path / "reports").glob("*compare*/index.html")).read_text()
    assert "Comparison:" in report
    assert "e2_status: 200 vs 202" in report
