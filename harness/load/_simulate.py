"""Polling sizing without HTTP: run durations, the closed form and a discrete-event simulation.

The model is the one the clients follow (`_async_client._follow`): a run starts when its start
answer arrives (t = 0 on the target's clock, duration D after which it is final); the k-th poll
is sent at the sum of the strategy's first k delays (`PollStrategy.delays`, the very objects
`Candidate.build` hands the clients), each wait clamped to the deadline; the run is noticed by
the first poll at or after D. Polls per flow N is that poll's index, the detection delay is its
time minus D, and status requests/s for C flows in flight is C x sum(N) / sum(time in flight)
(Little's law, as `measure` computes it from real flows). Requests take no time in the model.

Closed form (fixed interval T only): the n-th poll is at nT, so N = ceil(D/T) and

- E[N] = sum over k >= 0 of P(D > kT) (exact; about E[D]/T + 1/2 when D spans many T),
- mean delay = T x E[N] - E[D] (exact; about T/2: the delay is nearly U(0, T)),
- P(delay <= x) = 1 - sum over k >= 1 of (P(D > (k-1)T) - P(D > kT - x)), 0 <= x < T,
  solved for the p95 and the max (the 1-quantile: T, a supremum, unless the durations are
  bunched, e.g. a fixed duration's one delay) by bisection,
- R = C/T exactly (every flow is in flight N x T seconds for N polls).

It assumes no run outlasts the deadline. Jittered, exponential and `Retry-After` schedules have
no closed form here (a random first delay, a growing one): only the simulation models them.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from scipy import integrate, stats

from .._exceptions import UsageError
from .._polling import FixedStrategy, PollStrategy

__all__ = [
    "DURATION_KEYS",
    "MIN_DURATION_S",
    "SIMULATED_FLOWS",
    "DurationDist",
    "Durations",
    "EmpiricalDurations",
    "ModelFigures",
    "closed_form",
    "parse_duration",
    "simulate",
]

DURATION_KEYS: Final = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma", "max_s"),
    "exponential": ("mean_s", "max_s"),
}
"""Each distribution's keys, as in the mock config's `duration` table."""
_REQUIRED: Final = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma"),
    "exponential": ("mean_s",),
}
MIN_DURATION_S: Final = 0.001
"""The shortest run the mock draws (`mock_server._flows.MIN_DURATION_S`), seconds."""
SIMULATED_FLOWS: Final = 4000
"""Flows the simulation follows per candidate by default: ~0.1-0.5 s of CPU each."""
_P95: Final = 0.95
_BISECTIONS: Final = 60
_FLAG: Final = "--duration-dist"


class _Survival(Protocol):
    """What the closed form sums: a duration's survival function, its end and its mean."""

    def survival(self, x: float) -> float:
        """P(D > x)."""
        ...

    def survivals(self, xs: Sequence[float]) -> list[float]:
        """P(D > x) for each x (vectorised: the closed form asks for many at once)."""
        ...

    def support_end(self) -> float:
        """A finite time past which P(D > x) is 0 or below 1e-12 (seconds)."""
        ...

    def mean(self) -> float:
        """E[D]."""
        ...


