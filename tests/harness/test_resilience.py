"""Client resilience: every failure mode with respx, against the mock's faults, and on a socket.

GETs (E3) are retried on no answer, 5xx and 429, waiting at least `Retry-After`; a start whose
answer was lost is never re-sent (`OutcomeUnknown`), a 429 start is (nothing started).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from harness import (
    AsyncTriggerClient,
    ConnectError,
    OutcomeUnknown,
    RateLimited,
    RequestTimeout,
    ServerError,
    Target,
    TriggerClient,
    backoff,
    fixed,
    mock_target,
)
from harness._admin_client import MockAdmin
from harness._polling import Poll, PollPlan, next_action
from harness._protocol import interpret
from harness.checks._timing import no_polls_closer_than, retry_after_respected, timeline_rows
from mock_server import MockConfig, create_app, serve_in_thread
from scenarios.bench_flaky import SimulatedTime, run_flaky
from tests.fixtures.mock import TestClient, with_settings

BASE = "http://testserver"
STATUS_URL = f"{BASE}/trigger/status/demo/wf-1"
START_URL = f"{BASE}/trigger/start/demo/nightly-report/DEV"
RETRY = backoff(0.5, factor=2.0, cap_s=8.0, max_attempts=5)


def envelope(status: str = "pending") -> dict[str, Any]:
    """A valid envelope of run wf-1."""
    return {
        "workflow_id": "wf-1",
        "response": {"workflow_id": "wf-1"} if status == "completed" else {},
        "status": status,
        "logs": [],
        "requires_input": False,
        "error": None,
    }


def client_over(
    http: httpx.Client, sim: SimulatedTime, target: Target | None = None
) -> TriggerClient:
    """A client on `http` whose clock and sleep are `sim`."""
    return TriggerClient(
        target or mock_target(),
        http=http,
        clock=sim.clock,
        sleep=sim.sleep,
        rng=random.Random(0),
        retry=RETRY,
    )


@pytest.fixture
def sim() -> SimulatedTime:
    """A simulated clock shared by the client and, where used, the mock."""
    return SimulatedTime()


# --- respx: scripted answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.Response(500, json={"detail": "Process query failed: x"}),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
    ],
    ids=["reset", "empty-reply", "timeout", "500", "502", "503", "504"],
)
def test_respx_status_is_retried_after_each_transient_failure(
    sim: SimulatedTime, failure: httpx.Response | Exception
) -> None:
    """A status request meeting one transient failure is retried after the backoff and succeeds."""
    with respx.mock(assert_all_called=True) as router:
        router.get(STATUS_URL).mock(side_effect=[failure, httpx.Response(200, json=envelope())])
        with httpx.Client() as http:
            observation = client_over(http, sim).status("wf-1")
    assert observation.envelope is not None
    assert sim.now == pytest.approx(0.5)


def test_respx_429_waits_for_retry_after_not_just_the_backoff(sim: SimulatedTime) -> None:
    """A 429 with Retry-After: 3 is retried no sooner than 3 s, longer than the 0.5 s backoff."""
    limited = httpx.Response(429, headers={"Retry-After": "3"}, json={"detail": "slow down"})
    with respx.mock() as router:
        route = router.get(STATUS_URL).mock(
            side_effect=[limited, httpx.Response(200, json=envelope())]
        )
        with httpx.Client() as http:
            client_over(http, sim).status("wf-1")
    assert route.call_count == 2
    assert sim.now == pytest.approx(3.0)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadError("Connection reset by peer"), httpx.ReadTimeout("timed out")],
    ids=["reset", "timeout"],
)
def test_respx_lost_start_is_outcome_unknown_and_not_resent(
    sim: SimulatedTime, failure: Exception
) -> None:
    """A start whose answer was lost raises OutcomeUnknown after exactly one request."""
    with respx.mock() as router:
        route = router.post(START_URL).mock(side_effect=failure)
        with httpx.Client() as http, pytest.raises(OutcomeUnknown, match="may or may not"):
            client_over(http, sim).start()
    assert route.call_count == 1


def test_respx_start_5xx_is_not_resent(sim: SimulatedTime) -> None:
    """A start answered 502 raises ServerError without a second request (it may have run)."""
    with respx.mock() as router:
        route = router.post(START_URL).mock(return_value=httpx.Response(502))
        with httpx.Client() as http, pytest.raises(ServerError):
            client_over(http, sim).start()
    assert route.call_count == 1


def test_respx_start_429_is_resent_after_retry_after_when_asked(sim: SimulatedTime) -> None:
    """With retry_rate_limited, a start refused with 429 is sent again after its Retry-After."""
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    with respx.mock() as router:
        route = router.post(START_URL).mock(
            side_effect=[limited, httpx.Response(200, json=envelope())]
        )
        with httpx.Client() as http:
            observation = client_over(http, sim).start(retry_rate_limited=True)
    assert (route.call_count, observation.status_code, sim.now) == (2, 200, 2.0)


def test_respx_connect_error_gives_up_after_max_attempts(sim: SimulatedTime) -> None:
    """A status request that never gets an answer raises ConnectError after max_attempts."""
    with respx.mock() as router:
        route = router.get(STATUS_URL).mock(side_effect=httpx.ReadError("reset"))
        with httpx.Client() as http, pytest.raises(ConnectError):
            client_over(http, sim).status("wf-1")
    assert route.call_count == RETRY.max_attempts


# --- against the mock's faults, in process ---------------------------------------------------


@pytest.fixture
def mock_http(mock_config: MockConfig, sim: SimulatedTime) -> Iterator[TestClient]:
    """An in-process client of the demo mock whose real time is `sim`."""
    with TestClient(create_app(mock_config, real_time=sim.clock), base_url=BASE) as http:
        yield http


def add_fault(http: TestClient, **rule: Any) -> None:
    """Put a fault rule in force through the admin API."""
    MockAdmin(http, base_url=BASE).add_fault(rule)


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "reset"},
        {"kind": "empty_reply"},
        {"kind": "hang", "params": {"max_s": 0.01}},
        {"kind": "error", "params": {"status": 500}},
        {"kind": "error", "params": {"status": 503}},
    ],
    ids=["reset", "empty-reply", "hang", "500", "503"],
)
def test_mock_fault_on_status_is_retried(
    mock_http: TestClient, sim: SimulatedTime, rule: dict[str, Any]
) -> None:
    """Two faulted status answers in a row are retried and the third attempt succeeds."""
    client = client_over(mock_http, sim)
    started = client.start()
    assert started.envelope is not None
    add_fault(mock_http, match={"endpoint": "E3"}, first_n=2, **rule)
    observation = client.status(started.envelope.workflow_id)
    assert observation.status_code == 200
    rows = MockAdmin(mock_http, base_url=BASE).timeline(started.envelope.workflow_id)
    assert [row["fault"] is not None for row in rows] == [False, True, True, False]


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"kind": "reset", "params": {"stage": "after"}}, OutcomeUnknown),
        ({"kind": "empty_reply"}, OutcomeUnknown),
        ({"kind": "hang", "params": {"max_s": 0.01}}, OutcomeUnknown),
        ({"kind": "error", "params": {"status": 502, "stage": "after"}}, ServerError),
    ],
    ids=["reset-after-start", "empty-reply", "hang", "502-after-start"],
)
def test_mock_fault_on_start_is_not_resent(
    mock_http: TestClient, sim: SimulatedTime, rule: dict[str, Any], error: type[Exception]
) -> None:
    """A start whose answer the mock lost or failed is reported, never re-sent."""
    add_fault(mock_http, match={"endpoint": "E2"}, **rule)
    with pytest.raises(error):
        client_over(mock_http, sim).start()
    assert MockAdmin(mock_http, base_url=BASE).request_count(method="POST") == 1


def test_mock_run_cap_429_start_is_retried_after_retry_after(
    mock_config: MockConfig, sim: SimulatedTime
) -> None:
    """A start refused by the run cap is re-sent after Retry-After, once a run has ended."""
    app = create_app(with_settings(mock_config, max_background_runs=1), real_time=sim.clock)
    with TestClient(app, base_url=BASE) as http:
        client = client_over(http, sim)
        client.start("quick-answer")
        second = client.start("quick-answer", retry_rate_limited=True)
        timeline = MockAdmin(http, base_url=BASE).requests(method="POST")
    assert second.status_code == 200
    assert [row["status_code"] for row in timeline][:2] == [200, 429]
    assert retry_after_respected(timeline_rows(timeline)) is None


def test_mock_run_cap_429_start_raises_rate_limited_by_default(
    mock_config: MockConfig, sim: SimulatedTime
) -> None:
    """By default a start refused by the run cap raises RateLimited carrying its Retry-After."""
    app = create_app(with_settings(mock_config, max_background_runs=1), real_time=sim.clock)
    with TestClient(app, base_url=BASE) as http:
        client = client_over(http, sim)
        client.start("quick-answer")
        with pytest.raises(RateLimited) as info:
            client.start("quick-answer")
    assert info.value.retry_after_s is not None
    assert info.value.retry_after_s >= 1


def test_flaky_preset_loses_no_run_out_of_100() -> None:
    """Under `flaky`, 100 runs started through the client all end with a known final status."""
    figures = run_flaky(100, seed=11)
    assert figures.lost == 0
    assert figures.start_unknown == 0
    assert figures.injected_5xx > 0
    assert figures.retries >= figures.injected_5xx


# --- overloaded: a fixed 1 s poller against the client's backoff ----------------------------


def poll_many(http: TestClient, sim: SimulatedTime, ids: list[str], *, honour: bool) -> float:
    """Poll every run until final (or 60 s) and return the share of 429 answers.

    With `honour`, each run follows the client's pure decisions (`next_action`: fixed 1 s,
    backoff on 429 at least Retry-After); without, every run is polled every 1 s regardless.
    """
    target = mock_target()
    client = client_over(http, sim, target)
    plan = PollPlan(
        strategy=fixed(1.0),
        retry=backoff(1.0, factor=2.0, cap_s=8.0, max_attempts=50),
        deadline_s=60,
    )
    states = {wid: plan.begin(started_at=sim.now, rng=random.Random(0)) for wid in ids}
    due = dict.fromkeys(ids, sim.now + 1.0)
    answers = limited = 0
    while due:
        wid = min(due, key=lambda key: (due[key], key))
        sim.now = max(sim.now, due.pop(wid))
        exchange = client.request("GET", f"/trigger/status/demo/{wid}")
        answers += 1
        limited += exchange.status_code == 429
        outcome = interpret(exchange, now_epoch=0.0)
        action = next_action(states[wid], outcome, sim.now)
        if isinstance(action, Poll):
            due[wid] = sim.now + (action.after_s if honour else 1.0)
    return limited / answers


def test_overloaded_backoff_brings_the_429_rate_down_and_honours_retry_after(
    mock_config: MockConfig, sim: SimulatedTime
) -> None:
    """Polled every 1 s, 45 runs meet many 429s; with backoff fewer, each Retry-After honoured."""
    app = create_app(with_settings(mock_config, scenario="overloaded"), real_time=sim.clock)
    rates = {}
    with TestClient(app, base_url=BASE) as http:
        admin = MockAdmin(http, base_url=BASE)
        for honour in (False, True):
            admin.reset()
            client = client_over(http, sim)
            ids = []
            for _ in range(45):
                envelope = client.start("quick-answer").envelope
                assert envelope is not None
                ids.append(envelope.workflow_id)
            rates[honour] = poll_many(http, sim, ids, honour=honour)
            timelines = [timeline_rows(admin.timeline(wid), polls_only=True) for wid in ids]
            if honour:
                for rows in timelines:
                    retry_after_respected(rows)
                    no_polls_closer_than(rows, 1.0)
    assert rates[False] > 0.2
    assert rates[True] < rates[False] * 0.85


# --- over a real socket ------------------------------------------------------------------------


@pytest.fixture
def served(mock_config: MockConfig) -> Iterator[tuple[str, httpx.Client]]:
    """The demo mock served on 127.0.0.1 with a real-time clock, and a client of it."""
    with serve_in_thread(create_app(mock_config)) as url, httpx.Client(base_url=url) as http:
        yield url, http


@pytest.mark.socket
@pytest.mark.parametrize("kind", ["reset", "empty_reply"])
def test_socket_connection_faults_on_status_are_retried(
    served: tuple[str, httpx.Client], sim: SimulatedTime, kind: str
) -> None:
    """Over TCP, a reset or empty reply reaches the client as a lost answer and is retried."""
    url, http = served
    target = dataclasses.replace(mock_target(), base_url=url)
    client = client_over(http, sim, target)
    started = client.start()
    assert started.envelope is not None
    MockAdmin(http, base_url=url).add_fault(
        {"kind": kind, "match": {"endpoint": "E3"}, "first_n": 1}
    )
    assert client.status(started.envelope.workflow_id).status_code == 200
    codes = [
        row["status_code"]
        for row in MockAdmin(http, base_url=url).timeline(started.envelope.workflow_id)
    ]
    assert codes == [200, None, 200]


@pytest.mark.socket
def test_socket_reset_is_a_transport_error_on_a_raw_request(
    served: tuple[str, httpx.Client],
) -> None:
    """Over TCP, a reset rule makes httpx raise a transport error, not a 500."""
    url, http = served
    MockAdmin(http, base_url=url).add_fault({"kind": "reset"})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.get("/trigger/status/demo/x", headers={"Authorization": "Bearer demo-key"})


@pytest.mark.socket
def test_socket_hang_ends_as_a_timeout_and_a_start_is_outcome_unknown(
    served: tuple[str, httpx.Client], sim: SimulatedTime
) -> None:
    """Over TCP, a hung start times out on the client and is OutcomeUnknown, not re-sent."""
    url, http = served
    target = dataclasses.replace(mock_target(), base_url=url, timeout_s=0.3)
    MockAdmin(http, base_url=url).add_fault({"kind": "hang", "params": {"max_s": 5}})
    with pytest.raises(OutcomeUnknown):
        client_over(http, sim, target).start()
    admin = MockAdmin(http, base_url=url)
    admin.clear_faults()
    assert _posts_once_the_hang_ends(admin, within_s=6.0) == 1


def _posts_once_the_hang_ends(admin: MockAdmin, *, within_s: float) -> int:
    """The journal's POST count once the hung request is recorded (when the server lets go)."""
    deadline = time.monotonic() + within_s
    while (count := admin.request_count(method="POST")) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.socket
