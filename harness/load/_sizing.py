"""Polling sizing: what a polling schedule costs in status requests and how late it notices.

For each candidate schedule (`fixed:5`, `exponential:2`, `retry_after:5`, ...) `N` flows are
started together and each is followed until final (`_experiment`), and measured:

- status requests per second for `N` flows in flight = `N` x (E3 requests sent) / (flow-seconds
  in flight, start to detection), which is the steady-state rate by Little's law;
- detection delay = arrival of the first answer showing the final status minus the run's end,
  as bounds that hold the true figure (`_delays`): exact on the embedded mock, within the log
  time's resolution and the request's latency on a real target; an artefact (figures that
  cannot be a delay) is counted and never recommended from.

The recommendation is the cheapest candidate whose delay (p95 or mean) surely meets the budget,
and says what the next best costs; none when every sampled run failed. A candidate's strategy
is built by `strategy_from`, with the same names and defaults as `load`'s `--poll-strategy`:
`fixed_jittered:5` is the same schedule in both.

`three_way` sets each measurement beside its closed form and its simulation (`_simulate`, the
same strategy object, no HTTP); `three_way_event` turns those rows into the report's
`SizingThreeWay` event, the one source of `sizing.md`, `index.html` and `results.json`;
`write_sizing_files` (called by `size-polling` and `run`) writes the table and the
delay-vs-rate plot (PNG, SVG) beside the report and emits the event.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from .._exceptions import UsageError
from .._models import RunHistory, RunStatus
from .._polling import (
    DEFAULT_CAP_S,
    DEFAULT_MAX_WAIT_S,
    INTERVAL_RULE,
    STRATEGIES,
    PollStrategy,
    default_jitter,
    require_interval,
    strategy_from,
)
from ..report import (
    GAP_FIGURES,
    EventBus,
    ReportFolder,
    SizingFigures,
    SizingResult,
    SizingRow,
    SizingThreeWay,
    ThreeWayRow,
    markdown_cell,
)
from ..report import sizing_chart as _chart
from ._delays import (
    ClockMap,
    DelayArtefact,
    DelayBounds,
    DelayResolution,
    RunEnd,
    detection_delay,
)
from ._simulate import (
    SIMULATED_FLOWS,
    DurationDist,
    Durations,
    EmpiricalDurations,
    ModelFigures,
    closed_form,
    parse_duration,
    simulate,
)
from ._times import first_final_at

__all__ = [
    "DEFAULT_CANDIDATES",
    "DELAY_STATS",
    "RETRY_AFTER",
    "SIZING_FILES",
    "SIZING_STRATEGIES",
    "Candidate",
    "FlowSample",
    "Measurement",
    "SizingFiles",
    "ThreeWay",
    "ThreeWayReport",
    "ThreeWaySettings",
    "expected_fixed",
    "failed_runs",
    "measure",
    "model_durations",
    "parse_candidates",
    "parse_duration_dist",
    "recommend",
    "run_duration",
    "sample_of",
    "sizing_results",
    "three_way",
    "three_way_event",
    "three_way_markdown",
    "unmeasured_reason",
    "write_sizing_files",
]

DELAY_STATS: Final = ("p95", "mean")
RETRY_AFTER: Final = "retry_after"
"""The candidate that honours `Retry-After`: fixed polling, each wait stretched to a server's
`Retry-After` (up to `DEFAULT_MAX_WAIT_S`) by the clients' retry policy. Every schedule the
clients follow honours it on a 429; a mock that never sends one (no rate limit configured)
sees exactly its base schedule, `fixed` at the same interval."""
SIZING_STRATEGIES: Final = (*STRATEGIES, RETRY_AFTER)
"""The names `--intervals` takes: the polling strategies and `retry_after`."""
DEFAULT_CANDIDATES: Final = (
    "fixed:2,fixed:5,fixed:10,fixed:15,fixed:30,fixed_jittered:5,fixed_jittered:10,"
    "exponential:1,exponential:2,retry_after:5"
)
"""`--intervals` by default: fixed, fixed with jitter, exponential backoff (capped at
`DEFAULT_CAP_S`) and the `Retry-After`-honouring schedule."""
_P95: Final = 0.95
_TEXT_LIMIT: Final = 2000
"""The most characters of one text `sizing.md` shows (a recommendation, a row's notes)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One polling schedule to try: a strategy name and its numbers (target seconds).

    `jitter` and `cap_s` None take `strategy_from`'s defaults.
    """

    strategy: str
    interval_s: float
    jitter: float | None = None
    cap_s: float | None = None

    def build(self) -> PollStrategy:
        """The polling strategy the clients follow (`retry_after`: its base, `fixed`)."""
        name = "fixed" if self.strategy == RETRY_AFTER else self.strategy
        return strategy_from(name, self.interval_s, jitter=self.jitter, cap_s=self.cap_s)

    @property
    def schedule(self) -> str:
        """What the schedule does, in words (the three-way table's notes)."""
        if self.strategy == "exponential":
            cap = DEFAULT_CAP_S if self.cap_s is None else self.cap_s
            return f"x2 per poll from {self.interval_s:g} s, capped at {cap:g} s"
        if self.strategy == "fixed_jittered":
            spread = self.interval_s if self.jitter is None else self.jitter
            return f"every {self.interval_s:g} s, first poll + U(0, {spread:g}) s"
        if self.strategy == RETRY_AFTER:
            return (
                f"every {self.interval_s:g} s, waits stretched to Retry-After (<= "
                f"{DEFAULT_MAX_WAIT_S:g} s); none sent here: behaves as fixed {self.interval_s:g}s"
            )
        return f"every {self.interval_s:g} s"

    @property
    def label(self) -> str:
        """`fixed 5s`, `exponential 2s`, ..."""
        return f"{self.strategy} {self.interval_s:g}s"


def parse_candidates(text: str, *, default_strategy: str = "fixed") -> tuple[Candidate, ...]:
    """Candidates from `5,10,30` or `fixed:5,exponential:2,fixed_jittered:5`.

    Args:
        text: the `--intervals` value.
        default_strategy: the strategy of a bare number.
    """
    candidates = []
    for item in (part.strip() for part in text.split(",")):
        name, _, number = item.rpartition(":")
        name = name or default_strategy
        if name not in SIZING_STRATEGIES:
            raise UsageError(f"--intervals: unknown strategy {name!r} in {item!r}")
        try:
            interval = float(number)
        except ValueError:
            raise UsageError(
                f"--intervals: {item!r} is not [strategy:]seconds; each interval {INTERVAL_RULE}"
            ) from None
        require_interval("--intervals", f"interval {item!r}", interval)
        candidate = Candidate(
            strategy=name, interval_s=interval, jitter=default_jitter(name, interval)
        )
        candidate.build()
        candidates.append(candidate)
    if not candidates:
        raise UsageError("--intervals: give at least one interval")
    return tuple(candidates)


def parse_duration_dist(text: str) -> dict[str, Any]:
    """The mock's `duration` table of `lognormal:median_s=180,sigma=0.5,max_s=900`, `fixed:30`.

    Args:
        text: the `--duration-dist` value; keys as in the mock's config file.

    Raises:
        UsageError: naming `--duration-dist` (`_simulate.parse_duration`).
    """
    return parse_duration(text).table()


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSample:
    """One followed flow: E3 requests sent, time in flight (target s) and its detection delay.

    `delay` is bounds, an artefact (figures that cannot be a delay) or None when unknown;
    `failed` says the run ended `failed`; `duration_s` is the run's duration in the models'
    frame (target s, from the start answer's arrival to the run's end: `run_duration`), None
    when the delay is unknown.
    """

    polls: int
    in_flight_s: float
    delay: DelayBounds | DelayArtefact | None
    failed: bool = False
    duration_s: float | None = None


def sample_of(history: RunHistory, end: RunEnd | None, clock: ClockMap) -> FlowSample | None:
    """The sample of a flow that was seen final, None when it never was.

    Args:
        history: the flow's history (client clock, target seconds).
        end: when the run ended on the target's clock; None when unknown.
        clock: client clock to target epoch.
    """
    seen = first_final_at(history)
    if seen is None:
        return None
    delay = detection_delay(history, end, clock)
    final = history.final
    return FlowSample(
        polls=len(history.polls),
        in_flight_s=seen - history.start.at,
        delay=delay,
        failed=final is not None and final.status == RunStatus.FAILED,
        duration_s=run_duration(history, end, delay, clock),
    )


def run_duration(
    history: RunHistory,
    end: RunEnd | None,
    delay: DelayBounds | DelayArtefact | None,
    clock: ClockMap,
) -> float | None:
    """The run's duration as the models take it (`_simulate`: t = 0 is the start answer's
    arrival), target seconds: the best estimate of its end minus that arrival.

    The end is exact when the mock's admin API gave it (`ended_at`); otherwise it is the
    midpoint of the interval that holds it (its log second, narrowed by the answers:
    the delay's bounds). Never the detection time: that would count the delay twice.
    None when the delay is unknown or an artefact (the end disagrees with the answers).

    Args:
        history: the flow's history (client clock, target seconds).
        end: when the run ended on the target's clock.
        delay: the flow's detection delay (`detection_delay`).
        clock: client clock to target epoch.
    """
    seen = first_final_at(history)
    if end is None or seen is None or not isinstance(delay, DelayBounds):
        return None
    started = clock.epoch(history.start.at + history.start.exchange.elapsed_s)
    if end.earliest == end.latest:
        return end.earliest - started
    return clock.epoch(seen) - (delay.lower_s + delay.upper_s) / 2 - started


_NO_DELAY: Final = DelayBounds(lower_s=math.inf, upper_s=math.inf)


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """What one candidate measured, for `flows` flows in flight.

    The delay statistics are bounds (target seconds) over the flows whose delay was measured:
    the true mean (p95) lies between the mean (p95) of the lower and of the upper bounds; both
    are infinite when no delay was measured. `artefacts` counts flows whose figures could not
    be a delay (`artefact` says why, for the first); `resolution` says what bounds the delays.
    `failed` counts flows whose run ended `failed` (their polling figures still count),
    `max_delay` is the largest delay's bounds and `durations` the runs' durations (target s).
    """

    candidate: Candidate
    flows: int
    samples: int
    lost: int
    status_rps: float
    mean_delay: DelayBounds
    p95_delay: DelayBounds
    polls_per_flow: float
    resolution: DelayResolution
    artefacts: int = 0
    artefact: str | None = None
    failed: int = 0
    max_delay: DelayBounds = _NO_DELAY
    durations: tuple[float, ...] = ()

    @property
    def mean_delay_s(self) -> float:
        """The mean delay's upper bound (target s): the most it can be."""
        return self.mean_delay.upper_s

    @property
    def p95_delay_s(self) -> float:
        """The p95 delay's upper bound (target s): the most it can be."""
        return self.p95_delay.upper_s

    @property
    def measured(self) -> bool:
        """True when delays were measured and none was an artefact."""
        return self.artefacts == 0 and math.isfinite(self.p95_delay.upper_s)

    def delay_bounds(self, stat: str) -> DelayBounds:
        """The bounds of the delay statistic the budget applies to (`p95` or `mean`)."""
        return self.p95_delay if stat == "p95" else self.mean_delay

    def delay(self, stat: str) -> float:
        """The upper bound of the delay statistic (`p95` or `mean`) the budget is judged on."""
        return self.delay_bounds(stat).upper_s


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(_P95 * len(ordered)) - 1)]


