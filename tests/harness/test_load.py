"""Load runs without Locust: command building, CSV parsing, thresholds, shapes and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness._exceptions import HarnessError, UsageError
from harness._polling import ExponentialStrategy, FixedJitteredStrategy, FixedStrategy
from harness._redact import Redactor
from harness._targets import Secret, Target
from harness.cli._edge import Edge
from harness.cli._load import (
    PROJECT_ROOT,
    _soak_verdict,
    flow_arguments,
    load_command,
    size_polling_command,
    subprocess_environ,
)
from harness.load._locust import (
    SCENARIOS,
    FailureRow,
    LoadPlan,
    LoadResult,
    Thresholds,
    build_commands,
    count_violations,
    crossed_thresholds,
    merge_flow_csvs,
    parse_failures,
    parse_history,
    parse_stats,
    parse_timespan,
    redact_outputs,
    run_load,
    scenario_file,
    shape_at,
    strategy_from,
)
from harness.report import LoadStatsRow, LoadSummary

STATS_CSV = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
POST,E2 start,10,1,8,19,1,48,200,2.0,0.2,8,42,44,45,47,49,49,49,49,49,49
GET,E3 status,90,0,5,15,1,53,300,18.0,0.0,5,8,43,44,48,120,52,53,54,54,54
FLOW,background: end-to-end (target ms),9,0,166000,165629,83328,340445,0,1.8,0,166000,1,1,1,1,\
340000,1,1,1,1,1
,Aggregated,109,1,5,5047,0,340445,0,21.8,0.2,5,10,44,45,49,2500,1,1,1,1,1
"""

