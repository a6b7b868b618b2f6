"""Inconclusive cases (issue 14, A8): a 429 still answered after the suite client's bounded
retries is "could not tell", never a failure or an error; and a stop is never a case's error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from harness import RateLimited, Terminated
from harness._embedded import Session, open_session
from harness._models import Endpoint, Exchange
from harness._targets import mock_target
from harness.report import CaseFinished, Event, Outcome
from harness.suite import (
    CASES,
    Case,
    CaseInconclusive,
    SuiteContext,
    execute_case,
    run_suite,
    suite_context,
)
from mock_server import create_app, demo_config
from tests.harness.factories import exchange


@pytest.fixture
def session() -> Iterator[Session]:
    """A fresh in-process embedded mock session."""
    with open_session(mock_target()) as opened:
        yield opened


def _exchange(status_code: int) -> Exchange:
    return exchange(
        Endpoint.SYNC,
        status_code,
        {"detail": "slow down"},
        headers={"retry-after": "1", "content-type": "application/json"},
    )


def _case(fn: object, case_id: str = "test.case.E1") -> Case:
    return Case(id=case_id, title="a test case", area="test", needs=frozenset(), fn=fn)  # type: ignore[arg-type]


def test_verify_calls_a_429_to_a_keyless_request_inconclusive(session: Session) -> None:
    """Before: "Unauthenticated request not refused: ... got HTTP 429" (invariant 8)."""
    ctx = suite_context(session)
    with pytest.raises(CaseInconclusive, match=r"rate limited \(HTTP 429, A8\)"):
        ctx.verify(_exchange(429), ctx.checks(endpoint=Endpoint.SYNC, authorized=False))


def test_a_case_ending_in_a_429_is_inconclusive_not_failed(session: Session) -> None:
    """The runner reports "could not tell" with the 429 as evidence."""
    ctx = suite_context(session)

    def case_fn(context: SuiteContext) -> None:
        context.verify(_exchange(429), context.checks(endpoint=Endpoint.SYNC, authorized=False))

    result = execute_case(ctx, _case(case_fn))
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.message == "could not tell: rate limited (HTTP 429, A8)"
    assert [e.status_code for e in result.evidence] == [429]


def test_rate_limited_from_a_client_call_is_inconclusive_not_an_error(session: Session) -> None:
    """Before: `ERROR sync.happy_path.E1: RateLimited: POST ... answered 429`."""
    ctx = suite_context(session)

    def case_fn(context: SuiteContext) -> None:
        raise RateLimited("answered 429", status_code=429, exchange=_exchange(429), retry_after_s=1)

    result = execute_case(ctx, _case(case_fn))
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.message == "could not tell: rate limited (HTTP 429, A8)"


def test_the_runner_re_raises_terminated_and_keeps_the_cases_that_ended(session: Session) -> None:
    """Before: `ERROR ...: Terminated: terminated (SIGTERM)` and the suite went on."""
    ctx = suite_context(session)
    events: list[Event] = []
    ran: list[str] = []

    def stop(context: SuiteContext) -> None:
        raise Terminated("terminated (SIGTERM)")

    def after(context: SuiteContext) -> None:
        ran.append("after")

    cases = {"a.stop.E1": _case(stop, "a.stop.E1"), "b.after.E1": _case(after, "b.after.E1")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("harness.suite._runner.select_cases", lambda select: list(cases.values()))
        with pytest.raises(Terminated):
            run_suite(ctx, emit=events.append)
    assert ran == []
    assert not [e for e in events if isinstance(e, CaseFinished)]


@pytest.fixture
def exhausted() -> Iterator[Session]:
    """The demo world with a rate limit whose clock never moves: one token, then 429s."""
    world = demo_config(seed=7)
    settings = dataclasses.replace(world.mock, rate_limit_per_s=1.0, time_scale=100.0)
    app = create_app(dataclasses.replace(world, mock=settings), real_time=lambda: 0.0)
    with open_session(mock_target(), app=app) as opened:
        yield opened


def test_on_the_mocks_rate_limit_run_starting_cases_are_inconclusive_and_none_fails(
    exhausted: Session,
) -> None:
    """The embedded mock with a rate limit that never refills: every case that needs an
    authorised answer could not tell; none failed or errored; `exit_code` is 4."""
    outcome = run_suite(
        suite_context(exhausted),
        emit=lambda event: None,
        select=["auth.wrong_key", "sync", "background.lifecycle", "jira.signed"],
    )
    assert (outcome.failed, outcome.error) == (0, 0), outcome.summary
    assert outcome.inconclusive == 3, outcome.summary
    assert outcome.exit_code == 4
    assert "0 failed, 3 inconclusive" in outcome.summary


def test_a_retried_429_on_a_start_is_re_sent_and_the_case_passes(session: Session) -> None:
    """The suite's client re-sends a start answered 429 (nothing was started) after its
    Retry-After: the lifecycle case judges the real answer."""
    answered: list[int] = []
    limited = {"left": 2}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and limited["left"]:
            limited["left"] -= 1
            answered.append(429)
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"detail": "slow"})
        response = session.http.send(
            session.http.build_request(
                request.method, str(request.url), headers=request.headers, content=request.read()
            )
        )
        answered.append(response.status_code)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url=session.base_url)
    limited_session = dataclasses.replace(session, http=http)
    ctx = suite_context(limited_session)
    result = execute_case(ctx, CASES["background.lifecycle.E2E3"])
    assert result.outcome is Outcome.PASSED, result.message
    assert answered[:3] == [429, 429, 200]
