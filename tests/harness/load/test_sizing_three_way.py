"""Polling sizing three ways: failed runs, the three-way rows, the files beside the report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import harness.load._experiment as experiment
from harness.load import (
    ADMIN_END,
    DEFAULT_CANDIDATES,
    SIZING_FILES,
    Candidate,
    ClockMap,
    DelayBounds,
    DelayResolution,
    FlowSample,
    Measurement,
    SizingPlan,
    measure,
    model_durations,
    parse_candidates,
    parse_duration,
    recommend,
    run_on_mock,
    three_way,
    three_way_markdown,
    write_sizing_files,
)
from harness.load._sizing import three_way_event
from harness.report import Event, EventBus, ReportFolder

EXACT = DelayResolution(end_source=ADMIN_END, clock=ClockMap(source="the mock's own clock"))
FIXED_5 = Candidate(strategy="fixed", interval_s=5)
EXPONENTIAL_2 = Candidate(strategy="exponential", interval_s=2)


def _sample(polls: int, in_flight_s: float, delay_s: float, *, failed: bool = False) -> FlowSample:
    bounds = DelayBounds(lower_s=delay_s, upper_s=delay_s)
    return FlowSample(
        polls=polls,
        in_flight_s=in_flight_s,
        delay=bounds,
        failed=failed,
        duration_s=in_flight_s - delay_s,
    )


def _measure(candidate: Candidate, *, failed: bool = False) -> Measurement:
    samples: list[FlowSample | None] = [
        _sample(4, 20.0, 2.0, failed=failed),
        _sample(5, 25.0, 3.0, failed=failed),
    ]
    return measure(candidate, samples, 10, resolution=EXACT)


def test_default_candidates_cover_every_kind_of_schedule() -> None:
    """Fixed, fixed with jitter, capped exponential backoff and the Retry-After schedule."""
    kinds = {candidate.strategy for candidate in parse_candidates(DEFAULT_CANDIDATES)}
    assert kinds == {"fixed", "fixed_jittered", "exponential", "retry_after"}
    honouring = parse_candidates("retry_after:5")[0]
    assert "behaves as fixed 5s" in honouring.schedule


def test_measure_counts_failed_runs_durations_and_the_max_delay() -> None:
    """Failed runs are counted; durations are time in flight minus the delay."""
    m = _measure(FIXED_5, failed=True)
    assert m.failed == 2
    assert m.durations == (18.0, 22.0)
    assert m.max_delay == DelayBounds(lower_s=3.0, upper_s=3.0)


def test_no_recommendation_when_every_sampled_run_failed() -> None:
    """Every run failed: no schedule is recommended, and the text says why."""
    best, text = recommend([_measure(FIXED_5, failed=True)], max_delay_s=10)
    assert best is None
    assert "every sampled run failed (2 of 2)" in text


def test_a_recommendation_over_some_failed_runs_says_so() -> None:
    """Some runs failed: the recommendation stands and counts them."""
    best, text = recommend(
        [_measure(FIXED_5, failed=True), _measure(EXPONENTIAL_2)], max_delay_s=10
    )
    assert best is not None
    assert "2 of 4 sampled runs failed" in text


def test_an_all_failing_trigger_on_the_mock_gives_no_recommendation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mock trigger with outcome failed = 1.0 (built by `embedded_mock`): every flow is
    seen final and failed, and no schedule is recommended."""
    world = experiment._mock_world

    def failing(plan: SizingPlan) -> dict[str, Any]:
        config = world(plan)
        config["workspaces"][0]["triggers"][0]["outcome"] = {"failed": 1.0}
        return config

    monkeypatch.setattr(experiment, "_mock_world", failing)
    plan = SizingPlan(candidates=(FIXED_5,), flows=4, duration={"dist": "fixed", "s": 20})
    [measured] = run_on_mock(plan)
    assert measured.samples == measured.failed == 4
    best, text = recommend([measured], max_delay_s=10)
    assert best is None
    assert text.startswith("no recommendation: every sampled run failed (4 of 4)")


