"""`trigger-harness run`: the main job behind `make run`, on the embedded mock or any target.

Without `--target` it runs against the embedded mock, as `make run` does. With `--target NAME`
it resolves the target (production refused without `--allow-production`) and, before the
first request, says on stderr how many runs it will start at most: the sum of the fuzz, load
and sizing caps (each stage enforces its own), with the contract suite's run-starting cases
named beside it. `--max-runs N` is split evenly across fuzz, load and sizing and caps each.

It preflights the target, then runs the stages in order — contract, probe, a short fuzz, a
short load run and polling sizing — into one report. The load scenario is the one the target
can run (`load_scenario`: mixed, else background, else sync), chosen before any stage; with
none the load stage is skipped with its reason. It shows a progress bar per stage on stderr
(unless quiet or JSON, or stderr is no terminal), then prints a one-screen summary and, last,
the path of the report. `--json` prints one JSON object instead, for scripts. An interrupted
job (Ctrl-C, SIGTERM, SIGHUP) still prints its partial result — the stages that ended, the
verdict `interrupted` and the report — before it exits 130/143.
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

from .._exceptions import UsageError
from .._preflight import preflight_target
from .._targets import Target, mock_target
from ..fuzz import PROPERTIES, FuzzBudget
from ..load import (
    DEFAULT_MOCK_DURATION,
    LoadSettings,
    SizingPlan,
    Thresholds,
    load_stage,
    parse_candidates,
    require_triggers,
    sizing_stage,
    write_sizing_files,
)
from ..report import CaseFinished, Outcome, Suite, SuiteStarted
from ..suite import select_cases
from ._contract import contract_stage
from ._cost import announce
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._fuzz import describe_fuzz, fuzz_stage, hypothesis_home
from ._options import allow_production_option, current_edge, max_runs_option, report_dir_option
from ._probe import probe_stage

__all__ = [
    "MAIN_STAGES",
    "JobPlan",
    "Stage",
    "StageResult",
    "job_plan",
    "load_scenario",
    "main_job",
    "run_cli",
]

_CAPPED_STAGES = 3
"""fuzz, load and sizing: the stages `--max-runs` is split across."""
_LOAD_SCENARIOS = ("mixed", "background", "sync")
"""The load scenarios the main job may run, the first one the target can run chosen."""
_NO_LOAD = "target sets neither background_trigger nor sync_trigger: no load scenario can run"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPlan:
    """Each stage's settings for one main job, with the run caps they enforce.

    `load` is None when the target can run no load scenario (`load_scenario`): the stage is
    then skipped with `_NO_LOAD`.
    """

    target: Target
    allow_production: bool
    fuzz: FuzzBudget
    load: LoadSettings | None
    sizing: SizingPlan

    @property
    def load_bound(self) -> int:
        """The most runs the load stage starts (0 when it is skipped)."""
        return 0 if self.load is None else self.load.run_bound()

    @property
    def run_bound(self) -> int:
        """The most runs fuzz, load and sizing start together (each enforces its share)."""
        fuzz = self.fuzz.run_bound(len(PROPERTIES), machine=True)
        return fuzz + self.load_bound + self.sizing.run_bound

    def budget_line(self) -> str:
        """What `run` says on stderr before a real target's first request."""
        starting = sum("starts_runs" in case.needs for case in select_cases())
        return (
            f"run: at most {self.run_bound} runs from fuzz, load and sizing "
            f"(fuzz {self.fuzz.run_bound(len(PROPERTIES), machine=True)}, "
            f"load {self.load_bound}, sizing {self.sizing.run_bound}; --max-runs N "
            f"splits N across them), plus the contract suite's {starting} run-starting cases "
            "(one to a few runs each, the failed-runs case up to 20)"
        )


def load_scenario(target: Target) -> str | None:
    """The load scenario the main job runs on `target`: `mixed` when it can run Jira flows
    (`Target.jira_skip_reason` is None) and sets the sync and background triggers, else
    `background`, else `sync`; None when it can run none (`require_triggers` refuses each)."""
    for scenario in _LOAD_SCENARIOS:
        try:
            require_triggers(target, scenario)
        except UsageError:
            continue
        return scenario
    return None


