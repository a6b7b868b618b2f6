"""Fuzzing a correct implementation that answers every open question unlike the mock.

`Differing` wraps the embedded mock in a pure-ASGI rewriter that chooses otherwise on each open
question the fuzzer asks: E2/E4 answer 202 (A6), a lower-case environment is accepted (A5),
the body parser is lenient like Python's `json` and Go's `json.Decoder` (NaN, invalid UTF-8,
trailing data, null fields as absent, any content type: A7), refusals are 400 rather than
422, 404 texts differ (A3, A4), a key used on another workspace gets 404 rather than 401
(A3, A4), a bad Jira signature gets 403 (A12) and 401s carry no `WWW-Authenticate` (X1).
Every invariant still holds, so fuzzing it finds nothing and reports notes instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness._embedded import MOCK_LOG_WINDOW, embedded_app, open_session
from harness._jira import signed_delivery
from harness._models import Endpoint
from harness._targets import mock_target
from harness.cli._edge import Edge, report_run
from harness.cli._fuzz import fuzz_stage
from harness.fuzz import (
    PROPERTIES,
    FuzzBudget,
    FuzzContext,
    FuzzMeter,
    Property,
    run_machine,
    run_property,
)
from harness.strategies import RawBody

SCALE = 1000.0
Headers = list[tuple[bytes, bytes]]
_ENV = re.compile(r"/(dev|uat|prod)$")
_KEY = b"Bearer demo-key"
_FIELDS = ("message", "user_variables")


def _kind(path: str) -> str:
    if path.startswith("/trigger/status/"):
        return "E3"
    if path.startswith("/trigger/start/"):
        return "E2"
    if path.startswith("/trigger/jira/start/"):
        return "E4"
    return "E1" if path.startswith("/trigger/") else "other"


def _lenient(body: bytes) -> bytes:
    """What a lenient parser makes of `body`: the first JSON value (NaN/Infinity as null,
    invalid UTF-8 replaced, trailing data ignored, null fields dropped), else `body`."""
    try:
        value, _ = json.JSONDecoder(parse_constant=lambda _: None).raw_decode(
            body.decode("utf-8", "replace")
        )
    except ValueError:
        return body
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if v is not None or k not in _FIELDS}
        value.setdefault("message", "")
    return json.dumps(value).encode()


class Differing:
    """The embedded mock, answering every open question the fuzzer asks unlike its default."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _kind(scope["path"]) == "other":
            await self.app(scope, receive, send)
            return
        scope, receive = await self._rewrite_request(scope, receive)
        status, headers, body = await self._buffered(scope, receive)
        status, headers, body = self._rewrite_answer(scope, status, headers, body)
        kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length",)]
        kept.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": body})

    async def _rewrite_request(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        kind, path = _kind(scope["path"]), scope["path"]
        if kind in ("E1", "E2", "E4"):
            path = _ENV.sub(lambda m: "/" + m.group(1).upper(), path)
        headers = [
            (k, b"application/json" if k.lower() == b"content-type" else v)
            for k, v in scope["headers"]
        ]
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if kind in ("E1", "E2") and scope["method"] == "POST":
            body = _lenient(body)
            if not any(k.lower() == b"content-type" for k, _ in headers):
                headers.append((b"content-type", b"application/json"))
        replayed = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive_again() -> Message:
            # After the body, wait for the real disconnect (E1 listens for it while it runs).
            return next(replayed, None) or await receive()

        return {**scope, "path": path, "raw_path": path.encode(), "headers": headers}, receive_again

    async def _buffered(self, scope: Scope, receive: Receive) -> tuple[int, Headers, bytes]:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        return start["status"], list(start.get("headers", [])), b"".join(chunks)

    def _rewrite_answer(
        self, scope: Scope, status: int, headers: Headers, body: bytes
    ) -> tuple[int, Headers, bytes]:
        kind = _kind(scope["path"])
        keyed = (b"authorization", _KEY) in [(k.lower(), v) for k, v in scope["headers"]]
        headers = [(k, v) for k, v in headers if k.lower() != b"www-authenticate"]
        if status == 200 and kind in ("E2", "E4"):
            return 202, headers, body
        if status == 401 and kind == "E4":
            return 403, headers, b'{"detail": "Signature rejected"}'
        if status == 401 and keyed:
            return 404, headers, b'{"detail": "No such workspace or run here"}'
        if status == 404:
            return 404, headers, b'{"detail": "Nothing here by that name"}'
        if status == 422:
            return 400, headers, b'{"detail": "Bad request body or path"}'
        return status, headers, body


@pytest.fixture
def differing() -> Iterator[FuzzContext]:
    """A fuzz context on `Differing` (not exact: its answers need not be the mock's)."""
    app = Differing(embedded_app(SCALE))
    with open_session(mock_target(), time_scale=SCALE, app=app) as session:
        yield FuzzContext(
            target=session.target,
            client=session.client(),
            http=session.http,
            meter=FuzzMeter(),
            admin=session.admin,
            log_window=MOCK_LOG_WINDOW,
            sleep=session.sleep,
        )


def _property(name: str) -> Property:
    return next(prop for prop in PROPERTIES if prop.name == name)


def _observed(ctx: FuzzContext, question_id: str) -> list[str]:
    return [note.observed for note in ctx.notes.values() if note.question_id == question_id]


def test_202_from_e2_is_an_observation_not_start_refused(differing: FuzzContext) -> None:
    """E2 answering 202 to a valid payload is A6, noted; the run is followed to its end."""
    _property("valid_payload_accepted").check(
        differing, {"message": "hi", "user_variables": {"n": 1}}
    )
    assert "HTTP 202" in _observed(differing, "A6")
    assert not all(note.same for note in differing.notes.values())
    assert differing.meter.requests >= 2


def test_202_from_e4_is_an_observation_not_jira_delivery_refused(differing: FuzzContext) -> None:
    """A signed Jira delivery answered 202 is A6, noted; the run is followed to its end."""
    delivery = signed_delivery({"webhookEvent": "jira:issue_created", "n": 3}, "demo-jira-secret")
    _property("jira_delivery_accepted").check(differing, delivery)
    assert "HTTP 202" in _observed(differing, "A6")
    assert differing.meter.requests >= 2


def test_lower_case_environment_accepted_is_an_observation(differing: FuzzContext) -> None:
    """`.../quick-answer/dev` answered 200 is A5 (accepted), not "Odd environment id not
    refused"."""
    _property("odd_ids_refused").check(differing, ("environment", Endpoint.SYNC, "dev"))
    assert any("accepted" in observed for observed in _observed(differing, "A5"))


def test_odd_environment_refused_with_404_is_an_observation(differing: FuzzContext) -> None:
    """An unknown environment refused with 400 instead of 422 is A5 noted, never a finding."""
    _property("odd_ids_refused").check(differing, ("environment", Endpoint.START, "STAGING"))
    assert any("HTTP 400" in observed for observed in _observed(differing, "A5"))


@pytest.mark.parametrize(
    "content",
    [
        b'{"message": "hi", "user_variables": {"x": NaN}}',
        b'{"message": "hi", "user_variables": {"x": -Infinity}}',
        b'{"message": "hi"} trailing',
        b'{"message": "caf\xe9"}',
    ],
    ids=["nan", "minus-infinity", "trailing", "latin-1"],
)
def test_a_lenient_parser_accepting_is_an_observation(
    differing: FuzzContext, content: bytes
) -> None:
    """NaN/Infinity, trailing data or a Latin-1 byte accepted is A7 noted, not "Invalid body
    not refused"."""
    body = RawBody(
        content=content,
        content_type="application/json",
        why="not strict JSON",
        kind="invalid_json",
        documented_invalid=False,
    )
    _property("invalid_payload_refused").check(differing, (Endpoint.START, body))
    assert any("accepted" in observed for observed in _observed(differing, "A7"))


def test_a_documented_invalid_body_refused_with_400_is_conforming(differing: FuzzContext) -> None:
    """A truncated body refused with 400 (not 422) keeps invariant 7; the code is noted (A7)."""
    body = RawBody(
        content=b'{"message": "h',
        content_type="application/json",
        why="truncated",
        kind="invalid_json",
        documented_invalid=True,
    )
    _property("invalid_payload_refused").check(differing, (Endpoint.SYNC, body))
    assert any("HTTP 400" in observed for observed in _observed(differing, "A7"))


def test_another_workspace_answered_404_is_an_observation(differing: FuzzContext) -> None:
    """E3 and E2 under another workspace answered 404 (not the mock's 401) are A3/A4 notes."""
    check = _property("odd_ids_refused").check
    check(differing, ("foreign_workflow", Endpoint.STATUS, "3f1c2a9e-0000-4000-8000-000000000001"))
    check(differing, ("workspace", Endpoint.START, "someone-else"))
    assert any("HTTP 404" in observed for observed in _observed(differing, "A3"))
    assert any("HTTP 404" in observed for observed in _observed(differing, "A4"))


BUDGET = FuzzBudget(profile="ci", max_examples=6, seed=2)


@pytest.mark.parametrize("prop", PROPERTIES, ids=[prop.name for prop in PROPERTIES])
def test_every_property_finds_nothing_on_a_differing_implementation(
    differing: FuzzContext, prop: Property
) -> None:
    """Each property, a few examples, against `Differing`: no finding, no error."""
    result = run_property(differing, prop, BUDGET)
    assert result.finding is None, result.case.message
    assert result.case.outcome == "passed", result.case.message


def test_the_state_machine_finds_nothing_on_a_differing_implementation(
    differing: FuzzContext,
) -> None:
    """The state machine against `Differing` (E2/E4 202, 404s elsewhere): nothing found, and
    the 202 is noted (A6) rather than reported as "Start refused"."""
    result = run_machine(differing, replace(BUDGET, max_examples=8, seed=4))
    assert result.finding is None, result.case.message
    assert result.case.outcome == "passed", result.case.message
    assert "HTTP 202" in _observed(differing, "A6")


def test_fuzz_stage_puts_notes_in_the_open_questions_section(tmp_path: Path) -> None:
    """`fuzz` on `Differing` exits 0 and its report holds the notes, not findings."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    target = mock_target()
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=FuzzBudget(profile="ci", max_examples=3, seed=5),
            database=None,
            properties=[_property("valid_payload_accepted"), _property("odd_ids_refused")],
            machine=False,
            app=Differing(embedded_app(SCALE)),
        )
    assert outcome.ok
    assert run.exit_code == 0
    results = json.loads((run.folder.path / "results.json").read_text())
    assert results["findings"] == []
    a6 = [note for note in results["notes"] if note["question_id"] == "A6"]
    assert a6
    assert a6[0]["observed"] == "HTTP 202"
    assert a6[0]["same"] is False