def test_three_way_sets_the_closed_form_or_the_simulation_beside_each_measurement() -> None:
    """A fixed interval is judged against its closed form, backoff against its simulation;
    the gaps are measured minus model, relative."""
    durations = parse_duration("uniform:min_s=18,max_s=22")
    fixed_row, backoff_row = three_way(
        [_measure(FIXED_5), _measure(EXPONENTIAL_2)], durations, deadline_s=600, seed=1, runs=500
    )
    assert fixed_row.reference[0] == "computed"
    assert backoff_row.reference[0] == "simulated"
    assert backoff_row.computed is None
    computed = fixed_row.computed
    assert computed is not None
    gaps = fixed_row.gaps()
    assert gaps["polls_per_flow"] == pytest.approx(4.5 / computed.polls_per_flow - 1)
    assert gaps["status_rps"] == pytest.approx(fixed_row.measured.status_rps / 2.0 - 1)
    table = three_way_event(
        [fixed_row, backoff_row], recommendation="r", durations=durations.describe(), flows=10
    )
    assert [row.reference for row in table.rows] == ["computed", "simulated"]
    assert table.rows[0].gaps["polls_per_flow"] == gaps["polls_per_flow"]
    text = three_way_markdown(table)
    assert "| exponential 2s | computed | | | | | | no closed form |" in text
    assert "vs computed: req/s" in text


def test_model_durations_fall_back_to_the_measured_runs() -> None:
    """Without a distribution the models resample the measured durations; with none, None."""
    given = parse_duration("fixed:30")
    assert model_durations(given, [_measure(FIXED_5)]) is given
    measured = model_durations(None, [_measure(FIXED_5)])
    assert measured is not None
    assert measured.mean() == pytest.approx(20.0)
    nothing = measure(FIXED_5, [None], 1, resolution=EXACT)
    assert model_durations(None, [nothing]) is None


class _Recorder:
    """A reporter that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        """Nothing to write."""


@dataclass
class _Run:
    """An open report: a folder, and a bus into a recorder."""

    folder: ReportFolder
    recorder: _Recorder = field(default_factory=_Recorder)

    @property
    def bus(self) -> EventBus:
        return EventBus([self.recorder])

    @property
    def events(self) -> list[Event]:
        return self.recorder.events


def test_write_sizing_files_writes_the_table_png_and_svg_and_emits_them(tmp_path: Path) -> None:
    """sizing.md, sizing.png and sizing.svg land in the report folder, each a real file of
    its kind, and the three-way event that sizing.md is rendered from names them."""
    folder = ReportFolder.create(tmp_path, "size-polling", "mock", datetime(2026, 1, 1, tzinfo=UTC))
    run = _Run(folder=folder)
    measurements = [_measure(FIXED_5), _measure(EXPONENTIAL_2)]
    best, text = recommend(measurements, max_delay_s=10)
    plan = SizingPlan(candidates=(FIXED_5, EXPONENTIAL_2), flows=10, deadline_s=600, seed=1)
    files = write_sizing_files(
        run, plan, measurements, best=best, text=text, given=parse_duration("fixed:20")
    )
    assert files is not None
    assert [path.name for path in files.written] == list(SIZING_FILES)
    table, png, svg = files.written
    assert table.read_text() == three_way_markdown(files.event)
    assert "Recommendation: " in table.read_text()
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in svg.read_bytes()[:500]
    assert run.events == [files.event]
    assert files.event.files == SIZING_FILES
    assert [row.recommended for row in files.event.rows] == [m is best for m in measurements]
    assert math.isnan(files.rows[0].gaps()["mean_delay_s"])  # the model's delay is 0: no ratio


def test_write_sizing_files_writes_nothing_without_durations(tmp_path: Path) -> None:
    """No distribution given and no run's duration measured: no file, no event."""
    folder = ReportFolder.create(tmp_path, "size-polling", "mock", datetime(2026, 1, 1, tzinfo=UTC))
    run = _Run(folder=folder)
    nothing = measure(FIXED_5, [None], 1, resolution=EXACT)
    plan = SizingPlan(candidates=(FIXED_5,), flows=1)
    assert write_sizing_files(run, plan, [nothing], best=None, text="t", given=None) is None
    assert run.events == []
    assert not (folder.path / SIZING_FILES[0]).exists()
