"""The distribution: `--version` and `-h` on both commands, `python -m scenarios`, and an
installed wheel that runs every command from an empty folder.

The slow test builds the sdist and the wheel (`python -m build`), installs the wheel into a
fresh virtual environment (pip, from the machine's configured index), and from an empty
folder runs `trigger-harness run` and `trigger-harness load --target mock --scenario
background`: both must exit 0, which needs the locustfiles and the report templates inside the
wheel. Every subprocess has a time bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli import main as harness_main
from mock_server.cli import main as mock_main
from scenarios.__main__ import main as scenarios_main

ROOT = Path(__file__).resolve().parents[1]
_LOCUSTFILES = ("sync", "background", "mixed", "jira_burst", "bad_key_storm", "soak")
_TEMPLATES = ("index.html.j2", "_macros.html.j2", "style.css.j2")


@pytest.mark.parametrize(
    ("command", "name"), [(harness_main, "trigger-harness"), (mock_main, "trigger-mock")]
)
def test_version_and_short_help(command: click.Command, name: str) -> None:
    """`--version` prints the distribution's version; `-h` is `--help`, on subcommands too."""
    runner = CliRunner()
    version = runner.invoke(command, ["--version"], prog_name=name)
    assert version.exit_code == 0
    assert version.output == f"{name}, version 0.1.0\n"
    for args in (["-h"], ["--help"]):
        shown = runner.invoke(command, args, prog_name=name)
        assert shown.exit_code == 0
        assert shown.output.startswith(f"Usage: {name} [OPTIONS] COMMAND [ARGS]...")
    sub = "run" if name == "trigger-harness" else "serve"
    assert runner.invoke(command, [sub, "-h"], prog_name=name).output.startswith(
        f"Usage: {name} {sub}"
    )


def test_python_m_scenarios_prints_the_locustfiles_location() -> None:
    """No argument: the folder; a scenario name: its locustfile (`jira-burst` -> jira_burst.py)."""
    runner = CliRunner()
    folder = runner.invoke(scenarios_main, [])
    assert folder.exit_code == 0
    assert Path(folder.output.strip()) == ROOT / "scenarios"
    named = runner.invoke(scenarios_main, ["jira-burst"])
    assert Path(named.output.strip()) == ROOT / "scenarios" / "jira_burst.py"
    assert runner.invoke(scenarios_main, ["nope"]).exit_code == 2


def _clean_env() -> dict[str, str]:
    """This environment without what points into the checkout or its venv, or picks a target."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith("TRIGGER_HARNESS")
    }


def _run(args: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _build(out: Path) -> tuple[Path, Path]:
    """The sdist and the wheel of this checkout, built in isolation into `out`."""
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


def _assert_holds_what_commands_need(sdist: Path, wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for stem in _LOCUSTFILES:
        assert f"scenarios/{stem}.py" in names
    for template in _TEMPLATES:
        assert f"harness/report/templates/{template}" in names
    assert {"mock_server/_openapi.py", "harness/py.typed", "mock_server/py.typed"} <= names
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"scenarios/{stem}.py" for stem in _LOCUSTFILES} <= members
    assert {f"harness/report/templates/{t}" for t in _TEMPLATES} <= members
    assert {"pyproject.toml", "README.md", "tests/conftest.py"} <= members


@pytest.mark.slow
@pytest.mark.load
@pytest.mark.timeout(1500)
def test_installed_wheel_runs_every_command_from_an_empty_folder(tmp_path: Path) -> None:
    """Built, installed into a fresh venv, run from an empty folder: `run` and `load` exit 0."""
    sdist, wheel = _build(tmp_path / "dist")
    _assert_holds_what_commands_need(sdist, wheel)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    empty = tmp_path / "empty"
    empty.mkdir()
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", str(wheel)], empty, 900)
    assert installed.returncode == 0, installed.stderr[-3000:]

    located = _run([str(bin_dir / "python"), "-m", "scenarios", "background"], empty, 60)
    assert located.returncode == 0, located.stderr
    assert Path(located.stdout.strip()).is_relative_to(env_dir)
    assert Path(located.stdout.strip()).is_file()
    version = _run([str(bin_dir / "trigger-mock"), "--version"], empty, 60)
    assert version.stdout == "trigger-mock, version 0.1.0\n"

    harness = str(bin_dir / "trigger-harness")
    load_args = ["load", "--target", "mock", "--scenario", "background", "--duration", "5s"]
    load = _run([harness, *load_args], empty, 300)
    assert load.returncode == 0, load.stdout[-3000:] + load.stderr[-3000:]
    run = _run([harness, "run", "--quiet"], empty, 600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (empty / "reports" / "latest" / "index.html").is_file()
