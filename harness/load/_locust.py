"""Load runs: build the Locust command, run it in a subprocess, read its CSVs, apply thresholds.

Locust is never imported here (it gevent-patches the process): `run_load` starts
`python -m locust -f scenarios/<name>.py --headless --csv ... --html ... -t ... --host ...`, or
with `workers > 0` a master (`--master --expect-workers N`, bound to 127.0.0.1) and N worker
processes (`--worker --master-host 127.0.0.1`), or with `expect_workers > 0` only a master,
bound where the plan says, that waits (at most `expect_workers_max_wait_s`) for workers started
elsewhere (`worker_command`). The master alone writes `flows.csv` and `WORKERS_FILE`: the
workers send their flows through Locust's messaging (`scenarios/_messaging.py`), so no file
on a worker's disk is read. The flows' settings travel as one
`FlowSettings`: its options on the command line, its secrets (the key, the Jira secret) in the
subprocess environment under the variables it names, never on a command line. Every file
Locust writes is redacted after the run, even an interrupted one.

Each Locust process starts in its own session (its own process group), so Ctrl-C at a terminal
reaches the harness alone, and the harness stops them: when the run ends early (Ctrl-C,
SIGTERM/SIGHUP, the time bound) each one still running gets SIGTERM — Locust's own handler
stops its users and workers, writes its files and stops the soak's own mock; SIGINT would not
do, a process started in the background may ignore it — and, however the run ended, whatever is
left in each process group once they stopped (or after `_STOP_WAIT_S`) gets SIGKILL (issue 14).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._exceptions import HarnessError, UsageError
from .._redact import Redactor
from .._signals import signals_held
from ..report import LoadSummary
from ._scenarios import DEFAULT_SHAPE, SCENARIOS, SHAPE_OPTION, SHAPES
from ._settings import FlowSettings
from ._stats import (
    WORKERS_FILE,
    FailureRow,
    WorkerRow,
    count_inconclusive,
    count_violations,
    failure_texts,
    flow_end_failures,
    parse_failures,
    parse_flow_statuses,
    parse_history,
    parse_stats,
    parse_workers,
)
from ._thresholds import Thresholds, crossed_thresholds

__all__ = [
    "LOCUST_MASTER_PORT",
    "LoadPlan",
    "LoadResult",
    "PartialLoad",
    "build_commands",
    "redact_outputs",
    "run_load",
    "stop_reason",
    "worker_command",
]

_STOP_GRACE_S: Final = 60.0
_STOP_WAIT_S: Final = 10.0
"""How long Locust may take to stop (write its files, stop workers and the soak's mock) once
asked, before its process group is killed."""
_LOG_TAIL_CHARS: Final = 1500
_USAGE_EXIT: Final = 2
_USAGE_MARK: Final = "trigger-harness: "
_NO_WORKERS_MARK: Final = "Gave up waiting for workers to connect"
"""Locust's log line when `--expect-workers` did not come within `--expect-workers-max-wait`."""
LOCUST_MASTER_PORT: Final = 5557
"""Locust's default `--master-bind-port` / `--master-port`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadPlan:
    """One Locust run: what to run, how hard and for how long, and the flows' settings.

    `flow.host` is Locust's `--host`; None passes none (the `soak` locustfile then starts its
    own mock). `extra_args` are the scenario's own further arguments (the soak's); never a
    secret value. `expect_workers > 0` runs only the master, bound to `master_bind_host`
    (Locust's `*`: every interface) and `master_bind_port`, waiting at most
    `expect_workers_max_wait_s` real seconds for workers started elsewhere.
    """

    scenario: str
    locustfile: Path
    flow: FlowSettings
    users: int = 5
    spawn_rate: float = 5.0
    duration_s: float = 60.0
    workers: int = 0
    shape: str = DEFAULT_SHAPE
    extra_args: tuple[str, ...] = ()
    expect_workers: int = 0
    master_bind_host: str = "*"
    master_bind_port: int = LOCUST_MASTER_PORT
    expect_workers_max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise UsageError(f"--scenario: unknown scenario {self.scenario!r}")
        if self.users < 1:
            raise UsageError(f"--users: must be >= 1, got {self.users!r}")
        if not self.spawn_rate > 0:
            raise UsageError(f"--spawn-rate: must be > 0, got {self.spawn_rate!r}")
        if not self.duration_s > 0:
            raise UsageError(f"--duration: must be > 0 s, got {self.duration_s!r}")
        if self.workers < 0:
            raise UsageError(f"--workers: must be >= 0, got {self.workers!r}")
        if self.shape not in SHAPES:
            raise UsageError(f"--shape: unknown shape {self.shape!r}; known: {', '.join(SHAPES)}")
        self._check_external_workers()

    def _check_external_workers(self) -> None:
        if self.expect_workers < 0:
            raise UsageError(f"--expect-workers: must be >= 0, got {self.expect_workers!r}")
        if self.expect_workers and self.workers:
            raise UsageError("--expect-workers: not with --workers (workers started here)")
        if not 0 < self.master_bind_port < 65536:
            raise UsageError(f"--master-bind-port: must be 1-65535, got {self.master_bind_port!r}")
        if not self.master_bind_host.strip():
            raise UsageError("--master-bind-host: must not be empty")
        if not self.expect_workers_max_wait_s > 0:
            raise UsageError(
                f"--expect-workers-max-wait: must be > 0 s, got {self.expect_workers_max_wait_s!r}"
            )


def build_commands(
    plan: LoadPlan, *, out_dir: Path, master_port: int | None = None, python: str = sys.executable
) -> list[list[str]]:
    """The Locust command lines: one (local, or a master awaiting `plan.expect_workers` from
    elsewhere) or a master followed by `plan.workers` workers.

    Args:
        plan: the run.
        out_dir: where `locust_*.csv`, `locust.html`, `flows.csv` and `WORKERS_FILE` go.
        master_port: the master's port on 127.0.0.1 (needed with workers).
        python: the interpreter that runs `-m locust`.
    """
    base = [python, "-m", "locust", "-f", str(plan.locustfile)]
    settings = dataclasses.replace(plan.flow, flow_csv=str(out_dir / "flows.csv"))
    flow = [*settings.to_arguments(), *plan.extra_args]
    host = ["--host", plan.flow.host] if plan.flow.host is not None else []
    main = [
        *base,
        "--headless",
        *host,
        "--users", str(plan.users),
        "--spawn-rate", f"{plan.spawn_rate:g}",
        "--run-time", f"{max(1, round(plan.duration_s))}s",
        "--stop-timeout", "0",
        "--csv", str(out_dir / "locust"),
        "--csv-full-history",
        "--html", str(out_dir / "locust.html"),
        *SHAPE_OPTION.arguments(plan.shape),
        "--only-summary",
        *flow,
    ]  # fmt: skip
    if plan.expect_workers:
        external = [
            *main,
            "--master",
            "--master-bind-host", plan.master_bind_host,
            "--master-bind-port", str(plan.master_bind_port),
            "--expect-workers", str(plan.expect_workers),
            "--expect-workers-max-wait", f"{plan.expect_workers_max_wait_s:g}",
        ]  # fmt: skip
        return [external]
    if plan.workers == 0:
        return [main]
    if master_port is None:
        raise UsageError("--workers: a master port is needed")
    master = [
        *main,
        "--master",
        "--master-bind-host", "127.0.0.1",
        "--master-bind-port", str(master_port),
        "--expect-workers", str(plan.workers),
        "--expect-workers-max-wait", "30",
    ]  # fmt: skip
    # No flow option here: a worker takes the master's (Locust sends its parsed options).
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)]
    return [master] + [list(worker) for _ in range(plan.workers)]


def worker_command(plan: LoadPlan, master_host: str) -> list[str]:
    """The plain command that starts one worker elsewhere for `plan`'s master (no secret).

    The locustfile is named by its absolute path (as `python -m scenarios <name>` prints it),
    so the command works from any folder on a host with the same install; the worker takes
    every flow option from the master, and its key from its own environment.

    Args:
        plan: the run (`master_bind_port` is the port the worker dials).
        master_host: the name or address of the master's host, as the workers reach it.
    """
    port = plan.master_bind_port
    words = ["locust", "-f", str(plan.locustfile.resolve()), "--worker"]
    words += ["--master-host", master_host]
    return words + ([] if port == LOCUST_MASTER_PORT else ["--master-port", str(port)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """A finished run: the summary, the failures, Locust's exit code and its output folder.

    `violations` counts broken invariants; `inconclusive` the answers and flows that told
    nothing (no answer, 429, transient 5xx), counted apart and never as violations.
    `workers` are the Locust workers the master saw (empty without workers); `rows_dropped`
    the flow rows workers could not queue for the master (their flows are then missing).
    """

    summary: LoadSummary
    failures: tuple[FailureRow, ...]
    violations: int
    exit_code: int
    out_dir: Path
    inconclusive: int = 0
    workers: tuple[WorkerRow, ...] = ()
    rows_dropped: int = 0


PartialLoad = Callable[["LoadResult"], object]
"""Called with the figures of a run cut short (a signal, the time bound) before the error
propagates: what Locust wrote once asked to stop (it writes its CSVs on SIGTERM)."""


def run_load(
    plan: LoadPlan,
    thresholds: Thresholds,
    *,
    out_dir: Path,
    environ: Mapping[str, str],
    redactor: Redactor,
    python: str = sys.executable,
    grace_s: float = _STOP_GRACE_S,
    on_cut_short: PartialLoad | None = None,
) -> LoadResult:
    """Run Locust as `plan` says, wait (bounded), redact its files and summarise them.

    When the wait is cut short (SIGINT, SIGTERM, the time bound) the processes are stopped,
    their files redacted, and, when Locust wrote statistics, `on_cut_short` gets their
    summary (`LoadSummary.interrupted`) before the exception propagates unchanged.

    Args:
        plan: the run.
        thresholds: limits that fail the run.
        out_dir: the report folder the Locust files go into.
        environ: the environment the subprocess starts from (the flows' secrets are added).
        redactor: removes the run's secrets from every file Locust wrote.
        python: the interpreter that runs Locust.
        grace_s: time allowed beyond the duration (start-up, workers, stopping) before the
            processes are killed.
        on_cut_short: receives the partial figures of a run cut short.

    Raises:
        UsageError: Locust refused its arguments (exit 2, the locustfile's own message), or
            the expected workers did not all connect within `expect_workers_max_wait_s`.
        HarnessError: Locust wrote no statistics, or outlived its bound.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port() if plan.workers else None
    commands = build_commands(plan, out_dir=out_dir, master_port=port, python=python)
    env = plan.flow.to_environ(environ)
    root = str(plan.locustfile.resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    codes: list[int] | None = None
    wait_s = plan.expect_workers_max_wait_s if plan.expect_workers else 0.0
    try:
        codes = _run_processes(commands, out_dir, env, plan.duration_s + grace_s + wait_s)
    finally:
        redact_outputs(out_dir, redactor)
        if codes is None and on_cut_short is not None and _has_stats(out_dir):
            on_cut_short(summarise(plan, thresholds, out_dir, exit_code=-1, interrupted=True))
    if codes[0] == _USAGE_EXIT:
        raise UsageError(_usage_message(_read(out_dir / "locust-0.log")))
    if plan.expect_workers and _NO_WORKERS_MARK in _read(out_dir / "locust-0.log"):
        raise UsageError(
            f"--expect-workers {plan.expect_workers}: the workers did not all connect within "
            f"{plan.expect_workers_max_wait_s:g} s (--expect-workers-max-wait); start each with "
            f"{' '.join(worker_command(plan, '<this host>'))}"
        )
    if not _has_stats(out_dir):
        tail = _log_tail(out_dir / "locust-0.log")
        raise HarnessError(f"locust exited with {codes[0]} and wrote no statistics:\n{tail}")
    return summarise(plan, thresholds, out_dir, exit_code=codes[0])


def _has_stats(out_dir: Path) -> bool:
    return (out_dir / "locust_stats.csv").is_file()


def summarise(
    plan: LoadPlan,
    thresholds: Thresholds,
    out_dir: Path,
    *,
    exit_code: int,
    interrupted: bool = False,
) -> LoadResult:
    """The result of the (redacted) files a run left in `out_dir`, judged by `thresholds`.

    Args:
        plan: the run.
        thresholds: limits that fail the run.
        out_dir: holds `locust_stats.csv` (required), `locust_stats_history.csv`,
            `locust_failures.csv`, `flows.csv`, `WORKERS_FILE` and `locust.html` (each
            optional).
        exit_code: Locust's (-1: it was stopped).
        interrupted: the run was cut short (partial figures).

    A threshold that stopped the run early (`stop_reason`) is one line, `run stopped early by
    --stop-on-threshold: <line>`; the final verdict's identical line is not repeated.
    """
    stats = parse_stats(_read(out_dir / "locust_stats.csv"))
    flows = _read(out_dir / "flows.csv")
    failures = parse_failures(_read(out_dir / "locust_failures.csv")) + flow_end_failures(flows)
    statuses = parse_flow_statuses(flows)
    html = out_dir / "locust.html"
    stopped = stop_reason(_read(out_dir / "locust-0.log"))
    early = () if stopped is None else (f"run stopped early by --stop-on-threshold: {stopped}",)
    crossed = crossed_thresholds(stats, failures, thresholds, statuses)
    workers, dropped = parse_workers(_read(out_dir / WORKERS_FILE))
    summary = LoadSummary(
        scenario=plan.scenario,
        stats=stats,
        series=parse_history(_read(out_dir / "locust_stats_history.csv")),
        thresholds_crossed=early + tuple(line for line in crossed if line != stopped),
        flow_statuses=statuses,
        failures=failure_texts(failures),
        locust_html=html.name if html.is_file() else None,
        interrupted=interrupted,
    )
    return LoadResult(
        summary=summary,
        failures=failures,
        violations=count_violations(failures),
        exit_code=exit_code,
        out_dir=out_dir,
        inconclusive=count_inconclusive(failures),
        workers=workers,
        rows_dropped=dropped,
    )


def stop_reason(log: str) -> str | None:
    """The threshold that stopped the run early (the master's `FlowSettings.STOP_MARK` line
    in its log), None when it ran its course."""
    for line in log.splitlines():
        if FlowSettings.STOP_MARK in line:
            return line[line.index(FlowSettings.STOP_MARK) + len(FlowSettings.STOP_MARK) :].strip()
    return None


def _usage_message(log: str) -> str:
    """The locustfile's own error line (`trigger-harness: ...`), else Locust's log tail."""
    for line in log.splitlines():
        if _USAGE_MARK in line:
            return line[line.index(_USAGE_MARK) + len(_USAGE_MARK) :].strip()
    return f"locust refused its arguments:\n{log[-_LOG_TAIL_CHARS:]}"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _log_tail(path: Path) -> str:
    return _read(path)[-_LOG_TAIL_CHARS:]


def _run_processes(
    commands: Sequence[Sequence[str]], out_dir: Path, env: dict[str, str], timeout_s: float
) -> list[int]:
    """Start every command in its own session (output to `locust-<i>.log`) and wait for all.

    However the wait ends (done, past `timeout_s`, interrupted), every process still running
    is stopped (`_stop`) before this returns or raises.

    Raises:
        HarnessError: a process still ran `timeout_s` seconds after the start.
    """
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as logs:
        try:
            for index, command in enumerate(commands):
                log = logs.enter_context((out_dir / f"locust-{index}.log").open("wb"))
                with signals_held():  # a Popen cut short would leave its process unowned
                    processes.append(
                        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                            list(command),
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            env=env,
                            cwd=out_dir,
                            start_new_session=True,
                        )
                    )
            return _wait_all(processes, timeout_s)
        finally:
            _stop(processes, _STOP_WAIT_S)


def _wait_all(processes: Sequence[subprocess.Popen[bytes]], timeout_s: float) -> list[int]:
    """Every process's exit code, waiting at most `timeout_s` in all."""
    deadline = time.monotonic() + timeout_s
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(
                f"locust did not finish within {timeout_s:g} s; it was stopped"
            ) from exc
    return codes


def _stop(processes: Sequence[subprocess.Popen[bytes]], wait_s: float) -> None:
    """Stop every process still running: SIGTERM, then up to `wait_s` s for it to end; then
    SIGKILL to each started process's group, which ends whatever is left of it (a process that
    ignored SIGTERM, a child it left behind such as the soak's own mock).

    A second interruption during the wait cuts it short; the groups are killed all the same.
    A group id stays reserved while any process is in the group, so it is never another's.
    """
    running = [process for process in processes if process.poll() is None]
    try:
        for process in running:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        for process in running:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        for process in processes:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def redact_outputs(out_dir: Path, redactor: Redactor) -> None:
    """Redact every file Locust wrote into `out_dir` (CSV, HTML, logs), in place."""
    for path in sorted(out_dir.iterdir()):
        if path.is_file() and (path.name.startswith(("locust", "flows"))):
            data = path.read_bytes()
            redacted = redactor.redact_bytes(data)
            if redacted != data:
                path.write_bytes(redacted)
