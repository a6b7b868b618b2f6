"""Load runs: build the Locust command, run it in a subprocess, read its CSVs, apply thresholds.

Locust is never imported here (it gevent-patches the process): `run_load` starts
`python -m locust -f scenarios/<name>.py --headless --csv ... --html ... -t ... --host ...`, or
with `workers > 0` a master (`--master --expect-workers N`, bound to 127.0.0.1) and N worker
processes (`--worker --master-host 127.0.0.1`). The flows' settings travel as one
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
    FailureRow,
    count_inconclusive,
    count_violations,
    failure_texts,
    parse_failures,
    parse_flow_statuses,
    parse_history,
    parse_stats,
)
from ._thresholds import Thresholds, crossed_thresholds

__all__ = [
    "LoadPlan",
    "LoadResult",
    "PartialLoad",
    "build_commands",
    "merge_flow_csvs",
    "redact_outputs",
    "run_load",
    "stop_reason",
]

_STOP_GRACE_S: Final = 60.0
_STOP_WAIT_S: Final = 10.0
"""How long Locust may take to stop (write its files, stop workers and the soak's mock) once
asked, before its process group is killed."""
_LOG_TAIL_CHARS: Final = 1500
_USAGE_EXIT: Final = 2
_USAGE_MARK: Final = "trigger-harness: "


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadPlan:
    """One Locust run: what to run, how hard and for how long, and the flows' settings.

    `flow.host` is Locust's `--host`; None passes none (the `soak` locustfile then starts its
    own mock). `extra_args` are the scenario's own further arguments (the soak's); never a
    secret value.
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


def build_commands(
    plan: LoadPlan, *, out_dir: Path, master_port: int | None = None, python: str = sys.executable
) -> list[list[str]]:
    """The Locust command lines: one (local) or a master followed by `plan.workers` workers.

    Args:
        plan: the run.
        out_dir: where `locust_*.csv`, `locust.html` and `flows.csv` go.
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
    worker = [
        *base,
        "--worker",
        "--master-host", "127.0.0.1",
        "--master-port", str(master_port),
        *flow,
    ]  # fmt: skip
    return [master] + [list(worker) for _ in range(plan.workers)]


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
    """

    summary: LoadSummary
    failures: tuple[FailureRow, ...]
    violations: int
    exit_code: int
    out_dir: Path
    inconclusive: int = 0


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
        UsageError: Locust refused its arguments (exit 2, the locustfile's own message).
        HarnessError: Locust wrote no statistics, or outlived its bound.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port() if plan.workers else None
    commands = build_commands(plan, out_dir=out_dir, master_port=port, python=python)
    env = plan.flow.to_environ(environ)
    root = str(plan.locustfile.resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    codes: list[int] | None = None
    try:
        codes = _run_processes(commands, out_dir, env, plan.duration_s + grace_s)
    finally:
        merge_flow_csvs(out_dir)
        redact_outputs(out_dir, redactor)
        if codes is None and on_cut_short is not None and _has_stats(out_dir):
            on_cut_short(summarise(plan, thresholds, out_dir, exit_code=-1, interrupted=True))
    if codes[0] == _USAGE_EXIT:
        raise UsageError(_usage_message(_read(out_dir / "locust-0.log")))
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
            `locust_failures.csv`, `flows.csv` and `locust.html` (each optional).
        exit_code: Locust's (-1: it was stopped).
        interrupted: the run was cut short (partial figures).
    """
    stats = parse_stats(_read(out_dir / "locust_stats.csv"))
    failures = parse_failures(_read(out_dir / "locust_failures.csv"))
    statuses = parse_flow_statuses(_read(out_dir / "flows.csv"))
    html = out_dir / "locust.html"
    stopped = stop_reason(_read(out_dir / "locust-0.log"))
    early = () if stopped is None else (f"run stopped early by --stop-on-threshold: {stopped}",)
    summary = LoadSummary(
        scenario=plan.scenario,
        stats=stats,
        series=parse_history(_read(out_dir / "locust_stats_history.csv")),
        thresholds_crossed=early + crossed_thresholds(stats, failures, thresholds, statuses),
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


def merge_flow_csvs(out_dir: Path) -> Path | None:
    """Join the workers' `flows-worker-<pid>.csv` files into `flows.csv` (one header)."""
    parts = sorted(out_dir.glob("flows-worker-*.csv"))
    if not parts:
        return out_dir / "flows.csv" if (out_dir / "flows.csv").is_file() else None
    target = out_dir / "flows.csv"
    header: str | None = None
    lines: list[str] = []
    for part in parts:
        text = part.read_text(encoding="utf-8").splitlines()
        if text:
            header = header or text[0]
            lines.extend(text[1:])
        part.unlink()
    target.write_text("\n".join([header or "", *lines]) + "\n", encoding="utf-8")
    return target


def redact_outputs(out_dir: Path, redactor: Redactor) -> None:
    """Redact every file Locust wrote into `out_dir` (CSV, HTML, logs), in place."""
    for path in sorted(out_dir.iterdir()):
        if path.is_file() and (path.name.startswith(("locust", "flows"))):
            data = path.read_bytes()
            redacted = redactor.redact_bytes(data)
            if redacted != data:
                path.write_bytes(redacted)
