"""The client's transport seam: any `Transport` plugs in, and the hot path reuses what repeats.

A transport returns an `Answer` or raises httpx's exceptions; the client maps those, redacts
what it records and reuses, per client, what an equal input already gave (the redacted request
of a spec, the redacted headers and envelope of the previous answer, one JSON decode per
exchange) without changing any value it records.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from harness import (
    ConnectError,
    OutcomeUnknown,
    RequestTimeout,
    Secret,
    TriggerClient,
    UsageError,
    fixed,
    mock_target,
)
from harness._models import Exchange
from harness._protocol import AnswerMemo, build_status, decode_envelope, make_exchange
from harness._redact import Redactor
from harness._transport import Answer, HttpxTransport, Received

KEY = "sk-live-0123456789"
TARGET = dataclasses.replace(
    mock_target(), base_url="http://target.test", embedded=False, api_key=Secret(KEY)
)
WORKFLOW_ID = "wf-1"


def envelope_body(status: str = "pending", **extra: Any) -> bytes:
    """An envelope as a target sends it."""
    body = {
        "workflow_id": WORKFLOW_ID,
        "response": {"workflow_id": WORKFLOW_ID} if status == "completed" else {},
        "status": status,
        "logs": [],
        "requires_input": False,
        "error": None,
        **extra,
    }
    return json.dumps(body).encode()


def answer(
    body: bytes, *, code: int = 200, date: str = "Tue, 01 Dec 2026 10:00:00 GMT"
) -> Received:
    """An answer with typical headers."""
    headers = [("date", date), ("content-type", "application/json")]
    return Received(status_code=code, headers=headers, body=body, sent_headers=[("Host", "t")])


class Scripted:
    """A `Transport` answering each request with the next scripted answer or raising it (the
    answer's `sent_headers` are the request's)."""

    def __init__(self, steps: Sequence[Received | Exception]) -> None:
        self.steps = list(steps)
        self.sent: list[tuple[str, str, list[tuple[bytes, bytes]], bytes, float]] = []

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout_s: float,
    ) -> Answer:
        """The next step."""
        self.sent.append((method, url, list(headers), body, timeout_s))
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        sent = [(name.decode(), value.decode()) for name, value in headers]
        return dataclasses.replace(step, sent_headers=sent)


def client(transport: Scripted, **kwargs: Any) -> TriggerClient:
    """A client of the test target (its key `KEY`) over `transport`."""
    return TriggerClient(TARGET, http=transport, sleep=lambda _: None, **kwargs)


def test_a_transport_plugs_in_and_its_answers_become_redacted_exchanges() -> None:
    """The client sends through any `Transport`: method, URL, header bytes, body, timeout."""
    transport = Scripted([answer(envelope_body()), answer(envelope_body("completed"))])
    history = client(transport).wait(WORKFLOW_ID, strategy=fixed(1.0))
    method, url, headers, body, timeout_s = transport.sent[0]
    assert (method, url, body) == (
        "GET",
        f"http://target.test/trigger/status/demo/{WORKFLOW_ID}",
        b"",
    )
    assert (b"Authorization", f"Bearer {KEY}".encode()) in headers
    assert timeout_s == TARGET.timeout_s
    assert history.final is not None
    assert history.final.status == "completed"
    first = history.start.exchange
    assert first.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert first.response_headers["content-type"] == "application/json"


def test_request_hooks_still_see_the_redacted_request() -> None:
    """Request hooks get the redacted spec (it is built only when a hook wants it)."""
    seen: list[Any] = []
    transport = Scripted([answer(envelope_body("completed"))])
    client(transport, event_hooks={"request": [seen.append]}).status(WORKFLOW_ID)
    assert seen[0].headers["Authorization"] == "Bearer [REDACTED]"


@pytest.mark.parametrize(
    ("error", "method", "expected"),
    [
        (httpx.ReadTimeout("slow"), "GET", RequestTimeout),
        (httpx.ReadTimeout("slow"), "POST", OutcomeUnknown),
        (httpx.ReadError("reset"), "POST", OutcomeUnknown),
        (httpx.ConnectError("refused"), "POST", ConnectError),
        (httpx.ConnectTimeout("slow"), "POST", RequestTimeout),
    ],
)
def test_a_transports_httpx_errors_are_mapped_as_httpxs_own(
    error: Exception, method: str, expected: type[Exception]
) -> None:
    """A transport raises httpx's exceptions; the client maps them once (`_transport`)."""
    if method == "GET":
        transport = Scripted([error] * 6)
        with pytest.raises(expected):
            client(transport).status(WORKFLOW_ID)
    else:
        with pytest.raises(expected):
            client(Scripted([error])).start()