def test_socket_dribble_arrives_whole(served: tuple[str, httpx.Client], sim: SimulatedTime) -> None:
    """Over TCP, a dribbled answer arrives in pieces but parses whole; the journal shows the
    dribble fault was applied to that very request."""
    url, http = served
    target = dataclasses.replace(mock_target(), base_url=url)
    rule = {"kind": "dribble", "params": {"chunk_bytes": 32, "interval_s": 0.01}}
    admin = MockAdmin(http, base_url=url)
    rule_id = admin.add_fault(rule)["id"]
    observation = client_over(http, sim, target).start()
    assert observation.envelope is not None
    rows = admin.requests(workflow_id=observation.envelope.workflow_id)
    assert [(row["method"], row["fault"]) for row in rows] == [("POST", f"{rule_id}:dribble")]


def test_timeout_status_is_request_timeout_when_retries_run_out(sim: SimulatedTime) -> None:
    """A status request that always times out ends as RequestTimeout."""
    with respx.mock() as router:
        router.get(STATUS_URL).mock(side_effect=httpx.ReadTimeout("timed out"))
        with httpx.Client() as http, pytest.raises(RequestTimeout):
            client_over(http, sim).status("wf-1")


def test_async_start_retries_a_429_only_when_asked(sim: SimulatedTime) -> None:
    """The async client re-sends a 429 start after Retry-After with retry_rate_limited only."""
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    answers = [limited, httpx.Response(200, json=envelope())]
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers[len(sent) - 1]

    async def sleep(seconds: float) -> None:
        sim.sleep(seconds)

    async def start(retry_rate_limited: bool) -> int:
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncTriggerClient(
                mock_target(), http=http, clock=sim.clock, sleep=sleep, retry=RETRY
            )
            observation = await client.start(retry_rate_limited=retry_rate_limited)
        return observation.status_code or 0

    assert asyncio.run(start(True)) == 200
    assert (len(sent), sim.now) == (2, 2.0)
    sent.clear()
    with pytest.raises(RateLimited):
        asyncio.run(start(False))
    assert len(sent) == 1
