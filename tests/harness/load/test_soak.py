"""The soak's settings (written by the harness, read by its locustfile) and its verdict."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import configargparse
import psutil
import pytest

from harness._exceptions import UsageError
from harness.load import PROJECT_ROOT, SOAK_OPTIONS, LoadResult, SoakSettings, soak_verdict
from harness.report import LoadSummary


def test_a_load_run_gives_its_soak_a_retention_within_the_run(tmp_path: Path) -> None:
    """The soak's retention is a quarter of the run in virtual seconds, within 60 s-1 h."""
    short = SoakSettings.for_run(duration_s=8, time_scale=300, out_dir=tmp_path)
    assert (short.soak_time_scale, short.soak_retention_s) == (300, 600)
    assert short.soak_report == str(tmp_path / "soak.json")
    assert SoakSettings.for_run(duration_s=1, time_scale=1, out_dir=tmp_path).soak_retention_s == 60
    long = SoakSettings.for_run(duration_s=3600, time_scale=300, out_dir=tmp_path)
    assert long.soak_retention_s == 3600


def test_soak_settings_survive_the_trip_to_locust(tmp_path: Path) -> None:
    """The soak's arguments, parsed as Locust would, give back the same settings."""
    settings = SoakSettings.for_run(duration_s=8, time_scale=300, out_dir=tmp_path)
    parser = configargparse.ArgumentParser()
    for option in SOAK_OPTIONS:
        option.add_to(parser)
    assert SoakSettings.from_options(parser.parse_args(list(settings.to_arguments()))) == settings
    assert SoakSettings.from_options(parser.parse_args([])) == SoakSettings()


def test_bad_soak_settings_name_their_flag() -> None:
    """A soak mock that cannot run is refused by flag."""
    with pytest.raises(UsageError, match="--soak-time-scale"):
        SoakSettings(soak_time_scale=0)
    with pytest.raises(UsageError, match="--mock-pid"):
        SoakSettings(mock_pid=-1)


@pytest.mark.parametrize(
    ("report", "exit_code", "held", "start"),
    [
        ({"passed": True, "line": "soak: lost runs: 0, unexpected 5xx: 0"}, 0, True, "soak held:"),
        (
            {"passed": False, "line": "soak: lost runs: 2, unexpected 5xx: 0"},
            1,
            False,
            "soak FAILED:",
        ),
        (
            {"passed": True, "line": "soak: lost runs: 0, unexpected 5xx: 0"},
            1,
            False,
            "soak FAILED:",
        ),
        (None, 1, False, "soak FAILED: it wrote no readable soak.json"),
    ],
)
def test_the_soak_verdict_comes_from_its_json_and_exit_code(
    tmp_path: Path, report: dict[str, object] | None, exit_code: int, held: bool, start: str
) -> None:
    """soak.json's verdict and Locust's exit code both must hold; a missing file fails."""
    if report is not None:
        (tmp_path / "soak.json").write_text(json.dumps(report))
    summary = LoadSummary(scenario="soak", stats=(), series=(), thresholds_crossed=())
    result = LoadResult(
        summary=summary, failures=(), violations=0, exit_code=exit_code, out_dir=tmp_path
    )
    verdict, text = soak_verdict(result)
    assert verdict is held
    assert text.startswith(start)


_STARTS_A_MOCK = """
import subprocess, sys, time
mock = subprocess.Popen(
    [sys.executable, "-m", "scenarios._mock_process", "--scenario", "flaky", "--port", "0"],
    stdout=subprocess.PIPE, text=True,
)
print(mock.pid, mock.stdout.readline().strip(), flush=True)
time.sleep(300)
"""


def _ended(process: psutil.Process) -> bool:
    """The process has ended (a zombie nobody reaped counts as ended)."""
    try:
        status: str = process.status()
    except psutil.NoSuchProcess:
        return True
    return status == psutil.STATUS_ZOMBIE


@pytest.mark.socket
def test_the_soaks_mock_does_not_outlive_the_process_that_started_it() -> None:
    """Even when the soak's Locust is killed outright (SIGKILL: no handler runs), its own mock
    exits instead of listening on as an orphan (issue 14)."""
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTS_A_MOCK], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert starter.stdout is not None
    pid, serving = starter.stdout.readline().split(" ", 1)
    assert serving.startswith("serving http://127.0.0.1:")
    mock = psutil.Process(int(pid))
    starter.kill()
    starter.communicate()
    deadline = time.monotonic() + 30.0
    while not _ended(mock) and time.monotonic() < deadline:
        time.sleep(0.1)
    ended = _ended(mock)
    if not ended:
        mock.kill()
    assert ended
