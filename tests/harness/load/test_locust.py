"""Locust runs without Locust: the command lines, the plan's checks, and the run's files."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import psutil
import pytest

from harness._exceptions import HarnessError, UsageError
from harness._redact import Redactor
from harness._targets import Secret
from harness.load import (
    PROJECT_ROOT,
    FlowSettings,
    LoadPlan,
    LoadResult,
    Thresholds,
    _locust,
    build_commands,
    http_totals,
    parse_workers,
    redact_outputs,
    run_load,
    worker_command,
)
from tests.harness.load.samples import STATS_CSV


def _plan(**overrides: object) -> LoadPlan:
    values: dict[str, object] = {
        "scenario": "background",
        "locustfile": PROJECT_ROOT / "scenarios" / "background.py",
        "flow": FlowSettings(host="http://127.0.0.1:9", api_key_env="MY_KEY"),
    }
    values.update(overrides)
    return LoadPlan(**values)  # type: ignore[arg-type]


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
        ("--shape", "constant"),
    ]:
        assert command[command.index(flag) + 1] == value
    assert "--headless" in command
    assert "--master" not in command


def test_a_plan_without_host_passes_no_host_flag(tmp_path: Path) -> None:
    """A flow without host (the soak's own mock) leaves `--host` off the command line."""
    plan = _plan(
        scenario="soak",
        locustfile=PROJECT_ROOT / "scenarios" / "soak.py",
        flow=FlowSettings(host=None),
        extra_args=("--soak-time-scale", "300"),
    )
    [command] = build_commands(plan, out_dir=tmp_path, python="py")
    assert "--host" not in command
    assert "--headless" in command
    assert command[-2:] == ["--soak-time-scale", "300"]


def test_distributed_commands_are_a_master_and_n_workers_on_loopback(tmp_path: Path) -> None:
    """With --workers N: a master bound to 127.0.0.1 expecting N workers, then N plain workers
    that take every flow option from the master (none on their command line)."""
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
        assert not [word for word in worker if word in ("--api-key-env", "--flow-csv")]
    assert master[master.index("--api-key-env") + 1] == "MY_KEY"
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


def test_expect_workers_runs_only_a_master_bound_as_asked(tmp_path: Path) -> None:
    """--expect-workers N: one master command with Locust's own bind and wait options."""
    plan = _plan(
        expect_workers=3,
        master_bind_host="10.0.0.5",
        master_bind_port=5600,
        expect_workers_max_wait_s=45,
    )
    [master] = build_commands(plan, out_dir=tmp_path, python="py")
    for flag, value in [
        ("--master-bind-host", "10.0.0.5"),
        ("--master-bind-port", "5600"),
        ("--expect-workers", "3"),
        ("--expect-workers-max-wait", "45"),
        ("--flow-csv", str(tmp_path / "flows.csv")),
    ]:
        assert master[master.index(flag) + 1] == value
    assert "--master" in master
    assert "--worker" not in master


def test_the_worker_command_is_plain_locust_without_secrets_or_flow_options() -> None:
    """The printed worker command names the locustfile, the master and a port only off 5557."""
    locustfile = str((PROJECT_ROOT / "scenarios" / "background.py").resolve())
    assert worker_command(_plan(), "10.0.0.5") == [
        "locust", "-f", locustfile, "--worker", "--master-host", "10.0.0.5",
    ]  # fmt: skip
    assert Path(locustfile).is_absolute()
    command = worker_command(_plan(master_bind_port=5600), "m")
    assert command[-2:] == ["--master-port", "5600"]


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [({"expect_workers": -1}, "--expect-workers"),
     ({"expect_workers": 1, "workers": 1}, "--expect-workers"),
     ({"master_bind_port": 0}, "--master-bind-port"),
     ({"master_bind_host": " "}, "--master-bind-host"),
     ({"expect_workers_max_wait_s": 0}, "--expect-workers-max-wait")],
)  # fmt: skip
def test_external_worker_options_are_checked(overrides: dict[str, object], flag: str) -> None:
    """A bad external-worker option names its flag."""
    with pytest.raises(UsageError, match=flag):
        _plan(**overrides)


