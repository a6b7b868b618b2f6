"""The load users' fast path: geventhttpclient behind the transport seam, same verdicts as before.

`GeventTransport` (scenarios/_fast_transport.py) is driven against a mock served on 127.0.0.1
and against sockets that refuse, stay silent or hang up. The equivalence test replays the same
recorded answers through the old path (each exchange built and redacted afresh, its own JSON
decodes, a fresh result object per check) and the new one (a client reusing what repeats, one
decode per exchange, shared results of passed checks) and compares every judgement.
geventhttpclient uses gevent's sockets without patching the process, so this runs in process.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from harness import (
    CheckContext,
    ConnectError,
    Endpoint,
    Exchange,
    OutcomeUnknown,
    RequestTimeout,
    TriggerClient,
    fixed,
    mock_target,
)
from harness._embedded import embedded_app
from harness._protocol import build_raw, make_exchange
from harness._redact import Redactor
from harness._transport import Answer, HttpxTransport, Received
from harness.checks import ANY_ANSWER, Judgement, judge
from harness.checks import _registry as registry
from harness.checks._registry import CheckOutcome, CheckResult, check_results
from mock_server import serve_in_thread
from scenarios._fast_transport import GeventTransport

TIME_SCALE = 600.0
SHORT_TIMEOUT_S = 0.3
_HANG_UPS = 32
"""Connections the hang-up server takes, at most (geventhttpclient re-sends a GET up to twice,
the client retries it up to six times)."""


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """The demo world on 127.0.0.1, 600 times fast."""
    with serve_in_thread(embedded_app(TIME_SCALE)) as url:
        yield url


def client_of(url: str, http: Any, **changes: Any) -> TriggerClient:
    """A client of the demo target at `url`; its clock and sleeps run at the mock's scale."""
    target = dataclasses.replace(mock_target(), base_url=url, embedded=False, **changes)
    return TriggerClient(
        target,
        http=http,
        clock=lambda: time.monotonic() * TIME_SCALE,
        sleep=lambda seconds: time.sleep(seconds / TIME_SCALE),
    )


def test_a_flow_runs_through_geventhttpclient(mock_url: str) -> None:
    """E2 then E3 until final over `GeventTransport`; what is recorded is redacted."""
    transport = GeventTransport(connections=2)
    try:
        history = client_of(mock_url, transport).start_and_wait(strategy=fixed(5.0))
    finally:
        transport.close()
    assert history.final is not None
    sent = history.polls[0].exchange.request_headers
    assert sent["Authorization"] == "Bearer [REDACTED]"
    assert sent["Host"] == mock_url.removeprefix("http://")
    assert history.polls[-1].exchange.response_headers["content-type"] == "application/json"


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def silent_server() -> Iterator[str]:
    """A socket that takes connections (its backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def hang_up_server() -> Iterator[str]:
    """A server that reads each request and closes the connection without an answer."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(5.0)

    def serve() -> None:
        for _ in range(_HANG_UPS):
            try:
                connection, _ = sock.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
        thread.join(timeout=10)


def fail_with(url: str, call: str) -> Exception:
    """What `start` (`POST`) or `status` (`GET`, retries included) raises against `url`."""
    transport = GeventTransport(connections=1, connect_timeout_s=SHORT_TIMEOUT_S)
    client = client_of(url, transport, timeout_s=SHORT_TIMEOUT_S)
    try:
        client.start() if call == "POST" else client.status("wf-1")
    except Exception as exc:  # the point is which one
        return exc
    finally:
        transport.close()
    raise AssertionError("no failure")


def test_a_refused_connection_started_nothing() -> None:
    """Connection refused is `ConnectError`, even for a POST (nothing was sent)."""
    error = fail_with(f"http://127.0.0.1:{free_port()}", "POST")
    assert type(error) is ConnectError


@pytest.mark.parametrize(("call", "expected"), [("GET", RequestTimeout), ("POST", OutcomeUnknown)])
def test_no_answer_in_time(call: str, expected: type[Exception]) -> None:
    """A request sent but never answered: a POST may have started a run."""
    with silent_server() as url:
        error = fail_with(url, call)
    assert type(error) is expected
    assert "no answer in time" in str(error)


@pytest.mark.parametrize(("call", "expected"), [("GET", ConnectError), ("POST", OutcomeUnknown)])
def test_a_connection_lost_before_the_answer(call: str, expected: type[Exception]) -> None:
    """The server hangs up after reading the request: a POST may have started a run."""
    with hang_up_server() as url:
        error = fail_with(url, call)
    assert type(error) is expected
    assert "connection lost before the answer" in str(error)


# --- the same verdicts --------------------------------------------------------------------------


class Recorder:
    """A `Transport` over httpx that keeps every (method, url, headers, body) and its answer."""

    def __init__(self, http: HttpxTransport) -> None:
        self.http = http
        self.records: list[tuple[str, str, dict[str, str], bytes, Answer]] = []

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> Answer:
        """Send through httpx and record the answer."""
        answer = self.http.send(method, url, headers=headers, body=body, timeout_s=timeout_s)
        plain = {name.decode(): value.decode() for name, value in headers}
        plain.pop("Authorization", None)
        self.records.append((method, url, plain, body, answer))
        return answer


