"""`HarnessGroup`: an internal error (a bug) exits 4, as its report records, said plainly."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from harness.cli._edge import Edge
from harness.cli._main import HarnessGroup

_SECRET = "secret-key-value"
_TARGETS = """
[targets.dev]
base_url = "http://127.0.0.1:9"
workspace_id = "ws"
environment = "DEV"
api_key_env = "K"
sync_trigger = "s"
background_trigger = "b"
"""
_PREFIX = "trigger-harness: internal error (a bug in the harness, please report it): "


def _group(error: Exception) -> click.Group:
    group = HarnessGroup(name="trigger-harness")

    @group.command("boom")
    @click.option("--targets", "targets_file", type=click.Path(path_type=Path))
    def boom(targets_file: Path | None) -> None:
        raise error

    return group


def _invoke(tmp_path: Path, error: Exception) -> Result:
    (tmp_path / "targets.toml").write_text(_TARGETS)
    edge = Edge(environ={"K": _SECRET}, cwd=tmp_path, echo=print)
    return CliRunner().invoke(
        _group(error), ["boom", "--targets", str(tmp_path / "targets.toml")], obj=edge
    )


def test_an_unexpected_exception_exits_4_with_one_plain_line_then_the_traceback(
    tmp_path: Path,
) -> None:
    result = _invoke(tmp_path, RuntimeError(f"bad\x1b[2J\u202e\nkey {_SECRET}"))

    assert result.exit_code == 4
    first, *rest = result.stderr.splitlines()
    assert first == f"{_PREFIX}RuntimeError: bad\\x1b[2J\\u202e\\x0akey [REDACTED]"
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-2:] == ["RuntimeError: bad\\x1b[2J\\u202e", "key [REDACTED]"]
    assert _SECRET not in result.output
    assert "\x1b" not in result.output
    assert "\u202e" not in result.output


@pytest.mark.parametrize(
    ("error", "code", "said"),
    [
        (click.UsageError("no such flag"), 2, "Error: no such flag"),
        (click.ClickException("click said so"), 1, "Error: click said so"),
    ],
    ids=["UsageError", "ClickException"],
)
def test_click_errors_keep_their_own_exit_code_and_message(
    tmp_path: Path, error: click.ClickException, code: int, said: str
) -> None:
    result = _invoke(tmp_path, error)

    assert result.exit_code == code
    assert said in result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
