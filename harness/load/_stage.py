"""The load and sizing stages: one Locust run or one sizing experiment, reported into a run.

`trigger-harness load`, `size-polling` and `run` call these with their open report. For the
`mock` target the load stage serves the embedded mock on a 127.0.0.1 port at a high time scale
for the Locust subprocess (except the soak, whose locustfile starts its own `flaky` mock process
and judges the run itself); the sizing stage runs the mock in process on stepped virtual time.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from .._embedded import open_session
from .._exceptions import CannotJudge, UsageError
from .._polling import require_interval
from .._redact import Redactor
from .._targets import Target
from .._types import Clock
from ..report import CaseFinished, EventBus, Outcome, ReportFolder, Suite, SuiteStarted
from ._experiment import FlowDone, SizingPlan, run_on_mock, run_on_target
from ._locust import LOCUST_MASTER_PORT, LoadPlan, LoadResult, run_load
from ._options import check_count, check_number, flag_of
from ._scenarios import DEFAULT_SHAPE, SCENARIO_TRIGGERS, SCENARIOS, SOAK, scenario_file
from ._settings import DEFAULT_BURST_SIZE, MAX_RUNS_METRIC, FlowSettings, threshold_fields
from ._sizing import Measurement, recommend, sizing_results
from ._soak import SoakSettings, soak_verdict
from ._thresholds import Thresholds

__all__ = [
    "PROJECT_ROOT",
    "LoadSettings",
    "OpenReport",
    "load_stage",
    "require_triggers",
    "sizing_stage",
]

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
"""The project directory holding `scenarios/`."""
_NEEDS_JIRA_SECRET: Final = ("mixed", "jira-burst", SOAK)


class OpenReport(Protocol):
    """What a stage needs of an open report (the CLI's `ReportedRun`)."""

    exit_code: int

    @property
    def folder(self) -> ReportFolder:
        """The run's report folder."""
        ...

    @property
    def bus(self) -> EventBus:
        """Where the stage's events go."""
        ...

    @property
    def redactor(self) -> Redactor:
        """Removes the run's secrets from what it writes."""
        ...


class Surroundings(Protocol):
    """What a load stage reads from outside (the CLI's `Edge`): the environment."""

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment the Locust subprocess starts from."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSettings:
    """What one load run does: scenario, users, duration, shape, polling, pacing, mock speed.

    `poll_interval` None takes the target's; `poll_jitter` / `poll_cap` None take the
    strategy's defaults (`strategy_from`). `max_runs` caps the flows launched (each starts at
    most one run; default: `run_bound`'s figure); `seed` seeds the users' randomness.
    `expect_workers > 0`: the master waits (at most `expect_workers_max_wait_s` real seconds)
    for that many workers started elsewhere, bound to `master_bind_host:master_bind_port`.
    """

    scenario: str
    users: int = 5
    spawn_rate: float = 5.0
    duration_s: float = 60.0
    workers: int = 0
    shape: str = DEFAULT_SHAPE
    poll_strategy: str = "fixed"
    poll_interval: float | None = None
    poll_jitter: float | None = None
    poll_cap: float | None = None
    pacing: float = 1.0
    time_scale: float = 50.0
    max_runs: int | None = None
    seed: int | None = None
    stop_on_threshold: bool = False
    expect_workers: int = 0
    master_bind_host: str = "*"
    master_bind_port: int = LOCUST_MASTER_PORT
    expect_workers_max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            raise UsageError(f"--scenario: unknown scenario {self.scenario!r}; known: {known}")
        check_number("time_scale", self.time_scale, above_zero=True)
        check_number("pacing", self.pacing, above_zero=True)
        if self.poll_interval is not None:
            require_interval(flag_of("poll_interval"), "the interval", self.poll_interval)
        check_count("expect_workers", self.expect_workers, low=0)
        if self.max_runs is not None:
            check_count("max_runs", self.max_runs, low=self.processes)

    @property
    def processes(self) -> int:
        """The Locust processes that launch flows: the workers (started here or elsewhere), or
        the one local runner."""
        return max(self.workers, self.expect_workers, 1)

    def run_bound(self) -> int:
        """The most runs the scenario starts: a whole share per Locust process.

        Without `max_runs`: users x arrivals per user (`duration_s / pacing`, plus the first)
        x runs per arrival (jira-burst: its burst). Users that a shape stops and starts again
        begin new arrivals, so that figure alone is no bound: each process enforces its share
        (`FlowSettings.max_runs`), which makes it one.
        """
        if self.max_runs is not None:
            return self.max_runs // self.processes * self.processes
        arrivals = math.floor(self.duration_s / self.pacing) + 1
        per_arrival = DEFAULT_BURST_SIZE if self.scenario == "jira-burst" else 1
        wanted = self.users * arrivals * per_arrival
        return math.ceil(wanted / self.processes) * self.processes

    def flow_for(self, target: Target, *, host: str | None, mock_admin: bool) -> FlowSettings:
        """The flows' settings for a run on `target` through `host` (validated).

        Args:
            target: the resolved target.
            host: the base URL Locust aims at; None for the soak's own mock.
            mock_admin: whether the host is a mock with an admin API.
        """
        interval = {} if self.poll_interval is None else {"poll_interval": self.poll_interval}
        return FlowSettings.for_target(
            target,
            host=host,
            poll_strategy=self.poll_strategy,
            poll_jitter=self.poll_jitter,
            poll_cap=self.poll_cap,
            pacing=self.pacing,
            mock_admin=mock_admin,
            burst_size=DEFAULT_BURST_SIZE,
            max_runs=self.run_bound() // self.processes,
            seed=self.seed,
            **interval,
        )


def require_triggers(target: Target, scenario: str) -> None:
    """Refuse a scenario `target` cannot run: a trigger or the Jira secret it needs is unset,
    or the soak off the embedded mock."""
    if scenario == SOAK and not target.embedded:
        raise UsageError(
            f"--scenario soak: runs only on the embedded mock (--target mock), not on "
            f"{target.name!r}: it starts its own `flaky` mock process, because its verdict needs "
            "the mock's admin API (/__admin/runs, /__admin/metrics), injected faults and the "
            "mock's RSS"
        )
    for name in SCENARIO_TRIGGERS[scenario]:
        if getattr(target, name) is None:
            raise UsageError(
                f"--scenario {scenario}: target {target.name!r} sets no {name} in its targets file"
            )
    if scenario in _NEEDS_JIRA_SECRET and target.jira_skip_reason:
        raise UsageError(f"--scenario {scenario}: {target.jira_skip_reason}")


@contextmanager
def _host(target: Target, time_scale: float, scenario: str) -> Iterator[tuple[str | None, bool]]:
    """The base URL Locust aims at (None: the soak's own mock), and whether it is a mock with an
    admin API."""
    if scenario == SOAK:
        yield None, True
        return
    if not target.embedded:
        yield target.base_url, False
        return
    with open_session(target, in_process=False, time_scale=time_scale) as session:
        yield session.base_url, True


def load_stage(
    run: OpenReport,
    edge: Surroundings,
    target: Target,
    settings: LoadSettings,
    thresholds: Thresholds,
) -> LoadResult:
    """Run one Locust scenario on `target` and report it into `run` (exit 1 past a threshold).

    A run cut short (SIGINT, SIGTERM, the time bound) still reports what Locust wrote before
    it stopped (partial figures, the case not passed), then the error propagates.

    The soak runs on its own `flaky` mock (embedded target only); its verdict, read from the
    `soak.json` it writes, replaces the fail-ratio and violation thresholds (its injected 5xx
    are Locust failures by design), and a failed soak makes the exit code 1.

    With `settings.stop_on_threshold` the thresholds cross into Locust (`threshold_fields`) and
    its master stops the run at the first one crossed; the report's first crossed line says so.

    Args:
        run: the open report.
        edge: where the subprocess environment comes from.
        target: the resolved target (the embedded mock is served on 127.0.0.1 for the run).
        settings: the scenario and its load.
        thresholds: what fails the run.
    """
    require_triggers(target, settings.scenario)
    flow = settings.flow_for(target, host=target.base_url, mock_admin=target.embedded)
    extra: tuple[str, ...] = ()
    if settings.scenario == SOAK:
        soak = SoakSettings.for_run(
            duration_s=settings.duration_s, time_scale=settings.time_scale, out_dir=run.folder.path
        )
        extra = soak.to_arguments()
        thresholds = dataclasses.replace(thresholds, max_fail_ratio=None, max_violations=None)
    with _host(target, settings.time_scale, settings.scenario) as (host, is_mock):
        plan = LoadPlan(
            scenario=settings.scenario,
            locustfile=scenario_file(settings.scenario, PROJECT_ROOT),
            flow=dataclasses.replace(
                flow,
                host=host,
                mock_admin=is_mock,
                stop_on_threshold=settings.stop_on_threshold,
                **threshold_fields(thresholds),
            ),
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            duration_s=settings.duration_s,
            workers=settings.workers,
            shape=settings.shape,
            extra_args=extra,
            expect_workers=settings.expect_workers,
            master_bind_host=settings.master_bind_host,
            master_bind_port=settings.master_bind_port,
            expect_workers_max_wait_s=settings.expect_workers_max_wait_s,
        )
        bound = settings.run_bound()
        result = run_load(
            plan,
            thresholds,
            out_dir=run.folder.path,
            environ=edge.environ,
            redactor=run.redactor,
            on_cut_short=lambda partial: _report_load(run, partial, settings.duration_s, bound),
        )
    if _report_load(run, result, settings.duration_s, bound):
        run.exit_code = max(run.exit_code, 1)
    return result


def _flows_not_started(result: LoadResult) -> int:
    """Launches the run cap refused (the `MAX_RUNS_METRIC` flow metric), 0 when none."""
    name = f"FLOW {MAX_RUNS_METRIC}"
    return sum(row.requests for row in result.summary.stats if row.name == name)


def _report_load(run: OpenReport, result: LoadResult, seconds: float, max_runs: int) -> bool:
    """Emit the load case and summary; True when the run failed.

    A partial result (`LoadSummary.interrupted`) is a skipped case unless a threshold was
    already crossed: figures of a run cut short never pass it.
    """
    run.bus.emit(SuiteStarted(suite=Suite.LOAD))
    scenario = result.summary.scenario
    lines = list(result.summary.thresholds_crossed)
    failed = bool(lines)
    lines += _flow_lines(result)
    title = f"Load scenario {scenario} within thresholds"
    if scenario == SOAK:
        held, text = soak_verdict(result)
        failed = failed or not held
        lines.insert(0, text)
        title = "Soak: no lost run, no unexpected 5xx, RSS flat"
    lines += _worker_lines(result)
    refused = _flows_not_started(result)
    if refused:
        lines.append(f"--max-runs {max_runs} reached: {refused} flows not started")
    if result.inconclusive:
        lines.append(
            f"{result.inconclusive} answers or flows were inconclusive (no answer, rate-limited, "
            "a status outside the documented values): counted apart, never as violations"
        )
    outcome = Outcome.FAILED if failed else Outcome.PASSED
    skip_reason = None
    if result.summary.interrupted:
        skip_reason = "interrupted: the figures are what ran before the run was stopped"
        lines.insert(0, skip_reason)
        outcome = Outcome.FAILED if failed else Outcome.SKIPPED
    run.bus.emit(
        CaseFinished(
            suite=Suite.LOAD,
            case_id=f"load.{scenario}",
            title=title,
            outcome=outcome,
            duration_s=seconds,
            message="\n".join(lines),
            skip_reason=skip_reason if outcome is Outcome.SKIPPED else None,
        )
    )
    run.bus.emit(result.summary)
    return failed


def _worker_lines(result: LoadResult) -> list[str]:
    """How many workers reported, each one that left early by name, and rows not received."""
    if not result.workers:
        return []
    lines = [f"{len(result.workers)} Locust workers reported flows to the master"]
    for worker in result.workers:
        if worker.left is not None:
            lines.append(
                f"worker {worker.name} disconnected mid-run ({worker.left}): its {worker.flows} "
                "flows up to its last report are kept"
            )
    if result.rows_dropped:
        lines.append(
            f"{result.rows_dropped} flows were not received: their workers' queues were full"
        )
    return lines


def _flow_lines(result: LoadResult) -> list[str]:
    """The flows' final statuses, as one line per flow kind (none without flows)."""
    kinds: dict[str, list[str]] = {}
    for row in result.summary.flow_statuses:
        kinds.setdefault(row.flow, []).append(f"{row.count} {row.status}")
    return [f"{flow} flows: {', '.join(counts)}" for flow, counts in kinds.items()]


def sizing_stage(
    run: OpenReport,
    target: Target,
    plan: SizingPlan,
    *,
    clock: Clock = time.monotonic,
    on_flow: FlowDone | None = None,
) -> tuple[list[Measurement], Measurement | None, str]:
    """Measure the candidate schedules on `target`, report them and the recommendation.

    The run's exit code becomes 1 when no candidate meets the delay budget. When no delay
    could be measured at all (every figure an artefact, the target's clock unknown, or no
    candidate reached within the budget) the case is skipped with the reason and, unless the
    run already failed, the exit code is 4: the harness could not judge, which is never a
    finding. Candidates left out by `--max-runs` or not reached within `--time-limit` are
    named in the case's message.

    Args:
        run: the open report.
        target: the resolved target (the embedded mock runs in process on stepped time).
        plan: the candidates, flows, delay budget, run cap and time limit.
        clock: real monotonic seconds (the time limit).
        on_flow: called as each flow ends (progress).
    """
    if target.embedded:
        measurements = run_on_mock(plan, clock=clock, on_flow=on_flow)
    else:
        measurements = run_on_target(plan, target, clock=clock, on_flow=on_flow)
    best, text = recommend(measurements, max_delay_s=plan.max_delay_s, stat=plan.delay_stat)
    text += _left_out(plan, len(measurements))
    judged = best is not None or any(m.measured for m in measurements)
    _report_sizing(run, measurements, best, text, plan, judged=judged)
    if not judged:
        run.exit_code = run.exit_code or CannotJudge.exit_code
    elif best is None:
        run.exit_code = max(run.exit_code, 1)
    return measurements, best, text


def _left_out(plan: SizingPlan, measured: int) -> str:
    """What the budget left unmeasured, as a sentence to append ('' when nothing)."""
    capped = [c.label for c in plan.candidates[len(plan.planned) :]]
    late = [c.label for c in plan.planned[measured:]]
    text = ""
    if late:
        text += f"; not reached within --time-limit: {', '.join(late)}"
    if capped:
        text += f"; left out by --max-runs {plan.max_runs}: {', '.join(capped)}"
    return text


def _report_sizing(
    run: OpenReport,
    measurements: Sequence[Measurement],
    best: Measurement | None,
    text: str,
    plan: SizingPlan,
    *,
    judged: bool,
) -> None:
    run.bus.emit(SuiteStarted(suite=Suite.SIZING))
    outcome = Outcome.PASSED if best is not None else Outcome.FAILED
    run.bus.emit(
        CaseFinished(
            suite=Suite.SIZING,
            case_id="sizing.delay_budget",
            title="A polling schedule meets the detection delay budget",
            outcome=outcome if judged else Outcome.SKIPPED,
            message=text,
            skip_reason=None if judged else text,
        )
    )
    for result in sizing_results(
        measurements, text, best=best, max_delay_s=plan.max_delay_s, delay_stat=plan.delay_stat
    ):
        run.bus.emit(result)
