"""Load: Locust runs in a subprocess, their settings and thresholds, and polling-interval sizing.

`FlowSettings` is the one contract between the harness and the locustfiles; `load_stage` and
`sizing_stage` are what the `load`, `size-polling` and `run` commands call.
"""

from __future__ import annotations

from ._experiment import SizingPlan, SteppedTime, measure_candidate, run_on_mock, run_on_target
from ._locust import LoadPlan, LoadResult, build_commands, merge_flow_csvs, redact_outputs, run_load
from ._options import Option
from ._scenarios import (
    DEFAULT_SHAPE,
    SCENARIOS,
    SHAPE_OPTION,
    SHAPES,
    SOAK,
    parse_timespan,
    scenario_file,
    shape_at,
)
from ._settings import FLOW_CSV_ENV, FLOW_OPTIONS, FlowSettings
from ._sizing import (
    DELAY_STATS,
    Candidate,
    FlowSample,
    Measurement,
    expected_fixed,
    measure,
    parse_candidates,
    parse_duration_dist,
    recommend,
    sample_of,
    sizing_results,
)
from ._soak import SOAK_OPTIONS, SOAK_REPORT, SoakSettings, soak_verdict
from ._stage import (
    PROJECT_ROOT,
    LoadSettings,
    OpenReport,
    load_stage,
    require_triggers,
    sizing_stage,
)
from ._stats import (
    VIOLATION_PREFIX,
    FailureRow,
    count_violations,
    parse_failures,
    parse_history,
    parse_stats,
)
from ._thresholds import Thresholds, crossed_thresholds
from ._times import first_final_at, log_end_time, parse_iso

__all__ = [
    "DEFAULT_SHAPE",
    "DELAY_STATS",
    "FLOW_CSV_ENV",
    "FLOW_OPTIONS",
    "PROJECT_ROOT",
    "SCENARIOS",
    "SHAPES",
    "SHAPE_OPTION",
    "SOAK",
    "SOAK_OPTIONS",
    "SOAK_REPORT",
    "VIOLATION_PREFIX",
    "Candidate",
    "FailureRow",
    "FlowSample",
    "FlowSettings",
    "LoadPlan",
    "LoadResult",
    "LoadSettings",
    "Measurement",
    "OpenReport",
    "Option",
    "SizingPlan",
    "SoakSettings",
    "SteppedTime",
    "Thresholds",
    "build_commands",
    "count_violations",
    "crossed_thresholds",
    "expected_fixed",
    "first_final_at",
    "load_stage",
    "log_end_time",
    "measure",
    "measure_candidate",
    "merge_flow_csvs",
    "parse_candidates",
    "parse_duration_dist",
    "parse_failures",
    "parse_history",
    "parse_iso",
    "parse_stats",
    "parse_timespan",
    "recommend",
    "redact_outputs",
    "require_triggers",
    "run_load",
    "run_on_mock",
    "run_on_target",
    "sample_of",
    "scenario_file",
    "shape_at",
    "sizing_results",
    "sizing_stage",
    "soak_verdict",
]
