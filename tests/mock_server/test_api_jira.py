"""E4, the Jira webhook: signature auth (A12), payload as user variables, answers like E2."""

from __future__ import annotations

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from tests.fixtures.mock import AUTH, jira_signature

PAYLOAD = {"webhookEvent": "jira:issue_created", "issue": {"key": "OPS-7", "fields": {"n": 1}}}
BODY = orjson.dumps(PAYLOAD)
AUTH_BODY = {"detail": "Invalid authentication credentials"}


def jira(client: TestClient, body: bytes, signature: str | None, path: str = "") -> httpx.Response:
    """POST a Jira delivery to E4 for jira-triage in DEV."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return client.post(
        path or "/trigger/jira/start/demo/jira-triage/DEV", content=body, headers=headers
    )


@pytest.mark.parametrize("prefix", ["", "/api/v1/ai"])
def test_signed_delivery_starts_a_jira_run(mock_client: TestClient, prefix: str) -> None:
    """A6/A12: a correctly signed delivery answers 200 pending; the run's source is jira."""
    response = mock_client.post(
        f"{prefix}/trigger/jira/start/demo/jira-triage/DEV",
        content=BODY,
        headers={"Content-Type": "application/json", "X-Hub-Signature": jira_signature(BODY)},
    )
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["status"] == "pending"
    (run,) = mock_client.get("/__admin/runs", params={"source": "jira"}).json()["runs"]
    assert run["workflow_id"] == envelope["workflow_id"]
    assert run["user_variables"] == PAYLOAD


def test_jira_payload_becomes_the_user_variables(mock_client: TestClient) -> None:
    """The whole Jira payload shows up in the completed run's response."""
    envelope = jira(mock_client, BODY, jira_signature(BODY)).json()
    mock_client.post("/__admin/clock", json={"advance_s": 60})
    final = mock_client.get(f"/trigger/status/demo/{envelope['workflow_id']}", headers=AUTH).json()
    assert final["status"] == "completed"
    assert final["response"]["issue"] == PAYLOAD["issue"]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "sha256=" + "0" * 64,
        jira_signature(BODY, "wrong-secret"),
        jira_signature(BODY + b" "),
    ],
)
def test_bad_signature_is_the_bearer_401(mock_client: TestClient, signature: str | None) -> None:
    """A12: a missing, malformed or wrong signature answers the bearer failure's 401."""
    response = jira(mock_client, BODY, signature)
    assert response.status_code == 401
    assert response.json() == AUTH_BODY
    assert response.headers["www-authenticate"] == "Bearer"
    assert mock_client.get("/__admin/runs").json() == {"runs": []}


@pytest.mark.parametrize(
    "path",
    [
        "/trigger/jira/start/demo/quick-answer/DEV",
        "/trigger/jira/start/demo/no-such-trigger/DEV",
        "/trigger/jira/start/nowhere/jira-triage/DEV",
    ],
)
def test_trigger_without_jira_is_404(mock_client: TestClient, path: str) -> None:
    """E4 on a trigger that does not exist or has no Jira secret answers 404."""
    response = mock_client.post(
        path, content=BODY, headers={"X-Hub-Signature": jira_signature(BODY)}
    )
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


def test_jira_environment_is_checked(mock_client: TestClient) -> None:
    """A5 on E4: a lower-case environment is a 422 on the path parameter."""
    response = jira(
        mock_client, BODY, jira_signature(BODY), "/trigger/jira/start/demo/jira-triage/dev"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "environment"]


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"', b"\xff\xfe"])
def test_signed_body_that_is_not_an_object_is_422(mock_client: TestClient, body: bytes) -> None:
    """A7 on E4: a correctly signed body that is not a JSON object is a 422."""
    response = jira(mock_client, body, jira_signature(body))
    assert response.status_code == 422


def test_oversized_jira_body_is_413(mock_client: TestClient) -> None:
    """A7 on E4: a delivery over 1 MiB answers 413 before any signature check."""
    body = b'{"x": "' + b"a" * 1_048_576 + b'"}'
    response = jira(mock_client, body, jira_signature(body))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds 1048576 bytes"}