def _bounds(
    delays: Sequence[DelayBounds], statistic: Callable[[Sequence[float]], float]
) -> DelayBounds:
    """A statistic's bounds: it is monotone in each delay, so it lies between its values on
    the lower and on the upper bounds."""
    if not delays:
        return _NO_DELAY
    return DelayBounds(
        lower_s=statistic([delay.lower_s for delay in delays]),
        upper_s=statistic([delay.upper_s for delay in delays]),
    )


def measure(
    candidate: Candidate,
    samples: Sequence[FlowSample | None],
    flows: int,
    *,
    resolution: DelayResolution,
) -> Measurement:
    """Status requests per second for `flows` in flight and the delay statistics' bounds.

    Args:
        candidate: the schedule measured.
        samples: one per flow started; None for a flow never seen final (counted as lost).
        flows: the number of flows in flight the rate is given for.
        resolution: what the delays were measured with.
    """
    seen = [sample for sample in samples if sample is not None]
    delays = [sample.delay for sample in seen if isinstance(sample.delay, DelayBounds)]
    artefacts = [sample.delay for sample in seen if isinstance(sample.delay, DelayArtefact)]
    in_flight = sum(sample.in_flight_s for sample in seen)
    polls = sum(sample.polls for sample in seen)
    return Measurement(
        candidate=candidate,
        flows=flows,
        samples=len(seen),
        lost=len(samples) - len(seen),
        status_rps=flows * polls / in_flight if in_flight > 0 else math.inf,
        mean_delay=_bounds(delays, statistics.fmean),
        p95_delay=_bounds(delays, _p95),
        polls_per_flow=polls / len(seen) if seen else 0.0,
        resolution=resolution,
        artefacts=len(artefacts),
        artefact=artefacts[0].reason if artefacts else None,
        failed=sum(sample.failed for sample in seen),
        max_delay=_bounds(delays, max),
        durations=tuple(s.duration_s for s in seen if s.duration_s is not None),
    )


