"""Two-sample tests behind `compare`'s rows, and the one verdict scale they share.

A row is `same`, `different` or `inconclusive`. Only evidence makes a row `different`: a test
that rejects "both samples come from one distribution" at `ALPHA`, on samples of at least
`MIN_SAMPLES` each, and (for timings) a median gap larger than the noise of measuring it.
Samples too small to tell, or a test that does not reject but could not have (too few runs),
are `inconclusive`, never `different`. So are timings not measured on one scale (`unaligned`
says why: a side's clock is not the target's own) and timings measured too coarsely for their
size (a resolution above `COARSE_SHARE` of the smaller median): the test would compare the
measurement, not the targets.

Durations and latencies use the two-sample Kolmogorov-Smirnov test (`scipy.stats.ks_2samp`);
outcome rates use Fisher's exact test per outcome (`scipy.stats.fisher_exact` on the 2x2 table
"this outcome or not" by side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median
from typing import Final

from scipy import stats

__all__ = [
    "ALPHA",
    "COARSE_SHARE",
    "MIN_SAMPLES",
    "OutcomeTest",
    "SampleTest",
    "Verdict",
    "compare_outcomes",
    "compare_samples",
    "overall",
]

ALPHA: Final = 0.01
"""A p-value below this is evidence of a difference."""
MIN_SAMPLES: Final = 8
"""Fewer observations than this on either side cannot show a difference."""
COARSE_SHARE: Final = 0.25
"""A timing known only to within more than this share of its median cannot be compared."""


class Verdict(StrEnum):
    """One row's (or the whole comparison's) verdict."""

    SAME = "same"
    DIFFERENT = "different"
    INCONCLUSIVE = "inconclusive"


def overall(verdicts: Sequence[Verdict]) -> Verdict:
    """`different` when any row differs, else `inconclusive` when any row is, else `same`."""
    if Verdict.DIFFERENT in verdicts:
        return Verdict.DIFFERENT
    if Verdict.INCONCLUSIVE in verdicts:
        return Verdict.INCONCLUSIVE
    return Verdict.SAME


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleTest:
    """A two-sample test's result: sizes, medians (seconds; None when empty), the statistic
    and p-value (None when not run), the verdict and why."""

    sizes: tuple[int, int]
    medians: tuple[float | None, float | None]
    statistic: float | None
    p_value: float | None
    verdict: Verdict
    why: str


def _median(sample: Sequence[float]) -> float | None:
    return median(sample) if sample else None


def _not_comparable(
    sizes: tuple[int, int],
    medians: tuple[float | None, float | None],
    resolution_s: float,
    unaligned: str | None,
) -> str | None:
    """Why two timing samples cannot be compared at all, None when they can."""
    if unaligned is not None:
        return f"not measured on one clock: {unaligned}"
    if min(sizes) < MIN_SAMPLES:
        return f"samples of {sizes[0]} and {sizes[1]}: at least {MIN_SAMPLES} each are needed"
    smaller = min(m for m in medians if m is not None)
    if resolution_s > COARSE_SHARE * smaller:
        return (
            f"measured to within {resolution_s:.3g} s, too coarse for a median of "
            f"{smaller:.3g} s (more than {COARSE_SHARE:.0%} of it)"
        )
    return None


def compare_samples(
    left: Sequence[float],
    right: Sequence[float],
    *,
    tolerance_s: float = 0.0,
    resolution_s: float = 0.0,
    unaligned: str | None = None,
) -> SampleTest:
    """Compare two samples of a timing (seconds) with the two-sample KS test.

    Args:
        left: the first side's observations.
        right: the second side's, in the same unit on the same scale.
        tolerance_s: a median gap at most this large is noise, never a difference.
        resolution_s: the widest interval a single observation lies in (either side); above
            `COARSE_SHARE` of the smaller median the row is inconclusive.
        unaligned: why the two sides' clocks are not one scale (a side whose clock could not
            be read), None when they are: the row is then inconclusive.
    """
    sizes = (len(left), len(right))
    medians = (_median(left), _median(right))
    why_not = _not_comparable(sizes, medians, resolution_s, unaligned)
    if why_not is not None:
        return SampleTest(
            sizes=sizes,
            medians=medians,
            statistic=None,
            p_value=None,
            verdict=Verdict.INCONCLUSIVE,
            why=why_not,
        )
    result = stats.ks_2samp(left, right)
    statistic, p_value = float(result.statistic), float(result.pvalue)
    gap = abs((medians[0] or 0.0) - (medians[1] or 0.0))
    if p_value >= ALPHA:
        verdict, why = Verdict.SAME, f"KS p = {p_value:.3g} >= {ALPHA:g}"
    elif gap <= tolerance_s:
        verdict = Verdict.SAME
        why = f"KS p = {p_value:.3g}, but the medians differ by {gap:.3g} s <= {tolerance_s:.3g} s"
    else:
        verdict, why = Verdict.DIFFERENT, f"KS p = {p_value:.3g} < {ALPHA:g}"
    return SampleTest(
        sizes=sizes,
        medians=medians,
        statistic=statistic,
        p_value=p_value,
        verdict=verdict,
        why=why,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeTest:
    """Outcome rates compared: the lowest p-value over the outcomes (None when not run), the
    verdict and why."""

    p_value: float | None
    verdict: Verdict
    why: str


def compare_outcomes(
    left: dict[str, int] | None, right: dict[str, int] | None, outcomes: Sequence[str]
) -> OutcomeTest:
    """Compare two sides' outcome counts, one Fisher exact test per outcome.

    Args:
        left: runs per outcome on the first side (None: nothing followed).
        right: likewise on the second side.
        outcomes: the outcome names to test.
    """
    totals = (sum((left or {}).values()), sum((right or {}).values()))
    if left is None or right is None or min(totals) < MIN_SAMPLES:
        why = f"{totals[0]} and {totals[1]} runs: at least {MIN_SAMPLES} each are needed"
        return OutcomeTest(p_value=None, verdict=Verdict.INCONCLUSIVE, why=why)
    p_values = {}
    for outcome in outcomes:
        table = [
            [left.get(outcome, 0), totals[0] - left.get(outcome, 0)],
            [right.get(outcome, 0), totals[1] - right.get(outcome, 0)],
        ]
        p_values[outcome] = float(stats.fisher_exact(table).pvalue)
    worst = min(p_values, key=lambda outcome: p_values[outcome])
    p_value = p_values[worst]
    if p_value < ALPHA:
        why = f"{worst}: Fisher p = {p_value:.3g} < {ALPHA:g}"
        return OutcomeTest(p_value=p_value, verdict=Verdict.DIFFERENT, why=why)
    why = f"lowest Fisher p = {p_value:.3g} ({worst}) >= {ALPHA:g}"
    return OutcomeTest(p_value=p_value, verdict=Verdict.SAME, why=why)