HISTORY_CSV = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,\
99%,99.9%,99.99%,100%,Total Request Count
100,2,POST,E2 start,2.0,0.5,8,0,0,0,0,40,0,0,0,0,0,5
100,2,GET,E3 status,10.0,0,5,0,0,0,0,30,0,0,0,0,0,50
100,2,FLOW,background: polls per flow (count),1.0,0,20,0,0,0,0,30,0,0,0,0,0,3
100,2,,Aggregated,13.0,0.5,5,0,0,0,0,2500,0,0,0,0,0,58
101,3,GET,E3 status,12.0,0,6,0,0,0,0,35,0,0,0,0,0,62
101,3,,Aggregated,12.0,0,6,0,0,0,0,35,0,0,0,0,0,62
"""

FAILURES_CSV = """Method,Name,Error,Occurrences
GET,E3 status,contract violation: Envelope has six typed fields,3
GET,E3 status,contract violation: No 5xx answer | Status is a known value,2
GET,E3 status,HTTP 503,4
"""


def _plan(**overrides: object) -> LoadPlan:
    values: dict[str, object] = {
        "scenario": "background",
        "locustfile": PROJECT_ROOT / "scenarios" / "background.py",
        "host": "http://127.0.0.1:9",
        "flow_args": ("--api-key-env", "MY_KEY"),
    }
    values.update(overrides)
    return LoadPlan(**values)  # type: ignore[arg-type]


def test_scenario_files_exist_for_every_scenario() -> None:
    """Every scenario name maps to its locustfile, dashes becoming underscores."""
    for name in SCENARIOS:
        path = scenario_file(name, PROJECT_ROOT)
        assert path.name == name.replace("-", "_") + ".py"
    with pytest.raises(UsageError, match="unknown scenario 'nope'"):
        scenario_file("nope", PROJECT_ROOT)


def test_strategy_from_builds_each_strategy() -> None:
    """Each --poll-strategy name builds its strategy; an unknown one is a usage error."""
    assert strategy_from("fixed", 5, jitter=0, cap_s=60) == FixedStrategy(5.0)
    assert isinstance(strategy_from("fixed_jittered", 5, jitter=2, cap_s=60), FixedJitteredStrategy)
    assert isinstance(strategy_from("exponential", 2, jitter=0.1, cap_s=1), ExponentialStrategy)
    with pytest.raises(UsageError, match="unknown strategy"):
        strategy_from("random", 5, jitter=0, cap_s=60)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("60s", 60.0), ("2m", 120.0), ("1h30m", 5400.0)]
)
def test_parse_timespan_reads_locust_syntax(text: str, seconds: float) -> None:
    """Durations use Locust's -t syntax."""
    assert parse_timespan(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0s", "5x", "-3"])
def test_parse_timespan_rejects_bad_values(text: str) -> None:
    """A bad --duration names the flag."""
    with pytest.raises(UsageError, match="--duration"):
        parse_timespan(text)


def test_constant_shape_holds_users_until_the_end() -> None:
    """The constant shape runs -u users at -r until the duration, then ends the test."""
    assert shape_at("constant", 0, users=10, spawn_rate=2, duration_s=30) == (10, 2)
    assert shape_at("constant", 30, users=10, spawn_rate=2, duration_s=30) is None


def test_ramp_shape_grows_linearly() -> None:
    """The ramp shape climbs from 1 user to -u over the duration."""
    counts = [shape_at("ramp", t, users=10, spawn_rate=1, duration_s=100) for t in (0, 50, 99)]
    assert [c[0] for c in counts if c] == [1, 5, 10]


def test_step_shape_has_four_levels() -> None:
    """The step shape holds a quarter, half, three quarters and all of -u in turn."""
    levels = [shape_at("step", t, users=8, spawn_rate=1, duration_s=40) for t in (0, 10, 20, 35)]
    assert [level[0] for level in levels if level] == [2, 4, 6, 8]


def test_spike_shape_peaks_in_the_middle_fifth() -> None:
    """The spike shape runs a fifth of -u, -u between 40% and 60%, then a fifth again."""
    values = [shape_at("spike", t, users=10, spawn_rate=1, duration_s=100) for t in (10, 50, 70)]
    assert [value[0] for value in values if value] == [2, 10, 2]


def test_soak_shape_reaches_peak_in_a_tenth() -> None:
    """The soak shape holds -u with a spawn rate that reaches it within a tenth of the run."""
    assert shape_at("soak", 0, users=100, spawn_rate=1, duration_s=1000) == (100, 1.0)
    assert shape_at("soak", 0, users=100, spawn_rate=1, duration_s=100) == (100, 10.0)
    with pytest.raises(UsageError, match="--shape"):
        shape_at("zigzag", 0, users=1, spawn_rate=1, duration_s=10)


def test_shape_without_duration_ends_after_a_minute() -> None:
    """Without -t a shape runs for 60 s."""
    assert shape_at("ramp", 59, users=4, spawn_rate=1, duration_s=None) is not None
    assert shape_at("ramp", 60, users=4, spawn_rate=1, duration_s=None) is None


def test_parse_stats_names_rows_by_type_and_skips_aggregated() -> None:
    """Stats rows are named `<type> <name>` and the mixed Aggregated row is left out."""
    rows = parse_stats(STATS_CSV)
    assert [row.name for row in rows] == [
        "POST E2 start",
        "GET E3 status",
        "FLOW background: end-to-end (target ms)",
    ]
    assert rows[1].requests == 90
    assert rows[1].p95_ms == 120
    assert rows[1].rps == 18.0
    assert rows[0].failures == 1


def test_parse_history_sums_http_rows_per_timestamp() -> None:
    """The series sums HTTP rates per timestamp and keeps the worst p95, flows left out."""
    series = parse_history(HISTORY_CSV)
    assert [point.elapsed_s for point in series] == [0, 1]
    assert series[0].users == 2
    assert series[0].rps == 12.0
    assert series[0].failures_per_s == 0.5
    assert series[0].p95_ms == 40
    assert series[1].users == 3
    assert series[1].rps == 12.0


def test_count_violations_counts_every_title() -> None:
    """Violations are the failures prefixed `contract violation:`, one per title listed."""
    failures = parse_failures(FAILURES_CSV)
    assert failures[0] == FailureRow(
        method="GET",
        name="E3 status",
        error="contract violation: Envelope has six typed fields",
        occurrences=3,
    )
    assert count_violations(failures) == 3 + 2 * 2


def test_thresholds_cross_on_fail_ratio_p95_and_violations() -> None:
    """Each threshold crossed gives one line; flow rows do not count as HTTP requests."""
    stats = parse_stats(STATS_CSV)
    failures = parse_failures(FAILURES_CSV)
    crossed = crossed_thresholds(
        stats, failures, Thresholds(max_fail_ratio=0.005, max_p95_ms=100, max_violations=6)
    )
    assert len(crossed) == 3
    assert crossed[0].startswith("fail ratio 0.0100 (1/100)")
    assert "p95 of GET E3 status 120 ms" in crossed[1]
    assert "7 contract violations" in crossed[2]
    assert crossed_thresholds(stats, failures, Thresholds(max_violations=None)) == ()


def test_a_run_without_http_requests_crosses_a_threshold() -> None:
    """A load run that made no HTTP request fails rather than passing vacuously."""
    flow_only = (LoadStatsRow(name="FLOW x", requests=3, failures=0, p50_ms=1, p95_ms=1,
                              p99_ms=1, rps=1),)  # fmt: skip
    assert crossed_thresholds(flow_only, (), Thresholds()) == ("no HTTP request was made",)


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_fail_ratio", 1.5), ("max_p95_ms", 0), ("max_violations", -1)],
)
def test_thresholds_reject_bad_values(field: str, value: float) -> None:
    """A bad threshold names its flag."""
    with pytest.raises(UsageError, match=field.replace("_", "-")):
        Thresholds(**{field: value})  # type: ignore[arg-type]