def expected_fixed(interval_s: float, flows: int) -> tuple[float, float]:
    """The analytic expectation for a fixed interval T: (mean delay T/2, N/T requests/s)."""
    return interval_s / 2, flows / interval_s


def recommend(
    measurements: Sequence[Measurement], *, max_delay_s: float, stat: str = "p95"
) -> tuple[Measurement | None, str]:
    """The cheapest candidate (fewest status requests/s) whose delay surely meets the budget,
    and a text that says why: its cost and delay, and what the next best costs against it.

    A candidate qualifies when it lost no flow, none of its delays was an artefact and the
    upper bound of its delay statistic is within the budget: a recommendation never rests on
    a figure the measurement cannot vouch for. When every sampled run failed there is no
    recommendation (a failing trigger's runs say nothing of a healthy one's); when some did,
    the text says how many.

    Args:
        measurements: one per candidate.
        max_delay_s: the detection delay budget (target seconds).
        stat: which delay the budget applies to, `p95` or `mean`.
    """
    if stat not in DELAY_STATS:
        raise UsageError(f"--delay-stat: must be p95 or mean, got {stat!r}")
    failed, seen = failed_runs(measurements)
    if seen and failed == seen:
        return None, (
            f"no recommendation: every sampled run failed ({failed} of {seen}); a sizing "
            "built on failing runs says nothing of healthy ones"
        )
    best, text = _pick(measurements, max_delay_s=max_delay_s, stat=stat)
    if failed:
        text += f"; {failed} of {seen} sampled runs failed (their figures are included)"
    return best, text


