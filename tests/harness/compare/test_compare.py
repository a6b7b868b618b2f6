"""`compare_sides` rows and verdicts, sides read from mock configs, and following runs on a
target's own time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from harness import Secret, mock_target
from harness._embedded import embedded_mock, open_session
from harness.compare import (
    Measurement,
    Observation,
    TriggerSample,
    Verdict,
    compare_sides,
    mock_config_target,
    slow_trigger_of,
)
from harness.compare._sample import RealTimeline, sample_triggers
from harness.report import (
    CaseFinished,
    ComparisonRecorded,
    ComparisonRow,
    Outcome,
    RunRecord,
    Suite,
    render_html,
)
from harness.suite import ProbeAnswer, SuiteOutcome

Config = Callable[..., dict[str, Any]]


def _answer(question_id: str, facts: dict[str, Any], *, asked: bool = True) -> ProbeAnswer:
    return ProbeAnswer(
        question_id=question_id,
        question="q",
        observed="seen",
        mock_default="d",
        same=None,
        asked=asked,
        facts=facts,
    )


def _case(case_id: str, outcome: Outcome) -> CaseFinished:
    return CaseFinished(suite=Suite.CONTRACT, case_id=case_id, title=case_id, outcome=outcome)


def _suite(*cases: CaseFinished) -> SuiteOutcome:
    count = {o: sum(c.outcome == o for c in cases) for o in Outcome}
    return SuiteOutcome(
        passed=count[Outcome.PASSED],
        failed=count[Outcome.FAILED],
        skipped=count[Outcome.SKIPPED],
        error=count[Outcome.ERROR],
        cases=cases,
        notes=(),
    )


def _side(answers: list[ProbeAnswer], contract: SuiteOutcome | None = None) -> Observation:
    sample = TriggerSample(
        trigger_id="t",
        role="background",
        via="E2",
        requested=10,
        durations=tuple(10.0 + i for i in range(10)),
        outcomes=("completed",) * 10,
        resolution_s=0.1,
        unfinished=0,
        refused=(),
    )
    measurement = Measurement(runs_per_trigger=10, samples=(sample,), latency={})
    return Observation(name="s", answers=tuple(answers), contract=contract, measurement=measurement)


def test_question_rows_compare_facts_key_by_key() -> None:
    """Differing facts are `different` naming key and values; one side unsettled is
    `inconclusive`; asked on neither side is left out of the verdict."""
    left = _side(
        [_answer("A6", {"e2_status": 200}), _answer("A5", {}), _answer("A1", {}, asked=False)]
    )
    right = _side(
        [
            _answer("A6", {"e2_status": 202}),
            _answer("A5", {"lowercase_environments": "accept"}),
            _answer("A1", {}, asked=False),
        ]
    )
    rows = {row.topic: row for row in compare_sides(left, right).rows}
    assert rows["A6 q"].verdict is Verdict.DIFFERENT
    assert rows["A6 q"].why == "e2_status: 200 vs 202"
    assert rows["A5 q"].verdict is Verdict.INCONCLUSIVE
    assert rows["A1 q"].verdict is None


def test_inconclusive_rows_alone_never_make_the_comparison_different() -> None:
    """Unsettled questions make the overall verdict inconclusive, not different."""
    comparison = compare_sides(_side([_answer("A5", {})]), _side([_answer("A5", {"x": 1})]))
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert comparison.differences() == []


def test_a_contract_case_failing_on_one_side_only_is_a_difference() -> None:
    """The contract row counts each side; a case passing on one side and failing on the other
    is its own `different` row; a case skipped on one side is not compared."""
    left = _suite(_case("runs.a", Outcome.PASSED), _case("runs.b", Outcome.PASSED))
    right = _suite(_case("runs.a", Outcome.FAILED), _case("runs.b", Outcome.SKIPPED))
    rows = [
        r for r in compare_sides(_side([], left), _side([], right)).rows if r.group == "contract"
    ]
    assert [(r.topic, r.verdict) for r in rows] == [
        ("contract suite", Verdict.DIFFERENT),
        ("runs.a", Verdict.DIFFERENT),
    ]


def test_a_mock_config_side_takes_the_other_side_s_trigger_ids(dialect_config: Config) -> None:
    """Against a target, a config's roles are the target's trigger ids when it has them (else
    none); alone, the order calibrate writes (sync, background, then the Jira trigger)."""
    config = dialect_config(None)
    alone = mock_config_target(config, name="c", like=None)
    assert (alone.sync_trigger, alone.background_trigger, alone.jira_trigger) == (
        "sync-flow",
        "batch",
        "jira-flow",
    )
    assert alone.jira_secret == Secret("jira-secret-x")
    like = mock_target(
        workspace_id="ws", sync_trigger=None, background_trigger="batch", jira_trigger="other"
    )
    matched = mock_config_target(config, name="c", like=like)
    assert (matched.sync_trigger, matched.background_trigger, matched.jira_trigger) == (
        None,
        "batch",
        None,
    )
    assert slow_trigger_of(config, alone) == "slow"


def test_runs_are_followed_on_the_target_s_own_time_without_an_admin_api(
    dialect_config: Config,
) -> None:
    """Without a mock's admin clock, runs are polled every poll interval until they end, so a
    duration is known only to an interval at least that wide."""
    config = dialect_config(None)
    target = mock_config_target(config, name="c", like=None)
    target = dataclasses.replace(
        target, poll_interval_s=2.0, sync_trigger=None, jira_trigger=None, jira_secret=None
    )
    with open_session(
        target, app=embedded_mock(config, time_scale=1000).app, time_scale=1000
    ) as session:
        client = session.client()
        timeline = RealTimeline(session.clock, session.sleep, target.poll_interval_s)
        (sample,) = sample_triggers(client, runs=5, timeline=timeline, deadline_s=600)
    assert sample.unfinished == 0
    assert len(sample.durations) == 5
    assert sample.resolution_s >= 1.0  # checks at least one poll interval (2 s) apart


def test_the_report_shows_a_comparison_section() -> None:
    """A `ComparisonRecorded` event becomes its own section of index.html, rows and verdicts."""
    record = RunRecord()
    record.add(
        ComparisonRecorded(
            kind="compare",
            title="dev vs uat",
            left="dev",
            right="uat",
            verdict="different",
            rows=(
                ComparisonRow(
                    group="open questions",
                    topic="A6",
                    left="200",
                    right="202",
                    verdict="different",
                    why="e2_status: 200 vs 202",
                ),
            ),
        )
    )
    page = render_html(record)
    assert 'id="compare-1"' in page
    assert "e2_status: 200 vs 202" in page
