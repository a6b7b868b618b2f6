"""Polling sizing: what a polling schedule costs in status requests and how late it notices.

For each candidate schedule (`fixed:5`, `exponential:2`, ...) `N` flows are started together and
each is followed until final (`_experiment`). Everything is measured, nothing computed:

- status requests per second for `N` flows in flight = `N` x (E3 requests sent) / (flow-seconds
  in flight, start to detection), which is the steady-state rate by Little's law;
- detection delay = arrival of the first answer showing the final status minus the run's end,
  as bounds that hold the true figure (`_delays`): exact on the embedded mock, within the log
  time's resolution and the request's latency on a real target; an artefact (figures that
  cannot be a delay) is counted and never recommended from.

The recommendation is the cheapest candidate whose delay (p95 or mean) surely meets the budget. A
candidate's strategy is built by `strategy_from`, with the same names and defaults as `load`'s
`--poll-strategy`: `fixed_jittered:5` is the same schedule in both.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._exceptions import UsageError
from .._models import RunHistory
from .._polling import (
    STRATEGIES,
    PollStrategy,
    default_jitter,
    require_interval,
    strategy_from,
)
from ..report import SizingResult, SizingRow
from ._delays import (
    ClockMap,
    DelayArtefact,
    DelayBounds,
    DelayResolution,
    RunEnd,
    detection_delay,
)
from ._times import first_final_at

__all__ = [
    "DELAY_STATS",
    "Candidate",
    "FlowSample",
    "Measurement",
    "expected_fixed",
    "measure",
    "parse_candidates",
    "parse_duration_dist",
    "recommend",
    "sample_of",
    "sizing_results",
    "unmeasured_reason",
]

DELAY_STATS: Final = ("p95", "mean")
_DURATION_KEYS: Final = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma", "max_s"),
    "exponential": ("mean_s", "max_s"),
}
_P95: Final = 0.95


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
        """The polling strategy."""
        return strategy_from(self.strategy, self.interval_s, jitter=self.jitter, cap_s=self.cap_s)

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
        if name not in STRATEGIES:
            raise UsageError(f"--intervals: unknown strategy {name!r} in {item!r}")
        try:
            interval = float(number)
        except ValueError:
            raise UsageError(f"--intervals: {item!r} is not [strategy:]seconds") from None
        if not math.isfinite(interval) or interval <= 0:
            raise UsageError(f"--intervals: interval must be > 0, got {item!r}")
        require_interval("--intervals", repr(item), interval)
        candidate = Candidate(
            strategy=name, interval_s=interval, jitter=default_jitter(name, interval)
        )
        candidate.build()
        candidates.append(candidate)
    if not candidates:
        raise UsageError("--intervals: give at least one interval")
    return tuple(candidates)


def parse_duration_dist(text: str) -> dict[str, Any]:
    """A mock `duration` table from `lognormal:median_s=180,sigma=0.5,max_s=900`, `fixed:30`.

    Args:
        text: the `--duration-dist` value; keys as in the mock's config file.
    """
    dist, _, rest = text.partition(":")
    dist = dist.strip()
    if dist not in _DURATION_KEYS:
        raise UsageError(
            f"--duration-dist: unknown distribution {dist!r}; known: {', '.join(_DURATION_KEYS)}"
        )
    table: dict[str, Any] = {"dist": dist}
    for part in filter(None, (piece.strip() for piece in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep and dist == "fixed":
            key, value = "s", part
        if key.strip() not in _DURATION_KEYS[dist]:
            allowed = ", ".join(_DURATION_KEYS[dist])
            raise UsageError(f"--duration-dist: {dist} takes {allowed}, got {part!r}")
        try:
            table[key.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--duration-dist: {part!r} is not key=number") from None
    return table


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSample:
    """One followed flow: E3 requests sent, time in flight (target s) and its detection delay.

    `delay` is bounds, an artefact (figures that cannot be a delay) or None when unknown.
    """

    polls: int
    in_flight_s: float
    delay: DelayBounds | DelayArtefact | None


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
    return FlowSample(
        polls=len(history.polls),
        in_flight_s=seen - history.start.at,
        delay=detection_delay(history, end, clock),
    )


_NO_DELAY: Final = DelayBounds(lower_s=math.inf, upper_s=math.inf)


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """What one candidate measured, for `flows` flows in flight.

    The delay statistics are bounds (target seconds) over the flows whose delay was measured:
    the true mean (p95) lies between the mean (p95) of the lower and of the upper bounds; both
    are infinite when no delay was measured. `artefacts` counts flows whose figures could not
    be a delay (`artefact` says why, for the first); `resolution` says what bounds the delays.
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
    )


def expected_fixed(interval_s: float, flows: int) -> tuple[float, float]:
    """The analytic expectation for a fixed interval T: (mean delay T/2, N/T requests/s)."""
    return interval_s / 2, flows / interval_s


def recommend(
    measurements: Sequence[Measurement], *, max_delay_s: float, stat: str = "p95"
) -> tuple[Measurement | None, str]:
    """The cheapest candidate (fewest status requests/s) whose delay surely meets the budget.

    A candidate qualifies when it lost no flow, none of its delays was an artefact and the
    upper bound of its delay statistic is within the budget: a recommendation never rests on
    a figure the measurement cannot vouch for.

    Args:
        measurements: one per candidate.
        max_delay_s: the detection delay budget (target seconds).
        stat: which delay the budget applies to, `p95` or `mean`.
    """
    if stat not in DELAY_STATS:
        raise UsageError(f"--delay-stat: must be p95 or mean, got {stat!r}")
    clean = [m for m in measurements if m.lost == 0 and m.measured]
    meeting = [m for m in clean if m.delay(stat) <= max_delay_s]
    if meeting:
        best = min(meeting, key=lambda m: (m.status_rps, m.delay(stat)))
        return best, (
            f"{best.candidate.label}: {best.status_rps:.2f} status requests/s for "
            f"{best.flows} flows in flight, {stat} delay {best.delay_bounds(stat).text()} "
            f"<= {max_delay_s:g} s ({best.resolution.describe()})"
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
