"""The sync client over scripted httpx transports: errors, retries, polling, hooks, redaction."""

from __future__ import annotations

import calendar
import dataclasses
import email.utils
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from harness import (
    ApiError,
    AuthRejected,
    ConfigError,
    ConnectError,
    Exchange,
    MalformedResponse,
    OutcomeUnknown,
    PollTimeout,
    RateLimited,
    RequestSpec,
    RequestTimeout,
    Secret,
    ServerError,
    Target,
    TransportError,
    TriggerClient,
    UsageError,
    backoff,
    fixed,
    mock_target,
)
from harness._exceptions import ContractViolation
from harness._models import StopReason
from harness._protocol import SYNC_SLACK_S
from harness._transport import map_transport_errors
from harness.checks import CheckContext, assert_checks, run_history_checks

KEY = "sk-live-0123456789"
JIRA = "jira-hush-9876"


def envelope(status: str = "pending", workflow_id: str = "wf-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workflow_id": workflow_id,
        "response": {"workflow_id": workflow_id} if status == "completed" else {},
        "status": status,
        "logs": [],
        "requires_input": False,
        "error": "boom" if status == "failed" else None,
    }
    body.update(extra)
    return body


def ok(status: str = "pending", **extra: Any) -> httpx.Response:
    return httpx.Response(200, json=envelope(status, **extra))


def reset() -> httpx.ReadError:
    return httpx.ReadError("Connection reset by peer")


class Script:
    """A MockTransport handler answering each request with the next scripted step."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class FakeTime:
    """An injected clock and sleep: sleeping advances the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def real_target(**changes: Any) -> Target:
    fields: dict[str, Any] = {
        "name": "real",
        "base_url": "https://app.phinite.ai/api/v1/ai",
        "embedded": False,
        "api_key": Secret(KEY),
        "jira_secret": Secret(JIRA),
    }
    return dataclasses.replace(mock_target(), **{**fields, **changes})


def make_client(
    script: Callable[[httpx.Request], httpx.Response],
    time: FakeTime | None = None,
    **kwargs: Any,
) -> TriggerClient:
    time = time or FakeTime()
    kwargs.setdefault("retry", backoff(0.5, factor=2.0, cap_s=8.0, max_attempts=4))
    return TriggerClient(
        real_target(),
        http=httpx.Client(transport=httpx.MockTransport(script)),
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(0),
        **kwargs,
    )


def test_scripted_wait_records_every_poll_and_honours_retry_after() -> None:
    """wait() over pending, 503, reset, 429 Retry-After: 3, completed records all five polls."""
    script = Script(
        ok("pending"),
        ok("pending"),
        httpx.Response(503, json={"detail": "busy"}),
        reset(),
        httpx.Response(429, headers={"Retry-After": "3"}, json={"detail": "slow down"}),
        ok("completed"),
    )
    time = FakeTime()
    client = make_client(script, time)
    history = client.start_and_wait(strategy=fixed(5))
    assert [o.status_code for o in history.polls] == [200, 503, None, 429, 200]
    assert time.sleeps == [5.0, 5.0, 0.5, 1.0, 3.0]
    assert history.final is not None
    assert history.final.status == "completed"
    assert not history.timed_out
    assert history.workflow_id == "wf-1"
    assert history.start.envelope is not None
    assert history.start.envelope.status == "pending"
    assert [o.at for o in history.polls] == [1005.0, 1010.0, 1010.5, 1011.5, 1014.5]
    assert "ReadError" in (history.polls[2].exchange.error or "")
    assert history.polls[3].exchange.response_body == b'{"detail":"slow down"}'
    assert [r.method for r in script.requests] == ["POST"] + ["GET"] * 5
    assert str(script.requests[1].url) == (
        "https://app.phinite.ai/api/v1/ai/trigger/status/demo/wf-1"
    )


def test_deadline_returns_a_timed_out_history() -> None:
    """A run still pending at the deadline is timed out after a last poll at the deadline."""
    script = Script(*(ok("pending") for _ in range(4)))
    time = FakeTime()
    client = make_client(script, time)
    history = client.wait("wf-1", strategy=fixed(5), deadline_s=12)
    assert history.timed_out
    assert history.final is None
    assert history.deadline_s == 12
    assert time.sleeps == [5.0, 5.0, 2.0]
    assert len(history.observations) == 4  # without `start`, the first poll is the start


