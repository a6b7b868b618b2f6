"""`trigger-harness calibrate`: write a mock config whose mock answers like the target.

`calibrate_command` is the library function, `calibrate_cli` the click command. It refuses a
production target (no `--allow-production`) before anything is sent, says how many runs it will
start, then (preflight first) asks the probe's questions and the wire traits, follows `--runs`
runs of each trigger the target names, fits them and writes `--out`. The report holds the
probe's answers and a calibration section: each setting and trigger with the evidence behind
the value written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click

from .._embedded import open_session
from .._exceptions import UsageError
from .._targets import Target
from ..compare import (
    Calibration,
    TriggerFit,
    calibrate,
    mock_config_draft,
    render_mock_config,
    runs_announcement,
    trigger_roles,
)
from ..report import (
    CaseFinished,
    ComparisonRecorded,
    ComparisonRow,
    NoteRecorded,
    Outcome,
    Suite,
    SuiteStarted,
)
from ..suite import ProbeAnswer
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._options import current_edge, target_options
from ._output import render_table
from ._probe import MOCK_SLOW_TRIGGER

__all__ = ["DEFAULT_RUNS", "calibrate_cli", "calibrate_command", "emit_answers"]

DEFAULT_RUNS: Final = 20
"""Runs followed per trigger unless `--runs` says otherwise."""


def emit_answers(run: ReportedRun, answers: tuple[ProbeAnswer, ...]) -> None:
    """The probe's answers as the report's probe section: a case per question and a note per
    settled one."""
    run.bus.emit(SuiteStarted(suite=Suite.PROBE))
    for answer in answers:
        run.bus.emit(
            CaseFinished(
                suite=Suite.PROBE,
                case_id=f"probe.{answer.question_id}",
                title=f"{answer.question_id}: {answer.question}",
                outcome=Outcome.PASSED if answer.asked else Outcome.SKIPPED,
                message=answer.observed if answer.asked else "",
                evidence=answer.evidence,
                skip_reason=None if answer.asked else answer.observed,
            )
        )
        if answer.asked and answer.same is not None:
            run.bus.emit(
                NoteRecorded(
                    question_id=answer.question_id,
                    title=answer.question,
                    observed=answer.observed,
                    mock_default=answer.mock_default,
                    same=answer.same,
                )
            )


def _rows(calibration: Calibration) -> list[ComparisonRow]:
    """What the target showed next to what the file says: a row per trigger, then per
    setting of `[mock]` and `[mock.dialect]`, written or kept at the mock's default."""
    rows = [
        ComparisonRow(
            group=f"trigger {fit.sample.trigger_id} ({fit.sample.role})",
            topic="duration and outcome",
            left=f"{len(fit.sample.durations)} of {fit.sample.requested} runs ended "
            f"(via {fit.sample.via})",
            right=_written(fit),
            verdict="default kept" if fit.duration is None else "written",
            why="no run ended" if fit.duration is None else fit.duration.reason,
        )
        for fit in calibration.triggers
    ]
    rows += [
        ComparisonRow(
            group=f"[{setting.table}]",
            topic=setting.key,
            left=setting.why,
            right="the mock's default" if setting.value is None else repr(setting.value),
            verdict="default kept" if setting.value is None else "written",
        )
        for setting in mock_config_draft(calibration).settings
    ]
    return rows


def _written(fit: TriggerFit) -> str:
    duration = (
        "duration: the mock's default" if fit.duration is None else str(fit.duration.as_config())
    )
    outcome = ", ".join(f"{key} {value:g}" for key, value in fit.outcomes.as_config().items())
    return f"{duration}; {outcome}"


def _summary(calibration: Calibration) -> list[list[str]]:
    return [
        [
            f"{fit.sample.trigger_id} ({fit.sample.role})",
            f"{len(fit.sample.durations)}/{fit.sample.requested}",
            _written(fit),
        ]
        for fit in calibration.triggers
    ]


def _write(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the file ({exc.strerror or exc})") from exc


def _checked_out(edge: Edge, out: Path) -> Path:
    path = out if out.is_absolute() else edge.cwd / out
    if not path.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"--out {out}: is a folder, not a file")
    return path


def calibrate_stage(
    run: ReportedRun, target: Target, *, runs: int, slow_trigger: str | None, allow_production: bool
) -> tuple[Calibration, str]:
    """Calibrate `target` into an open report: the probe section, the calibration section,
    and the config text (not yet written)."""
    with open_session(target) as session:
        calibration = calibrate(
            session, runs=runs, slow_trigger=slow_trigger, allow_production=allow_production
        )
    emit_answers(run, calibration.answers)
    header = [
        f"Mock config calibrated from target {target.name!r} by trigger-harness calibrate",
        f"({runs} runs per trigger). Serve it with: trigger-mock serve --config FILE",
        "Evidence for every value is in the comments above it; keys left out keep the mock's",
        "default, with a comment saying why.",
    ]
    text = render_mock_config(calibration, header=header)
    run.bus.emit(
        ComparisonRecorded(
            kind="calibrate",
            title=f"{target.name} → mock config",
            left="what the target showed",
            right="what the mock config says",
            verdict="written",
            rows=tuple(_rows(calibration)),
            notes=(runs_announcement(target, runs, len(trigger_roles(target))),),
        )
    )
    return calibration, text


def calibrate_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    out: Path,
    runs: int = DEFAULT_RUNS,
    slow_trigger: str | None = None,
) -> int:
    """`trigger-harness calibrate`: probe and sample the target, write a mock config to `out`.

    Raises:
        ProductionGuardError: a production target without `allow_production` (exit 2).
        UsageError: `out` cannot be written (exit 2).
        TargetUnavailable: the target cannot be reached or refuses the key (exit 3).
    """
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    path = _checked_out(edge, out)
    if target.embedded and slow_trigger is None:
        slow_trigger = MOCK_SLOW_TRIGGER
    edge.echo(runs_announcement(target, runs, len(trigger_roles(target))))
    options = {"out": str(out), "runs": runs, "slow_trigger": slow_trigger}
    with report_run(
        edge, command="calibrate", target=target, report_dir=report_dir, options=options
    ) as run:
        calibration, text = calibrate_stage(
            run, target, runs=runs, slow_trigger=slow_trigger, allow_production=allow_production
        )
        _write(path, text)
    columns = ("trigger", "runs seen to end", "written: duration; outcome")
    table = render_table(f"Calibrated from {target.name}", columns, _summary(calibration))
    edge.echo(run.redactor.redact_text(table))
    edge.echo(f"wrote {path}")
    print_report(edge, run)
    return run.exit_code


@click.command("calibrate")
@target_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the mock config (TOML).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1, max=1000),
    default=DEFAULT_RUNS,
    show_default=True,
    help="Runs started and followed per trigger the target names.",
)
@click.option(
    "--slow-trigger",
    default=None,
    help="A trigger known to outlast the sync limit, to ask A1 (the mock: slow-sync).",
)
@click.pass_context
def calibrate_cli(ctx: click.Context, /, **options: Any) -> None:
    """Write a mock config whose mock answers like the target (starts runs on it)."""
    ctx.exit(calibrate_command(current_edge(ctx), **options))
