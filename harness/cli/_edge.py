"""What every command shares: the edge it reads, the target it resolves, the report it writes.

`Edge` carries everything a command reads from the outside world (environment, working
directory, wall clock, output), so commands are testable with a dict and a list. `resolve_target`
loads and selects a target and applies the production guard; `report_run` opens the report folder
with a redactor that knows the run's secrets and brackets the event stream with `RunStarted` and
`RunFinished`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._exceptions import HarnessError, Interrupted, UsageError
from .._redact import Redactor
from .._targets import Target, guard_production, load_targets, select_target
from ..report import EventBus, ReportFolder, RunFinished, RunStarted, fan_out, standard_reporters

__all__ = [
    "Edge",
    "ReportedRun",
    "report_run",
    "resolve_target",
    "secrets_of",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """The outside world as a command sees it; tests pass their own."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    now: Callable[[], datetime] = _utc_now
    monotonic: Callable[[], float] = time.monotonic
    echo: Callable[[str], None] = print


def resolve_target(
    edge: Edge, name: str, targets_file: Path | None, *, starts_runs: bool, allow_production: bool
) -> Target:
    """Load the targets, select `name` (reading its secrets) and apply the production guard.

    Args:
        edge: where the environment and working directory come from.
        name: the `--target` value.
        targets_file: the `--targets` value, or None to look in the usual places.
        starts_runs: whether the command starts runs or sends load (production guard applies).
        allow_production: the `--allow-production` flag.
    """
    targets = load_targets(targets_file, environ=edge.environ, cwd=edge.cwd)
    target = select_target(targets, name, environ=edge.environ)
    if starts_runs:
        guard_production(target, allow_production=allow_production)
    return target


def secrets_of(target: Target, *extra: str | None) -> list[str]:
    """Every secret value a run against `target` may hold: key, Jira secret, extra tokens."""
    return [*target.secret_values(), *(value for value in extra if value)]


@dataclass(slots=True)
class ReportedRun:
    """An open report: emit events to `bus`; set `exit_code` before the block ends."""

    folder: ReportFolder
    bus: EventBus
    redactor: Redactor
    exit_code: int = 0


@contextmanager
def report_run(
    edge: Edge,
    *,
    command: str,
    target: Target,
    report_dir: Path,
    options: Mapping[str, Any],
    extra_secrets: tuple[str | None, ...] = (),
) -> Iterator[ReportedRun]:
    """Open a report folder for one command run and close it with `RunFinished`.

    Args:
        edge: the clock and environment.
        command: the command's name (part of the folder name).
        target: the resolved target; its secrets are redacted from every file.
        report_dir: the `--report-dir` root.
        options: the effective flags worth recording (no secrets).
        extra_secrets: further values to redact (an admin token).
    """
    redactor = Redactor(secrets_of(target, *extra_secrets))
    started_at = edge.now()
    started = edge.monotonic()
    try:
        folder = ReportFolder.create(
            edge.cwd / report_dir, command, target.name, started_at, redactor=redactor
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"--report-dir {report_dir}: cannot create a report folder ({reason})"
        ) from exc
    with fan_out(standard_reporters(folder)) as bus:
        bus.emit(
            RunStarted(
                command=command,
                target_name=target.name,
                base_url=target.base_url,
                started_at=started_at,
                options=options,
            )
        )
        run = ReportedRun(folder=folder, bus=bus, redactor=redactor)
        try:
            yield run
        except HarnessError as exc:
            run.exit_code = exc.exit_code
            raise
        except KeyboardInterrupt:
            run.exit_code = Interrupted.exit_code
            raise Interrupted("interrupted (SIGINT); the report holds what ran") from None
        finally:
            bus.emit(
                RunFinished(
                    exit_code=run.exit_code,
                    finished_at=edge.now(),
                    duration_s=edge.monotonic() - started,
                )
            )
