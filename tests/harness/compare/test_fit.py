"""Fitting durations and outcomes, and the two-sample verdicts `compare` gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness import Secret, mock_target
from harness._embedded import embedded_mock, open_session
from harness.compare import (
    Verdict,
    compare_outcomes,
    compare_samples,
    fit_durations,
    fit_outcomes,
    measure,
)

MEDIAN_S = 20.0


def test_a_lognormal_trigger_s_median_is_recovered_within_15_percent_from_50_runs() -> None:
    """50 runs of a lognormal trigger (median 20 s, sigma 0.5), followed on the mock's admin
    clock, fit a lognormal whose median is within 15% of 20 s."""
    config = {
        "mock": {"seed": 5},
        "workspaces": [
            {
                "id": "w",
                "api_keys": ["k"],
                "triggers": [
                    {
                        "id": "ln",
                        "duration": {"dist": "lognormal", "median_s": MEDIAN_S, "sigma": 0.5},
                    }
                ],
            }
        ],
    }
    target = mock_target(
        workspace_id="w",
        api_key=Secret("k"),
        sync_trigger=None,
        background_trigger="ln",
        jira_trigger=None,
        jira_secret=None,
    )
    with open_session(target, app=embedded_mock(config).app) as session:
        (sample,) = measure(session, runs=50).samples
    fit = fit_durations(sample.durations, resolution_s=sample.resolution_s)
    assert len(sample.durations) == 50
    assert fit.dist == "lognormal"
    error = abs(fit.median_s - MEDIAN_S) / MEDIAN_S
    print(f"fitted median {fit.median_s:.2f} s, {error:.1%} from {MEDIAN_S:g} s")
    assert error < 0.15


@pytest.mark.parametrize(
    ("draw", "expected"),
    [
        (lambda rng: rng.uniform(5, 60, 200), "uniform"),
        (lambda rng: rng.exponential(30, 200), "exponential"),
        (lambda rng: rng.lognormal(math.log(20), 0.6, 200), "lognormal"),
        (lambda rng: np.full(20, 30.0) + rng.uniform(0, 0.1, 20), "fixed"),
    ],
)
def test_the_distribution_with_the_best_aic_is_chosen(draw: object, expected: str) -> None:
    """Samples of each distribution are fitted as that distribution (fixed: a spread within
    the resolution)."""
    samples = draw(np.random.default_rng(3))  # type: ignore[operator]
    assert fit_durations(list(samples), resolution_s=0.5).dist == expected


def test_bad_durations_are_refused() -> None:
    """No samples, or a duration that is not a positive number, is a ValueError."""
    with pytest.raises(ValueError, match="no durations"):
        fit_durations([], resolution_s=1.0)
    with pytest.raises(ValueError, match="> 0"):
        fit_durations([1.0, -2.0, 3.0], resolution_s=1.0)


def test_outcome_rates_are_the_observed_shares() -> None:
    """Rates are counts over runs; the rest complete."""
    fit = fit_outcomes(["completed"] * 6 + ["failed"] * 3 + ["waiting_for_input"])
    assert fit.as_config() == {"failed": 0.3, "waiting_for_input": 0.1}
    low, high = fit.interval("failed")
    assert low < 0.3 < high


def test_small_samples_are_inconclusive_never_different() -> None:
    """Fewer than 8 on a side is inconclusive, however far apart the values."""
    assert compare_samples([1.0] * 5, [100.0] * 5).verdict is Verdict.INCONCLUSIVE
    assert compare_outcomes({"failed": 5}, {"completed": 5}, ["failed"]).verdict is (
        Verdict.INCONCLUSIVE
    )


def test_clearly_different_samples_differ_and_alike_ones_are_same() -> None:
    """KS rejects two far-apart samples (different) and not one sample against itself."""
    rng = np.random.default_rng(1)
    left = list(rng.lognormal(math.log(20), 0.3, 30))
    right = list(rng.lognormal(math.log(60), 0.3, 30))
    assert compare_samples(left, right).verdict is Verdict.DIFFERENT
    assert compare_samples(left, left).verdict is Verdict.SAME


def test_a_gap_within_the_tolerance_is_never_different() -> None:
    """A significant KS result whose medians differ by less than the tolerance is noise."""
    left, right = [0.001 + i * 1e-5 for i in range(30)], [0.003 + i * 1e-5 for i in range(30)]
    assert compare_samples(left, right, tolerance_s=0.01).verdict is Verdict.SAME
    assert compare_samples(left, right).verdict is Verdict.DIFFERENT