class Replay:
    """A `Transport` giving back recorded answers in order."""

    def __init__(self, answers: Sequence[Answer]) -> None:
        self.answers = iter(answers)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> Answer:
        """The next recorded answer."""
        return next(self.answers)


def recorded_flows(url: str) -> list[tuple[str, str, dict[str, str], bytes, Answer]]:
    """Real answers of the mock: background and sync flows, a bad key, an unknown run."""
    import httpx  # noqa: PLC0415 - the recording side only

    with httpx.Client() as http:
        recorder = Recorder(HttpxTransport(http))
        client = client_of(url, recorder)
        for _ in range(2):
            client.start_and_wait(strategy=fixed(5.0))
        client.run_sync()
        client.request("GET", "/trigger/status/demo/not-a-run")
        client.request("POST", "/trigger/start/demo/nightly-report/DEV", auth="Bearer wrong-key")
    return recorder.records


def crafted(url: str) -> list[tuple[str, str, dict[str, str], bytes, Answer]]:
    """Answers that break invariants or ask open questions, each twice (a repeat may be reused),
    the second time with another Date."""
    status_url = f"{url}/trigger/status/demo/wf-1"
    good = {
        "workflow_id": "wf-1",
        "response": {},
        "status": "pending",
        "logs": [],
        "requires_input": False,
        "error": None,
    }
    bodies: list[tuple[int, object, str]] = [
        (200, good, "application/json"),
        (200, {**good, "status": "failed"}, "application/json"),
        (200, {**good, "workflow_id": "wf-2"}, "application/json"),
        (200, {**good, "logs": [{"time": "2026-13-40 99:00:00"}]}, "application/json"),
        (200, {**good, "status": "cancelled"}, "application/json"),
        (200, good, "text/plain"),
        (200, "not an envelope", "application/json"),
        (401, {"detail": "nope"}, "application/json"),
        (404, {}, "application/json"),
        (429, {"detail": "slow down"}, "application/json"),
        (500, {"detail": "boom"}, "application/json"),
    ]
    records: list[tuple[str, str, dict[str, str], bytes, Answer]] = []
    for (code, payload, media), date in itertools.product(bodies, ("10:00:00", "10:00:01")):
        text = json.dumps(payload).encode() if payload != "not an envelope" else b"{oops"
        headers = [("date", f"Tue, 01 Dec 2026 {date} GMT"), ("content-type", media)]
        answer = Received(status_code=code, headers=headers, body=text, sent_headers=[])
        records.append(("GET", status_url, {"Accept": "application/json"}, b"", answer))
    return records


def fresh_results(
    name: str, title: str, invariant: int | None, outcome: CheckOutcome
) -> CheckResult:
    """The old path's result of a passed (or skipped) check: a new object each time."""
    return CheckResult(name=name, title=title, invariant=invariant, outcome=outcome)


def shown(judgement: Judgement, results: list[CheckResult]) -> tuple[object, ...]:
    """Everything a judgement and the check results say, as comparable values."""
    violations = tuple((v.title, str(v), v.severity) for v in judgement.violations)
    notes = tuple((n.question_id, n.title, n.observed, n.same) for n in judgement.notes)
    checks = tuple(
        (r.name, r.title, r.invariant, r.outcome, r.violation and str(r.violation)) for r in results
    )
    return (judgement.verdict, judgement.reason, judgement.invariant, violations, notes, checks)


def test_old_and_new_paths_give_the_same_verdicts(
    mock_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every recorded answer, through both paths: equal exchanges, results and judgements."""
    records = recorded_flows(mock_url) + crafted(mock_url)
    target = dataclasses.replace(mock_target(), base_url=mock_url, embedded=False)
    contexts = [
        CheckContext(log_window=5, expected_workflow_id="wf-1"),
        CheckContext(log_window=5, authorized=False),
    ]
    new: list[Exchange] = []
    ticks = itertools.count()
    client = TriggerClient(
        target,
        http=Replay([answer for *_, answer in records]),
        clock=lambda: float(next(ticks)),
        event_hooks={"response": [new.append]},
    )
    for method, url, headers, body, _ in records:
        client.request(method, url, headers=headers, content=body)
    new_verdicts = [
        shown(judge(ctx, exchange, ANY_ANSWER), check_results(ctx, exchange))
        for exchange in new
        for ctx in contexts
    ]
    redactor = Redactor(target.secret_values())
    old: list[Exchange] = []
    for (method, url, headers, body, answer), made in zip(records, new, strict=True):
        spec = build_raw(target, method, url, headers=headers, content=body)
        old.append(
            make_exchange(
                spec,
                redactor,
                sent_headers=answer.sent_headers,
                started_at=made.started_at,
                elapsed_s=made.elapsed_s,
                status_code=answer.status_code,
                response_headers=answer.headers,
                response_body=answer.body,
            )
        )
    monkeypatch.setattr(registry, "_unfailed", fresh_results)
    old_verdicts = [
        shown(judge(ctx, exchange, ANY_ANSWER), check_results(ctx, exchange))
        for exchange in old
        for ctx in contexts
    ]
    assert new == old
    assert new_verdicts == old_verdicts
    kinds = {verdict[0] for verdict in new_verdicts}
    assert {"conforming", "violation", "inconclusive"} <= kinds
    assert any(exchange.endpoint is Endpoint.SYNC for exchange in new)