class Durations(_Survival, Protocol):
    """Run durations (target seconds): drawn for the simulation, summed for the closed form."""

    def draw(self, rng: random.Random) -> float:
        """One duration; `rng` is the only source of randomness."""
        ...

    def describe(self) -> str:
        """The distribution as reports say it."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationDist:
    """A parametric run duration, drawn exactly as the mock draws it (`draw_duration`).

    `params` holds the keys of `DURATION_KEYS[dist]` that were given (seconds; `sigma` is the
    log's standard deviation); lognormal and exponential are clipped at `max_s` when given,
    and every draw is at least `MIN_DURATION_S`.
    """

    dist: str
    params: tuple[tuple[str, float], ...]

    def get(self, key: str) -> float | None:
        """The parameter `key`, None when not given."""
        return dict(self.params).get(key)

    def table(self) -> dict[str, object]:
        """The mock config's `duration` table."""
        return {"dist": self.dist, **dict(self.params)}

    def describe(self) -> str:
        """`lognormal:median_s=180,sigma=0.5,max_s=900` (the flag's own syntax)."""
        return f"{self.dist}:" + ",".join(f"{key}={value:g}" for key, value in self.params)

    def _cap(self) -> float:
        cap = self.get("max_s")
        return math.inf if cap is None or self.dist == "uniform" else cap

    def _point(self) -> float | None:
        """The one duration of a distribution with no spread (before `MIN_DURATION_S`): `fixed`,
        a `uniform` with `min_s` = `max_s`, a `lognormal` with `sigma` 0; None otherwise."""
        p = dict(self.params)
        if self.dist == "fixed":
            return p["s"]
        if self.dist == "uniform" and p["min_s"] == p["max_s"]:
            return p["min_s"]
        if self.dist == "lognormal" and p["sigma"] == 0:
            return min(p["median_s"], self._cap())
        return None

    def _fixed(self) -> float:
        point = self._point()
        if point is None:
            raise ValueError(f"{self.describe()} has a spread")
        return point

    def _frozen(self) -> stats.rv_continuous | None:
        """The scipy distribution; None for one with no spread (`_point`)."""
        p = dict(self.params)
        if self._point() is not None:
            return None
        if self.dist == "uniform":
            return stats.uniform(loc=p["min_s"], scale=p["max_s"] - p["min_s"])
        if self.dist == "lognormal":
            return stats.lognorm(s=p["sigma"], scale=p["median_s"])
        if self.dist == "exponential":
            return stats.expon(scale=p["mean_s"])
        return None

    def draw(self, rng: random.Random) -> float:
        """One duration, as `mock_server._flows.draw_duration` draws it."""
        p = dict(self.params)
        point = self._point()
        if point is not None:
            value = point
        elif self.dist == "uniform":
            value = rng.uniform(p["min_s"], p["max_s"])
        elif self.dist == "lognormal":
            value = rng.lognormvariate(math.log(p["median_s"]), p["sigma"])
        else:
            value = rng.expovariate(1.0 / p["mean_s"])
        return max(min(value, self._cap()), MIN_DURATION_S)

    def survival(self, x: float) -> float:
        """P(D > x) of the clipped distribution."""
        if x >= self._cap():
            return 0.0
        if x < MIN_DURATION_S:
            return 1.0
        frozen = self._frozen()
        if frozen is None:
            return 1.0 if x < self._fixed() else 0.0
        return float(frozen.sf(x))

    def survivals(self, xs: Sequence[float]) -> list[float]:
        """P(D > x) for each x, one scipy call for all."""
        frozen = self._frozen()
        if frozen is None:
            return [self.survival(x) for x in xs]
        at = np.asarray(xs, dtype=float)
        values = np.where(at >= self._cap(), 0.0, np.where(at < MIN_DURATION_S, 1.0, frozen.sf(at)))
        return [float(value) for value in values]

    def support_end(self) -> float:
        """The cap, the uniform's or fixed value, else where P(D > x) falls to 1e-12."""
        frozen = self._frozen()
        if frozen is None:
            return max(self._fixed(), MIN_DURATION_S)
        return min(self._cap(), float(frozen.ppf(1 - 1e-12)))

    def mean(self) -> float:
        """E[D]: the integral of the survival function (numerical, scipy `quad`)."""
        if self._frozen() is None:
            return self.support_end()
        area, _ = integrate.quad(self.survival, 0.0, self.support_end(), limit=200)
        return float(area)


@dataclass(frozen=True, slots=True)
class EmpiricalDurations:
    """The durations measured on the target (seconds): resampled, their own survival.

    `source` is where the runs' ends came from (`_delays.ADMIN_END`: exact; `LOG_END`: the
    midpoint of their log second), as `describe` says it.
    """

    values: tuple[float, ...]
    source: str = "admin"

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("EmpiricalDurations: needs at least one duration")

    def draw(self, rng: random.Random) -> float:
        """One of the measured durations, uniformly."""
        return rng.choice(self.values)

    def survival(self, x: float) -> float:
        """The fraction of measured durations above `x`."""
        return sum(value > x for value in self.values) / len(self.values)

    def survivals(self, xs: Sequence[float]) -> list[float]:
        """The fraction of measured durations above each x."""
        ordered = np.sort(np.asarray(self.values, dtype=float))
        above = len(ordered) - np.searchsorted(ordered, np.asarray(xs, dtype=float), side="right")
        return [float(count) / len(ordered) for count in above]

    def support_end(self) -> float:
        """The longest measured duration."""
        return max(self.values)

    def mean(self) -> float:
        """The measured durations' mean."""
        return statistics.fmean(self.values)

    def describe(self) -> str:
        """`measured: 50 runs, median 172.3 s (start answer to run end; ends exact, ...)`."""
        ends = (
            "ends exact, from the mock's admin API"
            if self.source == "admin"
            else "ends at the midpoint of their bounds (log time, whole seconds)"
        )
        return (
            f"measured: {len(self.values)} runs, median {statistics.median(self.values):.1f} s "
            f"(start answer to run end; {ends})"
        )


def parse_duration(text: str) -> DurationDist:
    """A duration from `lognormal:median_s=180,sigma=0.5,max_s=900`, `fixed:30` or `fixed:s=30`.

    Keys as in the mock config's `duration` table (`DURATION_KEYS`); every value a finite
    number > 0 (`sigma` >= 0), a uniform's `min_s` <= `max_s`, as the mock's config accepts
    them: `uniform` with `min_s` = `max_s` and `lognormal` with `sigma` 0 are a fixed duration.

    Raises:
        UsageError: naming `--duration-dist`: an unknown distribution or key, a key given
            twice, a missing required key, a value that is not a number or out of range.
    """
    dist, _, rest = text.strip().partition(":")
    if dist not in DURATION_KEYS:
        raise UsageError(
            f"{_FLAG}: unknown distribution {dist!r} in {text!r}; "
            f"known: {', '.join(DURATION_KEYS)} (e.g. lognormal:median_s=20,sigma=0.6)"
        )
    params: dict[str, float] = {}
    for part in filter(None, (piece.strip() for piece in rest.split(","))):
        bare = "=" not in part and dist == "fixed"
        key, _, value = ("s", "=", part) if bare else part.partition("=")
        name = _key(dist, key.strip(), part)
        if name in params:
            raise UsageError(f"{_FLAG}: {name} given twice in {text!r}")
        params[name] = _value(name, value, part)
    missing = [key for key in _REQUIRED[dist] if key not in params]
    if missing:
        raise UsageError(f"{_FLAG}: {dist} needs {', '.join(missing)}, got {text!r}")
    if dist == "uniform" and params["min_s"] > params["max_s"]:
        raise UsageError(f"{_FLAG}: uniform needs min_s <= max_s, got {text!r}")
    ordered = tuple((key, params[key]) for key in DURATION_KEYS[dist] if key in params)
    return DurationDist(dist=dist, params=ordered)


def _key(dist: str, key: str, part: str) -> str:
    if key not in DURATION_KEYS[dist]:
        allowed = ", ".join(DURATION_KEYS[dist])
        raise UsageError(f"{_FLAG}: {dist} takes {allowed}, got {part!r}")
    return key


def _value(key: str, value: str, part: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{_FLAG}: {part!r} is not key=number") from None
    lowest_ok = key == "sigma"
    if not math.isfinite(number) or number < 0 or (number == 0 and not lowest_ok):
        bound = ">= 0" if lowest_ok else "> 0"
        raise UsageError(f"{_FLAG}: {key} must be a finite number {bound}, got {part!r}")
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFigures:
    """What a model (closed form or simulation) expects of one schedule.

    Delays are target seconds; `status_rps` is for `flows` in flight; `lost` the fraction of
    simulated flows the deadline cut (never counted in the other figures).
    """

    status_rps: float
    polls_per_flow: float
    mean_delay_s: float
    p95_delay_s: float
    max_delay_s: float
    flows: int
    lost: float = 0.0


def closed_form(
    strategy: PollStrategy, durations: Durations, flows: int, *, deadline_s: float
) -> ModelFigures | None:
    """The exact figures of a fixed interval (module docstring), None for any other schedule.

    Runs longer than the deadline are lost (`lost` = P(D > deadline)) and the figures are
    those of the others (D given D <= deadline), so no term past the deadline is summed:
    at most deadline/T + 1 of them, whatever the distribution's support.

    Args:
        strategy: the schedule (`FixedStrategy` has a closed form).
        durations: the run duration distribution.
        flows: flows in flight (C in R = C/T).
        deadline_s: the clients' deadline (target seconds, > 0).
    """
    if type(strategy) is not FixedStrategy:
        return None
    period = strategy.interval_s
    lost = durations.survival(deadline_s)
    if lost >= 1.0:
        nothing = math.inf
        return ModelFigures(
            status_rps=nothing, polls_per_flow=0.0, mean_delay_s=nothing, p95_delay_s=nothing,
            max_delay_s=nothing, flows=flows, lost=1.0,
        )  # fmt: skip
    kept: _Survival = _Within(durations, deadline_s, lost) if lost > 0 else durations
    survivals = _survivals(kept, period)
    polls = math.fsum(survivals)
    return ModelFigures(
        status_rps=flows / period,
        polls_per_flow=polls,
        mean_delay_s=period * polls - kept.mean(),
        p95_delay_s=_delay_quantile(kept, period, survivals, _P95),
        max_delay_s=_delay_quantile(kept, period, survivals, 1.0),
        flows=flows,
        lost=lost,
    )


@dataclass(frozen=True, slots=True)
class _Within:
    """D given D <= `deadline_s` (the runs a deadline does not cut): P(D > x | D <= dl) =
    (P(D > x) - P(D > dl)) / (1 - P(D > dl)), `lost` being P(D > dl) < 1."""

    durations: Durations
    deadline_s: float
    lost: float

    def survival(self, x: float) -> float:
        """P(D > x | D <= deadline)."""
        return self.survivals([x])[0]

    def survivals(self, xs: Sequence[float]) -> list[float]:
        """P(D > x | D <= deadline) for each x."""
        return [
            max(0.0, (value - self.lost) / (1.0 - self.lost))
            for value in self.durations.survivals(xs)
        ]

    def support_end(self) -> float:
        """The distribution's end, or the deadline when sooner."""
        return min(self.durations.support_end(), self.deadline_s)

    def mean(self) -> float:
        """E[D | D <= deadline]: the conditional survival's integral (scipy `quad`)."""
        area, _ = integrate.quad(self.survival, 0.0, self.support_end(), limit=200)
        return float(area)


def _survivals(durations: _Survival, period: float) -> list[float]:
    """P(D > kT) for k = 0, 1, ... up to the last k with kT inside the support."""
    last = math.floor(durations.support_end() / period)
    return durations.survivals([k * period for k in range(last + 1)])


def _delay_quantile(
    durations: _Survival, period: float, survivals: Sequence[float], q: float
) -> float:
    """The smallest x in [0, T] with P(delay <= x) >= q, by bisection on the exact CDF."""
    total = math.fsum(survivals)
    ends = [k * period for k in range(1, len(survivals) + 1)]

    def cdf(x: float) -> float:
        return 1.0 - total + math.fsum(durations.survivals([end - x for end in ends]))

    low, high = 0.0, period
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        low, high = (low, middle) if cdf(middle) >= q else (middle, high)
    return high


def simulate(
    strategy: PollStrategy,
    durations: Durations,
    *,
    flows: int,
    deadline_s: float,
    runs: int = SIMULATED_FLOWS,
    seed: int = 0,
) -> ModelFigures:
    """Follow `runs` simulated flows with the strategy's own delays (no HTTP, seeded).

    Each flow draws its duration and its strategy seed from one `random.Random(seed)`; its
    polls come from `strategy.delays`, each wait clamped to what is left of `deadline_s` as
    the clients clamp it; a flow not final at the deadline is lost.

    Args:
        strategy: the schedule, as `Candidate.build` makes it for the clients.
        durations: the run duration distribution.
        flows: flows in flight the rate is given for.
        deadline_s: the clients' deadline (target seconds).
        runs: flows simulated, >= 1.
        seed: the simulation's seed.
    """
    rng = random.Random(seed)
    polls: list[int] = []
    delays: list[float] = []
    in_flight = 0.0
    lost = 0
    for _ in range(runs):
        duration = durations.draw(rng)
        outcome = _follow(strategy, duration, deadline_s, random.Random(rng.random()))
        if outcome is None:
            lost += 1
            continue
        count, seen_at = outcome
        polls.append(count)
        delays.append(seen_at - duration)
        in_flight += seen_at
    if not delays:
        nothing = math.inf
        return ModelFigures(
            status_rps=nothing, polls_per_flow=0.0, mean_delay_s=nothing, p95_delay_s=nothing,
            max_delay_s=nothing, flows=flows, lost=1.0,
        )  # fmt: skip
    ordered = sorted(delays)
    return ModelFigures(
        status_rps=flows * sum(polls) / in_flight,
        polls_per_flow=statistics.fmean(polls),
        mean_delay_s=statistics.fmean(delays),
        p95_delay_s=ordered[max(0, math.ceil(_P95 * len(ordered)) - 1)],
        max_delay_s=ordered[-1],
        flows=flows,
        lost=lost / runs,
    )


def _follow(
    strategy: PollStrategy, duration: float, deadline_s: float, rng: random.Random
) -> tuple[int, float] | None:
    """(polls sent, time the first final answer came) for one flow; None when lost."""
    now = 0.0
    for count, delay in enumerate(strategy.delays(rng), start=1):
        remaining = deadline_s - now
        if remaining <= 0:
            return None
        now += min(delay, remaining)
        if now >= duration:
            return count, now
    return None
