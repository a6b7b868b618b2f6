"""What every command shares: the edge it reads, the target it resolves, the report it writes.

`Edge` carries everything a command reads from the outside world (environment, working
directory, wall clock, output), so commands are testable with a dict and a list. `resolve_target`
loads and selects a target and applies the production guard; `report_run` opens the report folder
with a redactor that knows the run's secrets and brackets the event stream with `RunStarted` and
`RunFinished`, then points `latest` at it once every file is written.

Every run ends in a verdict: an interruption (Ctrl-C, or `Terminated` from SIGTERM/SIGHUP)
still closes the report, with exit code 130/143 and the verdict `interrupted`; a signal that
arrives while the report is being written is held until it is written (issue 14).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._display import display_safe
from .._exceptions import CannotJudge, HarnessError, Interrupted, UsageError
from .._redact import Redactor
from .._signals import signals_held
from .._targets import Target, Targets, guard_production, load_targets, select_target
from ..report import EventBus, ReportFolder, RunFinished, RunStarted, fan_out, standard_reporters

__all__ = [
    "Edge",
    "ReportedRun",
    "print_report",
    "report_run",
    "resolve_target",
    "secrets_of",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _display_safe_writer(write: Callable[[str], None]) -> Callable[[str], None]:
    """`write`, given its text through `display_safe` (newlines and tabs kept)."""
    return lambda text: write(display_safe(text, multiline=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """The outside world as a command sees it; tests pass their own."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    now: Callable[[], datetime] = _utc_now
    monotonic: Callable[[], float] = time.monotonic
    echo: Callable[[str], None] = print
    warn: Callable[[str], None] = _to_stderr

    def __post_init__(self) -> None:
        """Route `echo` and `warn` through `display_safe`: a target's control and bidi
        characters are shown as escapes, never written raw to the terminal; newlines and tabs
        are kept, as tables and blocks are echoed whole (one-line messages cut target text at
        its first line)."""
        for name in ("echo", "warn"):
            write = getattr(self, name)
            object.__setattr__(self, name, _display_safe_writer(write))


def resolve_target(
    edge: Edge, name: str, targets_file: Path | None, *, starts_runs: bool, allow_production: bool
) -> Target:
    """Load the targets, select `name` (reading its secrets) and apply the production guard.

    Only the selected target must be valid: each other invalid target of the file is one
    `warning: target 'x' is skipped: <error>` line through `edge.warn` (stderr), display-safe
    and with every secret the file's targets name masked.

    Args:
        edge: where the environment and working directory come from.
        name: the `--target` value.
        targets_file: the `--targets` value, or None to look in the usual places.
        starts_runs: whether the command starts runs or sends load (production guard applies).
        allow_production: the `--allow-production` flag.
    """
    targets = load_targets(targets_file, environ=edge.environ, cwd=edge.cwd)
    target = select_target(targets, name, environ=edge.environ)
    _warn_invalid_targets(edge, targets, name)
    if starts_runs:
        guard_production(target, allow_production=allow_production)
    return target


def _warn_invalid_targets(edge: Edge, targets: Targets, selected: str) -> None:
    """Warn, without a secret, about every invalid target but the selected one."""
    named = (variable for names in targets.variables.values() for variable in names)
    redactor = Redactor(edge.environ.get(variable) for variable in named)
    for line in targets.warnings(selected):
        edge.warn(display_safe(redactor.redact_text(line)))


def print_report(edge: Edge, run: ReportedRun, *, bare: bool = False) -> None:
    """Say where the run's report is, the one way every command does: `report: <index.html>`,
    or the path alone when `bare` (`--quiet`)."""
    index = run.folder.path / "index.html"
    edge.echo(str(index) if bare else f"report: {index}")


def secrets_of(target: Target, *extra: str | None) -> list[str]:
    """Every secret value a run against `target` may hold: key, Jira secret, extra tokens."""
    return [*target.secret_values(), *(value for value in extra if value)]


