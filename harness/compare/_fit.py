"""Fitting what runs showed: a trigger's duration distribution and its outcome rates.

The candidates are the mock's own duration distributions (`fixed`, `uniform`, `lognormal`,
`exponential`, as its config's `duration` table names them). Each continuous candidate is fitted
by maximum likelihood with `scipy.stats` (`uniform.fit`; `lognorm.fit` and `expon.fit` with
the location fixed at 0, since a duration starts at 0) and the one with the lowest Akaike
information criterion (AIC = 2k - 2 log L) wins. `fixed` is a point mass, whose likelihood is
unbounded, so it is chosen by its own rule: every duration lies within the measurement's
resolution of the others (and so does a sample too small to fit).

Outcome rates are the observed shares, each with its exact (Clopper-Pearson) 95% interval
from `scipy.stats.binomtest`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any, Final, Literal

from scipy import stats

__all__ = [
    "MIN_FIT_SAMPLES",
    "OUTCOMES",
    "Candidate",
    "DurationFit",
    "OutcomeFit",
    "fit_durations",
    "fit_outcomes",
]

Distribution = Literal["fixed", "uniform", "lognormal", "exponential"]
MIN_FIT_SAMPLES: Final = 3
"""Fewer durations than this are written as `fixed` at their median: too few to fit."""
OUTCOMES: Final = ("completed", "failed", "waiting_for_input")
"""How a followed run can end (or pause): the mock config's outcome categories."""
_CONFIDENCE: Final = 0.95


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One fitted candidate: its mock-config parameters (seconds; `sigma` unitless), its
    log-likelihood on the sample and its AIC."""

    dist: Distribution
    params: Mapping[str, float]
    log_likelihood: float
    aic: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationFit:
    """The chosen duration distribution of one trigger, with the evidence for it.

    `params` are the mock config's keys for `dist` (target seconds). `candidates` holds every
    continuous fit tried (empty when `fixed` was chosen by the resolution rule); `reason` says
    in words why `dist` won.
    """

    dist: Distribution
    params: Mapping[str, float]
    sample_size: int
    reason: str
    candidates: tuple[Candidate, ...] = ()

    def as_config(self) -> dict[str, Any]:
        """The mock config's `duration` table: `{"dist": ..., <params>}`."""
        return {"dist": self.dist, **{key: _rounded(value) for key, value in self.params.items()}}

    @property
    def median_s(self) -> float:
        """The fitted distribution's median in seconds."""
        p = self.params
        match self.dist:
            case "fixed":
                return p["s"]
            case "uniform":
                return (p["min_s"] + p["max_s"]) / 2
            case "lognormal":
                return p["median_s"]
            case _:
                return p["mean_s"] * math.log(2)


def _rounded(value: float) -> float:
    """Six significant digits: what a config file needs, without float noise."""
    return float(f"{value:.6g}")


def _candidate(dist: Distribution, params: Mapping[str, float], logpdf: Any, k: int) -> Candidate:
    log_likelihood = float(logpdf.sum())
    return Candidate(
        dist=dist, params=params, log_likelihood=log_likelihood, aic=2 * k - 2 * log_likelihood
    )


def _candidates(samples: Sequence[float]) -> tuple[Candidate, ...]:
    """Maximum-likelihood fits of the continuous candidates (durations > 0)."""
    loc, scale = stats.uniform.fit(samples)
    uniform = _candidate(
        "uniform",
        {"min_s": float(loc), "max_s": float(loc + scale)},
        stats.uniform.logpdf(samples, loc=loc, scale=scale),
        2,
    )
    sigma, _, median_s = stats.lognorm.fit(samples, floc=0)
    lognormal = _candidate(
        "lognormal",
        {"median_s": float(median_s), "sigma": float(sigma)},
        stats.lognorm.logpdf(samples, sigma, loc=0, scale=median_s),
        2,
    )
    _, mean_s = stats.expon.fit(samples, floc=0)
    exponential = _candidate(
        "exponential",
        {"mean_s": float(mean_s)},
        stats.expon.logpdf(samples, loc=0, scale=mean_s),
        1,
    )
    return uniform, lognormal, exponential


def fit_durations(samples: Sequence[float], *, resolution_s: float) -> DurationFit:
    """The duration distribution that explains `samples` best.

    Args:
        samples: observed run durations in target seconds (each > 0).
        resolution_s: how precisely one duration is known (the widest interval between the
            last poll that saw the run pending and the first that saw it end).

    Raises:
        ValueError: no samples, or one that is not a finite number > 0.
    """
    if not samples:
        raise ValueError("no durations to fit")
    if not all(math.isfinite(value) and value > 0 for value in samples):
        raise ValueError("durations must be finite numbers > 0")
    size = len(samples)
    middle = median(samples)
    spread = max(samples) - min(samples)
    if size < MIN_FIT_SAMPLES:
        reason = f"{size} duration(s): too few to fit ({MIN_FIT_SAMPLES} needed), the median kept"
        return DurationFit(dist="fixed", params={"s": middle}, sample_size=size, reason=reason)
    if spread <= resolution_s:
        reason = (
            f"every duration within the measurement's resolution ({resolution_s:.3g} s) of the "
            f"others (spread {spread:.3g} s): a fixed duration"
        )
        return DurationFit(dist="fixed", params={"s": middle}, sample_size=size, reason=reason)
    candidates = _candidates(samples)
    best = min(candidates, key=lambda candidate: candidate.aic)
    return DurationFit(
        dist=best.dist,
        params=best.params,
        sample_size=size,
        reason=f"lowest AIC ({best.aic:.2f}) of uniform, lognormal and exponential",
        candidates=candidates,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeFit:
    """How a trigger's followed runs ended: counts per outcome (`OUTCOMES`), the shares as the
    mock config's `outcome` rates and each share's 95% interval."""

    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        """Runs whose outcome was seen."""
        return sum(self.counts.values())

    def rate(self, outcome: str) -> float:
        """The share of runs that ended `outcome` (0 when none was seen)."""
        return self.counts.get(outcome, 0) / self.total if self.total else 0.0

    def interval(self, outcome: str) -> tuple[float, float]:
        """The exact 95% interval of `outcome`'s rate (Clopper-Pearson)."""
        if not self.total:
            return 0.0, 1.0
        result = stats.binomtest(self.counts.get(outcome, 0), self.total)
        low, high = result.proportion_ci(confidence_level=_CONFIDENCE)
        return float(low), float(high)

    def as_config(self) -> dict[str, float]:
        """The mock config's `outcome` table (the rest complete)."""
        return {
            "failed": _rounded(self.rate("failed")),
            "waiting_for_input": _rounded(self.rate("waiting_for_input")),
        }


def fit_outcomes(outcomes: Sequence[str]) -> OutcomeFit:
    """Count how runs ended.

    Args:
        outcomes: one of `OUTCOMES` per run whose end (or pause) was seen.

    Raises:
        ValueError: an outcome outside `OUTCOMES`.
    """
    unknown = sorted(set(outcomes) - set(OUTCOMES))
    if unknown:
        raise ValueError(f"unknown outcome(s): {', '.join(unknown)}")
    return OutcomeFit(counts={outcome: outcomes.count(outcome) for outcome in OUTCOMES})
