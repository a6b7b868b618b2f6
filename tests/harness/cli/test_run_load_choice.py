"""`trigger-harness run`: the load scenario chosen up front from the target's triggers, the load
stage skipped when none can run, and no progress frame on a stderr that is no terminal."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import pytest

from harness._targets import Target, mock_target
from harness.cli import _run
from harness.cli._edge import Edge, ReportedRun
from harness.report import CaseFinished, Event, EventBus, Outcome


def _target(**fields: object) -> Target:
    return dataclasses.replace(mock_target(), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "scenario"),
    [
        ({}, "mixed"),
        ({"jira_trigger": None}, "background"),
        ({"jira_secret": None}, "background"),
        ({"jira_trigger": None, "background_trigger": None}, "sync"),
        ({"jira_trigger": None, "background_trigger": None, "sync_trigger": None}, None),
    ],
)
def test_the_job_plans_the_load_scenario_the_target_can_run(
    fields: dict[str, object], scenario: str | None
) -> None:
    """mixed only when Jira flows can run (README: jira_trigger is optional), else background,
    else sync, else no load; chosen in the plan, before any stage runs."""
    plan = _run.job_plan(_target(**fields), max_runs=None, allow_production=False)
    assert (plan.load and plan.load.scenario) == scenario


class _Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        """Nothing to close."""


@dataclasses.dataclass
class _Run:
    bus: EventBus


def test_a_target_without_a_load_scenario_skips_the_load_stage_with_its_reason() -> None:
    """No load scenario: the load case is skipped, saying why, and the stage is not failed."""
    target = _target(jira_trigger=None, background_trigger=None, sync_trigger=None)
    plan = _run.job_plan(target, max_runs=None, allow_production=False)
    recorder = _Recorder()
    run = cast(ReportedRun, _Run(bus=EventBus([recorder])))
    result = _run._load(run, Edge(environ={}), plan)
    assert result.ok
    assert result.summary.startswith("skipped: target sets neither background_trigger")
    [case] = [event for event in recorder.events if isinstance(event, CaseFinished)]
    assert case.outcome is Outcome.SKIPPED
    assert case.skip_reason == result.summary.removeprefix("skipped: ")
    assert plan.load_bound == 0


def test_the_progress_bar_is_off_when_stderr_is_no_terminal(tmp_path: Path) -> None:
    """Under pytest stderr is captured (no terminal): the bar is disabled even when visible."""
    assert _run._progress(Edge(environ={}, cwd=tmp_path), visible=True).disable
