"""E2 and E3 on the demo world: the envelope, both prefixes and the defaults A2-A11, A14."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.fixtures.mock import AUTH

ENVELOPE_FIELDS = {"workflow_id", "response", "status", "logs", "requires_input", "error"}


def start(client: TestClient, trigger: str = "quick-answer", **body: Any) -> dict[str, Any]:
    """Start a background run in DEV and return its envelope."""
    response = client.post(f"/trigger/start/demo/{trigger}/DEV", headers=AUTH, json=body)
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    return envelope


def status(client: TestClient, workflow_id: str, prefix: str = "") -> dict[str, Any]:
    """The E3 envelope of a run (asserting 200)."""
    response = client.get(f"{prefix}/trigger/status/demo/{workflow_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    return envelope


def advance(client: TestClient, seconds: float) -> None:
    """Move the mock's virtual clock forward."""
    assert client.post("/__admin/clock", json={"advance_s": seconds}).status_code == 200


@pytest.mark.parametrize("prefix", ["", "/api/v1/ai"])
def test_e2_answers_a_pending_envelope(mock_client: TestClient, prefix: str) -> None:
    """A6/E2: 200 with pending, `{}` response, no logs, no input needed, no error."""
    response = mock_client.post(
        f"{prefix}/trigger/start/demo/quick-answer/DEV",
        headers=AUTH,
        json={"message": "start the task", "user_variables": {"key1": "value1"}},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    envelope = response.json()
    assert set(envelope) == ENVELOPE_FIELDS
    assert envelope["status"] == "pending"
    assert (envelope["response"], envelope["logs"], envelope["error"]) == ({}, [], None)
    assert envelope["requires_input"] is False
    assert isinstance(envelope["workflow_id"], str)
    assert envelope["workflow_id"]


@pytest.mark.parametrize("prefix", ["", "/api/v1/ai"])
def test_e3_finds_a_new_run_at_once_under_both_prefixes(
    mock_client: TestClient, prefix: str
) -> None:
    """Invariant 6: E2's workflow_id is found by E3 at once, under either prefix."""
    run = start(mock_client)
    envelope = status(mock_client, run["workflow_id"], prefix)
    assert envelope["workflow_id"] == run["workflow_id"]
    assert envelope["status"] == "pending"


def test_completed_run_holds_workflow_id_and_user_variables(mock_client: TestClient) -> None:
    """Invariant 5: after its duration the run is completed with the id and user variables."""
    run = start(mock_client, message="go", user_variables={"ticket": "T-1", "n": 3})
    advance(mock_client, 60)
    envelope = status(mock_client, run["workflow_id"])
    assert envelope["status"] == "completed"
    assert envelope["error"] is None
    assert envelope["response"]["workflow_id"] == run["workflow_id"]
    assert envelope["response"]["ticket"] == "T-1"
    assert envelope["response"]["n"] == 3
    assert 1 <= len(envelope["logs"]) <= 5
    assert status(mock_client, run["workflow_id"]) == envelope


def longest_log_window(client: TestClient) -> int:
    """Follow a nightly-report run to its end and return the most log entries one answer held."""
    run = start(client, "nightly-report")
    seen = 0
    for _ in range(30):
        advance(client, 40)
        envelope = status(client, run["workflow_id"])
        seen = max(seen, len(envelope["logs"]))
        for entry in envelope["logs"]:
            assert set(entry) == {"time", "level", "node_id", "message", "status", "user_logs_type"}
    return seen


def test_log_window_is_at_most_five_entries(mock_client: TestClient) -> None:
    """A11: no envelope of a long run shows more than 5 log entries, and some show several."""
    assert 2 <= longest_log_window(mock_client) <= 5


def test_log_window_follows_the_config(make_client: Callable[..., TestClient]) -> None:
    """A11: with `log_window = 2` envelopes show at most, and at some point exactly, 2 entries."""
    assert longest_log_window(make_client(log_window=2)) == 2


def test_background_run_past_2700_s_fails(mock_client: TestClient) -> None:
    """A2: a run longer than the background limit turns failed with an error naming 2700 s."""
    run = start(mock_client, "long-batch")
    advance(mock_client, 2600)
    assert status(mock_client, run["workflow_id"])["status"] == "pending"
    advance(mock_client, 200)
    envelope = status(mock_client, run["workflow_id"])
    assert envelope["status"] == "failed"
    assert "2700" in envelope["error"]
    assert envelope["response"] == {}


def test_unknown_workflow_is_404(mock_client: TestClient) -> None:
    """A3: an unknown workflow_id answers 404 `Workflow not found`."""
    response = mock_client.get("/trigger/status/demo/not-a-run", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "Workflow not found"}


def test_another_workspaces_run_is_the_same_404(mock_client: TestClient) -> None:
    """A3: a run of another workspace answers exactly like an unknown id."""
    run = start(mock_client)
    response = mock_client.get(
        f"/trigger/status/sandbox/{run['workflow_id']}",
        headers={"Authorization": "Bearer sandbox-key"},
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Workflow not found"}


@pytest.mark.parametrize(
    ("trigger", "environment", "code"),
    [("no-such-trigger", "DEV", 404), ("paused-trigger", "DEV", 409), ("uat-only", "DEV", 409)],
)
@pytest.mark.parametrize("endpoint", ["/trigger/start", "/trigger"])
def test_trigger_problems_on_e1_and_e2(
    mock_client: TestClient, endpoint: str, trigger: str, environment: str, code: int
) -> None:
    """A4: unknown trigger 404, paused 409, no build in that environment 409, with a detail."""
    response = mock_client.post(f"{endpoint}/demo/{trigger}/{environment}", headers=AUTH)
    assert response.status_code == code
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("environment", ["dev", "Dev", "QA", "prod", "DEV "])
def test_environment_must_be_exact_upper_case(mock_client: TestClient, environment: str) -> None:
    """A5: anything but DEV/UAT/PROD is a pydantic-style 422 on the path parameter."""
    response = mock_client.post(f"/trigger/start/demo/quick-answer/{environment}", headers=AUTH)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "enum",
                "loc": ["path", "environment"],
                "msg": "Input should be 'DEV', 'UAT' or 'PROD'",
                "input": environment,
                "ctx": {"expected": "'DEV', 'UAT' or 'PROD'"},
            }
        ]
    }


