"""The capacity model: token-bucket rate limits (real seconds) and the background-run cap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server._capacity import TokenBucket
from mock_server._config import MockConfig
from mock_server.app import create_app
from tests.fixtures.mock import AUTH, FakeRealTime, TestClient, with_settings

START_PATH = "/trigger/start/demo/{}/DEV"


@pytest.fixture
def mock_app_factory(
    mock_config: MockConfig,
) -> Iterator[Callable[..., tuple[TestClient, FakeRealTime]]]:
    """Clients of demo-world variants (`[mock]` overrides), each on its own fake real time."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> tuple[TestClient, FakeRealTime]:
        real = FakeRealTime()
        client = TestClient(create_app(with_settings(mock_config, **settings), real_time=real))
        client.__enter__()
        clients.append(client)
        return client, real

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_token_bucket_refills_at_its_rate() -> None:
    """A bucket gives `burst` tokens, then says how long until the next one."""
    bucket = TokenBucket(2.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0


def test_a8_rate_limit_answers_429_with_whole_retry_after(
    make_client: Callable[..., TestClient],
) -> None:
    """With rate_limit_per_s, a burst beyond it gets 429 with Retry-After in whole seconds."""
    client = make_client(rate_limit_per_s=2)
    codes = [
        client.post(START_PATH.format("quick-answer"), headers=AUTH, json={}) for _ in range(3)
    ]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[2].headers["retry-after"] == "1"
    assert codes[2].json()["detail"].startswith("Too many requests")


def test_rate_limit_is_off_by_default(mock_client: TestClient) -> None:
    """Without limits, a burst of status requests is never refused (A8 default)."""
    workflow_id = mock_client.post(START_PATH.format("quick-answer"), headers=AUTH, json={}).json()[
        "workflow_id"
    ]
    codes = {
        mock_client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).status_code
        for _ in range(50)
    }
    assert codes == {200}


def test_status_limit_counts_real_seconds(
    mock_app_factory: Callable[..., tuple[TestClient, FakeRealTime]],
) -> None:
    """The status bucket refills with real time, whatever the virtual clock does."""
    client, real = mock_app_factory(status_rate_per_s=3)
    workflow_id = client.post(START_PATH.format("nightly-report"), headers=AUTH, json={}).json()[
        "workflow_id"
    ]
    path = f"/trigger/status/demo/{workflow_id}"
    codes = [client.get(path, headers=AUTH).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    client.post("/__admin/clock", json={"advance_s": 3600})
    assert client.get(path, headers=AUTH).status_code == 429
    real.advance(1.0)
    assert client.get(path, headers=AUTH).status_code == 200


def test_status_limit_is_per_workspace(
    mock_app_factory: Callable[..., tuple[TestClient, FakeRealTime]],
) -> None:
    """One workspace's exhausted bucket does not refuse another workspace."""
    client, _ = mock_app_factory(status_rate_per_s=1)
    demo = client.post(START_PATH.format("quick-answer"), headers=AUTH, json={}).json()[
        "workflow_id"
    ]
    sandbox_auth = {"Authorization": "Bearer sandbox-key"}
    sandbox = client.post("/trigger/start/sandbox/quick-answer/DEV", headers=sandbox_auth, json={})
    sandbox_id = sandbox.json()["workflow_id"]
    assert client.get(f"/trigger/status/demo/{demo}", headers=AUTH).status_code == 200
    assert client.get(f"/trigger/status/demo/{demo}", headers=AUTH).status_code == 429
    assert (
        client.get(f"/trigger/status/sandbox/{sandbox_id}", headers=sandbox_auth).status_code == 200
    )


def test_bad_key_is_401_before_any_429(
    mock_app_factory: Callable[..., tuple[TestClient, FakeRealTime]],
) -> None:
    """Auth comes first: a wrong key gets 401 even when the bucket is empty (invariant 8)."""
    client, _ = mock_app_factory(status_rate_per_s=1)
    path = "/trigger/status/demo/nope"
    assert client.get(path, headers=AUTH).status_code == 404
    assert client.get(path, headers=AUTH).status_code == 429
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_concurrent_run_cap_refuses_starts_until_a_run_ends(
    mock_app_factory: Callable[..., tuple[TestClient, FakeRealTime]],
) -> None:
    """Beyond max_background_runs a start gets 429 (no run started) until one run is final."""
    client, _ = mock_app_factory(max_background_runs=2)
    path = START_PATH.format("approval-flow")  # fixed 10 s, then waits for input
    assert client.post(START_PATH.format("quick-answer"), headers=AUTH, json={}).status_code == 200
    assert client.post(path, headers=AUTH, json={}).status_code == 200
    refused = client.post(path, headers=AUTH, json={})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 8
    assert len(client.get("/__admin/runs").json()["runs"]) == 2
    client.post("/__admin/clock", json={"advance_s": 9})  # quick-answer (<= 8 s) is final
    assert client.post(path, headers=AUTH, json={}).status_code == 200
    text = client.get("/__admin/metrics").text
    assert 'mock_background_runs_active{workspace="demo"} 2' in text
    assert 'mock_rate_limited_total{reason="concurrent_runs",workspace="demo"} 1' in text


def test_waiting_runs_keep_their_slot_until_resumed_and_done(
    mock_app_factory: Callable[..., tuple[TestClient, FakeRealTime]],
) -> None:
    """A run waiting for input still counts; once resumed and final it frees the slot."""
    client, _ = mock_app_factory(max_background_runs=1)
    path = START_PATH.format("approval-flow")
    workflow_id = client.post(path, headers=AUTH, json={}).json()["workflow_id"]
    client.post("/__admin/clock", json={"advance_s": 11})
    assert client.post(path, headers=AUTH, json={}).status_code == 429
    client.post(f"/__admin/runs/{workflow_id}/input", json={"message": "ok"})
    client.post("/__admin/clock", json={"advance_s": 11})
    assert client.post(path, headers=AUTH, json={}).status_code == 200
