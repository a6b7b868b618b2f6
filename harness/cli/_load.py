"""`trigger-harness load` and `trigger-harness size-polling`: plain click commands.

The lead's `cli.py` adds them with `main.add_command(...)`; its group maps a `HarnessError` to
its exit code. Both commands resolve the target through `_jobs` (production guard on: they
start runs) and write one report. For the `mock` target, `load` serves the embedded mock on a
127.0.0.1 port at a high time scale for the Locust subprocess (except `--scenario soak`, whose
locustfile starts its own `flaky` mock process and judges the run itself); `size-polling` runs
the mock in process on stepped virtual time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

from .._exceptions import UsageError
from .._targets import Target
from ..load import (
    DEFAULT_SHAPE,
    DELAY_STATS,
    SCENARIOS,
    SHAPES,
    STRATEGIES,
    LoadPlan,
    LoadResult,
    Measurement,
    SizingPlan,
    Thresholds,
    parse_candidates,
    parse_duration_dist,
    parse_timespan,
    recommend,
    run_load,
    run_on_mock,
    run_on_target,
    scenario_file,
    sizing_results,
)
from ..report import CaseFinished, Outcome, Suite, SuiteStarted
from ._edge import Edge, ReportedRun, report_run, resolve_target
from ._options import current_edge, target_options

__all__ = [
    "PROJECT_ROOT",
    "LoadSettings",
    "load_command",
    "load_stage",
    "size_polling_command",
    "sizing_stage",
]

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_KEY_ENV: Final = "TRIGGER_HARNESS_API_KEY"
DEFAULT_JIRA_ENV: Final = "TRIGGER_HARNESS_JIRA_SECRET"
_SCENARIO_TRIGGERS: Final = {
    "sync": ("sync_trigger",),
    "background": ("background_trigger",),
    "mixed": ("sync_trigger", "background_trigger", "jira_trigger"),
    "jira-burst": ("jira_trigger",),
    "bad-key-storm": (),
    "soak": ("sync_trigger", "background_trigger", "jira_trigger"),
}
_SOAK: Final = "soak"
_SOAK_REPORT: Final = "soak.json"
_SOAK_RETENTION_BOUNDS_S: Final = (60.0, 3600.0)
_SOAK_RETENTION_SHARE: Final = 0.25


# --- load ----------------------------------------------------------------------------------


def subprocess_environ(
    environ: Mapping[str, str], target: Target
) -> tuple[dict[str, str], str, str]:
    """The Locust environment: `environ` plus the key and Jira secret under their variables.

    Returns the environment and the two variable names (for `--api-key-env` and
    `--jira-secret-env`); the values never go on a command line.
    """
    env = dict(environ)
    key_env = target.api_key_env or DEFAULT_KEY_ENV
    jira_env = target.jira_secret_env or DEFAULT_JIRA_ENV
    if target.api_key is not None:
        env[key_env] = target.api_key.reveal()
    if target.jira_secret is not None:
        env[jira_env] = target.jira_secret.reveal()
    return env, key_env, jira_env


def flow_arguments(
    target: Target,
    *,
    key_env: str,
    jira_env: str,
    poll_strategy: str,
    poll_interval: float | None,
    pacing: float,
    mock_admin: bool,
) -> tuple[str, ...]:
    """The locustfile's custom arguments for `target` (names of variables, never secrets)."""
    args = [
        "--workspace", target.workspace_id,
        "--environment", target.environment,
        "--api-key-env", key_env,
        "--jira-secret-env", jira_env,
        "--poll-strategy", poll_strategy,
        "--poll-interval", f"{poll_interval or target.poll_interval_s:g}",
        "--max-run-s", f"{target.max_run_s:g}",
        "--pacing", f"{pacing:g}",
    ]  # fmt: skip
    for name in ("sync_trigger", "background_trigger", "jira_trigger"):
        value = getattr(target, name)
        if value is not None:
            args += [f"--{name.replace('_', '-')}", value]
    if mock_admin:
        args.append("--mock-admin")
    return tuple(args)


