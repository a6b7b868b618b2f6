"""The probe asks each open question where its answer means something, and compares the
answers with the mock's defaults."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness import AuthRejected, Secret, TargetUnavailable, TriggerClient, mock_target
from harness._embedded import in_process_client, open_session
from harness.suite._probe import ProbeAnswer, probe_target
from mock_server import create_app, demo_config

SCALE = 1000.0
RUN_STARTING = {"A1", "A5", "A6", "A7", "A11", "A12", "A14"}


def _app(**mock_changes: object) -> ASGIApp:
    """The demo world at `SCALE` virtual seconds per real second, with `mock_changes`."""
    config = demo_config()
    mock = dataclasses.replace(config.mock, time_scale=SCALE, **mock_changes)
    return create_app(dataclasses.replace(config, mock=mock))


def _ask(
    app: ASGIApp | None = None, *, runs: list[dict[str, Any]] | None = None, **kwargs: Any
) -> dict[str, ProbeAnswer]:
    """Probe `app` (the demo world by default) as the embedded target on virtual time.

    `target` in kwargs holds target field changes; `runs` receives the runs started by the API.
    """
    changes = kwargs.pop("target", {})
    served = app if app is not None else _app()
    with open_session(mock_target(), app=served, time_scale=SCALE) as session:
        target = dataclasses.replace(session.target, **changes)
        client = TriggerClient(target, http=session.http, clock=session.clock, sleep=session.sleep)
        answers = probe_target(client, sleep=session.sleep, **kwargs)
        if runs is not None and session.admin is not None:
            runs.extend(session.admin.runs(source="api"))
    return {answer.question_id: answer for answer in answers}


def test_the_mock_answers_every_question_as_its_defaults_say() -> None:
    """Against the mock's defaults every asked question is 'same' (A11 may not tell: the demo
    world's short runs can show fewer entries than the window)."""
    answers = _ask(slow_trigger="slow-sync")
    assert set(answers) == {"A1", "A3", "A4", "A5", "A6", "A7", "A8", "A11", "A12", "A14", "A15"}
    different = {qid: a.observed for qid, a in answers.items() if a.same is not True}
    assert set(different) <= {"A11"}, different
    assert answers["A11"].same is not False
    assert "504" in answers["A1"].observed
    assert {qid for qid, a in answers.items() if a.starts_runs} == RUN_STARTING


def test_a1_is_not_asked_without_a_slow_trigger() -> None:
    """Without a trigger known to outlast the sync limit, A1 is reported as not asked."""
    answers = _ask()
    assert not answers["A1"].asked
    assert answers["A1"].same is None
    assert answers["A1"].observed.startswith("not asked")


def test_a_different_sync_policy_is_reported_as_different() -> None:
    """A mock answering 200 failed past the sync limit is 'different' on A1, not an error."""
    answers = _ask(_app(sync_timeout_policy="failed"), slow_trigger="slow-sync")
    assert answers["A1"].same is False
    assert "failed" in answers["A1"].observed


def test_a_rate_limited_target_is_reported_on_a8() -> None:
    """A per-workspace rate limit shows as a 429 with its Retry-After on A8."""
    answers = _ask(_app(rate_limit_per_s=5.0))
    assert answers["A8"].same is False
    assert "429" in answers["A8"].observed


def test_no_answer_shows_the_key() -> None:
    """Nothing in the probe's rows repeats the key."""
    assert "demo-key" not in repr(_ask(slow_trigger="slow-sync"))


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class TriggerLookupFirst:
    """A correct API that looks the trigger up before anything else: an unknown trigger is
    "404 Trigger not found" whatever the body or environment; it accepts a lower-case
    environment (A5) and answers E2 with 202 (A6)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        segments = str(scope.get("path", "")).strip("/").split("/")
        is_start = scope["type"] == "http" and segments[:2] == ["trigger", "start"]
        if is_start and segments[3] != "nightly-report":
            await _send_json(send, 404, b'{"detail": "Trigger not found"}')
            return
        if is_start and segments[-1].islower():
            upper = "/" + "/".join([*segments[:-1], segments[-1].upper()])
            scope = dict(scope, path=upper, raw_path=upper.encode())

        async def accepted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "status": 202}
            await send(message)

        await self.app(scope, receive, accepted if is_start else send)


def test_questions_go_to_the_target_s_own_trigger() -> None:
    """A target that looks the trigger up first answers A5 and A7 with what it does to a body
    and an environment on its trigger, never "404 Trigger not found" (they were asked of a
    made-up trigger before); only A4's unknown-trigger question meets the 404."""
    answers = _ask(TriggerLookupFirst(_app()))
    assert answers["A5"].same is False
    assert "'dev' accepted" in answers["A5"].observed
    assert answers["A6"].observed == "E2: HTTP 202; E4: HTTP 200"
    assert answers["A6"].facts == {"e2_status": 202, "e4_status": 200}
    assert "Trigger not found" not in answers["A5"].observed
    assert "Trigger not found" not in answers["A7"].observed
    assert "unknown trigger: HTTP 404" in answers["A4"].observed


