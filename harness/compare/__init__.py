"""Calibrating a mock from a target, and comparing two targets (or mock configs) side by side.

`calibrate` probes a target and follows its runs; `render_mock_config` writes the mock config
that answers like it. `observe` and `compare_sides` set two sides side by side, one verdict
per row. `_fit` fits durations and outcome rates, `_stats` holds the two-sample tests,
`_sample` follows runs (on a mock's admin clock when it can), `_sides` opens a target or a
mock config.
"""

from __future__ import annotations

from ._calibrate import (
    LATENCY_FLOOR_S,
    PROBE_RUNS,
    Calibration,
    LatencyFit,
    TriggerFit,
    calibrate,
    fit_latency,
    fit_trigger,
    runs_announcement,
)
from ._compare import LATENCY_TOLERANCE_S, Comparison, Observation, Row, compare_sides, observe
from ._fit import OUTCOMES, Candidate, DurationFit, OutcomeFit, fit_durations, fit_outcomes
from ._mock_config import (
    PLACEHOLDER_API_KEY,
    PLACEHOLDER_JIRA_SECRET,
    MockConfigDraft,
    Setting,
    mock_config_draft,
    render_mock_config,
)
from ._sample import Measurement, TriggerSample, measure, trigger_roles
from ._sides import Side, load_mock_config, mock_config_target, open_side, slow_trigger_of
from ._stats import (
    ALPHA,
    MIN_SAMPLES,
    SampleTest,
    Verdict,
    compare_outcomes,
    compare_samples,
    overall,
)

__all__ = [
    "ALPHA",
    "LATENCY_FLOOR_S",
    "LATENCY_TOLERANCE_S",
    "MIN_SAMPLES",
    "OUTCOMES",
    "PLACEHOLDER_API_KEY",
    "PLACEHOLDER_JIRA_SECRET",
    "PROBE_RUNS",
    "Calibration",
    "Candidate",
    "Comparison",
    "DurationFit",
    "LatencyFit",
    "Measurement",
    "MockConfigDraft",
    "Observation",
    "OutcomeFit",
    "Row",
    "SampleTest",
    "Setting",
    "Side",
    "TriggerFit",
    "TriggerSample",
    "Verdict",
    "calibrate",
    "compare_outcomes",
    "compare_samples",
    "compare_sides",
    "fit_durations",
    "fit_latency",
    "fit_outcomes",
    "fit_trigger",
    "load_mock_config",
    "measure",
    "mock_config_draft",
    "mock_config_target",
    "observe",
    "open_side",
    "overall",
    "render_mock_config",
    "runs_announcement",
    "slow_trigger_of",
    "trigger_roles",
]
