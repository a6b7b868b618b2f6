"""Canary: no secret reaches any artifact or printed line, whatever the command.

Every `trigger-harness` command (contract, probe, fuzz, load, size-polling, run) runs as a real
subprocess against a mock served on 127.0.0.1 whose config holds recognisable canary values for
the workspace key, the Jira secret and the admin token. The targets file names only the
environment variables holding the key and the secret. Afterwards every file the command wrote
(report folder, Locust CSV/HTML/logs) and its stdout and stderr are searched for the canaries.
`run` always uses the embedded demo world, so its canaries are that world's key and Jira secret.
The commands run in parallel to keep the test short.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_server import create_app, load_config, serve_in_thread

pytestmark = [pytest.mark.socket, pytest.mark.load]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CANARY_KEY = "canary-KEY-c4n4ry0k3y9f8e7d"
CANARY_JIRA = "canary-JIRA-c4n4ryj1r4a1b2c3"
CANARY_ADMIN = "canary-ADMIN-c4n4ry4dm1n5d6e"
DEMO_SECRETS = ("demo-key", "demo-jira-secret")
COMMAND_TIMEOUT_S = 150

MOCK_CONFIG = f"""
[mock]
time_scale = 1.0
seed = 11
admin_token = "{CANARY_ADMIN}"

[[workspaces]]
id = "canary-ws"
api_keys = ["{CANARY_KEY}"]

[[workspaces.triggers]]
id = "quick"
environments = ["DEV"]
duration = {{ dist = "fixed", s = 1 }}

[[workspaces.triggers]]
id = "background"
environments = ["DEV"]
duration = {{ dist = "fixed", s = 1 }}

[[workspaces.triggers]]
id = "jira"
environments = ["DEV"]
duration = {{ dist = "fixed", s = 1 }}
jira_secret = "{CANARY_JIRA}"
"""

TARGETS = """
[targets.canary]
base_url = "{base_url}"
workspace_id = "canary-ws"
environment = "DEV"
api_key_env = "CANARY_API_KEY"
jira_secret_env = "CANARY_JIRA_SECRET"
sync_trigger = "quick"
background_trigger = "background"
jira_trigger = "jira"
poll_interval_s = 0.5
max_run_s = 60
"""


def _commands(targets: Path) -> dict[str, list[str]]:
    """Each command's arguments (after `trigger-harness`), short enough for a test."""
    on_canary = ["--target", "canary", "--targets", str(targets)]
    return {
        "contract": ["contract", *on_canary],
        "probe": ["probe", *on_canary],
        "load": [
            "load", *on_canary, "--scenario", "mixed", "--users", "2", "--spawn-rate", "2",
            "--duration", "4s", "--pacing", "0.5",
        ],
        "size-polling": [
            "size-polling", *on_canary, "--intervals", "0.5,1", "--flows", "3",
            "--max-delay-s", "5",
        ],
        "run": ["run"],
        "fuzz": ["fuzz", *on_canary, "--max-examples", "10"],
    }  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Ran:
    """One finished command: its exit code, output and the folder it wrote its reports to."""

    returncode: int
    stdout: bytes
    stderr: bytes
    report_dir: Path


def _files(root: Path) -> Iterator[Path]:
    """Every regular file under `root` (symlinks such as `latest` are not followed twice)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def canary_hits(ran: Ran, canaries: Iterable[str]) -> list[str]:
    """Where any canary occurs: `stdout`, `stderr` or a file path, with the canary found."""
    needles = [canary.encode() for canary in canaries]
    sources = [("stdout", ran.stdout), ("stderr", ran.stderr)]
    sources += [(str(path), path.read_bytes()) for path in _files(ran.report_dir)]
    return [
        f"{name}: {needle.decode()}"
        for name, data in sources
        for needle in needles
        if needle in data
    ]


def _canaries(command: str) -> tuple[str, ...]:
    canaries = (CANARY_KEY, CANARY_JIRA, CANARY_ADMIN)
    return canaries + DEMO_SECRETS if command == "run" else canaries


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Ran]]:
    """Every command run once, in parallel, against the canary mock; keyed by command."""
    work = tmp_path_factory.mktemp("canary")
    config_file = work / "mock.toml"
    config_file.write_text(MOCK_CONFIG, encoding="utf-8")
    app = create_app(load_config(config_file))
    with serve_in_thread(app) as base_url:
        targets = work / "harness.toml"
        targets.write_text(TARGETS.format(base_url=base_url), encoding="utf-8")
        environ = {
            **os.environ,
            "CANARY_API_KEY": CANARY_KEY,
            "CANARY_JIRA_SECRET": CANARY_JIRA,
            "NO_COLOR": "1",
        }
        executable = str(Path(sys.executable).parent / "trigger-harness")
        started = {}
        for command, args in _commands(targets).items():
            report_dir = work / "reports" / command
            started[command] = (
                subprocess.Popen(
                    [executable, *args, "--report-dir", str(report_dir)],
                    cwd=work,
                    env=environ,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
                report_dir,
            )
        results = {}
        for command, (process, report_dir) in started.items():
            try:
                stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            results[command] = Ran(
                returncode=process.returncode, stdout=stdout, stderr=stderr, report_dir=report_dir
            )
        yield results


_ALL_COMMANDS = ["contract", "probe", "fuzz", "load", "size-polling", "run"]


@pytest.mark.parametrize("command", _ALL_COMMANDS)
def test_no_canary_in_any_output(runs: dict[str, Ran], command: str) -> None:
    """The command ran to a report and no canary is in its output or in any file it wrote."""
    ran = runs[command]
    context = ran.stderr.decode(errors="replace")[-2000:]
    assert ran.returncode in (0, 1), f"{command} exited {ran.returncode}: {context}"
    written = {path.name for path in _files(ran.report_dir)}
    assert {"index.html", "junit.xml", "results.json", "summary.md"} <= written, written
    if command == "load":
        assert {"locust_stats.csv", "locust.html"} <= written, written
    assert canary_hits(ran, _canaries(command)) == []


def test_the_search_finds_a_planted_canary(tmp_path: Path) -> None:
    """A canary in a nested report file or on stderr is reported, so a leak cannot pass."""
    nested = tmp_path / "run" / "locust_stats.csv"
    nested.parent.mkdir()
    nested.write_text(f"Name,Auth\nE3,Bearer {CANARY_KEY}\n", encoding="utf-8")
    ran = Ran(returncode=0, stdout=b"", stderr=CANARY_JIRA.encode(), report_dir=tmp_path)
    assert canary_hits(ran, _canaries("contract")) == [
        f"stderr: {CANARY_JIRA}",
        f"{nested}: {CANARY_KEY}",
    ]
