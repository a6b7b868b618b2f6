"""`trigger-harness run`: the main job behind `make run`, against the embedded mock.

It preflights the target, then runs the stages in order — contract, probe, a short fuzz, a
short load run and polling sizing — into one report, shows a progress bar per stage on stderr
(unless quiet or JSON), then prints a one-screen summary and, last, the path of the report.
`--json` prints one JSON object instead, for scripts. An interrupted job (Ctrl-C, SIGTERM,
SIGHUP) still prints its partial result — the stages that ended, the verdict `interrupted` and
the report — before it exits 130/143.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .._preflight import preflight_target
from .._targets import Target, mock_target
from ..fuzz import FuzzBudget
from ..load import LoadSettings, SizingPlan, Thresholds, load_stage, parse_candidates, sizing_stage
from ._contract import contract_stage
from ._edge import Edge, ReportedRun, report_run
from ._fuzz import describe_fuzz, fuzz_stage, hypothesis_home
from ._options import current_edge, report_dir_option
from ._probe import probe_stage

__all__ = ["MAIN_STAGES", "Stage", "StageResult", "main_job", "run_cli"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StageResult:
    """One stage's verdict and the line the summary prints for it."""

    name: str
    ok: bool
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """A named step of the main job."""

    name: str
    title: str
    run: Callable[[ReportedRun, Edge, Target], StageResult]


def _contract(run: ReportedRun, edge: Edge, target: Target) -> StageResult:
    outcome = contract_stage(run, target)
    summary = (
        f"{outcome.passed} passed, {outcome.failed} failed, {outcome.error} errors, "
        f"{outcome.skipped} skipped"
    )
    return StageResult(name="contract", ok=outcome.ok, summary=summary)


def _probe(run: ReportedRun, edge: Edge, target: Target) -> StageResult:
    answers = probe_stage(run, target)
    different = [a.question_id for a in answers if a.asked and a.same is False]
    asked = sum(a.asked for a in answers)
    summary = f"{asked} open questions asked, " + (
        f"different from the mock's defaults: {', '.join(different)}" if different else "all same"
    )
    return StageResult(name="probe", ok=True, summary=summary)


def _fuzz(run: ReportedRun, edge: Edge, target: Target) -> StageResult:
    budget = FuzzBudget(profile="ci", max_examples=20, time_limit_s=45.0)
    with hypothesis_home(run.folder.path.parent) as database:
        outcome = fuzz_stage(run, target, budget=budget, database=database, clock=edge.monotonic)
    summary = describe_fuzz(outcome)[0].removeprefix("fuzz: ")
    return StageResult(name="fuzz", ok=outcome.ok, summary=summary)


def _load(run: ReportedRun, edge: Edge, target: Target) -> StageResult:
    settings = LoadSettings(scenario="mixed", users=4, spawn_rate=4.0, duration_s=15.0)
    result = load_stage(run, edge, target, settings, Thresholds(max_fail_ratio=0.01))
    requests = sum(row.requests for row in result.summary.stats)
    failures = sum(row.failures for row in result.summary.stats)
    crossed = result.summary.thresholds_crossed
    summary = f"mixed scenario, 15 s: {requests} requests, {failures} failures, " + (
        f"thresholds crossed: {'; '.join(crossed)}" if crossed else "within thresholds"
    )
    return StageResult(name="load", ok=not crossed, summary=summary)


def _sizing(run: ReportedRun, edge: Edge, target: Target) -> StageResult:
    plan = SizingPlan(
        candidates=parse_candidates("2,5,10,15,30", default_strategy="fixed"),
        flows=50,
        max_delay_s=10.0,
        delay_stat="p95",
        deadline_s=target.max_run_s,
    )
    _, best, text = sizing_stage(run, target, plan)
    return StageResult(name="sizing", ok=best is not None, summary=text)


MAIN_STAGES: tuple[Stage, ...] = (
    Stage(name="contract", title="Contract suite", run=_contract),
    Stage(name="probe", title="Open questions", run=_probe),
    Stage(name="fuzz", title="Fuzzing", run=_fuzz),
    Stage(name="load", title="Load (Locust)", run=_load),
    Stage(name="sizing", title="Polling sizing", run=_sizing),
)