def test_parse_workers_reads_the_masters_file_and_tolerates_garbage() -> None:
    """The master's workers file gives each worker's name, flows and why it left."""
    text = (
        '{"workers": [{"name": "a:1", "flows": 4, "left": null},'
        ' {"name": "b:2", "flows": 3, "left": "missing heartbeat"}], "rows_dropped": 5}'
    )
    workers, dropped = parse_workers(text)
    assert [(w.name, w.flows, w.left) for w in workers] == [
        ("a:1", 4, None),
        ("b:2", 3, "missing heartbeat"),
    ]
    assert dropped == 5
    assert parse_workers("") == ((), 0)
    assert parse_workers("not json") == ((), 0)
    assert parse_workers("[1]") == ((), 0)


def test_redact_outputs_removes_secrets_from_locust_files(tmp_path: Path) -> None:
    """Locust's files are rewritten without the run's secrets; other files are left alone."""
    (tmp_path / "locust.html").write_text("<td>Bearer s3cret-key</td>")
    (tmp_path / "notes.txt").write_text("s3cret-key")
    redact_outputs(tmp_path, Redactor(["s3cret-key"]))
    assert "s3cret-key" not in (tmp_path / "locust.html").read_text()
    assert (tmp_path / "notes.txt").read_text() == "s3cret-key"


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


def test_the_flows_secrets_reach_locust_only_through_its_environment(tmp_path: Path) -> None:
    """Locust finds the key under the variable its arguments name; the value is not an argument."""
    python = _fake_locust(tmp_path, 'printenv MY_KEY > seen-key; echo "$@" > seen-args; exit 1')
    flow = FlowSettings(host="http://127.0.0.1:9", api_key_env="MY_KEY", api_key=Secret("k-42"))
    with pytest.raises(HarnessError, match="wrote no statistics"):
        run_load(_plan(flow=flow), Thresholds(), out_dir=tmp_path / "out", environ={"A": "b"},
                 redactor=Redactor(), python=python)  # fmt: skip
    assert (tmp_path / "out" / "seen-key").read_text().strip() == "k-42"
    arguments = (tmp_path / "out" / "seen-args").read_text()
    assert "--api-key-env MY_KEY" in arguments
    assert "k-42" not in arguments


def test_a_run_that_outlives_its_bound_is_stopped(tmp_path: Path) -> None:
    """Locust still running after the duration plus grace is killed and reported."""
    python = _fake_locust(tmp_path, "exec sleep 30")
    with pytest.raises(HarnessError, match="did not finish within"):
        run_load(_plan(duration_s=0.01), Thresholds(), out_dir=tmp_path / "out", environ={},
                 redactor=Redactor(), python=python, grace_s=0.2)  # fmt: skip


_SECRET = "secret-value-4242"
_FORKS_AND_WAITS = f"""echo "{_SECRET}"
sleep 300 &
echo $! > grandchild
touch started
wait"""


