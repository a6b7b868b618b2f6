"""`trigger-harness size-polling`: a plain click command and its printing.

The command resolves the target (production guard on: it starts runs), opens one report,
preflights the target (exit 3 when it cannot be reached, refuses the key or is not the trigger
API) and runs `harness.load.sizing_stage`: on the `mock` target in process on stepped virtual
time, on a real target in real time. It then sets each measured candidate beside its closed
form and its simulation, writes the three ways with the delay-vs-rate plot as PNG and SVG
beside the report and puts them in the report's events (`harness.load.write_sizing_files`,
which `run` calls too), and prints them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import click

from .._polling import STRATEGIES
from .._preflight import preflight_target
from ..load import (
    DEFAULT_CANDIDATES,
    DEFAULT_MOCK_DURATION,
    DELAY_STATS,
    RETRY_AFTER,
    DelayBounds,
    DurationDist,
    Measurement,
    ModelFigures,
    SizingPlan,
    ThreeWay,
    parse_candidates,
    parse_duration,
    sizing_stage,
    write_sizing_files,
)
from ._cost import announce, check_poll_interval, choose_seed, progress
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._options import (
    current_edge,
    max_runs_option,
    seed_option,
    target_options,
    time_limit_option,
)

__all__ = ["size_polling_cli", "size_polling_command"]

_UNMEASURED: Final = "unmeasured"


def size_polling_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    intervals: str,
    strategy: str,
    flows: int,
    duration_dist: str | None,
    max_delay_s: float,
    delay_stat: str,
    time_scale: float | None,
    seed: int | None = None,
    max_runs: int | None = None,
    time_limit_s: float | None = None,
) -> int:
    """`trigger-harness size-polling`: measure each candidate schedule and recommend one; return
    the exit code.

    Before the first request it says on stderr how many runs it will start at most (`--flows`
    per candidate, within `--max-runs`) and its seed (random unless `--seed`; recorded); a
    progress bar of flows runs on stderr while it works (a terminal only).
    """
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    check_poll_interval(target)
    dist = parse_duration(duration_dist) if duration_dist else None
    plan = SizingPlan(
        candidates=parse_candidates(intervals, default_strategy=strategy),
        flows=flows,
        max_delay_s=max_delay_s,
        delay_stat=delay_stat,
        deadline_s=target.max_run_s,
        time_scale=time_scale,
        duration=dist.table() if dist is not None and target.embedded else None,
        seed=choose_seed(seed),
        max_runs=max_runs,
        time_limit_s=time_limit_s,
    )
    announce(
        f"size-polling: at most {plan.run_bound} runs ({len(plan.planned)} of "
        f"{len(plan.candidates)} candidates x {flows} flows"
        + (f", --max-runs {max_runs}" if max_runs is not None else "; --max-runs N lowers it")
        + f"); seed {plan.seed} (replay with --seed {plan.seed})"
    )
    options = {
        "intervals": intervals, "flows": flows, "duration_dist": duration_dist,
        "max_delay_s": max_delay_s, "delay_stat": delay_stat, "time_scale": time_scale,
        "seed": plan.seed, "max_runs": plan.run_bound, "time_limit_s": time_limit_s,
    }  # fmt: skip
    with report_run(
        edge, command="size-polling", target=target, report_dir=report_dir, options=options
    ) as run:
        preflight_target(target)
        with progress("size-polling: flows", plan.run_bound) as advance:
            ended = itertools.count(1)
            measurements, best, text = sizing_stage(
                run,
                target,
                plan,
                clock=edge.monotonic,
                on_flow=lambda: advance(next(ended), "followed to the end"),
            )
        given = dist or (DEFAULT_MOCK_DURATION if target.embedded else None)
        _three_ways(edge, run, plan, measurements=measurements, best=best, text=text, given=given)
    print_report(edge, run)
    return run.exit_code


def _three_ways(
    edge: Edge,
    run: ReportedRun,
    plan: SizingPlan,
    *,
    measurements: Sequence[Measurement],
    best: Measurement | None,
    text: str,
    given: DurationDist | None,
) -> None:
    """Write the three-way table and the plots beside the report (`write_sizing_files`, which
    also puts the table in the report) and print it."""
    files = write_sizing_files(run, plan, measurements, best=best, text=text, given=given)
    if files is None:
        edge.echo("computed/simulated: no run durations measured (give --duration-dist)")
        _print_sizing(edge, measurements, text)
        return
    _print_three_ways(edge, files.rows)
    edge.echo(f"  run durations (models): {files.durations.describe()}")
    _print_sizing(edge, measurements, text)
    edge.echo("sizing files: " + ", ".join(path.name for path in files.written))


@click.command("size-polling")
@target_options
@click.option(
    "--intervals",
    default=DEFAULT_CANDIDATES,
    show_default=True,
    help="Candidates: seconds, or strategy:seconds (fixed, fixed_jittered, exponential capped "
    "at 60 s, retry_after: fixed honouring Retry-After); each at least 0.1 s "
    "(MIN_POLL_INTERVAL_S).",
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="fixed",
    show_default=True,
    help="Strategy of a bare number in --intervals.",
)
@click.option("--flows", type=int, default=50, show_default=True, help="Flows in flight.")
@click.option(
    "--duration-dist",
    default=None,
    help="Run durations, e.g. lognormal:median_s=180,sigma=0.5,max_s=900 (the mock's "
    "default), uniform:min_s=20,max_s=60, fixed:30, exponential:mean_s=60: the mock's runs and "
    "the computed/simulated columns; on a real target the models only (default: the "
    "measured runs' durations).",
)
@click.option(
    "--max-delay-s",
    type=float,
    default=10.0,
    show_default=True,
    help="Detection delay budget (target seconds).",
)
@click.option("--delay-stat", type=click.Choice(DELAY_STATS), default="p95", show_default=True)
@click.option(
    "--time-scale",
    type=float,
    default=None,
    help="mock only: run the mock's clock this many times fast instead of stepping it.",
)
@seed_option
@max_runs_option
@time_limit_option
@click.pass_context
def size_polling_cli(ctx: click.Context, /, **options: Any) -> None:
    """Measure status requests/s and detection delay per polling interval; recommend one."""
    ctx.exit(size_polling_command(current_edge(ctx), **options))


def _figure(value: float) -> str:
    """A figure, or `unmeasured` when none was measured (infinite)."""
    return f"{value:.2f}" if math.isfinite(value) else _UNMEASURED


def _model_line(label: str, source: str, figures: ModelFigures | None) -> str:
    if figures is None:
        return f"  {label:<20} {source:<10} {'(no closed form)':>13}"
    return (
        f"  {label:<20} {source:<10} {_figure(figures.status_rps):>13} "
        f"{figures.polls_per_flow:>11.2f} {_figure(figures.mean_delay_s):>8} "
        f"{_figure(figures.p95_delay_s):>8} {_figure(figures.max_delay_s):>8}"
    )


def _delay(bounds: DelayBounds) -> str:
    """A delay statistic as its bounds' text, or `unmeasured` when none was measured."""
    return bounds.text() if math.isfinite(bounds.upper_s) else _UNMEASURED


