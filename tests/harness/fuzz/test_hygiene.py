"""Fuzz hygiene: what the harness cannot judge is exit 4, never a finding; a connection reset
is "no answer"; a reproduction replays the whole sequence that shows a fault."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness import CannotJudge, TargetUnavailable
from harness._client import TriggerClient
from harness._embedded import MOCK_LOG_WINDOW, Session, embedded_app, open_session
from harness._jira import signed_delivery
from harness._models import Endpoint
from harness._targets import mock_target
from harness.cli._edge import Edge, report_run
from harness.cli._fuzz import fuzz_command, fuzz_stage
from harness.fuzz import (
    PROPERTIES,
    FuzzBudget,
    FuzzContext,
    FuzzMeter,
    FuzzRequest,
    FuzzStep,
    Property,
    curl_sequence,
    run_property,
    run_test,
)
from mock_server import VirtualClock, create_app, demo_config

SCALE = 1000.0
BUDGET = FuzzBudget(profile="ci", max_examples=5, seed=3)
_JSON = [(b"content-type", b"application/json")]
DELIVERY = signed_delivery({"webhookEvent": "jira:issue_created", "n": 1}, "demo-jira-secret")


def _context(session: Session, http: httpx.Client | None = None, **options: Any) -> FuzzContext:
    client = session.client() if http is None else TriggerClient(session.target, http=http)
    return FuzzContext(
        target=session.target,
        client=client,
        http=http or session.http,
        meter=FuzzMeter(),
        admin=session.admin,
        log_window=MOCK_LOG_WINDOW,
        sleep=session.sleep,
        **options,
    )


@pytest.fixture
def mock_ctx() -> Iterator[FuzzContext]:
    """A fuzz context on the embedded demo mock, judged against its defaults."""
    with open_session(mock_target(), time_scale=SCALE) as session:
        yield _context(session, exact=True)


def _once_failing() -> Property:
    """A property that fails on its first call only: hypothesis cannot replay it."""
    calls: list[object] = []

    def check(ctx: FuzzContext, drawn: object) -> None:
        calls.append(drawn)
        if len(calls) == 1:
            raise ctx.failure("Transient", "failed once")

    return Property(name="once", title="fails once", draw=lambda ctx: st.just(0), check=check)


def _shifty() -> Property:
    """A property whose strategy draws differently each time it runs."""
    runs = {"n": 0}

    @st.composite
    def shifty(draw: st.DrawFn) -> object:
        runs["n"] += 1
        return draw(st.integers()) if runs["n"] % 2 else draw(st.text())

    def check(ctx: FuzzContext, drawn: object) -> None:
        raise ctx.failure("Always", "fails")

    return Property(name="shifty", title="shifty", draw=lambda ctx: shifty(), check=check)


@pytest.mark.parametrize("prop", [_once_failing(), _shifty()], ids=["flaky", "strategy"])
def test_flakiness_is_cannot_judge_not_a_finding(mock_ctx: FuzzContext, prop: Property) -> None:
    """`FlakyFailure` and `FlakyStrategyDefinition` give an error case and `CannotJudge`."""
    result = run_property(mock_ctx, prop, BUDGET)
    assert result.finding is None
    assert result.case.outcome == "error"
    assert isinstance(result.cannot_judge, CannotJudge)
    assert result.cannot_judge.exit_code == 4
    assert "Flaky" in str(result.cannot_judge)
    assert "did not repeat" in str(result.cannot_judge)


def test_a_failed_health_check_is_cannot_judge(mock_ctx: FuzzContext) -> None:
    """A hypothesis health check (a test returning a value) is said plainly, never a finding."""

    def returns_a_value(n: int) -> int:
        return n

    test: Any = settings(max_examples=3, database=None)(given(st.integers())(returns_a_value))
    result = run_test(
        mock_ctx, case_id="fuzz.health", title="health", test=test, last_input=lambda: None
    )
    assert result.finding is None
    assert result.cannot_judge is not None
    assert "health check" in str(result.cannot_judge)
    assert "FailedHealthCheck" in result.case.message


def test_fuzz_stage_exits_4_when_it_could_not_judge(tmp_path: Path) -> None:
    """A run whose only property is flaky ends with exit code 4 and no finding in the report."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    target = mock_target()
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=BUDGET,
            database=None,
            properties=[_once_failing()],
            machine=False,
        )
    assert run.exit_code == 4
    assert not outcome.found
    unjudged = outcome.cannot_judge()
    assert unjudged is not None
    assert "fuzz.once" in str(unjudged)
    results = json.loads((run.folder.path / "results.json").read_text())
    assert results["findings"] == []
    assert results["exit_code"] == 4