def job_plan(target: Target, *, max_runs: int | None, allow_production: bool) -> JobPlan:
    """The stages' settings for `target`: today's on the embedded mock; smaller on a real
    target (fuzz: 3 examples a property, so that a property following runs of real length
    leaves the others time to run within the 45 s; sizing: 5 flows on the 2 s and 5 s fixed
    schedules, at most 60 s). The load scenario is chosen here, before any stage runs
    (`load_scenario`).

    Raises:
        UsageError: `--max-runs` leaves a stage less than it needs (exit 2, before any run).
    """
    share = None if max_runs is None else max_runs // _CAPPED_STAGES
    if max_runs is not None and max_runs < _CAPPED_STAGES:
        raise UsageError(f"--max-runs: must be >= {_CAPPED_STAGES} (one run for each capped stage)")
    real = not target.embedded
    scenario = load_scenario(target)
    plan = SizingPlan(
        candidates=parse_candidates("2,5" if real else "2,5,10,15,30", default_strategy="fixed"),
        flows=min(5, share or 5) if real else 50,
        max_delay_s=10.0,
        delay_stat="p95",
        deadline_s=target.max_run_s,
        max_runs=share,
        time_limit_s=60.0 if real else None,
    )
    return JobPlan(
        target=target,
        allow_production=allow_production,
        fuzz=FuzzBudget(
            profile="ci", max_examples=3 if real else 20, time_limit_s=45.0, max_runs=share
        ),
        load=None
        if scenario is None
        else LoadSettings(
            scenario=scenario, users=4, spawn_rate=4.0, duration_s=15.0, max_runs=share
        ),
        sizing=plan,
    )


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
    run: Callable[[ReportedRun, Edge, JobPlan], StageResult]


def _contract(run: ReportedRun, edge: Edge, plan: JobPlan) -> StageResult:
    outcome = contract_stage(run, plan.target, allow_production=plan.allow_production)
    return StageResult(name="contract", ok=outcome.ok, summary=outcome.summary)


def _probe(run: ReportedRun, edge: Edge, plan: JobPlan) -> StageResult:
    answers = probe_stage(
        run,
        plan.target,
        slow_trigger=plan.target.slow_sync_trigger,
        allow_production=plan.allow_production,
    )
    different = [a.question_id for a in answers if a.asked and a.same is False]
    asked = sum(a.asked for a in answers)
    summary = f"{asked} open questions asked, " + (
        f"different from the mock's defaults: {', '.join(different)}" if different else "all same"
    )
    return StageResult(name="probe", ok=True, summary=summary)


def _fuzz(run: ReportedRun, edge: Edge, plan: JobPlan) -> StageResult:
    with hypothesis_home(run.folder.path.parent) as database:
        outcome = fuzz_stage(
            run,
            plan.target,
            budget=plan.fuzz,
            database=database,
            allow_production=plan.allow_production,
            clock=edge.monotonic,
        )
    summary = describe_fuzz(outcome)[0].removeprefix("fuzz: ")
    return StageResult(name="fuzz", ok=outcome.ok, summary=summary)


def _load(run: ReportedRun, edge: Edge, plan: JobPlan) -> StageResult:
    if plan.load is None:
        run.bus.emit(SuiteStarted(suite=Suite.LOAD))
        run.bus.emit(
            CaseFinished(
                suite=Suite.LOAD,
                case_id="load",
                title="Load scenario within thresholds",
                outcome=Outcome.SKIPPED,
                duration_s=0.0,
                message=_NO_LOAD,
                skip_reason=_NO_LOAD,
            )
        )
        return StageResult(name="load", ok=True, summary=f"skipped: {_NO_LOAD}")
    result = load_stage(run, edge, plan.target, plan.load, Thresholds(max_fail_ratio=0.01))
    requests = sum(row.requests for row in result.summary.stats)
    failures = sum(row.failures for row in result.summary.stats)
    crossed = result.summary.thresholds_crossed
    scenario = f"{plan.load.scenario} scenario, {plan.load.duration_s:g} s"
    summary = f"{scenario}: {requests} requests, {failures} failures, " + (
        f"thresholds crossed: {'; '.join(crossed)}" if crossed else "within thresholds"
    )
    return StageResult(name="load", ok=not crossed, summary=summary)


def _sizing(run: ReportedRun, edge: Edge, plan: JobPlan) -> StageResult:
    measured, best, text = sizing_stage(run, plan.target, plan.sizing, clock=edge.monotonic)
    given = DEFAULT_MOCK_DURATION if plan.target.embedded else None
    write_sizing_files(run, plan.sizing, measured, best=best, text=text, given=given)
    return StageResult(name="sizing", ok=best is not None, summary=text)


