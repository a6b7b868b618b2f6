"""Load runs: build the Locust command, run it in a subprocess, read its CSVs, apply thresholds.

Locust is never imported here (it gevent-patches the process): `run_load` starts
`python -m locust -f scenarios/<name>.py --headless --csv ... --html ... -t ... --host ...`, or
with `workers > 0` a master (`--master --expect-workers N`, bound to 127.0.0.1) and N worker
processes (`--worker --master-host 127.0.0.1`). Secrets never go on a command line: the key and
the Jira secret travel in the subprocess environment under the variables the target names, and
the locustfiles read them there. Every file Locust writes is redacted after the run.

The pure helpers (shapes, strategies, timespans, CSV parsing, thresholds) are shared with the
locustfiles and tested without Locust.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._exceptions import HarnessError, UsageError
from .._polling import PollStrategy, exponential, fixed, fixed_jittered
from .._redact import Redactor
from ..report import LoadSeriesPoint, LoadStatsRow, LoadSummary

__all__ = [
    "DEFAULT_SHAPE",
    "FLOW_CSV_ENV",
    "SCENARIOS",
    "SHAPES",
    "STRATEGIES",
    "VIOLATION_PREFIX",
    "FailureRow",
    "LoadPlan",
    "LoadResult",
    "Thresholds",
    "build_commands",
    "count_violations",
    "crossed_thresholds",
    "merge_flow_csvs",
    "parse_failures",
    "parse_history",
    "parse_stats",
    "parse_timespan",
    "redact_outputs",
    "run_load",
    "scenario_file",
    "shape_at",
    "strategy_from",
]

VIOLATION_PREFIX: Final = "contract violation: "
FLOW_CSV_ENV: Final = "TRIGGER_HARNESS_FLOW_CSV"
SCENARIOS: Final = ("sync", "background", "mixed", "jira-burst", "bad-key-storm", "soak")
SHAPES: Final = ("constant", "ramp", "step", "spike", "soak")
DEFAULT_SHAPE: Final = "constant"
STRATEGIES: Final = ("fixed", "fixed_jittered", "exponential")
_DEFAULT_SHAPE_DURATION_S: Final = 60.0
_STEPS: Final = 4
_SPIKE_WINDOW: Final = (0.4, 0.6)
_SOAK_RAMP_SHARE: Final = 0.1
_FLOW_TYPE: Final = "FLOW"
_AGGREGATED: Final = "Aggregated"
_TIMESPAN = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_STOP_GRACE_S: Final = 60.0
_LOG_TAIL_CHARS: Final = 1500
_USAGE_EXIT: Final = 2
_USAGE_MARK: Final = "trigger-harness: "


# --- pure helpers shared with the locustfiles -----------------------------------------------


def scenario_file(name: str, root: Path) -> Path:
    """The locustfile of scenario `name` (`jira-burst` -> `scenarios/jira_burst.py`).

    Args:
        name: one of `SCENARIOS`.
        root: the project directory holding `scenarios/`.
    """
    if name not in SCENARIOS:
        raise UsageError(f"--scenario: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    path = root / "scenarios" / f"{name.replace('-', '_')}.py"
    if not path.is_file():
        raise UsageError(f"--scenario: locustfile {str(path)!r} does not exist")
    return path


def strategy_from(name: str, interval_s: float, *, jitter: float, cap_s: float) -> PollStrategy:
    """The polling strategy a `--poll-strategy` name and its numbers describe.

    Args:
        name: `fixed`, `fixed_jittered` or `exponential`.
        interval_s: the interval (exponential: the first delay), target seconds.
        jitter: fixed_jittered: first-poll jitter in seconds; exponential: a fraction 0-1.
        cap_s: exponential: the longest delay.
    """
    if name == "fixed":
        return fixed(interval_s)
    if name == "fixed_jittered":
        return fixed_jittered(interval_s, first_poll_jitter_s=jitter)
    if name == "exponential":
        return exponential(interval_s, cap_s=max(cap_s, interval_s), jitter=jitter)
    raise UsageError(f"--poll-strategy: unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def parse_timespan(text: str) -> float:
    """Seconds in `90`, `60s`, `2m`, `1h30m` (Locust's `-t` syntax).

    Args:
        text: the `--duration` value.
    """
    value = text.strip().lower()
    match = _TIMESPAN.fullmatch(value)
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
    elif value and match is not None and any(match.groups()):
        hours, minutes, secs = (float(group or 0) for group in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise UsageError(f"--duration: expected a time like 60s, 2m or 1h30m, got {text!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"--duration: must be more than 0 s, got {text!r}")
    return seconds


def shape_at(
    shape: str, elapsed_s: float, *, users: int, spawn_rate: float, duration_s: float | None
) -> tuple[int, float] | None:
    """Users and spawn rate a shape asks for `elapsed_s` into the run; None when it is over.

    Args:
        shape: `constant` (-u at -r), `ramp` (0 to -u linearly), `step` (4 equal steps),
            `spike` (a fifth of -u, then -u in the middle fifth), `soak` (reach -u in the
            first tenth, then hold).
        elapsed_s: seconds since the run began.
        users: the peak number of users (-u).
        spawn_rate: users started per second (-r).
        duration_s: the run time (-t); 60 s when None.
    """
    duration = duration_s or _DEFAULT_SHAPE_DURATION_S
    if elapsed_s >= duration:
        return None
    share = elapsed_s / duration
    peak = max(1, users)
    if shape == "constant":
        return peak, spawn_rate
    if shape == "ramp":
        return max(1, math.ceil(peak * share)), max(spawn_rate, peak / duration)
    if shape == "step":
        step = min(_STEPS, int(share * _STEPS) + 1)
        return max(1, math.ceil(peak * step / _STEPS)), max(spawn_rate, float(peak))
    if shape == "spike":
        low, high = _SPIKE_WINDOW
        in_spike = low <= share < high
        return (peak if in_spike else max(1, peak // 5)), max(spawn_rate, float(peak))
    if shape == "soak":
        return peak, max(spawn_rate, peak / (duration * _SOAK_RAMP_SHARE))
    raise UsageError(f"--shape: unknown shape {shape!r}; known: {', '.join(SHAPES)}")


# --- reading Locust's CSV output ---------------------------------------------------------------


def _number(value: str | None) -> float:
    try:
        number = float(value or "nan")
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def parse_stats(text: str) -> tuple[LoadStatsRow, ...]:
    """One row per request name of `<prefix>_stats.csv` (named `<type> <name>`).

    The `Aggregated` row is left out: it mixes HTTP latencies with flow metrics.
    """
    result = []
    for row in _rows(text):
        if row.get("Name") == _AGGREGATED and not row.get("Type"):
            continue
        result.append(
            LoadStatsRow(
                name=f"{row.get('Type', '')} {row.get('Name', '')}".strip(),
                requests=int(_number(row.get("Request Count"))),
                failures=int(_number(row.get("Failure Count"))),
                p50_ms=_number(row.get("50%")),
                p95_ms=_number(row.get("95%")),
                p99_ms=_number(row.get("99%")),
                rps=_number(row.get("Requests/s")),
            )
        )
    return tuple(result)


def _is_http(row: LoadStatsRow) -> bool:
    return not row.name.startswith(f"{_FLOW_TYPE} ")


def parse_history(text: str) -> tuple[LoadSeriesPoint, ...]:
    """The run's time series from `<prefix>_stats_history.csv` (written with full history).

    Per timestamp: users, the summed rate and failure rate of HTTP requests, and the worst
    (highest) current p50 and p95 among HTTP request names. Flow metrics are left out.
    """
    by_time: dict[float, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(text):
        if row.get("Type") == _FLOW_TYPE or row.get("Name") == _AGGREGATED:
            continue
        by_time[_number(row.get("Timestamp"))].append(row)
    users_at = {
        _number(row.get("Timestamp")): int(_number(row.get("User Count"))) for row in _rows(text)
    }
    if not users_at:
        return ()
    first = min(users_at)
    points = []
    for stamp in sorted(users_at):
        rows = by_time.get(stamp, [])
        points.append(
            LoadSeriesPoint(
                elapsed_s=stamp - first,
                users=users_at[stamp],
                rps=sum(_number(row.get("Requests/s")) for row in rows),
                failures_per_s=sum(_number(row.get("Failures/s")) for row in rows),
                p50_ms=max((_number(row.get("50%")) for row in rows), default=0.0),
                p95_ms=max((_number(row.get("95%")) for row in rows), default=0.0),
            )
        )
    return tuple(points)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureRow:
    """One row of `<prefix>_failures.csv`."""

    method: str
    name: str
    error: str
    occurrences: int


def parse_failures(text: str) -> tuple[FailureRow, ...]:
    """The rows of `<prefix>_failures.csv`."""
    return tuple(
        FailureRow(
            method=row.get("Method", ""),
            name=row.get("Name", ""),
            error=row.get("Error", ""),
            occurrences=int(_number(row.get("Occurrences"))),
        )
        for row in _rows(text)
    )


def count_violations(failures: Sequence[FailureRow]) -> int:
    """Contract violations among the failures (an error may name several, `|`-separated)."""
    total = 0
    for row in failures:
        if row.error.startswith(VIOLATION_PREFIX):
            titles = row.error[len(VIOLATION_PREFIX) :].split(" | ")
            total += row.occurrences * len(titles)
    return total


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Limits that fail a load run (exit code 1); None switches one off.

    Args:
        max_fail_ratio: failed HTTP requests / all HTTP requests, 0-1.
        max_p95_ms: the highest p95 latency any request name may have.
        max_violations: contract violations allowed.
    """

    max_fail_ratio: float | None = 0.01
    max_p95_ms: float | None = None
    max_violations: int | None = 0

    def __post_init__(self) -> None:
        ratio = self.max_fail_ratio
        if ratio is not None and not 0 <= ratio <= 1:
            raise UsageError(f"--max-fail-ratio: must be between 0 and 1, got {ratio!r}")
        if self.max_p95_ms is not None and not self.max_p95_ms > 0:
            raise UsageError(f"--max-p95-ms: must be > 0, got {self.max_p95_ms!r}")
        if self.max_violations is not None and self.max_violations < 0:
            raise UsageError(f"--max-violations: must be >= 0, got {self.max_violations!r}")


def crossed_thresholds(
    stats: Sequence[LoadStatsRow], failures: Sequence[FailureRow], thresholds: Thresholds
) -> tuple[str, ...]:
    """One line per threshold the run crossed (empty when every one held)."""
    http = [row for row in stats if _is_http(row)]
    crossed = []
    requests = sum(row.requests for row in http)
    failed = sum(row.failures for row in http)
    if requests == 0:
        crossed.append("no HTTP request was made")
    ratio = failed / requests if requests else 0.0
    if thresholds.max_fail_ratio is not None and ratio > thresholds.max_fail_ratio:
        crossed.append(
            f"fail ratio {ratio:.4f} ({failed}/{requests}) > --max-fail-ratio "
            f"{thresholds.max_fail_ratio:g}"
        )
    if thresholds.max_p95_ms is not None:
        for row in http:
            if row.p95_ms > thresholds.max_p95_ms:
                crossed.append(
                    f"p95 of {row.name} {row.p95_ms:g} ms > --max-p95-ms {thresholds.max_p95_ms:g}"
                )
    violations = count_violations(failures)
    if thresholds.max_violations is not None and violations > thresholds.max_violations:
        crossed.append(
            f"{violations} contract violations > --max-violations {thresholds.max_violations}"
        )
    return tuple(crossed)


# --- running Locust ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadPlan:
    """One Locust run: what to run, against which host, how hard and for how long.

    `host` None passes no `--host` (the `soak` locustfile then starts its own mock).
    `flow_args` are further custom arguments for the locustfile (polling, pacing, names of the
    variables holding secrets); never a secret value.
    """

    scenario: str
    locustfile: Path
    host: str | None
    users: int = 5
    spawn_rate: float = 5.0
    duration_s: float = 60.0
    workers: int = 0
    shape: str = DEFAULT_SHAPE
    flow_args: tuple[str, ...] = ()

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
    flow = [*plan.flow_args, "--flow-csv", str(out_dir / "flows.csv")]
    host = ["--host", plan.host] if plan.host is not None else []
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
        "--shape", plan.shape,
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
    """A finished run: the summary, the failures, Locust's exit code and its output folder."""

    summary: LoadSummary
    failures: tuple[FailureRow, ...]
    violations: int
    exit_code: int
    out_dir: Path


def run_load(
    plan: LoadPlan,
    thresholds: Thresholds,
    *,
    out_dir: Path,
    environ: Mapping[str, str],
    redactor: Redactor,
    python: str = sys.executable,
    grace_s: float = _STOP_GRACE_S,
) -> LoadResult:
    """Run Locust as `plan` says, wait (bounded), redact its files and summarise them.

    Args:
        plan: the run.
        thresholds: limits that fail the run.
        out_dir: the report folder the Locust files go into.
        environ: the subprocess environment (holding the secrets under their variables).
        redactor: removes the run's secrets from every file Locust wrote.
        python: the interpreter that runs Locust.
        grace_s: time allowed beyond the duration (start-up, workers, stopping) before the
            processes are killed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port() if plan.workers else None
    commands = build_commands(plan, out_dir=out_dir, master_port=port, python=python)
    env = dict(environ)
    root = str(plan.locustfile.resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    codes = _run_processes(commands, out_dir, env, plan.duration_s + grace_s)
    merge_flow_csvs(out_dir)
    redact_outputs(out_dir, redactor)
    stats_file = out_dir / "locust_stats.csv"
    if codes[0] == _USAGE_EXIT:
        raise UsageError(_usage_message(_read(out_dir / "locust-0.log")))
    if not stats_file.is_file():
        tail = _log_tail(out_dir / "locust-0.log")
        raise HarnessError(f"locust exited with {codes[0]} and wrote no statistics:\n{tail}")
    stats = parse_stats(stats_file.read_text(encoding="utf-8"))
    failures = parse_failures(_read(out_dir / "locust_failures.csv"))
    summary = LoadSummary(
        scenario=plan.scenario,
        stats=stats,
        series=parse_history(_read(out_dir / "locust_stats_history.csv")),
        thresholds_crossed=crossed_thresholds(stats, failures, thresholds),
    )
    return LoadResult(
        summary=summary,
        failures=failures,
        violations=count_violations(failures),
        exit_code=codes[0],
        out_dir=out_dir,
    )


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
    """Start every command (output to `locust-<i>.log`), wait for all, kill them at the bound."""
    processes = []
    logs = []
    try:
        for index, command in enumerate(commands):
            log = (out_dir / f"locust-{index}.log").open("wb")
            logs.append(log)
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and arguments, no shell
                    list(command), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=out_dir
                )
            )
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
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


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
