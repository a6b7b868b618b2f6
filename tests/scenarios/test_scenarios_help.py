"""`python -m scenarios NAME --help`: a locustfile's custom arguments, which `locust --help`
cannot list (locustio/locust#2917)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.load import FLOW_OPTIONS, PROJECT_ROOT, SHAPE_OPTION


def _scenarios(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scenarios", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "COLUMNS": "500"},  # no line breaks inside help texts
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["background", "soak"])
def test_help_lists_every_custom_argument_with_its_help(name: str) -> None:
    """Every flow option and the shape, each with its help text; the soak adds its own."""
    done = _scenarios(name, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for option in [*FLOW_OPTIONS, SHAPE_OPTION]:
        assert option.flag in text
        assert " ".join(option.help.split()) in text
    assert ("The soak's own mock" in text) == (name == "soak")


def test_help_without_a_name_is_the_command_help() -> None:
    done = _scenarios("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m scenarios" in done.stdout
    assert "--poll-interval" not in done.stdout
