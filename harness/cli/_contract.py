"""The `contract` and `probe` commands as library functions: resolve, run, report, print.

Each returns the exit code and prints through `edge.echo` after redaction, so the CLI stays a
parser and tests call these directly with an injected `Edge`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .._embedded import DEFAULT_TIME_SCALE, open_session
from .._targets import Target
from ..report import CaseFinished, NoteRecorded, Outcome, Suite, SuiteStarted
from ..suite import ProbeAnswer, SuiteOutcome, probe_target, run_contract
from ._edge import Edge, ReportedRun, report_run, resolve_target

__all__ = [
    "MOCK_SLOW_TRIGGER",
    "contract_command",
    "contract_stage",
    "describe_contract",
    "probe_command",
    "probe_stage",
    "render_table",
]

MOCK_SLOW_TRIGGER = "slow-sync"
_TABLE_WIDTH = 140


def render_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table (rich's layout, no colour codes) ready for `edge.echo`."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console = Console(file=io.StringIO(), width=_TABLE_WIDTH, color_system=None)
    console.print(table)
    return console.file.getvalue().rstrip()  # type: ignore[attr-defined, no-any-return]


def contract_stage(
    run: ReportedRun,
    target: Target,
    *,
    select: Sequence[str] | None = None,
    allow_production: bool = False,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> SuiteOutcome:
    """Run the contract suite on `target`, emitting its events into `run`'s report."""
    outcome = run_contract(
        target,
        emit=run.bus.emit,
        select=list(select) if select else None,
        allow_production=allow_production,
        time_scale=time_scale,
    )
    if not outcome.ok:
        run.exit_code = max(run.exit_code, 1)
    return outcome


def describe_contract(outcome: SuiteOutcome) -> list[str]:
    """The lines `contract` prints: counts, then each failure with its first violation."""
    lines = [
        f"contract: {outcome.passed} passed, {outcome.failed} failed, "
        f"{outcome.error} errors, {outcome.skipped} skipped"
    ]
    for case in outcome.cases:
        if case.outcome in (Outcome.FAILED, Outcome.ERROR):
            lines.append(f"  {case.outcome.upper()} {case.case_id}: {_first_line(case)}")
    return lines


def _first_line(case: CaseFinished) -> str:
    if case.violations:
        violation = case.violations[0]
        return f"{violation.title}: {violation.message}".splitlines()[0][:200]
    return (case.message or case.title).splitlines()[0][:200]


def contract_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    select: Sequence[str] = (),
    time_scale: float = DEFAULT_TIME_SCALE,
) -> int:
    """`trigger-harness contract`: the suite against one target; exit 1 on any failure."""
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    options = {"select": list(select), "time_scale": time_scale if target.embedded else None}
    with report_run(
        edge, command="contract", target=target, report_dir=report_dir, options=options
    ) as run:
        outcome = contract_stage(
            run, target, select=select, allow_production=allow_production, time_scale=time_scale
        )
    for line in describe_contract(outcome):
        edge.echo(run.redactor.redact_text(line))
    edge.echo(f"report: {run.folder.path / 'index.html'}")
    return run.exit_code


def probe_stage(
    run: ReportedRun,
    target: Target,
    *,
    slow_trigger: str | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> list[ProbeAnswer]:
    """Ask `target` the open questions; each answer becomes a note and a case in the report."""
    if target.embedded and slow_trigger is None:
        slow_trigger = MOCK_SLOW_TRIGGER
    with open_session(target, time_scale=time_scale) as session:
        answers = probe_target(session.client(), slow_trigger=slow_trigger)
    run.bus.emit(SuiteStarted(suite=Suite.PROBE))
    for answer in answers:
        run.bus.emit(_probe_case(answer))
        if answer.same is not None:
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
    asked = answer.same is not None
    return CaseFinished(
        suite=Suite.PROBE,
        case_id=f"probe.{answer.question_id}",
        title=f"{answer.question_id}: {answer.question}",
        outcome=Outcome.PASSED if asked else Outcome.SKIPPED,
        message=answer.observed if asked else "",
        evidence=answer.evidence,
        skip_reason=None if asked else answer.observed,
    )


def probe_rows(answers: Sequence[ProbeAnswer]) -> list[list[str]]:
    """The probe table's rows: question, what the target did, the mock's default, verdict."""
    verdicts = {True: "same", False: "different", None: "not asked"}
    return [
        [f"{a.question_id} {a.question}", a.observed, a.mock_default, verdicts[a.same]]
        for a in answers
    ]


def probe_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    slow_trigger: str | None = None,
) -> int:
    """`trigger-harness probe`: print how the target answers the open questions."""
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    options = {"slow_trigger": slow_trigger}
    with report_run(
        edge, command="probe", target=target, report_dir=report_dir, options=options
    ) as run:
        answers = probe_stage(run, target, slow_trigger=slow_trigger)
    columns = ("question", "what the target did", "the mock's default", "same?")
    table = render_table(f"Open questions on {target.name}", columns, probe_rows(answers))
    edge.echo(run.redactor.redact_text(table))
    edge.echo(f"report: {run.folder.path / 'index.html'}")
    return run.exit_code