def test_an_error_message_never_holds_the_key_of_the_url() -> None:
    """The URL in a transport error's message is redacted (only then)."""
    transport = Scripted([httpx.ReadTimeout(f"timed out on {KEY}")] * 6)
    with pytest.raises(RequestTimeout) as info:
        client(transport).status(KEY)
    assert KEY not in str(info.value)
    assert "[REDACTED]" in str(info.value)


def test_httpx_transport_reads_the_whole_answer_and_what_it_sent() -> None:
    """`HttpxTransport` returns status, headers in order, body and the headers httpx sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers=[("x-a", "1"), ("x-a", "2")], content=b"{}")

    transport = HttpxTransport(httpx.Client(transport=httpx.MockTransport(handler)))
    got = transport.send(
        "POST", "http://t.test/x", headers=[(b"X-Name", b"caf\xc3\xa9")], body=b"{}", timeout_s=1.0
    )
    assert (got.status_code, got.body) == (201, b"{}")
    assert [pair for pair in got.headers if pair[0] == "x-a"] == [("x-a", "1"), ("x-a", "2")]
    assert ("host", "t.test") in got.sent_headers
    assert ("x-name", "café") in got.sent_headers


def test_an_invalid_url_is_a_usage_error() -> None:
    """httpx refusing the URL is the caller's error, as before the seam."""
    http = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    with pytest.raises(UsageError, match="invalid URL"):
        TriggerClient(TARGET, http=http).request("GET", "http://exa\x00mple/x")


def test_the_memo_reuses_only_what_an_equal_input_gave() -> None:
    """Headers and bodies that repeat give the same values as computing them again."""
    memo, redactor = AnswerMemo(), Redactor([KEY])
    headers = [("content-type", "application/json"), ("x-echo", KEY)]
    first = memo.redact_headers(redactor, headers)
    assert (
        first
        == redactor.redact_headers(headers)
        == {
            "content-type": "application/json",
            "x-echo": "[REDACTED]",
        }
    )
    assert memo.redact_headers(redactor, list(headers)) is first
    other = memo.redact_headers(redactor, [("content-type", "text/plain")])
    assert other == {"content-type": "text/plain"}
    spec = build_status(TARGET, WORKFLOW_ID)
    pending, completed = envelope_body(), envelope_body("completed")
    for body in (pending, pending, completed, pending):
        exchange = make_exchange(
            spec, redactor, started_at=0.0, elapsed_s=0.0, status_code=200, response_body=body
        )
        assert memo.envelope(exchange) == decode_envelope(body)


def test_an_exchange_decodes_its_body_once_and_a_copy_decodes_its_own() -> None:
    """`Exchange.json` is read once and shared; `dataclasses.replace` starts afresh."""
    exchange = Exchange(
        endpoint=None,
        method="GET",
        url="u",
        request_headers={},
        request_body=b"",
        started_at=0.0,
        elapsed_s=0.0,
        status_code=200,
        response_headers={},
        response_body=b'{"a": 1}',
    )
    assert exchange.json() is exchange.json()
    assert exchange.json() == {"a": 1}
    assert dataclasses.replace(exchange, response_body=b"[1]").json() == [1]
    assert dataclasses.replace(exchange, response_body=b"not json").json() is None
    assert exchange == dataclasses.replace(exchange)