def test_without_a_background_trigger_body_questions_use_the_sync_trigger() -> None:
    """With only a sync trigger, A5 and A7 go to E1 on it; A6 and A14 are not asked."""
    answers = _ask(target={"background_trigger": None})
    assert "/trigger/demo/quick-answer/dev" in answers["A5"].evidence[0].url
    assert answers["A7"].same is True
    assert not answers["A6"].asked
    assert not answers["A14"].asked


def test_production_target_asks_only_questions_that_start_nothing() -> None:
    """On a production target (no --allow-production) every question that may start a run is
    not asked, and no run starts; with the flag they are all asked."""
    runs: list[dict[str, Any]] = []
    answers = _ask(target={"production": True}, slow_trigger="slow-sync", runs=runs)
    not_asked = {qid for qid, answer in answers.items() if not answer.asked}
    assert not_asked == RUN_STARTING
    assert all("production" in answers[qid].observed for qid in not_asked)
    assert runs == []
    allowed = _ask(target={"production": True}, slow_trigger="slow-sync", allow_production=True)
    assert all(answer.asked for answer in allowed.values())


class LogsShown:
    """A flow of `count` log entries, all shown: a final E1/E3 envelope shows all `count`, a
    pending one the first entries written so far (none ever drops out)."""

    def __init__(self, app: ASGIApp, count: int) -> None:
        self.app, self.count = app, count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start["status"] == 200:
            body = _rewritten(body, self.count)
        await _send_json(send, start["status"], body)


def _rewritten(body: bytes, count: int) -> bytes:
    envelope = json.loads(body)
    logs = envelope.get("logs") if isinstance(envelope, dict) else None
    if not logs:
        return body
    first = logs[0]
    entries = [{**first, "message": f"step {n}", "status": "running"} for n in range(count)]
    final = envelope["status"] in ("completed", "failed")
    envelope["logs"] = entries if final else entries[: min(len(logs), count - 1)]
    return json.dumps(envelope).encode()


@pytest.mark.parametrize(("shown", "same"), [(5, True), (7, False), (3, None)])
def test_a11_reads_the_log_window_of_finished_runs(shown: int, same: bool | None) -> None:
    """A11 counts the entries of finished runs: 5 is the mock's window, 7 is more, and 3 (no
    run longer, none seen dropping out) cannot tell the window."""
    answer = _ask(LogsShown(_app(), shown))["A11"]
    assert answer.same is same, answer.observed
    assert f"{shown} log entries" in answer.observed


def test_a11_tells_the_window_from_entries_dropping_out_of_a_followed_run() -> None:
    """A mock with a window of 2: E1 runs show 2 entries (could be short runs), so A11 follows
    a background run; entries seen earlier and gone from its final window show a window of 2."""
    answer = _ask(_app(log_window=2))["A11"]
    assert answer.same is False, answer.observed
    assert "a window of 2" in answer.observed


def test_a12_asks_the_jira_trigger_and_is_not_asked_without_one() -> None:
    """A12 sends a delivery signed with another secret to the named Jira trigger (401 on the
    mock); without a Jira trigger it is not asked."""
    answers = _ask()
    assert answers["A12"].same is True
    assert "401" in answers["A12"].observed
    assert not _ask(target={"jira_trigger": None})["A12"].asked


def test_a_refused_key_stops_the_probe_with_exit_3() -> None:
    """A wrong key is AuthRejected (exit 3) before any question (every row was 'different')."""
    with pytest.raises(AuthRejected) as raised:
        _ask(target={"api_key": Secret("not-the-key")})
    assert raised.value.exit_code == 3


def _dies_after(count: int) -> Callable[[httpx.Request], httpx.Response]:
    """Forwards to an in-process mock, then no request gets an answer."""
    live = in_process_client(_app())
    sent: list[str] = []

    def forward(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) > count:
            raise httpx.ConnectError("connection refused", request=request)
        answer = live.request(request.method, str(request.url), headers=request.headers)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return forward


def test_a_target_that_stops_answering_stops_the_probe() -> None:
    """After preflight (two requests), a target that no longer answers is "became unreachable"
    (exit 3) naming how far the probe got, not a row of "no answer"."""
    http = httpx.Client(transport=httpx.MockTransport(_dies_after(2)))
    with pytest.raises(TargetUnavailable, match="became unreachable after 1 question:"):
        probe_target(TriggerClient(mock_target(), http=http), sleep=lambda s: None)


class RequiresVariables:
    """A correct, strict API: E2 refuses a body without `user_variables` (422) and answers a
    complete one with 202 (A6, A7 both open)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        segments = str(scope.get("path", "")).strip("/").split("/")
        if scope["type"] != "http" or segments[:2] != ["trigger", "start"]:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"user_variables" not in body:
            await _send_json(send, 422, b'{"detail": "user_variables is required"}')
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def accepted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "status": 202}
            await send(message)

        await self.app(scope, replay, accepted)


def test_a6_is_asked_with_a_documented_body_and_a_refusal_is_not_the_start_code() -> None:
    """A new user's strict API answered A6 "HTTP 422" (a body with only `message`); asked with
    both documented fields it says 202, and a refused start would be "could not tell"."""
    answers = _ask(RequiresVariables(_app()))
    assert answers["A6"].observed == "E2: HTTP 202; E4: HTTP 200"
    assert answers["A6"].facts == {"e2_status": 202, "e4_status": 200}
    assert answers["A6"].same is False