def _print_three_ways(edge: Edge, rows: Sequence[ThreeWay]) -> None:
    """Each candidate computed, simulated and measured, indented under one heading."""
    edge.echo("three ways (delays in target seconds; measured: upper bounds):")
    edge.echo(
        f"  {'schedule':<20} {'source':<10} {'status req/s':>13} {'polls/flow':>11} "
        f"{'mean':>8} {'p95':>8} {'max':>8}  gap / runs"
    )
    for row in rows:
        m = row.measured
        gaps = ", ".join(
            f"{name} {gap:+.1%}"
            for name, gap in zip(("req/s", "polls", "mean"), row.gaps().values(), strict=True)
            if math.isfinite(gap)
        )
        edge.echo(_model_line(m.candidate.label, "computed", row.computed))
        edge.echo(_model_line("", "simulated", row.simulated))
        edge.echo(
            f"  {'':<20} {'measured':<10} {_figure(m.status_rps):>13} "
            f"{m.polls_per_flow:>11.2f} {_figure(m.mean_delay.upper_s):>8} "
            f"{_figure(m.p95_delay.upper_s):>8} {_figure(m.max_delay.upper_s):>8}  "
            f"vs {row.reference[0]}: {gaps or 'n/a'}; {m.lost} lost, {m.failed} failed"
        )
    if any(row.measured.candidate.strategy == RETRY_AFTER for row in rows):
        edge.echo("  (retry_after behaves as its base, fixed: no Retry-After was sent)")


def _print_sizing(edge: Edge, measurements: Sequence[Measurement], text: str) -> None:
    edge.echo(
        f"{'schedule':<22} {'flows':>6} {'status req/s':>13} {'mean delay':>14} "
        f"{'p95 delay':>14} {'polls/flow':>11} {'lost':>5}"
    )
    for m in measurements:
        edge.echo(
            f"{m.candidate.label:<22} {m.flows:>6} {_figure(m.status_rps):>13} "
            f"{_delay(m.mean_delay):>14} {_delay(m.p95_delay):>14} "
            f"{m.polls_per_flow:>11.1f} {m.lost:>5}"
        )
    edge.echo("(times in target seconds: virtual on the mock, real on a real target)")
    if measurements:
        edge.echo(f"resolution: {measurements[0].resolution.describe()}")
    edge.echo(f"recommendation: {text}")