def test_local_command_is_headless_bounded_and_writes_csv_and_html(tmp_path: Path) -> None:
    """Without workers one headless command runs with -t, --csv, --html and the host."""
    [command] = build_commands(_plan(duration_s=7.4), out_dir=tmp_path, python="py")
    assert command[:3] == ["py", "-m", "locust"]
    for flag, value in [
        ("--host", "http://127.0.0.1:9"),
        ("--run-time", "7s"),
        ("--csv", str(tmp_path / "locust")),
        ("--html", str(tmp_path / "locust.html")),
        ("--flow-csv", str(tmp_path / "flows.csv")),
        ("--api-key-env", "MY_KEY"),
    ]:
        assert command[command.index(flag) + 1] == value
    assert "--headless" in command
    assert "--master" not in command


def test_a_plan_without_host_passes_no_host_flag(tmp_path: Path) -> None:
    """`host=None` (the soak's own mock) leaves `--host` off the command line."""
    plan = _plan(scenario="soak", locustfile=PROJECT_ROOT / "scenarios" / "soak.py", host=None)
    [command] = build_commands(plan, out_dir=tmp_path, python="py")
    assert "--host" not in command
    assert "--headless" in command


def test_distributed_commands_are_a_master_and_n_workers_on_loopback(tmp_path: Path) -> None:
    """With --workers N: a master bound to 127.0.0.1 expecting N workers, then N workers."""
    commands = build_commands(_plan(workers=2), out_dir=tmp_path, master_port=5599, python="py")
    master, *workers = commands
    assert len(workers) == 2
    assert master[master.index("--master-bind-host") + 1] == "127.0.0.1"
    assert master[master.index("--expect-workers") + 1] == "2"
    for worker in workers:
        assert "--worker" in worker
        assert "--headless" not in worker
        assert worker[worker.index("--master-host") + 1] == "127.0.0.1"
        assert worker[worker.index("--master-port") + 1] == "5599"
    with pytest.raises(UsageError, match="master port"):
        build_commands(_plan(workers=1), out_dir=tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [("users", 0, "--users"), ("spawn_rate", 0, "--spawn-rate"), ("workers", -1, "--workers"),
     ("shape", "zigzag", "--shape"), ("duration_s", 0, "--duration")],
)  # fmt: skip
def test_load_plan_rejects_bad_values(field: str, value: object, flag: str) -> None:
    """A bad load option names its flag."""
    with pytest.raises(UsageError, match=flag):
        _plan(**{field: value})