def test_wait_or_raise_raises_poll_timeout_with_history() -> None:
    """wait_or_raise raises PollTimeout carrying the workflow id, attempts and the history."""
    script = Script(*(ok("pending") for _ in range(3)))
    client = make_client(script)
    start = client.start()
    with pytest.raises(PollTimeout) as info:
        client.wait_or_raise("wf-1", strategy=fixed(5), deadline_s=10, start=start)
    assert info.value.workflow_id == "wf-1"
    assert info.value.attempts == 2
    assert info.value.history is not None
    assert info.value.history.timed_out
    assert info.value.elapsed_s == 10.0


def test_wait_stops_on_auth_rejection_and_wait_or_raise_raises_it() -> None:
    """A 401 while polling ends the history unfinished; wait_or_raise raises AuthRejected."""
    client = make_client(Script(ok("pending"), httpx.Response(401, json={"detail": "no"})))
    history = client.wait("wf-1", strategy=fixed(1))
    assert history.final is None
    assert not history.timed_out
    assert history.polls[-1].status_code == 401
    client = make_client(Script(httpx.Response(401, json={"detail": "no"})))
    with pytest.raises(AuthRejected):
        client.wait_or_raise("wf-1")


def test_post_reset_raises_outcome_unknown_after_one_request() -> None:
    """A connection reset on E2 raises OutcomeUnknown and the POST is never retried."""
    script = Script(reset(), ok())
    client = make_client(script)
    with pytest.raises(OutcomeUnknown) as info:
        client.start()
    assert len(script.requests) == 1
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert info.value.exchange is not None
    assert info.value.exchange.status_code is None
    assert "POST https://app.phinite.ai/api/v1/ai/trigger/start/demo" in str(info.value)


def test_post_connect_failure_is_connect_error_not_outcome_unknown() -> None:
    """A POST whose connection was never made raises ConnectError: no run can have started."""
    script = Script(httpx.ConnectError("refused"))
    with pytest.raises(ConnectError) as info:
        make_client(script).run_sync()
    assert not isinstance(info.value, OutcomeUnknown)


def test_read_timeout_on_post_is_outcome_unknown() -> None:
    """A read timeout on E1 raises OutcomeUnknown after exactly one request."""
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown, match="no answer in time"):
        make_client(script).run_sync()
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (httpx.Response(401, json={"detail": "Invalid authentication credentials"}), AuthRejected),
        (httpx.Response(429, headers={"Retry-After": "2"}, json={"detail": "x"}), RateLimited),
        (httpx.Response(504, json={"detail": "Flow did not finish"}), ServerError),
        (httpx.Response(422, json={"detail": []}), ApiError),
        (httpx.Response(200, json={"workflow_id": "x"}), MalformedResponse),
    ],
)
def test_run_sync_and_start_map_answers_to_the_tree(
    response: httpx.Response, error_type: type[Exception]
) -> None:
    """Non-2xx and malformed answers on E1 and E2 raise the matching exception, unretried."""
    for call in ("run_sync", "start"):
        script = Script(response)
        with pytest.raises(error_type) as info:
            getattr(make_client(script), call)()
        assert type(info.value) is error_type
        assert len(script.requests) == 1


def test_run_sync_uses_the_sync_limit_timeout_and_returns_final() -> None:
    """E1 posts the body, waits up to sync_limit_s plus slack and returns the final envelope."""
    script = Script(ok("completed"))
    observation = make_client(script).run_sync(message="go", user_variables={"a": "b"})
    assert observation.envelope is not None
    assert observation.envelope.status == "completed"
    request = script.requests[0]
    assert request.extensions["timeout"]["read"] == 150.0 + SYNC_SLACK_S
    assert json.loads(request.content) == {"message": "go", "user_variables": {"a": "b"}}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert str(request.url).endswith("/trigger/demo/quick-answer/DEV")


