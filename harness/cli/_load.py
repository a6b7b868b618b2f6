"""`trigger-harness load`: a plain click command and its printing.

The lead's `cli.py` adds it with `main.add_command(...)`; its group maps a `HarnessError` to its
exit code. The command resolves the target (production guard on: it sends load), opens one
report, preflights the target (exit 3 when it cannot be reached, refuses the key or is not the
trigger API, before Locust starts) and runs `harness.load.load_stage`. Before Locust starts it
says on stderr how many runs the scenario will start at most (`LoadSettings.run_bound`, enforced
by each Locust process; `--max-runs` lowers it) and the users' seed (random unless `--seed`;
recorded), and shows the run's elapsed time on stderr while it works (a terminal only).

With `--expect-workers N` only the Locust master runs here, bound to `--master-bind-host` /
`--master-bind-port` (Locust's own options and defaults), and waits at most
`--expect-workers-max-wait` seconds for N workers started elsewhere; the command line that
starts one is printed on stderr first (no secret: each worker reads the key from its own
environment, under the variable named there).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click

from .._polling import STRATEGIES
from .._preflight import preflight_target
from ..load import (
    DEFAULT_SHAPE,
    LOCUST_MASTER_PORT,
    PROJECT_ROOT,
    SCENARIOS,
    SHAPES,
    SOAK,
    FlowSettings,
    LoadPlan,
    LoadResult,
    LoadSettings,
    Thresholds,
    http_totals,
    latency_limits,
    load_stage,
    parse_timespan,
    require_triggers,
    scenario_file,
    soak_verdict,
    worker_command,
)
from ._cost import announce, check_poll_interval, choose_seed, timed_progress
from ._edge import Edge, print_report, report_run, resolve_target
from ._options import current_edge, max_runs_option, seed_option, target_options

__all__ = ["load_cli", "load_command"]


def load_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    scenario: str,
    users: int,
    spawn_rate: float,
    duration: str,
    workers: int,
    shape: str,
    poll_strategy: str,
    poll_interval: float | None,
    poll_jitter: float | None,
    poll_cap: float | None,
    pacing: float,
    time_scale: float,
    max_fail_ratio: float,
    max_p95_ms: tuple[str, ...],
    max_violations: int,
    max_p99_ms: tuple[str, ...] = (),
    max_flow_fail_ratio: float | None = None,
    min_rps: float | None = None,
    max_runs: int | None = None,
    seed: int | None = None,
    stop_on_threshold: bool = False,
    expect_workers: int = 0,
    master_bind_host: str = "*",
    master_bind_port: int = LOCUST_MASTER_PORT,
    expect_workers_max_wait: float = 60.0,
) -> int:
    """`trigger-harness load`: a Locust scenario, headless, into a report; returns the exit code."""
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    check_poll_interval(target)
    require_triggers(target, scenario)
    thresholds = Thresholds(
        max_fail_ratio=max_fail_ratio,
        max_flow_fail_ratio=max_flow_fail_ratio,
        latency=latency_limits(95, max_p95_ms) + latency_limits(99, max_p99_ms),
        min_rps=min_rps,
        max_violations=max_violations,
    )
    settings = LoadSettings(
        scenario=scenario, users=users, spawn_rate=spawn_rate, duration_s=parse_timespan(duration),
        workers=workers, shape=shape, poll_strategy=poll_strategy, poll_interval=poll_interval,
        poll_jitter=poll_jitter, poll_cap=poll_cap, pacing=pacing, time_scale=time_scale,
        max_runs=max_runs, seed=choose_seed(seed), stop_on_threshold=stop_on_threshold,
        expect_workers=expect_workers, master_bind_host=master_bind_host,
        master_bind_port=master_bind_port, expect_workers_max_wait_s=expect_workers_max_wait,
    )  # fmt: skip
    bound = settings.run_bound()
    announce(
        f"load: at most {bound} runs ("
        + (
            f"--max-runs {max_runs}"
            if max_runs is not None
            else f"{users} users, one flow each {pacing:g} s for {settings.duration_s:g} s; "
            "--max-runs N lowers it"
        )
        + f"); seed {settings.seed} (replay with --seed {settings.seed})"
    )
    if expect_workers:
        _announce_workers(settings, target.api_key_env)
    options = {
        "scenario": scenario, "users": users, "spawn_rate": spawn_rate,
        "duration_s": settings.duration_s, "workers": workers, "shape": shape,
        "poll_strategy": poll_strategy, "poll_interval_s": poll_interval,
        "poll_jitter": poll_jitter, "poll_cap_s": poll_cap, "pacing_s": pacing,
        "time_scale": time_scale, "max_fail_ratio": max_fail_ratio,
        "max_flow_fail_ratio": max_flow_fail_ratio, "max_p95_ms": list(max_p95_ms),
        "max_p99_ms": list(max_p99_ms), "min_rps": min_rps, "max_violations": max_violations,
        "max_runs": bound, "seed": settings.seed, "stop_on_threshold": stop_on_threshold,
        "expect_workers": expect_workers, "master_bind_host": master_bind_host,
        "master_bind_port": master_bind_port,
    }  # fmt: skip
    with report_run(
        edge, command="load", target=target, report_dir=report_dir, options=options
    ) as run:
        preflight_target(target)
        with timed_progress(f"load {scenario}: seconds", settings.duration_s, edge.monotonic):
            result = load_stage(run, edge, target, settings, thresholds)
        _print_load(edge, result, bound)
    print_report(edge, run)
    return run.exit_code


def _announce_workers(settings: LoadSettings, api_key_env: str | None) -> None:
    """Say on stderr how to start the workers this master waits for (never the key)."""
    host = settings.master_bind_host
    if host in ("*", "0.0.0.0", "::"):  # noqa: S104 - a bind address read, not bound here
        host = socket.getfqdn()
    plan = LoadPlan(
        scenario=settings.scenario,
        locustfile=scenario_file(settings.scenario, PROJECT_ROOT),
        flow=FlowSettings(),
        master_bind_port=settings.master_bind_port,
    )
    variable = api_key_env or FlowSettings().api_key_env
    command = " ".join(worker_command(plan, host))
    announce(
        f"load: waiting up to {settings.expect_workers_max_wait_s:g} s for "
        f"{settings.expect_workers} workers; start each with: {command} (the worker takes every "
        f"flow option from this master; set {variable} in its environment)"
    )


@click.command("load")
@target_options
@click.option("--scenario", type=click.Choice(SCENARIOS), required=True, help="Load scenario.")
@click.option(
    "--users", type=click.IntRange(min=1), default=5, show_default=True, help="Peak users."
)
@click.option(
    "--spawn-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Users/s.",
)
@click.option("--duration", default="60s", show_default=True, help="Run time: 60s, 2m, 1h30m.")
@click.option(
    "--workers", type=click.IntRange(min=0), default=0, show_default=True, help="Locust workers."
)
@click.option("--shape", type=click.Choice(SHAPES), default=DEFAULT_SHAPE, show_default=True)
@click.option("--poll-strategy", type=click.Choice(STRATEGIES), default="fixed", show_default=True)
@click.option(
    "--poll-interval", type=float, default=None, help="Target seconds (default: target's)."
)
@click.option(
    "--poll-jitter",
    type=float,
    default=None,
    help="fixed_jittered: first-poll jitter, s (default: the interval); "
    "exponential: fraction 0-1 (default 0).",
)
@click.option(
    "--poll-cap", type=float, default=None, help="exponential: longest delay, s (default 60)."
)
@click.option(
    "--pacing",
    type=float,
    default=1.0,
    show_default=True,
    help="Real seconds between flow arrivals per user.",
)
@click.option(
    "--time-scale",
    type=float,
    default=50.0,
    show_default=True,
    help="mock only: virtual seconds per real second.",
)
@click.option(
    "--max-fail-ratio",
    type=float,
    default=0.01,
    show_default=True,
    help="Not applied to soak (its injected 5xx fail requests; the soak judges itself).",
)
@click.option(
    "--max-flow-fail-ratio",
    type=float,
    default=None,
    help="Flows ended failed or lost / all flows ended, 0-1 (default: not judged).",
)
@click.option(
    "--max-p95-ms",
    multiple=True,
    metavar="[ENDPOINT=]MS",
    help="Highest p95 of every HTTP request name (MS) or of one endpoint's (E3=200); repeatable.",
)
@click.option(
    "--max-p99-ms",
    multiple=True,
    metavar="[ENDPOINT=]MS",
    help="Highest p99, as --max-p95-ms.",
)
@click.option(
    "--min-rps", type=float, default=None, help="Lowest HTTP request rate, req/s (all names)."
)
@click.option(
    "--max-violations", type=int, default=0, show_default=True, help="Not applied to soak."
)
@click.option(
    "--stop-on-threshold",
    is_flag=True,
    help="Stop as soon as a threshold is crossed (judged each second; --min-rps once all "
    "users are spawned); the report names it, exit 1.",
)
@click.option(
    "--expect-workers",
    type=click.IntRange(min=0),
    default=0,
    help="Run only the Locust master and wait for N workers started elsewhere "
    '(locust -f "$(python -m scenarios <scenario>)" --worker --master-host H; printed).',
)
@click.option(
    "--master-bind-host",
    default="*",
    show_default=True,
    help="--expect-workers: the interface the master listens on.",
)
@click.option(
    "--master-bind-port",
    type=click.IntRange(1, 65535),
    default=LOCUST_MASTER_PORT,
    show_default=True,
    help="--expect-workers: the port the master listens on.",
)
@click.option(
    "--expect-workers-max-wait",
    type=float,
    default=60.0,
    show_default=True,
    help="--expect-workers: seconds to wait for the workers before giving up (exit 2).",
)
@max_runs_option
@seed_option
@click.pass_context
def load_cli(ctx: click.Context, /, **options: Any) -> None:
    """Run a Locust scenario headless; exit 1 when a threshold is crossed (soak: when it failed)."""
    ctx.exit(load_command(current_edge(ctx), **options))


def _print_load(edge: Edge, result: LoadResult, max_runs: int) -> None:
    """The HTTP requests and their total, the flows apart, statuses, failures, the workers
    that left mid-run (each with the flows kept from it) and files."""
    summary = result.summary
    edge.echo(f"{'HTTP request':<52} {'reqs':>7} {'fails':>6} {'p50':>9} {'p95':>9} {'req/s':>8}")
    for row in summary.stats:
        if not row.is_flow_metric:
            edge.echo(
                f"{row.name[:52]:<52} {row.requests:>7} {row.failures:>6} "
                f"{row.p50_ms:>9.0f} {row.p95_ms:>9.0f} {row.rps:>8.2f}"
            )
    requests, failed, rps = http_totals(summary.stats)
    edge.echo(
        f"{'HTTP total (flows not counted)':<52} {requests:>7} {failed:>6} {'':>19} {rps:>8.2f}"
    )
    flows = [row for row in summary.stats if row.is_flow_metric]
    if flows:
        edge.echo(
            f"{'flow metric (unit in its name)':<52} {'flows':>7} {'fails':>6} "
            f"{'p50':>9} {'p95':>9}"
        )
    for row in flows:
        edge.echo(
            f"{row.name[:52]:<52} {row.requests:>7} {row.failures:>6} "
            f"{row.p50_ms:>9g} {row.p95_ms:>9g}"
        )
    for flow in sorted({row.flow for row in summary.flow_statuses}):
        counts = [f"{r.count} {r.status}" for r in summary.flow_statuses if r.flow == flow]
        edge.echo(f"{flow} flows ended: {', '.join(counts)}")
    if summary.scenario == SOAK:
        edge.echo(soak_verdict(result)[1])
    else:
        edge.echo(f"contract violations: {result.violations}")
    for text in summary.failures:
        edge.echo(f"failure: {text}")
    for line in summary.thresholds_crossed:
        edge.echo(f"threshold crossed: {line}")
    for worker in result.workers:
        if worker.left is not None:
            edge.echo(
                f"worker {worker.name} disconnected mid-run ({worker.left}): its {worker.flows} "
                "flows up to its last report are kept"
            )
    capped = f"FLOW {FlowSettings.MAX_RUNS_METRIC}"
    refused = sum(row.requests for row in summary.stats if row.name == capped)
    if refused:
        edge.echo(f"--max-runs {max_runs} reached: {refused} flows not started")
    edge.echo(f"Locust CSV and HTML: {result.out_dir}")