def test_secrets_travel_in_the_environment_never_in_arguments() -> None:
    """The key and Jira secret go into the subprocess environment; arguments name variables."""
    target = Target(
        name="dev", base_url="https://example.test/api/v1/ai", workspace_id="ws",
        environment="UAT", api_key=Secret("sk-live-123456"), api_key_env="DEV_KEY",
        background_trigger="nightly", jira_secret=Secret("jira-secret-999"),
    )  # fmt: skip
    env, key_env, jira_env = subprocess_environ({"PATH": "/bin"}, target)
    assert env == {
        "PATH": "/bin",
        "DEV_KEY": "sk-live-123456",
        "TRIGGER_HARNESS_JIRA_SECRET": "jira-secret-999",
    }
    args = flow_arguments(
        target, key_env=key_env, jira_env=jira_env, poll_strategy="fixed", poll_interval=None,
        pacing=0.5, mock_admin=False,
    )  # fmt: skip
    joined = " ".join(args)
    assert "sk-live-123456" not in joined
    assert "jira-secret-999" not in joined
    assert "--api-key-env DEV_KEY" in joined
    assert "--background-trigger nightly" in joined
    assert "--poll-interval 5" in joined
    assert "--mock-admin" not in joined


def test_merge_flow_csvs_joins_worker_files_under_one_header(tmp_path: Path) -> None:
    """Each worker's flows file is merged into flows.csv with a single header."""
    (tmp_path / "flows-worker-1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "flows-worker-2.csv").write_text("a,b\n3,4\n5,6\n")
    merged = merge_flow_csvs(tmp_path)
    assert merged is not None
    assert merged.read_text().splitlines() == ["a,b", "1,2", "3,4", "5,6"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flows.csv"]


def test_redact_outputs_removes_secrets_from_locust_files(tmp_path: Path) -> None:
    """Locust's files are rewritten without the run's secrets; other files are left alone."""
    (tmp_path / "locust.html").write_text("<td>Bearer s3cret-key</td>")
    (tmp_path / "notes.txt").write_text("s3cret-key")
    redact_outputs(tmp_path, Redactor(["s3cret-key"]))
    assert "s3cret-key" not in (tmp_path / "locust.html").read_text()
    assert (tmp_path / "notes.txt").read_text() == "s3cret-key"


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

    main.add_command(load_command)
    main.add_command(size_polling_command)
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
    verdict, text = _soak_verdict(result)
    assert verdict is held
    assert text.startswith(start)


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


def _fake_locust(tmp_path: Path, script: str) -> str:
    """An executable standing in for `python -m locust`, running `script` (sh)."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def test_a_locustfile_usage_error_becomes_a_usage_error(tmp_path: Path) -> None:
    """Locust exiting 2 with the locustfile's message is a usage error carrying that message."""
    python = _fake_locust(
        tmp_path, 'echo "[x] ERROR/h: trigger-harness: --pacing must be > 0, got 0"; exit 2'
    )
    with pytest.raises(UsageError, match=r"^--pacing must be > 0, got 0$"):
        run_load(_plan(), Thresholds(), out_dir=tmp_path / "out", environ={},
                 redactor=Redactor(), python=python)  # fmt: skip


def test_locust_writing_no_statistics_is_an_error(tmp_path: Path) -> None:
    """A Locust run that ends without writing statistics raises with its log's tail."""
    python = _fake_locust(tmp_path, 'echo "Traceback: boom"; exit 1')
    with pytest.raises(HarnessError, match="wrote no statistics:\nTraceback: boom"):
        run_load(_plan(), Thresholds(), out_dir=tmp_path / "out", environ={},
                 redactor=Redactor(), python=python)  # fmt: skip


def test_a_run_that_outlives_its_bound_is_stopped(tmp_path: Path) -> None:
    """Locust still running after the duration plus grace is killed and reported."""
    python = _fake_locust(tmp_path, "exec sleep 30")
    with pytest.raises(HarnessError, match="did not finish within"):
        run_load(_plan(duration_s=0.01), Thresholds(), out_dir=tmp_path / "out", environ={},
                 redactor=Redactor(), python=python, grace_s=0.2)  # fmt: skip