MAIN_STAGES: tuple[Stage, ...] = (
    Stage(name="contract", title="Contract suite", run=_contract),
    Stage(name="probe", title="Open questions", run=_probe),
    Stage(name="fuzz", title="Fuzzing", run=_fuzz),
    Stage(name="load", title="Load (Locust)", run=_load),
    Stage(name="sizing", title="Polling sizing", run=_sizing),
)


def _progress(edge: Edge, *, visible: bool) -> Progress:
    """The stages' bar on stderr; off unless `visible` and stderr is a terminal (no frame
    leaks into a redirected stderr, on error and interrupt paths either)."""
    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (visible and console.is_terminal),
        transient=False,
    )


def main_job(
    edge: Edge,
    *,
    report_dir: Path,
    quiet: bool = False,
    json_output: bool = False,
    stages: Sequence[Stage] = MAIN_STAGES,
    target_name: str | None = None,
    targets_file: Path | None = None,
    max_runs: int | None = None,
    allow_production: bool = False,
) -> int:
    """Run every stage against one target into one report; return the exit code.

    Args:
        edge: the outside world (environment, clock, output).
        report_dir: the `--report-dir` root.
        target_name: the `--target` value; None for the embedded mock.
        targets_file: the `--targets` value.
        max_runs: `--max-runs`, split evenly across fuzz, load and sizing.
        allow_production: the `--allow-production` flag.
        quiet: print only the report's path.
        json_output: print one JSON object (exit code, verdict, report path, the stages that
            ended) and nothing else; printed too when the job is interrupted.
        stages: which stages, in order.

    Raises:
        UsageError, ConfigError, ProductionGuardError: before any request (exit 2).
        Interrupted: Ctrl-C (exit 130); `Terminated` for SIGTERM/SIGHUP (exit 143), raised
            after the report is written and the outcome printed.
    """
    target = (
        mock_target()
        if target_name is None
        else resolve_target(
            edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
        )
    )
    plan = job_plan(target, max_runs=max_runs, allow_production=allow_production)
    if not target.embedded:
        announce(plan.budget_line())
    results: list[StageResult] = []
    options = {
        "stages": [stage.name for stage in stages],
        "max_runs": plan.run_bound,
        "seed": plan.fuzz.seed,
    }
    where = "the embedded mock" if target.embedded else f"target {target.name!r}"
    print_outcome = partial(
        _print_outcome, edge, results=results, where=where, quiet=quiet, json_output=json_output
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
            results.append(stage.run(run, edge, plan))
            progress.advance(overall)
        progress.update(overall, description="done")
    return run.exit_code


def _print_outcome(
    edge: Edge,
    run: ReportedRun,
    results: Sequence[StageResult],
    *,
    where: str,
    quiet: bool,
    json_output: bool,
) -> None:
    """Print the written report's outcome: JSON, the report's path alone, or the summary."""
    if json_output:
        index = run.folder.path / "index.html"
        summary = _json_summary(run.exit_code, run.verdict, index, results)
        edge.echo(run.redactor.redact_text(json.dumps(summary, sort_keys=True)))
        return
    if not quiet:
        for line in _summary_lines(run, results, where):
            edge.echo(run.redactor.redact_text(line))
    print_report(edge, run, bare=quiet)


def _summary_lines(run: ReportedRun, results: Sequence[StageResult], where: str) -> list[str]:
    exit_code, verdict = run.exit_code, run.verdict
    headline = {
        "passed": "PASSED: every check held",
        "could not judge": f"COULD NOT JUDGE (exit {exit_code})",
        "interrupted": f"INTERRUPTED (exit {exit_code}): the report holds what ran",
    }.get(verdict, f"FAILED (exit {exit_code})")
    width = max(len(result.name) for result in results) if results else 0
    lines = [f"trigger-harness run against {where}: {headline}"]
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
@click.option(
    "--target", "target_name", default=None, help="Target name (default: the embedded mock)."
)
@click.option(
    "--targets",
    "targets_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Targets file (default: $TRIGGER_HARNESS_TARGETS, then ./harness.toml).",
)
@allow_production_option
@max_runs_option
@report_dir_option
@click.option("--quiet", is_flag=True, default=False, help="Print only the report's path.")
@click.option(
    "--json", "json_output", is_flag=True, default=False, help="Print one JSON summary object."
)
@click.pass_context
def run_cli(ctx: click.Context, /, **options: Any) -> None:
    """The main job: contract, probe, fuzz, load and sizing against one target, one report.

    Without --target it runs against the embedded mock.
    """
    ctx.exit(main_job(current_edge(ctx), **options))
