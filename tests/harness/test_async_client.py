"""The async client passes the sync client's scripted scenarios over httpx.AsyncClient."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import httpx
import pytest

from harness import (
    ApiError,
    AsyncTriggerClient,
    AuthRejected,
    ConnectError,
    Exchange,
    MalformedResponse,
    OutcomeUnknown,
    PollTimeout,
    RateLimited,
    RequestSpec,
    Secret,
    ServerError,
    UsageError,
    backoff,
    fixed,
    mock_target,
)
from harness._models import StopReason

pytestmark = pytest.mark.asyncio  # pytest-asyncio, the project's async test runner

KEY = "sk-async-0123456789"


def ok(status: str = "pending", **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "workflow_id": "wf-1",
        "response": {"workflow_id": "wf-1"} if status == "completed" else {},
        "status": status,
        "logs": [],
        "requires_input": False,
        "error": None,
    }
    body.update(extra)
    return httpx.Response(200, json=body)


class Script:
    """An async MockTransport handler answering each request with the next scripted step."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class FakeTime:
    """An injected clock and async sleep that advances it without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(script: Script, time: FakeTime | None = None, **kwargs: Any) -> AsyncTriggerClient:
    time = time or FakeTime()
    target = dataclasses.replace(
        mock_target(), name="real", base_url="https://ai-core.phinite.ai", api_key=Secret(KEY)
    )
    return AsyncTriggerClient(
        target,
        http=httpx.AsyncClient(transport=httpx.MockTransport(script)),
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(0),
        retry=backoff(0.5, factor=2.0, cap_s=8.0, max_attempts=4),
        **kwargs,
    )


async def test_scripted_wait_records_every_poll_and_honours_retry_after() -> None:
    """Async wait() over pending, 503, reset, 429 Retry-After: 3, completed records all polls."""
    script = Script(
        ok(),
        ok(),
        httpx.Response(503),
        httpx.ReadError("reset"),
        httpx.Response(429, headers={"Retry-After": "3"}),
        ok("completed"),
    )
    time = FakeTime()
    history = await make_client(script, time).start_and_wait(strategy=fixed(5))
    assert [o.status_code for o in history.polls] == [200, 503, None, 429, 200]
    assert time.sleeps == [5.0, 5.0, 0.5, 1.0, 3.0]
    assert history.final is not None
    assert history.final.status == "completed"
    assert str(script.requests[1].url) == "https://ai-core.phinite.ai/trigger/status/demo/wf-1"


async def test_deadline_returns_timed_out_and_wait_or_raise_raises() -> None:
    """A run pending past the deadline is timed out; wait_or_raise raises PollTimeout."""
    time = FakeTime()
    history = await make_client(Script(*(ok() for _ in range(4))), time).wait(
        "wf-1", strategy=fixed(5), deadline_s=12
    )
    assert history.timed_out
    assert time.sleeps == [5.0, 5.0, 2.0]
    with pytest.raises(PollTimeout) as info:
        await make_client(Script(*(ok() for _ in range(4)))).wait_or_raise(
            "wf-1", strategy=fixed(5), deadline_s=12
        )
    assert info.value.attempts == 4
    assert info.value.workflow_id == "wf-1"


async def test_post_reset_raises_outcome_unknown_after_one_request() -> None:
    """A reset on async E2 raises OutcomeUnknown and sends exactly one request."""
    script = Script(httpx.RemoteProtocolError("closed"), ok())
    with pytest.raises(OutcomeUnknown):
        await make_client(script).start()
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (httpx.Response(401), AuthRejected),
        (httpx.Response(429, headers={"Retry-After": "1"}), RateLimited),
        (httpx.Response(500), ServerError),
        (httpx.Response(409, json={"detail": "paused"}), ApiError),
        (httpx.Response(200, json=[]), MalformedResponse),
    ],
)
async def test_error_mapping_matches_the_sync_client(
    response: httpx.Response, error_type: type[Exception]
) -> None:
    """Async E1 raises the same exception types as the sync client for each answer."""
    with pytest.raises(error_type) as info:
        await make_client(Script(response)).run_sync()
    assert type(info.value) is error_type


async def test_status_retries_and_raw_request_does_not() -> None:
    """Async status() retries transient failures; request() returns a 503 without retrying."""
    time = FakeTime()
    script = Script(httpx.Response(503), ok("completed"), httpx.Response(503))
    client = make_client(script, time)
    observation = await client.status("wf-1")
    assert observation.envelope is not None
    assert observation.envelope.is_final
    assert time.sleeps == [0.5]
    exchange = await client.request("GET", "/trigger/status/demo/wf-1", auth=False)
    assert exchange.status_code == 503
    assert len(script.requests) == 3
    assert "authorization" not in script.requests[2].headers


async def test_raw_request_transport_failure_raises() -> None:
    """An async raw GET without an answer raises ConnectError."""
    with pytest.raises(ConnectError):
        await make_client(Script(httpx.ConnectError("refused"))).request("GET", "/x")


async def test_sync_and_async_hooks_see_redacted_attempts() -> None:
    """Plain and coroutine hooks run for every attempt and never see the key."""
    seen: list[RequestSpec | Exchange] = []

    async def async_hook(exchange: Exchange) -> None:
        seen.append(exchange)

    echo = json.dumps({"detail": KEY}).encode()
    script = Script(ok(), httpx.Response(502, content=echo), ok("completed"))
    client = make_client(script, event_hooks={"request": [seen.append], "response": [async_hook]})
    history = await client.start_and_wait(strategy=fixed(1))
    assert history.final is not None
    assert len(seen) == 6
    for text in [*map(repr, seen), repr(history)]:
        assert KEY not in text
    assert script.requests[0].headers["authorization"] == f"Bearer {KEY}"


def limited(retry_after: bytes) -> httpx.Response:
    return httpx.Response(429, headers=[(b"Retry-After", retry_after)], json={"detail": "slow"})


async def test_async_unusable_and_huge_retry_after_never_crash_and_are_bounded() -> None:
    """0xB2 is unusable (backoff), 86400 waits max_wait_s: status() and start() alike."""
    time = FakeTime()
    script = Script(limited(b"\xb2"), ok(), limited(b"86400"), ok())
    client = make_client(script, time)
    assert (await client.status("wf-1")).envelope is not None
    assert (await client.start(retry_rate_limited=True)).envelope is not None
    assert time.sleeps == [0.5, 60.0]
    with pytest.raises(RateLimited):
        await make_client(Script(limited(b"86400")), time).status("wf-1", deadline_s=30.0)


async def test_async_stop_reasons_match_the_sync_client() -> None:
    """429s until the deadline are RATE_LIMITED; `cancelled` is UNKNOWN_STATUS after one sight."""
    rate_limited = await make_client(Script(*(limited(b"1") for _ in range(40)))).wait(
        "wf-1", deadline_s=30.0
    )
    assert rate_limited.stop_reason is StopReason.RATE_LIMITED
    assert len(rate_limited.polls) > 4
    cancelled = await make_client(Script(ok(), ok("cancelled"))).wait("wf-1", strategy=fixed(5))
    assert cancelled.stop_reason is StopReason.UNKNOWN_STATUS
    assert len(cancelled.observations) == 2


async def test_async_nan_is_refused_before_sending() -> None:
    """A NaN variable is a UsageError naming it; no request leaves."""
    script = Script()
    with pytest.raises(UsageError, match=r"body\.user_variables\.x: nan"):
        await make_client(script).start(user_variables={"x": float("nan")})
    assert script.requests == []