def _require_triggers(target: Target, scenario: str) -> None:
    if scenario == _SOAK and not target.embedded:
        raise UsageError(
            f"--scenario soak: runs only on the embedded mock (--target mock), not on "
            f"{target.name!r}: it starts its own `flaky` mock process, because its verdict needs "
            "the mock's admin API (/__admin/runs, /__admin/metrics), injected faults and the "
            "mock's RSS"
        )
    for name in _SCENARIO_TRIGGERS[scenario]:
        if getattr(target, name) is None:
            raise UsageError(
                f"--scenario {scenario}: target {target.name!r} sets no {name} in its targets file"
            )
    if scenario in ("mixed", "jira-burst", _SOAK) and target.jira_secret is None:
        raise UsageError(f"--scenario {scenario}: target {target.name!r} sets no jira_secret_env")


@contextmanager
def _host(target: Target, time_scale: float, scenario: str) -> Iterator[tuple[str | None, bool]]:
    """The base URL Locust aims at (None: the soak's own mock), and whether it is a mock with an
    admin API."""
    if scenario == _SOAK:
        yield None, True
        return
    if not target.embedded:
        yield target.base_url, False
        return
    from .._embedded import open_session  # noqa: PLC0415 - the mock is started only here

    with open_session(target, in_process=False, time_scale=time_scale) as session:
        yield session.base_url, True