def test_identical_posts_start_two_runs(mock_client: TestClient) -> None:
    """A14: no idempotency, two identical POSTs give two different runs."""
    first = start(mock_client, message="same")
    second = start(mock_client, message="same")
    assert first["workflow_id"] != second["workflow_id"]
    assert len(mock_client.get("/__admin/runs").json()["runs"]) == 2


def test_finished_runs_are_kept_24_hours(mock_client: TestClient) -> None:
    """A9: a finished run is found until 24 h after its end, then 404."""
    run = start(mock_client, "slow-sync")  # ends after 200 s
    advance(mock_client, 200 + 86_400 - 60)
    assert status(mock_client, run["workflow_id"])["status"] == "completed"
    advance(mock_client, 120)
    response = mock_client.get(f"/trigger/status/demo/{run['workflow_id']}", headers=AUTH)
    assert response.status_code == 404


def test_input_required_run_waits_then_resumes(mock_client: TestClient) -> None:
    """A10: approval-flow pauses in waiting_for_input until admin input, then ends final."""
    run = start(mock_client, "approval-flow")
    advance(mock_client, 15)
    waiting = status(mock_client, run["workflow_id"])
    assert (waiting["status"], waiting["requires_input"]) == ("waiting_for_input", True)
    assert waiting["error"] is None
    answer = mock_client.post(
        f"/__admin/runs/{run['workflow_id']}/input", json={"message": "approved"}
    )
    assert answer.status_code == 200
    assert status(mock_client, run["workflow_id"])["status"] == "pending"
    advance(mock_client, 3000)
    final = status(mock_client, run["workflow_id"])
    assert final["status"] in {"completed", "failed"}
    assert final["requires_input"] is False


def test_autonomous_runs_never_require_input(mock_client: TestClient) -> None:
    """A10: requires_input is false throughout an autonomous run."""
    run = start(mock_client)
    for _ in range(3):
        assert status(mock_client, run["workflow_id"])["requires_input"] is False
        advance(mock_client, 5)


def test_no_rate_limit_by_default(mock_client: TestClient) -> None:
    """A8: many quick requests all answer 200, never 429."""
    run = start(mock_client)
    codes = {
        mock_client.get(f"/trigger/status/demo/{run['workflow_id']}", headers=AUTH).status_code
        for _ in range(100)
    }
    assert codes == {200}
