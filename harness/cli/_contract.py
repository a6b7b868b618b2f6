"""`trigger-harness contract`: the contract suite against one target.

`contract_stage` runs the suite into an open report (the `run` job reuses it);
`contract_command` is the library function (resolve, report, print, exit code) that tests call
with an injected `Edge`; `contract_cli` is the click command, a parser and nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .._embedded import DEFAULT_TIME_SCALE
from .._redact import Redactor
from .._targets import Target
from ..report import CaseFinished, Outcome
from ..suite import SuiteOutcome, run_contract
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._options import current_edge, target_options
from ._output import first_line

__all__ = ["contract_cli", "contract_command", "contract_stage", "describe_contract"]


def contract_stage(
    run: ReportedRun,
    target: Target,
    *,
    select: Sequence[str] | None = None,
    allow_production: bool = False,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> SuiteOutcome:
    """Run the contract suite on `target`, emitting its events into `run`'s report; the run's
    exit code becomes 1 on a failed or erroring case, else 4 (could not judge) when a case was
    inconclusive (`SuiteOutcome.exit_code`)."""
    outcome = run_contract(
        target,
        emit=run.bus.emit,
        select=list(select) if select else None,
        allow_production=allow_production,
        time_scale=time_scale,
    )
    if not outcome.ok:
        run.exit_code = max(run.exit_code, 1)
    elif outcome.exit_code and run.exit_code == 0:
        run.exit_code = outcome.exit_code
    return outcome


def describe_contract(outcome: SuiteOutcome, redactor: Redactor | None = None) -> list[str]:
    """The lines `contract` prints: counts, then each failed, erroring or inconclusive case with
    its first violation or why it could not tell, redacted with `redactor` (the run's) before
    it is cut to one line (`first_line`)."""
    lines = [f"contract: {outcome.summary}"]
    for case in outcome.cases:
        if case.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.INCONCLUSIVE):
            shown = _first_line(case, redactor)
            lines.append(f"  {case.outcome.upper()} {case.case_id}: {shown}")
    return lines


def _first_line(case: CaseFinished, redactor: Redactor | None) -> str:
    """The case's first violation, else its message or title: one display-safe line."""
    if case.violations:
        violation = case.violations[0]
        return first_line(f"{violation.title}: {violation.message}", redactor=redactor)
    return first_line(case.message or case.title, redactor=redactor)


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
    for line in describe_contract(outcome, run.redactor):
        edge.echo(run.redactor.redact_text(line))
    print_report(edge, run)
    return run.exit_code


@click.command("contract")
@target_options
@click.option(
    "--select",
    multiple=True,
    metavar="PATTERN",
    help="Only these cases: ids, area prefixes (auth, body, methods, runs, mock) or globs.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="Embedded mock only: virtual seconds per real second.",
)
@click.pass_context
def contract_cli(ctx: click.Context, /, **options: Any) -> None:
    """Run the contract suite against a target; exit 1 if any invariant broke."""
    ctx.exit(contract_command(current_edge(ctx), **options))
