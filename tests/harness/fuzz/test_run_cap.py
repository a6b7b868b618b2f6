"""The fuzz run cap: a hard bound on requests that may start a run, said and reported."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness._embedded import MOCK_LOG_WINDOW, embedded_app, open_session
from harness._models import Endpoint
from harness._targets import mock_target
from harness.cli._edge import Edge, report_run
from harness.cli._fuzz import fuzz_stage
from harness.fuzz import (
    PROPERTIES,
    FuzzBudget,
    FuzzContext,
    FuzzMeter,
    FuzzRequest,
    RunCapReached,
    run_property,
    run_test,
)
from harness.report import Outcome


def _counting(inner: Any, posts: list[str]) -> Any:
    """The demo mock, noting the path of every POST to the API (E1, E2 and E4 only)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        http = scope["type"] == "http"
        if http and scope["method"] == "POST" and scope["path"].startswith("/trigger/"):
            posts.append(scope["path"])
        await inner(scope, receive, send)

    return app


def test_the_bound_counts_one_run_per_example_and_machine_step() -> None:
    """Six properties and the machine (10 steps, ci) at 4 examples: 4 x 16; --max-runs lowers it."""
    budget = FuzzBudget(profile="ci", max_examples=4)
    assert budget.run_bound(6, machine=True) == 64
    assert budget.run_bound(6, machine=False) == 24
    assert FuzzBudget(profile="ci", max_examples=4, max_runs=5).run_bound(6, machine=True) == 5


def test_max_runs_stops_fuzzing_at_the_cap_and_the_report_says_so(tmp_path: Path) -> None:
    """With --max-runs 5 the target receives exactly 5 run-starting POSTs; the case that hit
    the cap says so and the properties after it are skipped as not reached."""
    posts: list[str] = []
    target = mock_target()
    edge = Edge(environ={}, cwd=tmp_path, now=lambda: datetime(2026, 6, 10, tzinfo=UTC))
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=FuzzBudget(profile="ci", max_examples=20, seed=2, max_runs=5),
            database=None,
            app=_counting(embedded_app(1000.0), posts),
        )
    assert len(posts) == 5
    messages = [result.case.message for result in outcome.results]
    assert any("--max-runs reached, 5 runs started" in message for message in messages)
    skipped = [r.case for r in outcome.results if r.case.outcome is Outcome.SKIPPED]
    assert skipped
    assert skipped[-1].skip_reason == "not reached: --max-runs reached"
    assert "--max-runs reached" in (run.folder.path / "results.json").read_text()


def test_a_failure_seen_before_the_cap_is_still_reported() -> None:
    """The cap cutting a failure's shrinking short still reports the failure as a finding."""
    target = mock_target()
    request = FuzzRequest(endpoint=Endpoint.START, method="POST", url=f"{target.base_url}/x")
    with open_session(target, time_scale=1000.0) as session:
        ctx = FuzzContext(
            target=session.target,
            client=session.client(),
            http=session.http,
            meter=FuzzMeter(max_runs=0),
            admin=session.admin,
            log_window=MOCK_LOG_WINDOW,
        )

        def test() -> None:
            failure = ctx.failure("Broken", "a 500", request=request)
            assert failure is ctx.last_failure
            ctx.send(request)

        result = run_test(ctx, case_id="fuzz.x", title="x", test=test, last_input=lambda: None)
    assert ctx.meter.cap_reached
    assert result.finding is not None
    assert result.finding.title == "Broken"
    assert result.case.outcome is Outcome.FAILED
    assert "--max-runs reached, 0 runs started" in result.case.message


def test_a_run_cap_reached_raises_before_sending() -> None:
    """`before_run` past the cap raises `RunCapReached` and counts nothing more."""
    meter = FuzzMeter(max_runs=1)
    meter.before_run()
    with pytest.raises(RunCapReached):
        meter.before_run()
    assert meter.runs == 1
    assert meter.cap_reached
    assert meter.spent()


def test_every_property_sends_at_most_one_run_start_per_example() -> None:
    """The bound's premise: no property example sends more than one run-starting POST."""
    posts: list[str] = []
    target = mock_target()
    app = _counting(embedded_app(1000.0), posts)
    with open_session(target, time_scale=1000.0, app=app) as session:
        for prop in PROPERTIES:
            ctx = FuzzContext(
                target=session.target,
                client=session.client(),
                http=session.http,
                meter=FuzzMeter(),
                admin=session.admin,
                log_window=MOCK_LOG_WINDOW,
                sleep=session.sleep,
            )
            before = len(posts)
            run_property(ctx, prop, FuzzBudget(profile="ci", max_examples=8, seed=9))
            assert len(posts) - before <= ctx.meter.examples, prop.name
            assert ctx.meter.runs == len(posts) - before, prop.name