@click.command("load")
@target_options
@click.option("--scenario", type=click.Choice(SCENARIOS), required=True, help="Load scenario.")
@click.option("--users", type=int, default=5, show_default=True, help="Peak users.")
@click.option("--spawn-rate", type=float, default=5.0, show_default=True, help="Users/s.")
@click.option("--duration", default="60s", show_default=True, help="Run time: 60s, 2m, 1h30m.")
@click.option("--workers", type=int, default=0, show_default=True, help="Locust workers.")
@click.option("--shape", type=click.Choice(SHAPES), default=DEFAULT_SHAPE, show_default=True)
@click.option("--poll-strategy", type=click.Choice(STRATEGIES), default="fixed", show_default=True)
@click.option(
    "--poll-interval", type=float, default=None, help="Target seconds (default: target's)."
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
@click.option("--max-p95-ms", type=float, default=None, help="Highest p95 of any request name.")
@click.option(
    "--max-violations", type=int, default=0, show_default=True, help="Not applied to soak."
)
def load_command(
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
    pacing: float,
    time_scale: float,
    max_fail_ratio: float,
    max_p95_ms: float | None,
    max_violations: int,
) -> None:
    """Run a Locust scenario headless; exit 1 when a threshold is crossed (soak: when it failed)."""
    edge = current_edge()
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    _require_triggers(target, scenario)
    thresholds = Thresholds(
        max_fail_ratio=max_fail_ratio, max_p95_ms=max_p95_ms, max_violations=max_violations
    )
    seconds = parse_timespan(duration)
    options = {
        "scenario": scenario, "users": users, "spawn_rate": spawn_rate, "duration_s": seconds,
        "workers": workers, "shape": shape, "poll_strategy": poll_strategy,
        "poll_interval_s": poll_interval, "pacing_s": pacing, "time_scale": time_scale,
        "max_fail_ratio": max_fail_ratio, "max_p95_ms": max_p95_ms,
        "max_violations": max_violations,
    }  # fmt: skip
    with report_run(
        edge, command="load", target=target, report_dir=report_dir, options=options
    ) as run:
        result = load_stage(
            run,
            edge,
            target,
            LoadSettings(
                scenario=scenario, users=users, spawn_rate=spawn_rate, duration_s=seconds,
                workers=workers, shape=shape, poll_strategy=poll_strategy,
                poll_interval=poll_interval, pacing=pacing, time_scale=time_scale,
            ),
            thresholds,
        )  # fmt: skip
        _print_load(edge, result)
    if run.exit_code:
        click.get_current_context().exit(run.exit_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSettings:
    """What one load run does: scenario, users, duration, shape, polling, pacing, mock speed."""

    scenario: str
    users: int = 5
    spawn_rate: float = 5.0
    duration_s: float = 60.0
    workers: int = 0
    shape: str = DEFAULT_SHAPE
    poll_strategy: str = "fixed"
    poll_interval: float | None = None
    pacing: float = 1.0
    time_scale: float = 50.0


def load_stage(
    run: ReportedRun,
    edge: Edge,
    target: Target,
    settings: LoadSettings,
    thresholds: Thresholds,
) -> LoadResult:
    """Run one Locust scenario on `target` and report it into `run` (exit 1 past a threshold).

    The soak runs on its own `flaky` mock (embedded target only); its verdict, read from the
    `soak.json` it writes, replaces the fail-ratio and violation thresholds (its injected 5xx
    are Locust failures by design), and a failed soak makes the exit code 1.

    Args:
        run: the open report.
        edge: where the subprocess environment comes from.
        target: the resolved target (the embedded mock is served on 127.0.0.1 for the run).
        settings: the scenario and its load.
        thresholds: what fails the run.
    """
    _require_triggers(target, settings.scenario)
    env, key_env, jira_env = subprocess_environ(edge.environ, target)
    soak = settings.scenario == _SOAK
    extra = _soak_arguments(settings, run.folder.path) if soak else ()
    if soak:
        thresholds = dataclasses.replace(thresholds, max_fail_ratio=None, max_violations=None)
    with _host(target, settings.time_scale, settings.scenario) as (host, is_mock):
        plan = LoadPlan(
            scenario=settings.scenario,
            locustfile=scenario_file(settings.scenario, PROJECT_ROOT),
            host=host,
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            duration_s=settings.duration_s,
            workers=settings.workers,
            shape=settings.shape,
            flow_args=flow_arguments(
                target, key_env=key_env, jira_env=jira_env, poll_strategy=settings.poll_strategy,
                poll_interval=settings.poll_interval, pacing=settings.pacing, mock_admin=is_mock,
            ) + extra,
        )  # fmt: skip
        result = run_load(
            plan, thresholds, out_dir=run.folder.path, environ=env, redactor=run.redactor
        )
    failed = _report_load(run, result, settings.duration_s)
    if failed:
        run.exit_code = max(run.exit_code, 1)
    return result


def _soak_arguments(settings: LoadSettings, out_dir: Path) -> tuple[str, ...]:
    """The soak's own flags: its mock's scale, a retention short enough to apply within the
    run (a quarter of it, in virtual seconds, within 60 s-1 h), and where its JSON goes."""
    low, high = _SOAK_RETENTION_BOUNDS_S
    retention = min(
        high, max(low, settings.duration_s * settings.time_scale * _SOAK_RETENTION_SHARE)
    )
    return (
        "--soak-time-scale", f"{settings.time_scale:g}",
        "--soak-retention-s", f"{retention:g}",
        "--soak-report", str(out_dir / _SOAK_REPORT),
    )  # fmt: skip


def _soak_verdict(result: LoadResult) -> tuple[bool, str]:
    """Whether the soak held, and its line (`soak held: lost runs: 0, ...`) from `soak.json`.

    A missing or unreadable `soak.json`, or a Locust exit code other than 0, fails the soak.
    """
    path = result.out_dir / _SOAK_REPORT
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
        passed, line = bool(figures["passed"]), str(figures["line"])
    except (OSError, ValueError, KeyError, TypeError):
        tail = f"see {result.out_dir / 'locust-0.log'}"
        return False, f"soak FAILED: it wrote no readable {_SOAK_REPORT} ({tail})"
    held = passed and result.exit_code == 0
    text = line.replace("soak:", "soak held:" if held else "soak FAILED:", 1)
    if passed and not held:
        text += f" (locust exited with {result.exit_code})"
    return held, text


def _report_load(run: ReportedRun, result: LoadResult, seconds: float) -> bool:
    """Emit the load case and summary; True when the run failed."""
    run.bus.emit(SuiteStarted(suite=Suite.LOAD))
    scenario = result.summary.scenario
    lines = list(result.summary.thresholds_crossed)
    failed = bool(lines)
    title = f"Load scenario {scenario} within thresholds"
    if scenario == _SOAK:
        held, text = _soak_verdict(result)
        failed = failed or not held
        lines.insert(0, text)
        title = "Soak: no lost run, no unexpected 5xx, RSS flat"
    run.bus.emit(
        CaseFinished(
            suite=Suite.LOAD,
            case_id=f"load.{scenario}",
            title=title,
            outcome=Outcome.FAILED if failed else Outcome.PASSED,
            duration_s=seconds,
            message="\n".join(lines),
        )
    )
    run.bus.emit(result.summary)
    return failed


def _print_load(edge: Edge, result: LoadResult) -> None:
    edge.echo(f"{'name':<52} {'reqs':>7} {'fails':>6} {'p50':>9} {'p95':>9} {'req/s':>8}")
    for row in result.summary.stats:
        edge.echo(
            f"{row.name[:52]:<52} {row.requests:>7} {row.failures:>6} "
            f"{row.p50_ms:>9.0f} {row.p95_ms:>9.0f} {row.rps:>8.2f}"
        )
    if result.summary.scenario == _SOAK:
        edge.echo(_soak_verdict(result)[1])
    else:
        edge.echo(f"contract violations: {result.violations}")
    for line in result.summary.thresholds_crossed:
        edge.echo(f"threshold crossed: {line}")
    edge.echo(f"Locust CSV and HTML: {result.out_dir}")


# --- size-polling --------------------------------------------------------------------------


@click.command("size-polling")
@target_options
@click.option(
    "--intervals",
    default="2,5,10,15,30",
    show_default=True,
    help="Candidates: seconds, or strategy:seconds (fixed, fixed_jittered, exponential).",
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
    help="mock only: run durations, e.g. lognormal:median_s=180,sigma=0.5,max_s=900 "
    "(default), uniform:min_s=20,max_s=60, fixed:30, exponential:mean_s=60.",
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
@click.option("--seed", type=int, default=7, show_default=True)
def size_polling_command(
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
    seed: int,
) -> None:
    """Measure status requests/s and detection delay per polling interval; recommend one."""
    edge = current_edge()
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    plan = SizingPlan(
        candidates=parse_candidates(intervals, default_strategy=strategy),
        flows=flows,
        max_delay_s=max_delay_s,
        delay_stat=delay_stat,
        deadline_s=target.max_run_s,
        time_scale=time_scale,
        duration=parse_duration_dist(duration_dist) if duration_dist else None,
        seed=seed,
    )
    options = {
        "intervals": intervals, "flows": flows, "duration_dist": duration_dist,
        "max_delay_s": max_delay_s, "delay_stat": delay_stat, "time_scale": time_scale,
        "seed": seed,
    }  # fmt: skip
    with report_run(
        edge, command="size-polling", target=target, report_dir=report_dir, options=options
    ) as run:
        measurements, _, text = sizing_stage(run, target, plan)
        _print_sizing(edge, measurements, text)
    if run.exit_code:
        click.get_current_context().exit(run.exit_code)


def sizing_stage(
    run: ReportedRun, target: Target, plan: SizingPlan
) -> tuple[list[Measurement], Measurement | None, str]:
    """Measure every candidate schedule on `target`, report them and the recommendation.

    The run's exit code becomes 1 when no candidate meets the delay budget.

    Args:
        run: the open report.
        target: the resolved target (the embedded mock runs in process on stepped time).
        plan: the candidates, flows and delay budget.
    """
    measurements = run_on_mock(plan) if target.embedded else run_on_target(plan, target)
    best, text = recommend(measurements, max_delay_s=plan.max_delay_s, stat=plan.delay_stat)
    _report_sizing(run, measurements, best, text, plan)
    if best is None:
        run.exit_code = max(run.exit_code, 1)
    return measurements, best, text


def _report_sizing(
    run: ReportedRun,
    measurements: list[Measurement],
    best: Measurement | None,
    text: str,
    plan: SizingPlan,
) -> None:
    run.bus.emit(SuiteStarted(suite=Suite.SIZING))
    run.bus.emit(
        CaseFinished(
            suite=Suite.SIZING,
            case_id="sizing.delay_budget",
            title="A polling schedule meets the detection delay budget",
            outcome=Outcome.PASSED if best is not None else Outcome.FAILED,
            message=text,
        )
    )
    for result in sizing_results(
        measurements, text, best=best, max_delay_s=plan.max_delay_s, delay_stat=plan.delay_stat
    ):
        run.bus.emit(result)


def _print_sizing(edge: Edge, measurements: list[Measurement], text: str) -> None:
    edge.echo(
        f"{'schedule':<22} {'flows':>6} {'status req/s':>13} {'mean delay s':>13} "
        f"{'p95 delay s':>12} {'polls/flow':>11} {'lost':>5}"
    )
    for m in measurements:
        edge.echo(
            f"{m.candidate.label:<22} {m.flows:>6} {m.status_rps:>13.2f} {m.mean_delay_s:>13.2f} "
            f"{m.p95_delay_s:>12.2f} {m.polls_per_flow:>11.1f} {m.lost:>5}"
        )
    edge.echo("(times in target seconds: virtual on the mock, real on a real target)")
    edge.echo(f"recommendation: {text}")