def test_status_retries_transient_failures_then_succeeds() -> None:
    """status() retries 503 and a reset with backoff and returns the eventual answer."""
    script = Script(httpx.Response(503), reset(), ok("completed"))
    time = FakeTime()
    observation = make_client(script, time).status("wf-1")
    assert observation.envelope is not None
    assert observation.envelope.is_final
    assert time.sleeps == [0.5, 1.0]


def test_status_gives_up_after_max_attempts() -> None:
    """status() raises the last transient error after max_attempts tries."""
    script = Script(*(httpx.Response(500) for _ in range(4)))
    with pytest.raises(ServerError):
        make_client(script).status("wf-1")
    assert len(script.requests) == 4


def test_status_does_not_retry_a_404() -> None:
    """status() raises ApiError for 404 at once."""
    script = Script(httpx.Response(404, json={"detail": "Workflow not found"}))
    with pytest.raises(ApiError, match="404"):
        make_client(script).status("nope")
    assert len(script.requests) == 1


def test_send_jira_posts_body_and_signature_without_bearer() -> None:
    """send_jira posts the raw body with the given X-Hub-Signature and no Authorization."""
    script = Script(ok("pending"))
    make_client(script).send_jira(b'{"issue": {}}', signature="sha256=abc")
    request = script.requests[0]
    assert request.content == b'{"issue": {}}'
    assert request.headers["x-hub-signature"] == "sha256=abc"
    assert "authorization" not in request.headers
    assert str(request.url).endswith("/trigger/jira/start/demo/jira-triage/DEV")


def test_raw_request_never_raises_on_status() -> None:
    """request() returns 5xx/4xx exchanges, sends no key when auth=False, and does not retry."""
    script = Script(httpx.Response(500, text="oops"), httpx.Response(401))
    client = make_client(script)
    first = client.request("DELETE", "/trigger/status/demo/x", auth=False)
    assert first.status_code == 500
    assert first.response_body == b"oops"
    assert "authorization" not in script.requests[0].headers
    second = client.request("GET", "/trigger/x", auth="Bearer wrong")
    assert second.status_code == 401
    assert script.requests[1].headers["authorization"] == "Bearer wrong"


def test_raw_request_transport_failure_raises_with_exchange() -> None:
    """A raw GET that gets no answer raises ConnectError carrying a redacted exchange."""
    with pytest.raises(ConnectError) as info:
        make_client(Script(reset())).request("GET", "/trigger/x")
    assert info.value.exchange is not None
    assert info.value.exchange.error


def test_hooks_see_every_attempt_redacted_and_secrets_never_leak() -> None:
    """Hooks run per attempt; no hook argument, history or error text contains a secret."""
    seen: list[RequestSpec | Exchange] = []
    echo = json.dumps({"detail": f"bad key {KEY}", "jira": JIRA}).encode()
    script = Script(
        ok("pending", response={"echo": KEY}),
        httpx.Response(503, content=echo, headers={"X-Echo": KEY}),
        reset(),
        ok("completed"),
        httpx.Response(401, content=echo),
        httpx.Response(400, content=echo),
    )
    client = make_client(script, event_hooks={"request": [seen.append], "response": [seen.append]})
    history = client.start_and_wait(strategy=fixed(1))
    with pytest.raises(AuthRejected) as auth_error:
        client.run_sync()
    with pytest.raises(ApiError) as api_error:
        client.send_jira(b"{}", signature="sha256=feedface")
    assert len(seen) == 2 * len(script.requests) == 12
    texts = [repr(item) for item in seen]
    texts += [repr(history), str(auth_error.value), str(api_error.value)]
    texts += [repr(api_error.value.exchange), repr(client)]
    for text in texts:
        assert KEY not in text
        assert JIRA not in text
        assert "feedface" not in text
    assert any("[REDACTED]" in text for text in texts)
    assert script.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_unresolved_key_variable_is_refused() -> None:
    """A target with api_key_env but no key read yet cannot build a client."""
    target = dataclasses.replace(mock_target(), api_key=None, api_key_env="PHINITE_KEY")
    with pytest.raises(ConfigError, match=r"targets\.mock\.api_key_env"):
        TriggerClient(target, http=httpx.Client())