def _interrupt_once(marker: Path) -> threading.Thread:
    """Ctrl-C in the main thread once `marker` exists (or after 60 s, to fail the test)."""

    def watch() -> None:
        deadline = time.monotonic() + 60.0
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        _thread.interrupt_main()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _ends(pid: int) -> bool:
    """Whether the process ends within 10 s (a SIGKILL takes effect when it is next scheduled;
    a zombie nobody reaps counts as ended)."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    "trap",
    ["trap 'exit 0' TERM", "trap '' TERM"],
    ids=["stops-on-sigterm-leaving-a-child", "ignores-sigterm"],
)
def test_an_interrupted_run_stops_every_process_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trap: str
) -> None:
    """Ctrl-C mid-run: Locust gets SIGTERM, and after the stop wait its whole process group
    gets SIGKILL, so neither a Locust that ignores SIGTERM nor a child it leaves behind (the
    soak's mock) outlives the run; the files written so far are redacted all the same."""
    monkeypatch.setattr(_locust, "_STOP_WAIT_S", 0.5)
    python = _fake_locust(tmp_path, f"{trap}\n{_FORKS_AND_WAITS}")
    out = tmp_path / "out"
    watcher = _interrupt_once(out / "started")
    with pytest.raises(KeyboardInterrupt):
        run_load(_plan(), Thresholds(), out_dir=out, environ={},
                 redactor=Redactor([_SECRET]), python=python)  # fmt: skip
    watcher.join()
    assert _ends(int((out / "grandchild").read_text()))
    log = (out / "locust-0.log").read_text()
    assert _SECRET not in log
    assert "[REDACTED]" in log


def test_an_interrupted_run_reports_what_locust_wrote_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C mid-run: Locust writes its CSVs on SIGTERM; the hook gets their summary (marked
    interrupted, files redacted first), then the interruption propagates unchanged."""
    monkeypatch.setattr(_locust, "_STOP_WAIT_S", 5.0)
    written = tmp_path / "written"
    written.mkdir()
    (written / "locust_stats.csv").write_text(STATS_CSV)
    (written / "locust_failures.csv").write_text(
        f"Method,Name,Error,Occurrences\nFLOW,background: end-to-end (target ms),"
        f"run ended failed: {_SECRET},3\n"
    )
    (written / "flows.csv").write_text(
        "scenario,flow,workflow_id,final_status\nbackground,background,a,failed\n"
    )
    python = _fake_locust(
        tmp_path, f"trap 'cp {written}/* . ; exit 0' TERM\ntouch started\nsleep 300 &\nwait"
    )
    out = tmp_path / "out"
    partial: list[LoadResult] = []
    watcher = _interrupt_once(out / "started")
    with pytest.raises(KeyboardInterrupt):
        run_load(_plan(), Thresholds(max_flow_fail_ratio=0.1), out_dir=out, environ={},
                 redactor=Redactor([_SECRET]), python=python,
                 on_cut_short=partial.append)  # fmt: skip
    watcher.join()
    [result] = partial
    summary = result.summary
    assert summary.interrupted
    assert http_totals(summary.stats) == (100, 1, 20.0)
    assert summary.failures == ("3 x FLOW background: end-to-end (target ms): "
                                "run ended failed: [REDACTED]",)  # fmt: skip
    assert [(row.status, row.count) for row in summary.flow_statuses] == [("failed", 1)]
    assert any("--max-flow-fail-ratio" in line for line in summary.thresholds_crossed)


def test_a_finished_run_calls_no_partial_hook(tmp_path: Path) -> None:
    """A run that ends by itself is summarised once, with Locust's HTML linked."""
    written = tmp_path / "written"
    written.mkdir()
    (written / "locust_stats.csv").write_text(STATS_CSV)
    (written / "locust.html").write_text("<html></html>")
    python = _fake_locust(tmp_path, f"cp {written}/* . ; exit 0")
    partial: list[LoadResult] = []
    result = run_load(_plan(), Thresholds(), out_dir=tmp_path / "out", environ={},
                      redactor=Redactor(), python=python, on_cut_short=partial.append)  # fmt: skip
    assert partial == []
    assert not result.summary.interrupted
    assert result.summary.locust_html == "locust.html"
    assert result.exit_code == 0


def test_the_stop_reason_is_the_masters_marked_log_line() -> None:
    """The line the master logs when `--stop-on-threshold` stopped it; None without one."""
    log = (
        "[2025] INFO/locust.main: Starting\n"
        f"[2025] ERROR/scenarios._stop: {FlowSettings.STOP_MARK}flow fail ratio 1.0000 > x\n"
    )
    assert _locust.stop_reason(log) == "flow fail ratio 1.0000 > x"
    assert _locust.stop_reason("[2025] INFO/locust.main: Shutting down\n") is None


def test_a_threshold_that_stopped_the_run_is_reported_once(tmp_path: Path) -> None:
    """The final verdict's line identical to the stop reason is not repeated after it."""
    line = "fail ratio 0.0100 (1/100 HTTP requests) > --max-fail-ratio 0.005"
    (tmp_path / "locust_stats.csv").write_text(STATS_CSV)
    (tmp_path / "locust-0.log").write_text(
        f"[2025] ERROR/scenarios._stop: {FlowSettings.STOP_MARK}{line}\n"
    )
    result = _locust.summarise(_plan(), Thresholds(max_fail_ratio=0.005), tmp_path, exit_code=1)
    assert result.summary.thresholds_crossed == (
        f"run stopped early by --stop-on-threshold: {line}",
    )
