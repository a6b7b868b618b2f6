"""`trigger-harness probe`: how a target answers the questions the docs leave open.

`probe_stage` asks them into an open report (the `run` job reuses it); `probe_command` is the
library function; `probe_cli` the click command. The probe preflights the target first (exit 3
when it cannot be reached, refuses the key or is not the trigger API). Questions that may start
a run are marked in the table; on a production target they are not asked unless
`--allow-production` is given (the others, which start nothing, are).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import click

from .._embedded import DEFAULT_TIME_SCALE, open_session
from .._targets import Target
from ..report import CaseFinished, NoteRecorded, Outcome, Suite, SuiteStarted
from ..suite import ProbeAnswer, probe_target
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._options import current_edge, target_options
from ._output import render_table

__all__ = ["MOCK_SLOW_TRIGGER", "probe_cli", "probe_command", "probe_rows", "probe_stage"]

MOCK_SLOW_TRIGGER: Final = "slow-sync"
"""The demo world's trigger that outlasts the sync limit (A1)."""


def probe_stage(
    run: ReportedRun,
    target: Target,
    *,
    slow_trigger: str | None = None,
    allow_production: bool = False,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> list[ProbeAnswer]:
    """Ask `target` the open questions; each answer becomes a note and a case in the report.

    Raises:
        TargetUnavailable: from the probe's preflight, or the target stopped answering (exit 3).
    """
    if target.embedded and slow_trigger is None:
        slow_trigger = MOCK_SLOW_TRIGGER
    with open_session(target, time_scale=time_scale) as session:
        answers = probe_target(
            session.client(),
            slow_trigger=slow_trigger,
            allow_production=allow_production,
            sleep=session.sleep,
        )
    run.bus.emit(SuiteStarted(suite=Suite.PROBE))
    for answer in answers:
        run.bus.emit(_probe_case(answer))
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
    return answers


def _probe_case(answer: ProbeAnswer) -> CaseFinished:
    """A probe question as a report case: asked is passed, not asked is skipped."""
    asked = answer.asked
    return CaseFinished(
        suite=Suite.PROBE,
        case_id=f"probe.{answer.question_id}",
        title=f"{answer.question_id}: {answer.question}",
        outcome=Outcome.PASSED if asked else Outcome.SKIPPED,
        message=answer.observed if asked else "",
        evidence=answer.evidence,
        skip_reason=None if asked else answer.observed,
    )


RUN_MARK: Final = " [may start a run]"
"""Appended to a question that may start a run on the target."""


def probe_rows(answers: Sequence[ProbeAnswer]) -> list[list[str]]:
    """The probe table's rows: question (marked when it may start a run), what the target did,
    the mock's default, and the verdict (same, different, could not tell, not asked)."""
    return [
        [
            f"{a.question_id} {a.question}" + (RUN_MARK if a.starts_runs else ""),
            a.observed,
            a.mock_default,
            _verdict(a),
        ]
        for a in answers
    ]


def _verdict(answer: ProbeAnswer) -> str:
    if not answer.asked:
        return "not asked"
    return {True: "same", False: "different", None: "could not tell"}[answer.same]


def probe_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    slow_trigger: str | None = None,
) -> int:
    """`trigger-harness probe`: print how the target answers the open questions.

    Questions that may start a run are asked on a production target only with
    `allow_production`; the others are always asked.
    """
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=False, allow_production=allow_production
    )
    options = {"slow_trigger": slow_trigger, "allow_production": allow_production}
    with report_run(
        edge, command="probe", target=target, report_dir=report_dir, options=options
    ) as run:
        answers = probe_stage(
            run, target, slow_trigger=slow_trigger, allow_production=allow_production
        )
    edge.echo(
        f"Questions marked{RUN_MARK} are asked on the target's own triggers and may have "
        f"started runs on {target.name}."
    )
    columns = ("question", "what the target did", "the mock's default", "same?")
    table = render_table(f"Open questions on {target.name}", columns, probe_rows(answers))
    edge.echo(run.redactor.redact_text(table))
    print_report(edge, run)
    return run.exit_code


@click.command("probe")
@target_options
@click.option(
    "--slow-trigger",
    default=None,
    help="A trigger known to outlast the sync limit, to ask A1 (the mock: slow-sync).",
)
@click.pass_context
def probe_cli(ctx: click.Context, /, **options: Any) -> None:
    """Ask the target the open questions (A1, A3-A8, A11, A12, A14, A15); compare with the mock."""
    ctx.exit(probe_command(current_edge(ctx), **options))