def test_unknown_hook_kind_is_refused() -> None:
    """An event_hooks key other than request/response is a usage error naming it."""
    with pytest.raises(UsageError, match="'sent'"):
        TriggerClient(mock_target(), http=httpx.Client(), event_hooks={"sent": []})


@pytest.mark.parametrize(
    ("base_url", "prefix"),
    [
        ("https://app.phinite.ai/api/v1/ai", "https://app.phinite.ai/api/v1/ai/trigger"),
        ("https://ai-core.phinite.ai/", "https://ai-core.phinite.ai/trigger"),
    ],
)
def test_respx_routes_for_both_prefixes(base_url: str, prefix: str) -> None:
    """Requests reach the documented paths under both the gateway and the direct prefix."""
    target = real_target(base_url=base_url)
    with respx.mock(assert_all_called=True) as router:
        start = router.post(f"{prefix}/start/demo/nightly-report/DEV").respond(json=envelope())
        status = router.get(f"{prefix}/status/demo/wf-1").respond(json=envelope("completed"))
        with httpx.Client() as http:
            history = TriggerClient(target, http=http, sleep=lambda _: None).start_and_wait()
    assert history.final is not None
    assert start.call_count == 1
    assert status.call_count == 1


def test_embedded_target_over_starlette_test_client() -> None:
    """The embedded target's http://testserver URLs work over starlette's TestClient."""

    async def status(request: Request) -> JSONResponse:
        workflow_id = request.path_params["workflow_id"]
        assert request.headers["authorization"] == "Bearer demo-key"
        return JSONResponse(envelope("completed", workflow_id=workflow_id))

    app = Starlette(routes=[Route("/trigger/status/{ws}/{workflow_id}", status)])
    with TestClient(app) as http:
        observation = TriggerClient(mock_target(), http=http).status("run-7")
    assert observation.envelope is not None
    assert observation.envelope.workflow_id == "run-7"


@pytest.mark.parametrize(
    ("raised", "may_have_run", "expected"),
    [
        (httpx.ConnectError("refused"), True, ConnectError),
        (httpx.ConnectTimeout("slow"), True, RequestTimeout),
        (httpx.PoolTimeout("busy"), True, RequestTimeout),
        (httpx.ReadTimeout("slow"), False, RequestTimeout),
        (httpx.ReadTimeout("slow"), True, OutcomeUnknown),
        (httpx.WriteError("broken"), True, OutcomeUnknown),
        (httpx.RemoteProtocolError("closed"), False, ConnectError),
        (httpx.UnsupportedProtocol("ftp"), True, TransportError),
        (httpx.LocalProtocolError("bad header"), True, UsageError),
        (httpx.InvalidURL("bad"), False, UsageError),
    ],
)
def test_transport_errors_map_into_the_tree(
    raised: Exception, may_have_run: bool, expected: type[Exception]
) -> None:
    """Each httpx failure becomes one harness error, chained, naming the method and URL."""
    context = map_transport_errors("POST", "https://h/trigger/x", may_have_run=may_have_run)
    with pytest.raises(expected) as info, context:
        raise raised
    assert type(info.value) is expected
    assert info.value.__cause__ is raised
    assert "POST https://h/trigger/x" in str(info.value)


def test_transport_error_message_is_redacted() -> None:
    """httpx's own message passes through the redactor before it reaches the error."""
    context = map_transport_errors("GET", "u", redact=lambda s: s.replace(KEY, "***"))
    with pytest.raises(ConnectError) as info, context:
        raise httpx.ConnectError(f"failed for {KEY}")
    assert KEY not in str(info.value)


def test_wait_honours_a_retry_after_http_date() -> None:
    """A 429 whose Retry-After is an HTTP-date waits until that date by the injected wall clock."""
    wall = 1_800_000_000.0
    date = email.utils.formatdate(wall + 20, usegmt=True)
    script = Script(httpx.Response(429, headers={"Retry-After": date}), ok("completed"))
    time = FakeTime()
    history = make_client(script, time, wall_clock=lambda: wall).wait("wf-1")
    assert history.final is not None
    assert time.sleeps == [20.0]