def failed_runs(measurements: Sequence[Measurement]) -> tuple[int, int]:
    """(runs that ended `failed`, runs seen final) over all candidates."""
    return sum(m.failed for m in measurements), sum(m.samples for m in measurements)


def _pick(
    measurements: Sequence[Measurement], *, max_delay_s: float, stat: str
) -> tuple[Measurement | None, str]:
    clean = [m for m in measurements if m.lost == 0 and m.measured]
    meeting = sorted(
        (m for m in clean if m.delay(stat) <= max_delay_s),
        key=lambda m: (m.status_rps, m.delay(stat)),
    )
    if meeting:
        best = meeting[0]
        return best, (
            f"{best.candidate.label}: the cheapest schedule within the {stat} delay budget, "
            f"{best.status_rps:.2f} status requests/s for {best.flows} flows in flight, "
            f"{stat} delay {best.delay_bounds(stat).text()} <= {max_delay_s:g} s "
            f"({best.resolution.describe()}); {_against_next(best, meeting[1:], stat)}"
        )
    if not any(m.measured for m in measurements):
        return None, f"no recommendation: {unmeasured_reason(measurements)}"
    measured = [m for m in measurements if m.measured]
    closest = min(measured, key=lambda m: m.delay(stat))
    text = (
        f"no candidate meets a {stat} delay of {max_delay_s:g} s; the smallest {stat} delay "
        f"was {closest.delay_bounds(stat).text()}"
    )
    spoiled = sum(m.artefacts for m in measurements)
    if spoiled:
        text += f" ({spoiled} flows' figures were measurement artefacts, left out)"
    return None, text


def _against_next(best: Measurement, others: Sequence[Measurement], stat: str) -> str:
    """What the next cheapest schedule within the budget costs against `best`."""
    if not others:
        return "the only schedule within the budget"
    runner = others[0]
    extra = runner.status_rps - best.status_rps
    share = f" (+{extra / best.status_rps:.0%})" if best.status_rps > 0 else ""
    return (
        f"the next best, {runner.candidate.label}, costs {extra:.2f} status requests/s more"
        f"{share} for a {stat} delay of {runner.delay_bounds(stat).text()}"
    )


