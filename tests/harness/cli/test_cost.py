"""Cost on real targets is visible and bounded (issue 14): `fuzz`, `load` and `size-polling` say
how many runs they start at most and their seed before starting, honour `--max-runs`, refuse
poll intervals below `MIN_POLL_INTERVAL_S`, and give sizing a time budget."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness._polling import MIN_POLL_INTERVAL_S
from harness.cli import main
from harness.cli._cost import announce
from harness.cli._edge import Edge
from harness.cli._size_polling import _print_sizing
from harness.load import Candidate, DelayResolution, LoadSettings, measure
from harness.load._experiment import MACHINE_CLOCK

_SIZING = ["size-polling", "--target", "mock", "--flows", "2", "--duration-dist", "fixed:20"]
_TINY_TARGET = """
[targets.dev]
base_url = "http://127.0.0.1:9"
workspace_id = "ws"
environment = "DEV"
api_key_env = "K"
sync_trigger = "s"
background_trigger = "b"
poll_interval_s = 1e-7
"""


def _invoke(tmp_path: Path, args: list[str], edge: Edge | None = None) -> tuple[Result, str]:
    lines: list[str] = []
    edge = edge or Edge(environ={"K": "key-value"}, cwd=tmp_path, echo=lines.append)
    runner_edge = Edge(
        environ=edge.environ, cwd=edge.cwd, monotonic=edge.monotonic, echo=lines.append
    )
    result = CliRunner().invoke(
        main, [*args, "--report-dir", str(tmp_path / "reports")], obj=runner_edge
    )
    return result, "\n".join(lines)


def _results(tmp_path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        (tmp_path / "reports" / "latest" / "results.json").read_text()
    )
    return document


@pytest.mark.parametrize(
    "args",
    [
        [*_SIZING, "--intervals", "5,1e-7"],
        ["load", "--target", "mock", "--scenario", "sync", "--poll-interval", "1e-7"],
    ],
    ids=["size-polling --intervals", "load --poll-interval"],
)
def test_an_interval_below_the_minimum_is_exit_2_naming_it(tmp_path: Path, args: list[str]) -> None:
    """A poll interval of 1e-7 s is a usage error naming the lower bound, before any run."""
    result, _ = _invoke(tmp_path, args)
    assert result.exit_code == 2, result.output
    assert "MIN_POLL_INTERVAL_S = 0.1 s" in result.output
    assert next(arg for arg in args if arg in ("--intervals", "--poll-interval")) in result.output
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    "command",
    [["fuzz"], ["size-polling"], ["load", "--scenario", "sync"]],
    ids=["fuzz", "size-polling", "load"],
)
def test_a_targets_file_poll_interval_below_the_minimum_is_exit_2(
    tmp_path: Path, command: list[str]
) -> None:
    """`poll_interval_s = 1e-7` in the targets file stops each command with exit 2, naming the
    key, the target and the bound, before any request (the target is unreachable)."""
    targets = tmp_path / "harness.toml"
    targets.write_text(_TINY_TARGET)
    args = [command[0], "--target", "dev", "--targets", str(targets), *command[1:]]
    result, _ = _invoke(tmp_path, args)
    assert result.exit_code == 2, result.output
    assert "poll_interval_s" in result.output
    assert "'dev'" in result.output
    assert f"{MIN_POLL_INTERVAL_S:g} s" in result.output


def test_size_polling_says_its_bound_and_seed_and_records_the_seed(tmp_path: Path) -> None:
    """Without --seed a seed is chosen, said on stderr with the run bound, and recorded in
    results.json, junit.xml, index.html and summary.md; stderr holds no terminal codes."""
    result, _ = _invoke(tmp_path, [*_SIZING, "--intervals", "5,10"])
    assert result.exit_code == 0, result.output
    assert "size-polling: at most 4 runs (2 of 2 candidates x 2 flows" in result.stderr
    assert "\x1b" not in result.stderr
    options = _results(tmp_path)["run"]
    assert isinstance(options, dict)
    seed = options["options"]["seed"]
    assert isinstance(seed, int)
    assert f"seed {seed} (replay with --seed {seed})" in result.stderr
    folder = tmp_path / "reports" / "latest"
    for name in ("junit.xml", "index.html", "summary.md"):
        assert str(seed) in (folder / name).read_text(), name


def test_size_polling_replays_a_run_with_the_same_seed(tmp_path: Path) -> None:
    """Two runs with the same --seed (jittered schedules, drawn durations) measure the same."""
    args = ["size-polling", "--target", "mock", "--flows", "4", "--seed", "41",
            "--intervals", "fixed_jittered:5,exponential:2"]  # fmt: skip
    tables = []
    for attempt in ("first", "second"):
        result, lines = _invoke(tmp_path / attempt, args)
        assert result.exit_code in (0, 1), result.output
        tables.append([line for line in lines.splitlines() if line.startswith(("fixed", "expo"))])
    assert tables[0] == tables[1]
    assert len(tables[0]) == 2


def test_size_polling_max_runs_leaves_out_the_candidates_past_it(tmp_path: Path) -> None:
    """`--max-runs 5` with 2 flows a candidate measures two candidates, says which were left
    out, and records the bound."""
    result, lines = _invoke(tmp_path, [*_SIZING, "--intervals", "5,10,15", "--max-runs", "5"])
    assert result.exit_code in (0, 1), result.output
    assert "at most 4 runs (2 of 3 candidates x 2 flows, --max-runs 5)" in result.stderr
    assert "left out by --max-runs 5: fixed 15s" in lines
    document = _results(tmp_path)
    assert document["run"]["options"]["max_runs"] == 4  # type: ignore[index]
    assert len(document["sizing"][0]["rows"]) == 2  # type: ignore[index]


def test_size_polling_max_runs_below_one_candidate_is_exit_2(tmp_path: Path) -> None:
    """A --max-runs smaller than --flows leaves room for no candidate: exit 2 naming both."""
    result, _ = _invoke(tmp_path, [*_SIZING, "--intervals", "5", "--max-runs", "1"])
    assert result.exit_code == 2
    assert "--max-runs" in result.output
    assert "--flows 2" in result.output


def test_size_polling_time_limit_reaches_no_candidate_past_it(tmp_path: Path) -> None:
    """A --time-limit already spent (a clock moving 100 s a reading) starts no candidate: the
    command could not judge (exit 4) and names the candidates not reached."""
    ticks = itertools.count(step=100.0)
    edge = Edge(environ={}, cwd=tmp_path, monotonic=lambda: next(ticks))
    result, lines = _invoke(
        tmp_path, [*_SIZING, "--intervals", "5,10", "--time-limit", "1"], edge=edge
    )
    assert result.exit_code == 4, result.output
    assert "not reached within --time-limit: fixed 5s, fixed 10s" in lines


def test_sizing_table_shows_unmeasured_delays_and_the_resolution() -> None:
    """A candidate with no measured delay prints `unmeasured` (never `inf`), and the table is
    followed by the delays' resolution."""
    resolution = DelayResolution(end_source="logs", clock=MACHINE_CLOCK)
    lost = measure(Candidate(strategy="fixed", interval_s=5.0), [None], 1, resolution=resolution)
    assert math.isinf(lost.p95_delay.upper_s)
    lines: list[str] = []
    _print_sizing(Edge(echo=lines.append), [lost], "no recommendation")
    assert "inf" not in "\n".join(lines)
    assert "unmeasured" in lines[1]
    assert lines[-2] == f"resolution: {resolution.describe()}"