# --- why following stopped, Retry-After bounds, the number model (issue 13) -------------------


def limited(retry_after: bytes) -> httpx.Response:
    return httpx.Response(429, headers=[(b"Retry-After", retry_after)], json={"detail": "slow"})


@pytest.mark.parametrize("raw", [b"\xb2", "\u0663".encode(), b"\xff\xfe", b"1.5"])
def test_unusable_retry_after_bytes_never_crash_status_or_start(raw: bytes) -> None:
    """0xB2 ("²" once decoded), "٣" and other junk are unusable: the backoff applies, no crash."""
    time = FakeTime()
    script = Script(limited(raw), ok("pending"), limited(raw), ok("pending"))
    client = make_client(script, time)
    assert client.status("wf-1").envelope is not None
    assert client.start(retry_rate_limited=True).envelope is not None
    assert time.sleeps == [0.5, 0.5]  # the policy's first backoff, not a misread "3"


def test_asctime_retry_after_is_honoured() -> None:
    """`Retry-After: Fri Jan 15 08:00:30 2027` (asctime, UTC) waits the 30 s it names."""
    wall = float(calendar.timegm((2027, 1, 15, 8, 0, 0, 0, 0, 0)))
    script = Script(limited(b"Fri Jan 15 08:00:30 2027"), ok("completed"))
    time = FakeTime()
    make_client(script, time, wall_clock=lambda: wall).status("wf-1")
    assert time.sleeps == [30.0]


def test_a_day_long_retry_after_is_bounded_by_max_wait_and_the_call_deadline() -> None:
    """`Retry-After: 86400` waits at most max_wait_s, and not at all past the call's deadline."""
    time = FakeTime()
    script = Script(limited(b"86400"), ok("pending"))
    client = make_client(script, time, retry=backoff(0.5, max_wait_s=20.0))
    assert client.status("wf-1").envelope is not None
    assert time.sleeps == [20.0]
    short = make_client(Script(limited(b"86400")), time, retry=backoff(0.5, max_wait_s=20.0))
    with pytest.raises(RateLimited) as info:
        short.status("wf-1", deadline_s=10.0)
    assert info.value.retry_after_s == 86400.0
    assert time.sleeps == [20.0]  # nothing more: 20 s would pass the 10 s deadline


def test_an_absurd_retry_after_never_overflows() -> None:
    """`Retry-After: 99999999999` (and longer) is read, bounded, and never an OverflowError."""
    for raw in (b"99999999999", b"9" * 400):
        time = FakeTime()
        script = Script(limited(raw), limited(raw), ok("pending"))
        client = make_client(script, time, retry=backoff(0.5, max_wait_s=30.0))
        assert client.start(retry_rate_limited=True, deadline_s=100.0).envelope is not None
        assert time.sleeps == [30.0, 30.0]


def test_429_until_the_deadline_is_rate_limited_never_a_timeout() -> None:
    """`Retry-After: 3600` on a 30 s run ends "rate-limited past the deadline": no finding."""
    script = Script(limited(b"3600"))
    time = FakeTime()
    start = make_client(Script(ok("pending")), time).start()
    history = make_client(script, time).wait("wf-1", start=start, deadline_s=30.0)
    assert history.stop_reason is StopReason.RATE_LIMITED
    assert not history.timed_out
    assert len(history.polls) == 1
    ctx = CheckContext(max_run_s=30.0)
    assert run_history_checks(ctx, history) == []
    with pytest.raises(RateLimited):
        make_client(Script(limited(b"3600")), time).wait_or_raise(
            "wf-1", start=start, deadline_s=30.0
        )


def test_429s_are_followed_until_the_deadline_past_max_attempts() -> None:
    """More consecutive 429s than max_attempts never stop following before the deadline."""
    script = Script(*(limited(b"1") for _ in range(40)))
    time = FakeTime()
    history = make_client(script, time).wait("wf-1", deadline_s=60.0)
    assert history.stop_reason is StopReason.RATE_LIMITED
    assert len(history.observations) > 4  # max_attempts of this client's policy
    assert sum(time.sleeps) == pytest.approx(60.0)