class ResetAfterJira(httpx.BaseTransport):
    """Forwards to the mock, but resets the first E3 connection after an E4 delivery."""

    def __init__(self, inner: httpx.Client) -> None:
        self.inner = inner
        self.armed = False
        self.resets = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/trigger/status/" in path and self.armed:
            self.armed = False
            self.resets += 1
            raise httpx.ReadError("Connection reset by peer", request=request)
        self.armed = self.armed or "/trigger/jira/start/" in path
        answer = self.inner.send(request)
        return httpx.Response(
            answer.status_code, headers=answer.headers.multi_items(), content=answer.read()
        )


def test_a_reset_e3_after_e4_is_no_answer_not_run_not_found() -> None:
    """A reset E3 connection after a Jira delivery is inconclusive ("no answer"), no finding."""
    with open_session(mock_target(), time_scale=SCALE) as session:
        transport = ResetAfterJira(session.http)
        with httpx.Client(transport=transport, base_url=session.base_url) as http:
            ctx = _context(session, http, exact=True)
            jira = next(prop for prop in PROPERTIES if prop.name == "jira_delivery_accepted")
            jira.check(ctx, DELIVERY)
    assert transport.resets == 1
    assert ctx.inconclusive == 1
    assert ctx.inconclusive_reasons[0].startswith("no answer")