@pytest.mark.parametrize(
    ("settings", "bound"),
    [
        (LoadSettings(scenario="sync", users=3, duration_s=10.0, pacing=2.0), 3 * 6),
        (LoadSettings(scenario="jira-burst", users=2, duration_s=4.0, pacing=1.0), 2 * 5 * 10),
        (LoadSettings(scenario="sync", users=5, duration_s=9.0, pacing=1.0, workers=4), 52),
        (LoadSettings(scenario="sync", max_runs=7, workers=2), 6),
    ],
)
def test_load_run_bound(settings: LoadSettings, bound: int) -> None:
    """The bound is users x arrivals x runs per arrival, a whole share per process, or the
    largest whole share of --max-runs."""
    assert settings.run_bound() == bound
    assert bound % settings.processes == 0


def test_load_refuses_max_runs_below_one_per_process(tmp_path: Path) -> None:
    """`--max-runs 1 --workers 2` leaves a worker no run: exit 2 naming the flag."""
    args = ["load", "--target", "mock", "--scenario", "sync", "--workers", "2", "--max-runs", "1"]
    result, _ = _invoke(tmp_path, args)
    assert result.exit_code == 2
    assert "--max-runs" in result.output


def test_fuzz_says_its_bound_and_a_chosen_seed_and_honours_max_runs(tmp_path: Path) -> None:
    """`fuzz` without --seed chooses one, says it with the bound (--max-runs 3) on stderr,
    records both, and the report says where the cap stopped it."""
    args = ["fuzz", "--target", "mock", "--max-examples", "2", "--max-runs", "3"]
    result, lines = _invoke(tmp_path, args)
    assert result.exit_code == 0, result.output + lines
    assert "fuzz: at most 3 runs (6 properties and the state machine" in result.stderr
    options = _results(tmp_path)["run"]["options"]  # type: ignore[index]
    assert options["max_runs"] == 3
    assert f"seed {options['seed']} (replay with --seed {options['seed']})" in result.stderr
    text = (tmp_path / "reports" / "latest" / "results.json").read_text()
    assert "--max-runs reached, 3 runs started" in text
    assert "not reached: --max-runs reached" in text


def test_announce_shows_a_target_name_display_safe_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    announce("fuzz: target 'dev\x1b]0;owned\x07\u202e\nforged'")

    captured = capsys.readouterr()
    assert captured.err == "fuzz: target 'dev\\x1b]0;owned\\x07\\u202e\\x0aforged'\n"
    assert captured.out == ""