def test_a_status_outside_the_enum_stops_following_once() -> None:
    """`cancelled` is seen once, following stops there (no polling to the deadline), and the
    checks report it once, as an unknown status."""
    script = Script(ok("pending"), ok("cancelled"), ok("cancelled"))
    time = FakeTime()
    history = make_client(script, time).wait("wf-1", deadline_s=2700.0)
    assert history.stop_reason is StopReason.UNKNOWN_STATUS
    assert [p.envelope.status for p in history.observations if p.envelope] == [
        "pending",
        "cancelled",
    ]
    assert sum(time.sleeps) < 30.0
    with pytest.raises(ContractViolation) as info:
        assert_checks(CheckContext(), history)
    assert info.value.title == "Unknown status"
    with pytest.raises(MalformedResponse, match="'cancelled'"):
        make_client(Script(ok("cancelled")), time).wait_or_raise("wf-1")


def test_lost_connection_and_server_errors_are_told_apart() -> None:
    """Retries exhausted on no answer is CONNECTION_LOST; on 5xx, SERVER_ERROR."""
    lost = make_client(Script(*(reset() for _ in range(4)))).wait("wf-1")
    failing = make_client(Script(*(httpx.Response(502) for _ in range(4)))).wait("wf-1")
    assert lost.stop_reason is StopReason.CONNECTION_LOST
    assert failing.stop_reason is StopReason.SERVER_ERROR
    refused = make_client(Script(httpx.Response(404, json={"detail": "x"}))).wait("wf-1")
    assert refused.stop_reason is StopReason.NOT_RETRYABLE


def test_the_default_deadline_passes_max_run_s_so_a_stuck_run_is_caught() -> None:
    """Followed with the default deadline, a run pending for ever breaks invariant 9."""
    time = FakeTime()
    target = real_target(max_run_s=60.0, poll_interval_s=5.0)
    start = make_client(Script(ok("pending")), time).start()
    client = TriggerClient(
        target,
        http=httpx.Client(transport=httpx.MockTransport(lambda _: ok("pending"))),
        clock=time.clock,
        sleep=time.sleep,
    )
    history = client.wait("wf-1", start=start)
    assert history.timed_out
    assert history.deadline_s == 60.0 + SYNC_SLACK_S
    (violation,) = run_history_checks(CheckContext(max_run_s=60.0), history)
    assert violation.title == "Run never finished"


def test_values_json_cannot_hold_are_refused_before_sending() -> None:
    """NaN, infinities and non-string keys are a UsageError naming the path; nothing is sent."""
    script = Script()
    client = make_client(script)
    with pytest.raises(UsageError, match=r"body\.user_variables\.x: nan"):
        client.start(user_variables={"x": float("nan")})
    with pytest.raises(UsageError, match=r"body\.user_variables\.a\[0\]\.k: inf"):
        client.run_sync(user_variables={"a": [{"k": float("inf")}]})
    with pytest.raises(UsageError, match=r"body\.user_variables\[1\]: object keys must be"):
        client.start(user_variables={1: "x"})
    assert script.requests == []


def test_huge_integers_are_sent_exactly() -> None:
    """`user_variables={"n": 2**64}` is sent as the exact integer, not a TypeError."""
    script = Script(ok("pending"))
    make_client(script).start(user_variables={"n": 2**64, "m": 2**64 + 1})
    sent = script.requests[0].content
    assert b'"n":18446744073709551616' in sent
    assert b'"m":18446744073709551617' in sent


def test_non_ascii_header_values_are_sent_not_crashed_on() -> None:
    """A raw request with a non-ASCII header value is sent as UTF-8, recorded as given."""
    script = Script(httpx.Response(200, json={}))
    exchange = make_client(script).request("GET", "/trigger/x", headers={"X-Note": "\u0663 é"})
    assert (b"X-Note", "\u0663 é".encode()) in script.requests[0].headers.raw
    assert exchange.request_headers["x-note"] == "\u0663 é"
