"""E1, the synchronous call: final answers, the sync limit (A1) and waking on clock moves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server._config import parse_config
from tests.fixtures.mock import AUTH

FAST = 10_000.0  # virtual seconds per real second: a 200 s flow takes 20 ms


def run_sync(client: TestClient, trigger: str, prefix: str = "", **body: Any) -> httpx.Response:
    """Call E1 in DEV on the demo workspace."""
    return client.post(f"{prefix}/trigger/demo/{trigger}/DEV", headers=AUTH, json=body)


@pytest.mark.parametrize("prefix", ["", "/api/v1/ai"])
def test_e1_answers_the_completed_run(make_client: Callable[..., TestClient], prefix: str) -> None:
    """E1 blocks until the flow ends and answers 200 completed with the result (invariants 4, 5)."""
    client = make_client(time_scale=FAST)
    response = run_sync(client, "quick-answer", prefix, user_variables={"k": "v"})
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["status"] == "completed"
    assert envelope["response"]["k"] == "v"
    assert envelope["response"]["workflow_id"] == envelope["workflow_id"]
    assert envelope["error"] is None


def test_e1_answers_a_failed_flow_with_200(make_client: Callable[..., TestClient]) -> None:
    """A flow that fails is HTTP 200 with status failed and a non-empty error (invariant 3)."""
    config = parse_config(
        {
            "mock": {"time_scale": FAST},
            "workspaces": [
                {
                    "id": "demo",
                    "api_keys": ["demo-key"],
                    "triggers": [
                        {
                            "id": "doomed",
                            "duration": {"dist": "fixed", "s": 5},
                            "outcome": {"failed": 1.0},
                        }
                    ],
                }
            ],
        }
    )
    response = run_sync(make_client(config), "doomed")
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["status"] == "failed"
    assert envelope["error"]
    assert envelope["response"] == {}


def test_e1_past_the_sync_limit_is_504(make_client: Callable[..., TestClient]) -> None:
    """A1 default: a flow longer than 150 s answers 504 naming the limit."""
    response = run_sync(make_client(time_scale=FAST), "slow-sync")
    assert response.status_code == 504
    assert response.json() == {
        "detail": "Flow did not finish within the synchronous limit of 150 s"
    }


def test_sync_limit_message_uses_the_configured_limit(
    make_client: Callable[..., TestClient],
) -> None:
    """A1: the 504 names the configured sync_limit_s."""
    response = run_sync(make_client(time_scale=FAST, sync_limit_s=30.0), "quick-answer")
    assert response.status_code == 200
    response = run_sync(make_client(time_scale=FAST, sync_limit_s=1.0), "slow-sync")
    assert response.json() == {"detail": "Flow did not finish within the synchronous limit of 1 s"}


def test_e1_failed_policy_answers_200_failed(make_client: Callable[..., TestClient]) -> None:
    """A1 alternative policy: past the limit E1 answers 200 failed with the limit as error."""
    client = make_client(time_scale=FAST, sync_timeout_policy="failed")
    response = run_sync(client, "slow-sync")
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["status"] == "failed"
    assert envelope["error"] == "Flow did not finish within the synchronous limit of 150 s"
    assert envelope["response"] == {}
    assert envelope["requires_input"] is False


def test_e1_answers_waiting_for_input_when_the_pause_begins(
    make_client: Callable[..., TestClient],
) -> None:
    """A10: E1 on an input-requiring trigger answers 200 waiting_for_input with requires_input."""
    response = run_sync(make_client(time_scale=FAST), "approval-flow")
    assert response.status_code == 200
    envelope = response.json()
    assert (envelope["status"], envelope["requires_input"]) == ("waiting_for_input", True)


def test_frozen_e1_is_released_by_an_admin_advance(mock_client: TestClient) -> None:
    """With the clock frozen E1 blocks; an admin advance from another request wakes it at once."""
    assert mock_client.post("/__admin/clock", json={"frozen": True}).status_code == 200
    answers: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answers.append(run_sync(mock_client, "slow-sync")))
    caller.start()
    deadline = time.monotonic() + 5
    while not mock_client.get("/__admin/runs").json()["runs"]:
        assert time.monotonic() < deadline, "E1 never started its run"
        time.sleep(0.005)
    time.sleep(0.05)
    assert caller.is_alive(), "E1 answered while the clock was frozen"
    mock_client.post("/__admin/clock", json={"advance_s": 100})
    time.sleep(0.05)
    assert caller.is_alive(), "E1 answered before its flow ended"
    mock_client.post("/__admin/clock", json={"advance_s": 100})
    caller.join(5)
    assert not caller.is_alive()
    assert answers[0].status_code == 504


def test_e1_never_answers_pending(make_client: Callable[..., TestClient]) -> None:
    """Invariant 4: E1 answers on every demo trigger are final, waiting or the sync-limit 504."""
    client = make_client(time_scale=FAST)
    for trigger in ("quick-answer", "flaky-enrichment", "approval-flow", "slow-sync"):
        response = run_sync(client, trigger)
        if response.status_code == 200:
            assert response.json()["status"] != "pending"
        else:
            assert response.status_code == 504