def unmeasured_reason(measurements: Sequence[Measurement]) -> str:
    """Why no delay could be measured: the artefacts, or the unknown clock or run ends."""
    artefacts = sum(m.artefacts for m in measurements)
    example = next((m.artefact for m in measurements if m.artefact), None)
    if artefacts and example:
        return (
            f"detection delays could not be measured: {artefacts} flows' figures were "
            f"measurement artefacts ({example})"
        )
    resolution = measurements[0].resolution.describe() if measurements else "no candidate"
    return f"detection delays could not be measured ({resolution})"


def sizing_results(
    measurements: Sequence[Measurement],
    recommendation: str,
    *,
    best: Measurement | None = None,
    max_delay_s: float | None = None,
    delay_stat: str = "p95",
) -> tuple[SizingResult, ...]:
    """The sizing table as one `SizingResult`: a row per candidate (by strategy, then interval).

    Args:
        measurements: one per candidate.
        recommendation: the recommendation's text.
        best: the recommended measurement, whose row is marked `recommended`.
        max_delay_s: the delay budget the recommendation was judged against.
        delay_stat: which delay the budget applies to.
    """
    strategies = list(dict.fromkeys(m.candidate.strategy for m in measurements))
    rows = tuple(
        SizingRow(
            strategy=m.candidate.strategy,
            interval_s=m.candidate.interval_s,
            status_rps=m.status_rps,
            mean_delay_s=m.mean_delay.upper_s,
            p95_delay_s=m.p95_delay.upper_s,
            mean_delay_low_s=m.mean_delay.lower_s,
            p95_delay_low_s=m.p95_delay.lower_s,
            artefacts=m.artefacts,
            recommended=m is best,
        )
        for m in sorted(
            measurements,
            key=lambda m: (strategies.index(m.candidate.strategy), m.candidate.interval_s),
        )
    )
    if not rows:
        return ()
    return (
        SizingResult(
            rows=rows,
            recommendation=recommendation,
            max_delay_s=max_delay_s,
            delay_stat=delay_stat,
            delay_resolution=measurements[0].resolution.describe(),
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreeWay:
    """One candidate three ways: `computed` (closed form; None when none exists),
    `simulated` (`_simulate.simulate`, same strategy object) and `measured` on the target."""

    measured: Measurement
    computed: ModelFigures | None
    simulated: ModelFigures

    @property
    def reference(self) -> tuple[str, ModelFigures]:
        """What the measurement is judged against: the closed form, else the simulation."""
        if self.computed is not None:
            return "computed", self.computed
        return "simulated", self.simulated

    def gaps(self) -> dict[str, float]:
        """Measured minus reference, relative to the reference (0.05 = 5 %), per figure:
        `status_rps`, `polls_per_flow`, `mean_delay_s` (the delay's upper bound)."""
        _, model = self.reference
        m = self.measured
        pairs = {
            "status_rps": (m.status_rps, model.status_rps),
            "polls_per_flow": (m.polls_per_flow, model.polls_per_flow),
            "mean_delay_s": (m.mean_delay.upper_s, model.mean_delay_s),
        }
        return {key: _relative(got, want) for key, (got, want) in pairs.items()}


def _relative(got: float, want: float) -> float:
    if not (math.isfinite(got) and math.isfinite(want)) or want == 0:
        return math.nan
    return (got - want) / want


def model_durations(
    given: DurationDist | None, measurements: Sequence[Measurement]
) -> Durations | None:
    """The durations the models use: `given` (`--duration-dist`, or the mock's own), else
    the runs measured on the target (`run_duration`, its ends' source named); None when
    neither exists."""
    if given is not None:
        return given
    measured = tuple(d for m in measurements for d in m.durations)
    if not measured:
        return None
    return EmpiricalDurations(measured, source=measurements[0].resolution.end_source)


def three_way(
    measurements: Sequence[Measurement],
    durations: Durations,
    *,
    deadline_s: float,
    seed: int,
    runs: int = SIMULATED_FLOWS,
) -> tuple[ThreeWay, ...]:
    """Each measured candidate with its closed form and its simulation (seeded, no HTTP).

    Args:
        measurements: one per candidate measured.
        durations: the run duration distribution the models use.
        deadline_s: the clients' deadline (target seconds).
        seed: the simulation's seed (candidate i uses `seed + i`).
        runs: flows simulated per candidate.
    """
    rows = []
    for index, m in enumerate(measurements):
        strategy = m.candidate.build()
        rows.append(
            ThreeWay(
                measured=m,
                computed=closed_form(strategy, durations, m.flows, deadline_s=deadline_s),
                simulated=simulate(
                    strategy,
                    durations,
                    flows=m.flows,
                    deadline_s=deadline_s,
                    runs=runs,
                    seed=seed + index,
                ),
            )
        )
    return tuple(rows)


def _figures(figures: ModelFigures | Measurement) -> SizingFigures:
    """A model's figures, or a measurement's (its delays' upper bounds), as reports show them."""
    if isinstance(figures, Measurement):
        return SizingFigures(
            status_rps=figures.status_rps,
            polls_per_flow=figures.polls_per_flow,
            mean_delay_s=figures.mean_delay.upper_s,
            p95_delay_s=figures.p95_delay.upper_s,
            max_delay_s=figures.max_delay.upper_s,
        )
    return SizingFigures(
        status_rps=figures.status_rps,
        polls_per_flow=figures.polls_per_flow,
        mean_delay_s=figures.mean_delay_s,
        p95_delay_s=figures.p95_delay_s,
        max_delay_s=figures.max_delay_s,
    )


def three_way_event(
    rows: Sequence[ThreeWay],
    *,
    recommendation: str,
    durations: str,
    flows: int,
    best: Measurement | None = None,
) -> SizingThreeWay:
    """The three-way rows as the report's event: the one source `sizing.md`, `index.html`
    and `results.json` are all rendered from.

    Args:
        rows: one per candidate (`three_way`).
        recommendation: the recommendation's text.
        durations: how the models' durations were chosen (`Durations.describe`).
        flows: flows in flight the rates are given for.
        best: the recommended measurement, whose row is marked `recommended`.
    """
    return SizingThreeWay(
        rows=tuple(
            ThreeWayRow(
                schedule=row.measured.candidate.label,
                strategy=row.measured.candidate.strategy,
                interval_s=row.measured.candidate.interval_s,
                computed=None if row.computed is None else _figures(row.computed),
                simulated=_figures(row.simulated),
                measured=_figures(row.measured),
                reference=row.reference[0],
                gaps=row.gaps(),
                seen=row.measured.samples,
                lost=row.measured.lost,
                failed=row.measured.failed,
                simulated_lost=row.simulated.lost,
                notes=row.measured.candidate.schedule,
                recommended=row.measured is best,
            )
            for row in rows
        ),
        recommendation=recommendation,
        durations=durations,
        flows=flows,
    )


def _fig(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "unmeasured"


def _gap_text(row: ThreeWayRow) -> str:
    parts = [
        f"{label} {row.gaps[name]:+.1%}"
        for label, name in zip(("req/s", "polls", "mean"), GAP_FIGURES, strict=True)
        if math.isfinite(row.gaps[name])
    ]
    return f"vs {row.reference}: " + ", ".join(parts) if parts else "no measured figure"


def three_way_markdown(table: SizingThreeWay) -> str:
    """The sizing table three ways as Markdown (`sizing.md`): per candidate a computed, a
    simulated and a measured line, and the measured line's gap to the model it is judged
    against; the recommendation last.

    Args:
        table: the three-way event (`three_way_event`).
    """
    lines = [
        "# Polling sizing: computed, simulated, measured",
        "",
        f"Run durations (models): {markdown_cell(table.durations, _TEXT_LIMIT)}. Status "
        f"requests/s for {table.flows} flows in flight; delays in target seconds (measured: "
        "the upper bound).",
        "",
        "| schedule | source | status req/s | polls/flow | mean delay | p95 delay | max delay "
        "| notes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in table.rows:
        label = row.schedule  # a validated `--intervals` label: `strategy seconds`
        if row.computed is None:
            lines.append(f"| {label} | computed | | | | | | no closed form |")
        else:
            lines.append(_model_line(label, "computed", row.computed, "exact (fixed interval)"))
        lost = f", {row.simulated_lost:.1%} lost" if row.simulated_lost else ""
        lines.append(_model_line(label, "simulated", row.simulated, f"seeded{lost}"))
        notes = (
            f"{_gap_text(row)}; {row.seen} seen, {row.lost} lost, {row.failed} failed; {row.notes}"
        )
        lines.append(
            _model_line(label, "measured", row.measured, markdown_cell(notes, _TEXT_LIMIT))
        )
    lines += ["", f"Recommendation: {markdown_cell(table.recommendation, _TEXT_LIMIT)}", ""]
    return "\n".join(lines)


def _model_line(label: str, source: str, figures: SizingFigures, note: str) -> str:
    return (
        f"| {label} | {source} | {_fig(figures.status_rps)} | {figures.polls_per_flow:.2f} "
        f"| {_fig(figures.mean_delay_s)} | {_fig(figures.p95_delay_s)} "
        f"| {_fig(figures.max_delay_s)} | {note} |"
    )


SIZING_FILES: Final = ("sizing.md", "sizing.png", "sizing.svg")
"""What `write_sizing_files` writes beside the report: the three-way table and the plot."""


class ThreeWayReport(Protocol):
    """What `write_sizing_files` needs of an open report (the CLI's `ReportedRun`)."""

    @property
    def folder(self) -> ReportFolder:
        """The run's report folder."""
        ...

    @property
    def bus(self) -> EventBus:
        """Where the three-way event goes."""
        ...


class ThreeWaySettings(Protocol):
    """What `write_sizing_files` needs of the sizing plan (`SizingPlan`)."""

    @property
    def flows(self) -> int:
        """Flows in flight per candidate."""
        ...

    @property
    def deadline_s(self) -> float:
        """The clients' deadline (target seconds)."""
        ...

    @property
    def seed(self) -> int:
        """The run's seed (the simulation's)."""
        ...

    @property
    def max_delay_s(self) -> float:
        """The detection delay budget (target seconds)."""
        ...

    @property
    def delay_stat(self) -> str:
        """Which delay the budget applies to, `p95` or `mean`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingFiles:
    """What `write_sizing_files` did: the three-way `rows`, the models' `durations`, the
    `event` it emitted and the paths it `written`."""

    rows: tuple[ThreeWay, ...]
    durations: Durations
    event: SizingThreeWay
    written: tuple[Path, ...]


def write_sizing_files(
    run: ThreeWayReport,
    plan: ThreeWaySettings,
    measurements: Sequence[Measurement],
    *,
    best: Measurement | None,
    text: str,
    given: DurationDist | None,
) -> SizingFiles | None:
    """Set each measurement beside its closed form and simulation (`three_way`), write the
    table (`sizing.md`) and the delay-vs-rate plot (`sizing.png`, `sizing.svg`: measured
    points, simulated crosses) into the report folder, and emit the table as a
    `SizingThreeWay` event naming those files. `size-polling` and `run` both call it.

    Args:
        run: the open report.
        plan: the sizing plan the measurements followed.
        measurements: one per candidate measured (`sizing_stage`).
        best: the recommended measurement (None: none).
        text: the recommendation's text.
        given: the duration distribution the models use (`--duration-dist`, or the mock's
            own); None: the durations measured on the target.

    Returns:
        What was written and emitted; None (nothing written) when no run duration is known
        or no candidate was measured.
    """
    durations = model_durations(given, measurements)
    results = sizing_results(
        measurements, text, best=best, max_delay_s=plan.max_delay_s, delay_stat=plan.delay_stat
    )
    if durations is None or not results:
        return None
    rows = three_way(measurements, durations, deadline_s=plan.deadline_s, seed=plan.seed)
    table = three_way_event(
        rows, recommendation=text, durations=durations.describe(), flows=plan.flows, best=best
    )
    written = _write_files(run.folder, table, results[0], rows)
    table = dataclasses.replace(table, files=tuple(path.name for path in written))
    run.bus.emit(table)
    return SizingFiles(rows=rows, durations=durations, event=table, written=written)


def _write_files(
    folder: ReportFolder, table: SizingThreeWay, result: SizingResult, rows: Sequence[ThreeWay]
) -> tuple[Path, ...]:
    """`sizing.md` from the table, then the plot as PNG and SVG (when it has points)."""
    stat = result.delay_stat
    simulated = [
        (row.simulated.status_rps, row.simulated.p95_delay_s if stat == "p95" else
         row.simulated.mean_delay_s)
        for row in rows
    ]  # fmt: skip
    written = [folder.write_text(SIZING_FILES[0], three_way_markdown(table))]
    for name in SIZING_FILES[1:]:
        chart = _chart(result, fmt=name.rpartition(".")[2], simulated=simulated)
        if chart is not None:
            written.append(folder.write_bytes(name, chart))
    return tuple(written)
