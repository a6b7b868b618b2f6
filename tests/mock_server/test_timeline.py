"""A run's request timeline, journal counts by filter, and E1 answering at the sync limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mock_server._config import MockConfig
from mock_server.app import create_app
from tests.fixtures.mock import AUTH, FakeRealTime, TestClient, with_settings

START_PATH = "/trigger/start/demo/quick-answer/DEV"


def test_timeline_lists_every_request_of_a_run_with_its_status(mock_client: TestClient) -> None:
    """The timeline holds the start and each poll, with code and the run status answered."""
    workflow_id = mock_client.post(START_PATH, headers=AUTH, json={}).json()["workflow_id"]
    path = f"/trigger/status/demo/{workflow_id}"
    mock_client.get(path, headers=AUTH)
    mock_client.get(path, headers={"Authorization": "Bearer wrong"})
    mock_client.post("/__admin/clock", json={"advance_s": 10})
    mock_client.get(path, headers=AUTH)
    timeline = mock_client.get(f"/__admin/runs/{workflow_id}/timeline").json()
    assert timeline["run"]["trigger_id"] == "quick-answer"
    rows = timeline["requests"]
    assert [(r["endpoint"], r["status_code"], r["run_status"]) for r in rows] == [
        ("E2", 200, "pending"),
        ("E3", 200, "pending"),
        ("E3", 401, None),
        ("E3", 200, "completed"),
    ]
    assert rows[3]["virtual_time"] - rows[0]["virtual_time"] == pytest.approx(10)


def test_timeline_of_an_unknown_run_is_404(mock_client: TestClient) -> None:
    """A run never seen answers 404."""
    assert mock_client.get("/__admin/runs/nope/timeline").status_code == 404


def test_timeline_shows_429_with_retry_after(
    mock_config: MockConfig,
) -> None:
    """A refused poll shows 429 and its Retry-After in the timeline."""
    config = with_settings(mock_config, status_rate_per_s=1)
    with TestClient(create_app(config, real_time=FakeRealTime())) as client:
        workflow_id = client.post(START_PATH, headers=AUTH, json={}).json()["workflow_id"]
        for _ in range(2):
            client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH)
        rows = client.get(f"/__admin/runs/{workflow_id}/timeline").json()["requests"]
    assert [(r["status_code"], r["retry_after"]) for r in rows[1:]] == [(200, None), (429, "1")]


def test_journal_counts_by_filter(mock_client: TestClient) -> None:
    """Journal counts filter by endpoint, status code, workspace and faulted."""
    workflow_id = mock_client.post(START_PATH, headers=AUTH, json={}).json()["workflow_id"]
    mock_client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH)
    mock_client.get("/trigger/status/demo/unknown", headers=AUTH)

    def count(**filters: str) -> int:
        body = mock_client.get("/__admin/requests/count", params=filters).json()
        return int(body["count"])

    assert count(endpoint="E3") == 2
    assert count(endpoint="E3", status_code="404") == 1
    assert count(workspace_id="demo") == 3
    assert count(faulted="true") == 0
    assert mock_client.get("/__admin/requests/count", params={"endpoint": "E7"}).status_code == 422


def sync_run(make_client: Callable[..., TestClient], policy: str) -> TestClient:
    """A client on a demo world whose sync limit is 1 virtual s, running 1000x faster."""
    return make_client(sync_limit_s=1, sync_timeout_policy=policy, time_scale=1000)


def test_failed_policy_ends_the_run_itself_failed_at_the_limit(
    make_client: Callable[..., TestClient],
) -> None:
    """Under `failed`, E1's run ends failed at the limit and E3 later agrees (invariant 2)."""
    client = sync_run(make_client, "failed")
    answer = client.post("/trigger/demo/quick-answer/DEV", headers=AUTH, json={})
    body = answer.json()
    assert (answer.status_code, body["status"]) == (200, "failed")
    assert body["error"] == "Flow did not finish within the synchronous limit of 1 s"
    client.post("/__admin/clock", json={"advance_s": 60})
    later = client.get(f"/trigger/status/demo/{body['workflow_id']}", headers=AUTH).json()
    assert (later["status"], later["error"]) == ("failed", body["error"])
    assert later["logs"][-1]["message"] == body["error"]


def test_504_policy_leaves_the_run_going(make_client: Callable[..., TestClient]) -> None:
    """Under `504`, E1 answers 504 and the run itself goes on to its own end."""
    client = sync_run(make_client, "504")
    answer = client.post("/trigger/demo/quick-answer/DEV", headers=AUTH, json={})
    assert answer.status_code == 504
    (run,) = client.get("/__admin/runs").json()["runs"]
    client.post("/__admin/clock", json={"advance_s": 60})
    later = client.get(f"/trigger/status/demo/{run['workflow_id']}", headers=AUTH).json()
    assert later["status"] == "completed"