def test_no_answer_at_all_is_target_unavailable_not_a_finding() -> None:
    """A property whose every request got no answer means the target became unreachable
    (exit 3), never a finding."""

    class ResetAll(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("Connection reset by peer", request=request)

    with open_session(mock_target(), time_scale=SCALE) as session:
        http = httpx.Client(transport=ResetAll(), base_url=session.base_url)
        ctx = _context(session, http)
        wrong_key = next(prop for prop in PROPERTIES if prop.name == "wrong_key_refused")
        with pytest.raises(TargetUnavailable, match="became unreachable") as caught:
            run_property(ctx, wrong_key, BUDGET)
    assert caught.value.exit_code == 3


def test_injected_5xx_is_inconclusive_where_faults_are_expected() -> None:
    """With transient faults expected, a 503 on E3 is inconclusive; without, a finding."""

    mock = embedded_app(SCALE)

    async def app_503(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await mock(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 503, "headers": _JSON})
        await send({"type": "http.response.body", "body": b'{"detail": "try later"}'})

    results = {}
    for faults in (True, False):
        with open_session(mock_target(), time_scale=SCALE, app=app_503) as session:
            ctx = _context(session, transient_faults=faults)
            odd = next(prop for prop in PROPERTIES if prop.name == "odd_ids_refused")
            results[faults] = run_property(ctx, odd, BUDGET)
    assert results[True].finding is None
    assert results[True].cannot_judge is not None  # every answer was a 503
    finding = results[False].finding
    assert finding is not None
    assert finding.title == "Server error"


class LosesJiraRuns:
    """The mock, but E3 answers 404 for runs an E4 delivery started (invariant 6 broken)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.jira_ids = app, set[str]()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.rsplit("/", 1)[-1] in self.jira_ids:
            await send({"type": "http.response.start", "status": 404, "headers": _JSON})
            await send({"type": "http.response.body", "body": b'{"detail": "Workflow not found"}'})
            return
        if scope["type"] != "http" or "/trigger/jira/start/" not in path:
            await self.app(scope, receive, send)
            return

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.body":
                found = re.search(rb'"workflow_id":"([^"]+)"', message.get("body", b""))
                if found:
                    self.jira_ids.add(found.group(1).decode())
            await send(message)

        await self.app(scope, receive, capture)


def test_a_reproduction_replays_the_e4_delivery_then_the_e3_poll() -> None:
    """A run E4 started that E3 cannot find is reproduced by the delivery, the clock move and
    the poll, the run id carried between them; no secret or signature is written."""
    app = LosesJiraRuns(embedded_app(SCALE))
    with open_session(mock_target(), time_scale=SCALE, app=app) as session:
        ctx = _context(session)
        jira = next(prop for prop in PROPERTIES if prop.name == "jira_delivery_accepted")
        result = run_property(ctx, jira, FuzzBudget(profile="ci", max_examples=2, seed=1))
    assert result.finding is not None
    assert result.finding.title == "Started run not found by E3"
    reproduction = result.finding.reproduction
    jira_at = reproduction.index("/trigger/jira/start/demo/jira-triage/DEV")
    clock_at = reproduction.index("/__admin/clock")
    poll_at = reproduction.index('/trigger/status/demo/"${workflow_id_1}"')
    assert jira_at < clock_at < poll_at
    assert 'workflow_id_1="$(curl' in reproduction
    assert "${PHINITE_JIRA_SECRET}" in reproduction
    for secret in ("demo-key", "demo-jira-secret", str(DELIVERY.signature)):
        assert secret not in reproduction
    assert "(invariant 6)" in result.finding.message


def test_fuzz_command_raises_cannot_judge_after_printing_the_summary(tmp_path: Path) -> None:
    """`fuzz` with a flaky property prints its summary, then raises `CannotJudge` (exit 4)
    naming the property; the report records exit code 4 and no finding."""
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    with pytest.raises(CannotJudge, match=r"fuzz\.once") as caught:
        fuzz_command(
            edge,
            target_name="mock",
            targets_file=None,
            report_dir=Path("reports"),
            allow_production=False,
            profile="ci",
            max_examples=3,
            seed=2,
            properties=[_once_failing()],
        )
    assert caught.value.exit_code == 4
    assert "did not repeat" in str(caught.value)
    assert any(line.startswith("  ERROR fuzz.once: could not judge") for line in lines)
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert results["exit_code"] == 4
    assert results["findings"] == []


def test_fuzz_against_the_flaky_preset_finds_nothing(tmp_path: Path) -> None:
    """Under the mock's `flaky` preset (5xx and resets on E3) fuzzing finds nothing and can
    judge every property: the injected faults are inconclusive answers, counted."""
    config = demo_config(seed=7)
    config = dataclasses.replace(
        config, mock=dataclasses.replace(config.mock, scenario="flaky", time_scale=SCALE)
    )
    app = create_app(config, clock=VirtualClock.from_settings(config.mock))
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    target = mock_target()
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=FuzzBudget(profile="ci", max_examples=8, seed=1),
            database=None,
            app=app,
            time_scale=SCALE,
        )
    assert run.exit_code == 0, [result.case.message for result in outcome.results]
    assert outcome.ok
    assert outcome.inconclusive > 0


def test_a_sequence_captures_each_run_id_once() -> None:
    """A start's run id is captured once and every later poll of that run uses the variable."""
    target = mock_target()
    run_id = "3f1c2a9e-0000-4000-8000-000000000009"
    start = FuzzRequest(
        endpoint=Endpoint.START,
        method="POST",
        url=f"{target.base_url}/trigger/start/demo/nightly-report/DEV",
        body=b"{}",
        content_type="application/json",
    )
    poll = FuzzRequest(
        endpoint=Endpoint.STATUS,
        method="GET",
        url=f"{target.base_url}/trigger/status/demo/{run_id}",
    )
    steps = [
        FuzzStep(request=start, workflow_id=run_id),
        FuzzStep(request=poll, workflow_id=run_id),
        FuzzStep(request=poll),
    ]
    command = curl_sequence(steps, target)
    assert command.count('workflow_id_1="$(curl') == 1
    assert "workflow_id_2" not in command
    assert command.count('/trigger/status/demo/"${workflow_id_1}"') == 2
    assert run_id not in command
    assert "demo-key" not in command
