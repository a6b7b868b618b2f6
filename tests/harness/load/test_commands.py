"""`trigger-harness load` and `size-polling` in process: refusals, exit codes and reports.

The commands live in `harness/cli/_load.py` and `harness/cli/_size_polling.py`; these tests run
them the way the lead's group does (an Edge on the context, HarnessError to exit code).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from harness._exceptions import HarnessError
from harness.cli._edge import Edge
from harness.cli._load import load_cli
from harness.cli._size_polling import size_polling_cli


def _group(edge: Edge | None = None) -> click.Group:
    """A stand-in for the lead's group: an Edge on the context, HarnessError to exit code."""

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
        ctx.obj = edge or Edge(environ={}, cwd=Path.cwd(), echo=click.echo)

    main.add_command(load_cli)
    main.add_command(size_polling_cli)
    return main


def test_load_rejects_a_bad_duration_with_exit_2(tmp_path: Path) -> None:
    """`load --duration soon` is a usage error naming the flag, before anything starts."""
    result = CliRunner().invoke(
        _group(),
        ["load", "--target", "mock", "--scenario", "sync", "--duration", "soon",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--duration" in result.output


def test_load_rejects_a_bad_pacing_before_starting_locust(tmp_path: Path) -> None:
    """`load --pacing 0` is a usage error naming the flag; no Locust starts."""
    result = CliRunner().invoke(
        _group(),
        ["load", "--target", "mock", "--scenario", "sync", "--pacing", "0",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--pacing: must be a finite number > 0, got 0.0" in result.output
    assert not list(tmp_path.glob("*/locust*"))


def test_load_refuses_a_scenario_the_target_cannot_run(tmp_path: Path) -> None:
    """A target without the trigger a scenario needs is a usage error naming it."""
    targets = tmp_path / "harness.toml"
    targets.write_text(
        '[targets.dev]\nbase_url = "http://127.0.0.1:9"\nworkspace_id = "ws"\n'
        'environment = "DEV"\napi_key_env = "K"\n'
    )
    edge = Edge(environ={"K": "key-value"}, cwd=tmp_path, echo=click.echo)
    result = CliRunner().invoke(
        _group(edge),
        ["load", "--target", "dev", "--targets", str(targets), "--scenario", "background",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "sets no background_trigger" in result.output


def test_load_refuses_the_soak_on_a_real_target(tmp_path: Path) -> None:
    """`--scenario soak` needs the embedded mock; on a real target it is a usage error (why)."""
    targets = tmp_path / "harness.toml"
    targets.write_text(
        '[targets.dev]\nbase_url = "http://127.0.0.1:9"\nworkspace_id = "ws"\n'
        'environment = "DEV"\napi_key_env = "K"\nsync_trigger = "s"\n'
        'background_trigger = "b"\njira_trigger = "j"\njira_secret_env = "J"\n'
    )
    edge = Edge(environ={"K": "key-value", "J": "jira-value"}, cwd=tmp_path, echo=click.echo)
    result = CliRunner().invoke(
        _group(edge),
        ["load", "--target", "dev", "--targets", str(targets), "--scenario", "soak",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--scenario soak" in result.output
    assert "--target mock" in result.output
    assert "admin API" in result.output


def test_size_polling_on_the_mock_reports_a_recommendation(tmp_path: Path) -> None:
    """size-polling on the mock prints the table, recommends and writes SizingResult events."""
    result = CliRunner().invoke(
        _group(),
        ["size-polling", "--target", "mock", "--intervals", "5,20", "--flows", "10",
         "--duration-dist", "uniform:min_s=20,max_s=60", "--max-delay-s", "8",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "recommendation: fixed 5s" in result.output
    document = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert "fixed 5s" in json.dumps(document)
    assert "demo-key" not in json.dumps(document)


def test_size_polling_exits_1_when_no_interval_meets_the_budget(tmp_path: Path) -> None:
    """A delay budget no candidate meets makes the command exit 1."""
    result = CliRunner().invoke(
        _group(),
        ["size-polling", "--target", "mock", "--intervals", "30", "--flows", "5",
         "--duration-dist", "fixed:40", "--max-delay-s", "1", "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "no candidate meets" in result.output