def _progress(edge: Edge, *, visible: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not visible,
        transient=False,
    )


def main_job(
    edge: Edge,
    *,
    report_dir: Path,
    quiet: bool = False,
    json_output: bool = False,
    stages: Sequence[Stage] = MAIN_STAGES,
) -> int:
    """Run every stage against the embedded mock into one report; return the exit code.

    Args:
        edge: the outside world (environment, clock, output).
        report_dir: the `--report-dir` root.
        quiet: print only the report's path.
        json_output: print one JSON object (exit code, verdict, report path, the stages that
            ended) and nothing else; printed too when the job is interrupted.
        stages: which stages, in order.

    Raises:
        Interrupted: Ctrl-C (exit 130); `Terminated` for SIGTERM/SIGHUP (exit 143), raised
            after the report is written and the outcome printed.
    """
    target = mock_target()
    results: list[StageResult] = []
    options = {"stages": [stage.name for stage in stages]}
    print_outcome = partial(
        _print_outcome, edge, results=results, quiet=quiet, json_output=json_output
    )
    with (
        report_run(
            edge,
            command="run",
            target=target,
            report_dir=report_dir,
            options=options,
            on_written=print_outcome,
        ) as run,
        _progress(edge, visible=not (quiet or json_output)) as progress,
    ):
        preflight_target(target)
        overall = progress.add_task("trigger-harness run", total=len(stages))
        for stage in stages:
            progress.update(overall, description=stage.title)
            results.append(stage.run(run, edge, target))
            progress.advance(overall)
        progress.update(overall, description="done")
    return run.exit_code


def _print_outcome(
    edge: Edge,
    run: ReportedRun,
    results: Sequence[StageResult],
    *,
    quiet: bool,
    json_output: bool,
) -> None:
    """Print the written report's outcome: JSON, the report's path alone, or the summary."""
    index = run.folder.path / "index.html"
    if json_output:
        summary = _json_summary(run.exit_code, run.verdict, index, results)
        edge.echo(run.redactor.redact_text(json.dumps(summary, sort_keys=True)))
    elif quiet:
        edge.echo(str(index))
    else:
        for line in _summary_lines(run.exit_code, run.verdict, results):
            edge.echo(run.redactor.redact_text(line))
        edge.echo(f"report: {index}")


def _summary_lines(exit_code: int, verdict: str, results: Sequence[StageResult]) -> list[str]:
    headline = {
        "passed": "PASSED: every check held",
        "could not judge": f"COULD NOT JUDGE (exit {exit_code})",
        "interrupted": f"INTERRUPTED (exit {exit_code}): the report holds what ran",
    }.get(verdict, f"FAILED (exit {exit_code})")
    width = max(len(result.name) for result in results) if results else 0
    lines = [f"trigger-harness run against the embedded mock: {headline}"]
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        lines.append(f"  {mark} {result.name:<{width}}  {result.summary}")
    return lines


def _json_summary(
    exit_code: int, verdict: str, index: Path, results: Sequence[StageResult]
) -> dict[str, object]:
    """`{"exit_code", "verdict", "report", "stages": [{"name", "ok", "summary"}]}`; `stages`
    holds only the stages that ended (fewer than asked when the job was interrupted)."""
    return {
        "exit_code": exit_code,
        "verdict": verdict,
        "report": str(index),
        "stages": [{"name": r.name, "ok": r.ok, "summary": r.summary} for r in results],
    }


@click.command("run")
@report_dir_option
@click.option("--quiet", is_flag=True, default=False, help="Print only the report's path.")
@click.option(
    "--json", "json_output", is_flag=True, default=False, help="Print one JSON summary object."
)
@click.pass_context
def run_cli(ctx: click.Context, /, **options: Any) -> None:
    """The main job: contract, probe, load and sizing against the embedded mock, one report."""
    ctx.exit(main_job(current_edge(ctx), **options))
