"""E4 from the harness side: the `jira.*` contract cases and `harness._jira` deliveries on the mock.

The cases pass on the embedded mock; wrapped mocks that break one E4 rule (a refused delivery
that still starts a run, a second run per delivery, a completed run without the payload) fail the
case that guards the rule. Without the admin API (a real target) the run count is not checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness._embedded import embedded_app, open_session
from harness._jira import (
    SIGNATURE_HEADER,
    JiraDelivery,
    JiraIssue,
    SignatureDefect,
    comment_created,
    issue_created,
    issue_updated,
    jira_signature,
    signed_delivery,
    with_malformed_signature,
    with_tampered_body,
    with_wrong_secret,
    without_signature,
)
from harness._targets import mock_target
from harness.report import Outcome
from harness.suite import CASES, SuiteOutcome, run_suite, suite_context

SCALE = 400.0
SECRET = "demo-jira-secret"
E4 = "/trigger/jira/start/demo/jira-triage/DEV"
NEGATIVES = sorted(
    case_id for case_id in CASES if case_id.startswith("jira.") and case_id != "jira.signed.E4"
)

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> Answer:
    """Run `app` on `scope` with `body`; its buffered status, headers and body."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


async def _read(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


class JiraMutant:
    """Wraps the mock's E4: `rewrite(app, scope, body, answer)` may send more and change it."""

    def __init__(
        self, app: ASGIApp, rewrite: Callable[[ASGIApp, Scope, bytes, Answer], Any]
    ) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").removeprefix("/api/v1/ai")
        if scope["type"] != "http" or not path.startswith("/trigger/jira/start/"):
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        status, headers, content = await self.rewrite(
            self.app, scope, body, await _call(self.app, scope, body)
        )
        kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        kept.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": content})


def _resigned(scope: Scope, body: bytes) -> Scope:
    kept = [(k, v) for k, v in scope["headers"] if k.lower() != b"x-hub-signature"]
    return dict(scope, headers=[*kept, (b"x-hub-signature", jira_signature(body, SECRET).encode())])


async def _runs_despite_refusal(app: ASGIApp, scope: Scope, body: bytes, answer: Answer) -> Answer:
    """A refused delivery is re-sent correctly signed (a run starts), then the 401 is answered."""
    if answer[0] == 401:
        await _call(app, _resigned(scope, body), body)
    return answer


async def _runs_twice(app: ASGIApp, scope: Scope, body: bytes, answer: Answer) -> Answer:
    """An accepted delivery is sent once more: two runs per delivery."""
    if answer[0] == 200:
        await _call(app, scope, body)
    return answer


async def _accepts_unsigned(app: ASGIApp, scope: Scope, body: bytes, answer: Answer) -> Answer:
    """A refused delivery is re-sent correctly signed and its 200 answered instead of the 401."""
    if answer[0] == 401:
        return await _call(app, _resigned(scope, body), body)
    return answer


def run_jira_cases(
    app: ASGIApp, select: list[str], *, admin: bool = True
) -> tuple[SuiteOutcome, set[str]]:
    """Run `select` on `app` as the embedded target; the outcome and the failed check names."""
    with open_session(mock_target(), app=app, time_scale=SCALE) as session:
        ctx = suite_context(session)
        if not admin:
            ctx = dataclasses.replace(ctx, admin=None, log_window=None)
        outcome = run_suite(ctx, emit=lambda event: None, select=select)
    failed = {
        record.check
        for case in outcome.cases
        if case.outcome is Outcome.FAILED
        for record in case.violations
    }
    return outcome, failed


def test_jira_cases_cover_every_strict_negative() -> None:
    """The suite has an E4 negative for each way a signature can be strictly wrong."""
    strict = {d for d in SignatureDefect if not d.lenient_verifier_may_accept}
    expected = {f"jira.malformed_{d.value.replace('-', '_')}.E4" for d in strict} | {
        "jira.tampered_body.E4",
        "jira.wrong_secret.E4",
        "jira.missing_signature.E4",
        "jira.another_body.E4",
    }
    assert set(NEGATIVES) == expected


def test_jira_cases_pass_on_the_embedded_mock() -> None:
    """Every jira.* case passes on the embedded mock, none skipped."""
    outcome, failed = run_jira_cases(embedded_app(SCALE), ["jira"])
    assert outcome.ok, [case.message for case in outcome.cases]
    assert outcome.passed == len(NEGATIVES) + 1
    assert failed == set()


@pytest.mark.parametrize("case_id", NEGATIVES)
def test_refused_delivery_that_starts_a_run_fails_the_negative(case_id: str) -> None:
    """A mock that answers 401 yet starts a run fails each negative on nothing_run_without_auth."""
    app = JiraMutant(embedded_app(SCALE), _runs_despite_refusal)
    outcome, failed = run_jira_cases(app, [case_id])
    assert (outcome.failed, failed) == (1, {"nothing_run_without_auth"})


def test_run_count_is_not_checked_without_the_admin_api() -> None:
    """Without the admin API (a real target) the negatives judge only the 4xx answer."""
    app = JiraMutant(embedded_app(SCALE), _runs_despite_refusal)
    outcome, _ = run_jira_cases(app, NEGATIVES, admin=False)
    assert outcome.ok, [case.message for case in outcome.cases]
    assert outcome.passed == len(NEGATIVES)


@pytest.mark.parametrize("admin", [True, False], ids=["mock", "real-target"])
@pytest.mark.parametrize("case_id", ["jira.another_body.E4", "jira.malformed_non_hex.E4"])
def test_accepting_a_bad_signature_fails_the_negative(case_id: str, admin: bool) -> None:
    """Accepting a bad signature fails: on the run count with the admin API, else on the 200."""
    app = JiraMutant(embedded_app(SCALE), _accepts_unsigned)
    _, failed = run_jira_cases(app, [case_id], admin=admin)
    assert failed == ({"nothing_run_without_auth"} if admin else {"unauthorized_refused"})


def test_two_runs_per_delivery_fails_the_signed_case() -> None:
    """A mock starting two runs for one signed delivery fails jira.signed on jira_one_run."""
    app = JiraMutant(embedded_app(SCALE), _runs_twice)
    _, failed = run_jira_cases(app, ["jira.signed.E4"])
    assert failed == {"jira_one_run"}


class DropsPayload:
    """Answers E3 for completed runs with a response holding only the workflow id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/trigger/status/" not in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        status, headers, body = await _call(self.app, scope, await _read(receive))
        envelope = orjson.loads(body) if status == 200 else None
        if envelope is not None and envelope["status"] == "completed":
            envelope["response"] = {"workflow_id": envelope["workflow_id"]}
            body = orjson.dumps(envelope)
        kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        kept.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": body})


def test_completed_run_without_the_payload_fails_the_signed_case() -> None:
    """A completed E4 run whose response lacks the Jira payload fails on completed_response."""
    _, failed = run_jira_cases(DropsPayload(embedded_app(SCALE)), ["jira.signed.E4"])
    assert failed == {"completed_has_user_variables"}


# --- harness._jira deliveries against the mock, in process -----------------------------------


@pytest.fixture
def mock() -> Iterator[TestClient]:
    """The embedded demo mock in process (virtual clock 400x)."""
    with TestClient(embedded_app(SCALE)) as client:
        yield client


def post(client: TestClient, delivery: JiraDelivery) -> int:
    """Send `delivery` to jira-triage's E4; its HTTP status code."""
    code: int = client.post(E4, content=delivery.body, headers=dict(delivery.headers)).status_code
    return code


def jira_runs(client: TestClient) -> list[dict[str, Any]]:
    """The runs the mock started from E4."""
    runs: list[dict[str, Any]] = client.get("/__admin/runs", params={"source": "jira"}).json()[
        "runs"
    ]
    return runs


DELIVERY = signed_delivery(issue_created(issue=JiraIssue(key="QA-7"), timestamp_ms=0), SECRET)


@pytest.mark.parametrize("defect", list(SignatureDefect))
def test_malformed_signatures_from_the_builder(mock: TestClient, defect: SignatureDefect) -> None:
    """Each malformed header is refused with 401 and no run, but upper-case hex (same digest)."""
    code = post(mock, with_malformed_signature(DELIVERY, defect))
    if defect is SignatureDefect.UPPER_CASE_HEX:
        assert (code, len(jira_runs(mock))) == (200, 1)
    else:
        assert (code, jira_runs(mock)) == (401, [])


@pytest.mark.parametrize(
    "derive",
    [with_tampered_body, without_signature, lambda d: with_wrong_secret(d, "other-secret")],
    ids=["tampered-body", "no-signature", "wrong-secret"],
)
def test_tampered_deliveries_from_the_builder_are_refused(
    mock: TestClient, derive: Callable[[JiraDelivery], JiraDelivery]
) -> None:
    """Tampered body, missing signature and another secret are each 401 and start nothing."""
    assert post(mock, derive(DELIVERY)) == 401
    assert jira_runs(mock) == []


@pytest.mark.parametrize(
    "payload",
    [
        issue_created(timestamp_ms=1),
        issue_updated(timestamp_ms=2),
        comment_created(body="Ünïcode ✓ comment", timestamp_ms=3),
    ],
    ids=["issue_created", "issue_updated", "comment_created"],
)
def test_each_jira_event_reaches_the_run_whole(mock: TestClient, payload: dict[str, Any]) -> None:
    """A signed delivery of each event starts one run whose user_variables are the payload."""
    delivery = signed_delivery(payload, SECRET)
    assert delivery.headers[SIGNATURE_HEADER] == jira_signature(delivery.body, SECRET)
    assert post(mock, delivery) == 200
    (run,) = jira_runs(mock)
    assert run["user_variables"] == payload
