"""The suite runner: events, selection, skip reasons, outcomes and the unreachable-target stop."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from harness import ConnectError, HarnessError, Secret, Target, TargetUnavailable, UsageError
from harness._client import TriggerClient
from harness._embedded import Session, embedded_app, in_process_client, open_session
from harness._models import Exchange
from harness._targets import mock_target
from harness.checks._notes import Note
from harness.report import CaseFinished, Event, NoteRecorded, Outcome, SuiteStarted
from harness.suite import (
    CASES,
    Case,
    SuiteContext,
    execute_case,
    fail,
    run_suite,
    select_cases,
    suite_context,
)


@pytest.fixture
def session() -> Iterator[Session]:
    """A fresh in-process embedded mock session."""
    with open_session(mock_target()) as opened:
        yield opened


def _remote_target(**fields: object) -> Target:
    base = {
        "name": "remote",
        "base_url": "http://127.0.0.1:9/api/v1/ai",
        "workspace_id": "ws-1",
        "environment": "DEV",
        "api_key": Secret("remote-key"),
    }
    return Target(**{**base, **fields})  # type: ignore[arg-type]


def _context(target: Target, handler: httpx.MockTransport) -> SuiteContext:
    client = TriggerClient(target, http=httpx.Client(transport=handler))
    return SuiteContext(target=target, client=client)


def test_run_suite_emits_suite_started_then_one_case_finished_per_case(session: Session) -> None:
    """The stream starts with SuiteStarted, then a CaseFinished for each selected case in order."""
    events: list[Event] = []
    outcome = run_suite(suite_context(session), emit=events.append, select=["auth.no_header"])
    assert isinstance(events[0], SuiteStarted)
    finished = [event for event in events if isinstance(event, CaseFinished)]
    assert [event.case_id for event in finished] == [
        "auth.no_header.E1",
        "auth.no_header.E2",
        "auth.no_header.E3",
    ]
    assert (outcome.passed, outcome.failed, outcome.skipped, outcome.error) == (3, 0, 0, 0)
    assert outcome.ok


def test_notes_are_emitted_once_per_observation(session: Session) -> None:
    """A note seen by several cases (the 401 challenge header) is emitted once."""
    events: list[Event] = []
    run_suite(suite_context(session), emit=events.append, select=["auth.*"])
    notes = [(e.question_id, e.observed) for e in events if isinstance(e, NoteRecorded)]
    assert notes.count(("X1", "WWW-Authenticate: Bearer")) == 1


def test_select_accepts_ids_prefixes_and_globs_and_refuses_unknown() -> None:
    """Selection matches exact ids, dotted prefixes and globs; a pattern matching nothing fails."""
    assert [c.id for c in select_cases(["sync.happy_path.E1"])] == ["sync.happy_path.E1"]
    assert {c.area for c in select_cases(["jira"])} == {"jira"}
    assert all(c.id.endswith(".E3") for c in select_cases(["auth.*.E3"]))
    with pytest.raises(UsageError, match="nothing-like-this"):
        select_cases(["nothing-like-this"])


def test_every_case_id_names_its_area_and_has_a_docstring() -> None:
    """Each registered case has an `area.what[.endpoint]` id and a behavioural docstring."""
    for case in CASES.values():
        assert case.id.startswith(case.area + ".")
        assert case.fn.__doc__, case.id


def test_a_target_without_triggers_skips_their_cases_saying_so(session: Session) -> None:
    """Without sync/background/jira triggers, their cases are skipped with the stated reason."""
    bare = dataclasses.replace(
        session.target, sync_trigger=None, background_trigger=None, jira_trigger=None
    )
    ctx = dataclasses.replace(suite_context(session), target=bare)
    reasons = {case.id: ctx.skip_reason(case) for case in CASES.values()}
    for case_id, key in (
        ("sync.happy_path.E1", "sync_trigger"),
        ("background.lifecycle.E2E3", "background_trigger"),
        ("jira.signed.E4", "jira_trigger"),
    ):
        assert reasons[case_id] == (
            f"target names no {key}; set {key} in the targets file to run it"
        )
    assert reasons["auth.no_header.E3"] is None


def test_real_targets_skip_mock_only_cases_and_production_skips_runs() -> None:
    """No admin API skips mock-only cases; a production target skips cases that start runs."""
    target = _remote_target(background_trigger="report", production=True)
    ctx = _context(target, httpx.MockTransport(lambda request: httpx.Response(404)))
    assert (ctx.skip_reason(CASES["mock.cron_24h"]) or "").startswith(
        "needs the mock's admin API (virtual clock): "
    )
    assert "production" in (ctx.skip_reason(CASES["background.lifecycle.E2E3"]) or "")
    assert ctx.skip_reason(CASES["auth.wrong_key.E2"]) is None
    allowed = dataclasses.replace(ctx, allow_production=True)
    assert allowed.skip_reason(CASES["background.lifecycle.E2E3"]) is None


def test_unreachable_target_stops_the_run_before_any_case() -> None:
    """A target that cannot be reached raises TargetUnavailable (exit 3) and runs no case."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    events: list[Event] = []
    ctx = _context(_remote_target(), httpx.MockTransport(refuse))
    with pytest.raises(ConnectError) as raised:
        run_suite(ctx, emit=events.append)
    assert raised.value.exit_code == 3
    assert not any(isinstance(event, CaseFinished) for event in events)