@dataclass(slots=True)
class ReportedRun:
    """An open report: emit events to `bus`; set `exit_code` before the block ends.

    `reason` is why the block ended in an error (the raised error's message, redacted), ''
    when it did not.

    `finished` is the report's closing event once every file is written (None until then,
    and when writing failed).
    """

    folder: ReportFolder
    bus: EventBus
    redactor: Redactor
    exit_code: int = 0
    reason: str = ""
    finished: RunFinished | None = None

    @property
    def verdict(self) -> str:
        """The written report's verdict (`passed`, `interrupted`, ...), else `incomplete`."""
        return "incomplete" if self.finished is None else self.finished.verdict


@contextmanager
def report_run(
    edge: Edge,
    *,
    command: str,
    target: Target,
    report_dir: Path,
    options: Mapping[str, Any],
    extra_secrets: tuple[str | None, ...] = (),
    on_written: Callable[[ReportedRun], None] | None = None,
) -> Iterator[ReportedRun]:
    """Open a report folder for one command run, close it with `RunFinished`, point `latest`.

    The exit code recorded is the block's `run.exit_code`, or the raised `HarnessError`'s or
    `Interrupted`'s (`Terminated`: 143); Ctrl-C records 130 and is raised as `Interrupted`;
    any other exception records 4 (could not judge). The files are written with
    SIGINT/SIGTERM/SIGHUP held, and `latest` moves only once all are written.

    Args:
        edge: the clock and environment.
        command: the command's name (part of the folder name).
        target: the resolved target; its secrets are redacted from every file.
        report_dir: the `--report-dir` root.
        options: the effective flags worth recording (no secrets).
        extra_secrets: further values to redact (an admin token).
        on_written: called with the run once its report is written, however the block ended
            (interrupted too), still with the signals held: where a command prints its
            outcome when it must print it even when interrupted (`run --json`).

    Raises:
        UsageError: the report folder cannot be created.
    """
    redactor = Redactor(secrets_of(target, *extra_secrets))
    started_at = edge.now()
    started = edge.monotonic()
    folder = _create_folder(
        edge.cwd / report_dir, command=command, target_name=target.name, at=started_at,
        redactor=redactor, shown=report_dir,
    )  # fmt: skip
    run = ReportedRun(folder=folder, bus=fan_out(standard_reporters(folder)), redactor=redactor)
    try:
        run.bus.emit(
            RunStarted(
                command=command,
                target_name=target.name,
                base_url=target.base_url,
                started_at=started_at,
                options=options,
            )
        )
        yield run
    except (HarnessError, Interrupted) as exc:
        run.exit_code, run.reason = exc.exit_code, redactor.redact_text(str(exc))
        raise
    except KeyboardInterrupt:
        run.exit_code, run.reason = Interrupted.exit_code, _SIGINT
        raise Interrupted(_SIGINT) from None
    except Exception as exc:
        run.exit_code = CannotJudge.exit_code
        run.reason = redactor.redact_text(f"internal error ({type(exc).__name__}: {exc})")
        raise
    finally:
        with signals_held():
            _close_report(run, edge.now(), edge.monotonic() - started)
            _say_written(edge, run, on_written)


_SIGINT = "interrupted (SIGINT); the report holds what ran"


def _say_written(
    edge: Edge, run: ReportedRun, on_written: Callable[[ReportedRun], None] | None
) -> None:
    """Once the report is written: `on_written`, else, when the block ended in an error
    (`run.reason` set), the `report:` line the command's own ending would have printed."""
    if on_written is not None:
        on_written(run)
    elif run.reason and run.finished is not None:
        print_report(edge, run)


def _create_folder(
    root: Path, *, command: str, target_name: str, at: datetime, redactor: Redactor, shown: Path
) -> ReportFolder:
    """A new report folder under `root`; `shown` is the `--report-dir` the error names."""
    try:
        return ReportFolder.create(root, command, target_name, at, redactor=redactor)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--report-dir {shown}: cannot create a report folder ({reason})") from exc


def _close_report(run: ReportedRun, finished_at: datetime, duration_s: float) -> None:
    """Emit `RunFinished`, write every file, then point `latest` at the folder; when a
    reporter fails, the error propagates and `latest` stays where it was."""
    finished = RunFinished(
        exit_code=run.exit_code, finished_at=finished_at, duration_s=duration_s, reason=run.reason
    )
    try:
        run.bus.emit(finished)
    finally:
        run.bus.close()
    run.folder.point_latest()
    run.finished = finished