def test_refused_key_stops_the_run_naming_the_target(session: Session) -> None:
    """A key the target refuses (401 on the preflight) raises TargetUnavailable, key unshown."""
    target = dataclasses.replace(session.target, api_key=Secret("not-the-demo-key"))
    client = TriggerClient(target, http=session.http)
    ctx = dataclasses.replace(suite_context(session), target=target, client=client)
    with pytest.raises(TargetUnavailable, match="refused the configured key") as raised:
        run_suite(ctx, emit=lambda event: None)
    assert "not-the-demo-key" not in str(raised.value)


def _case(fn: object) -> Case:
    return Case(id="test.case", title="a test case", area="test", needs=frozenset(), fn=fn)  # type: ignore[arg-type]


def test_a_harness_error_is_an_error_not_a_failure(session: Session) -> None:
    """A case raising a HarnessError other than a violation ends with outcome error."""

    def broken(ctx: SuiteContext) -> None:
        raise HarnessError("the answer could not be used")

    result = execute_case(suite_context(session), _case(broken))
    assert result.outcome is Outcome.ERROR
    assert "the answer could not be used" in result.message


def test_a_violation_fails_naming_its_check_and_invariant(session: Session) -> None:
    """A SuiteViolation fails the case; the record and message name the check and invariant."""

    def violated(ctx: SuiteContext) -> None:
        raise fail("some_check", "Something broke", "details", invariant=4)

    result = execute_case(suite_context(session), _case(violated))
    assert result.outcome is Outcome.FAILED
    assert [record.check for record in result.violations] == ["some_check"]
    assert "[some_check, invariant 4] Something broke: details" in result.message


def test_a_plain_assertion_fails_the_case(session: Session) -> None:
    """An AssertionError in a case is a failure recorded under the check `assertion`."""

    def asserted(ctx: SuiteContext) -> None:
        raise AssertionError("expected more")

    result = execute_case(suite_context(session), _case(asserted))
    assert result.outcome is Outcome.FAILED
    assert result.violations[0].check == "assertion"


def test_exact_mock_turns_a_non_default_note_into_a_violation(session: Session) -> None:
    """On the embedded mock a note unlike the mock's default fails; elsewhere it is only noted."""
    note = Note(
        question_id="A3",
        title="Unknown workflow",
        observed="HTTP 400",
        mock_default="404",
        same=False,
        evidence=(),
    )
    exact = suite_context(session)
    with pytest.raises(AssertionError, match="unlike its default"):
        exact.note(note)
    lenient = suite_context(session, exact=False)
    lenient.note(note)
    assert lenient.notes == [note]


class _Dies:
    """Forwards to an in-process mock until `fail_from` requests have gone, then every request
    (or, with `once`, only that one) loses its connection."""

    def __init__(self, fail_from: int, *, once: bool = False) -> None:
        self.live = in_process_client(embedded_app())
        self.sent = 0
        self.fail_from, self.once = fail_from, once

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        lost = self.sent == self.fail_from if self.once else self.sent >= self.fail_from
        if lost:
            raise httpx.ConnectError("connection refused", request=request)
        answer = self.live.request(
            request.method, str(request.url), headers=request.headers, content=request.content
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def _hooked_context(transport: _Dies) -> SuiteContext:
    target = _remote_target(base_url="http://testserver", workspace_id="demo")
    target = dataclasses.replace(target, api_key=Secret("demo-key"))
    exchanges: list[Exchange] = []
    http = httpx.Client(transport=httpx.MockTransport(transport))
    client = TriggerClient(target, http=http, event_hooks={"response": [exchanges.append]})
    return SuiteContext(target=target, client=client, exchanges=exchanges, sleep=lambda s: None)


def test_a_target_dying_mid_run_is_exit_3_not_a_failed_case() -> None:
    """Lost after the first case: TargetUnavailable "became unreachable after 1 case" (exit 3);
    the case that met the dead target is an error naming why, and no case is FAILED."""
    events: list[Event] = []
    # preflight sends 2 requests (keyed, anonymous); the first case 1; then the target dies.
    ctx = _hooked_context(_Dies(fail_from=4))
    with pytest.raises(TargetUnavailable, match="became unreachable after 1 case:") as raised:
        run_suite(ctx, emit=events.append, select=["auth.no_header"])
    assert raised.value.exit_code == 3
    finished = [event for event in events if isinstance(event, CaseFinished)]
    assert [(c.case_id, c.outcome) for c in finished] == [
        ("auth.no_header.E1", Outcome.PASSED),
        ("auth.no_header.E2", Outcome.ERROR),
    ]
    assert "became unreachable" in finished[1].message


def test_one_lost_connection_is_a_blip_and_the_run_goes_on() -> None:
    """A single lost connection in a case, the target answering again: the run continues and
    only that case's result (an error) stands."""
    events: list[Event] = []
    ctx = _hooked_context(_Dies(fail_from=4, once=True))
    outcome = run_suite(ctx, emit=events.append, select=["auth.no_header"])
    assert [c.outcome for c in outcome.cases] == [Outcome.PASSED, Outcome.ERROR, Outcome.PASSED]
