"""E4 negatives, each checked to start nothing through the admin API, and the one positive.

The signature rule (A12): the header must be `sha256=` (exactly that prefix) followed by the hex
HMAC-SHA256 of the raw body under the trigger's secret; hex digits compare case-insensitively
(the same digest). Anything else is the bearer failure's 401, before the body is even parsed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from tests.fixtures.mock import AUTH, JIRA_SECRET, jira_signature

E4 = "/trigger/jira/start/demo/jira-triage/DEV"
PAYLOAD: dict[str, Any] = {
    "timestamp": 1_760_000_000_000,
    "webhookEvent": "jira:issue_created",
    "issue": {"key": "OPS-9", "fields": {"summary": "Disk full", "labels": ["ops", "prod"]}},
    "user": {"displayName": "Zoë"},
}
BODY = orjson.dumps(PAYLOAD)
OTHER_BODY = orjson.dumps({**PAYLOAD, "timestamp": 1_760_000_000_001})
DIGEST = hmac.new(JIRA_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
SHA1 = hmac.new(JIRA_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
BEARER_401 = {"detail": "Invalid authentication credentials"}


def deliver(
    client: TestClient, body: bytes, signature: str | None, path: str = E4, **headers: str
) -> httpx.Response:
    """POST `body` to E4 with this `X-Hub-Signature` (none when None; sent as latin-1 bytes)."""
    sent: dict[str, str | bytes] = {"Content-Type": "application/json", **headers}
    if signature is not None:
        sent["X-Hub-Signature"] = signature.encode("latin-1")
    response: httpx.Response = client.post(path, content=body, headers=sent)
    return response


def all_runs(client: TestClient) -> list[dict[str, Any]]:
    """Every run the mock holds, whatever its source."""
    runs: list[dict[str, Any]] = client.get("/__admin/runs").json()["runs"]
    return runs


@pytest.mark.parametrize(
    ("signature", "body"),
    [
        (None, BODY),
        ("", BODY),
        ("sha256=", BODY),
        ("sha256=" + "g" * 64, BODY),
        ("sha256=" + DIGEST[:32], BODY),
        ("sha256=" + DIGEST + "00", BODY),
        (DIGEST, BODY),
        ("SHA256=" + DIGEST, BODY),
        ("sha1=" + SHA1, BODY),
        ("sha512=" + DIGEST, BODY),
        (jira_signature(BODY, "not-the-secret"), BODY),
        (jira_signature(BODY), BODY + b" "),
        (jira_signature(BODY), OTHER_BODY),
        (jira_signature(OTHER_BODY), BODY),
        (jira_signature(BODY), b"not json at all"),
        ("sha256= " + DIGEST, BODY),
        ("sha256=\t" + DIGEST, BODY),
        (jira_signature(BODY) + "\u00a0", BODY),
        ("\u00a0" + jira_signature(BODY), BODY),
        ("sha256=" + DIGEST[:32] + " " + DIGEST[32:], BODY),
    ],
    ids=[
        "missing",
        "empty",
        "prefix-only",
        "non-hex",
        "truncated",
        "too-long",
        "no-prefix",
        "upper-case-prefix",
        "sha1",
        "sha512-prefix",
        "wrong-secret",
        "tampered-whitespace",
        "tampered-field",
        "another-body",
        "bad-signature-on-non-json",
        "space-after-prefix",
        "tab-after-prefix",
        "trailing-nbsp",
        "leading-nbsp",
        "space-inside-digest",
    ],
)
def test_bad_signature_is_the_bearer_401_and_starts_nothing(
    mock_client: TestClient, signature: str | None, body: bytes
) -> None:
    """A12: a missing, malformed or wrong signature is the bearer 401, and no run starts."""
    before = all_runs(mock_client)
    response = deliver(mock_client, body, signature)
    assert response.status_code == 401
    assert response.json() == BEARER_401
    assert response.headers["www-authenticate"] == "Bearer"
    assert all_runs(mock_client) == before


def test_bearer_key_does_not_authenticate_e4(mock_client: TestClient) -> None:
    """E4 ignores the workspace key: a valid bearer key without a signature is still 401."""
    response = deliver(mock_client, BODY, None, **AUTH)
    assert response.status_code == 401
    assert all_runs(mock_client) == []


def test_upper_case_hex_digest_is_the_same_digest(mock_client: TestClient) -> None:
    """The hex digits compare case-insensitively: an upper-case digest of the body is accepted."""
    response = deliver(mock_client, BODY, "sha256=" + DIGEST.upper())
    assert response.status_code == 200
    assert [run["source"] for run in all_runs(mock_client)] == ["jira"]


@pytest.mark.parametrize(
    "path",
    [
        "/trigger/jira/start/demo/quick-answer/DEV",
        "/trigger/jira/start/demo/hourly-health/DEV",
        "/trigger/jira/start/demo/ghost/DEV",
    ],
)
def test_trigger_without_jira_secret_is_404_and_starts_nothing(
    mock_client: TestClient, path: str
) -> None:
    """E4 on a trigger without a Jira secret (or unknown) is 404 whatever the signature."""
    for signature in (jira_signature(BODY), None):
        response = deliver(mock_client, BODY, signature, path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Trigger not found"}
    assert all_runs(mock_client) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b"[1, 2]", b'"text"', b"42", b"null", b"\xff\xfe{}"],
    ids=["empty", "text", "truncated", "array", "string", "number", "null", "not-utf8"],
)
def test_signed_body_not_a_json_object_is_422_and_starts_nothing(
    mock_client: TestClient, body: bytes
) -> None:
    """A7 on E4: a validly signed body that is not a JSON object is 422 with a detail list."""
    response = deliver(mock_client, body, jira_signature(body))
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert all_runs(mock_client) == []


def test_paused_jira_trigger_is_409_when_signed_and_401_when_not(mock_client: TestClient) -> None:
    """A paused trigger answers 409 to a signed delivery, the 401 to an unsigned one; no run."""
    mock_client.post("/__admin/triggers/demo/jira-triage/pause")
    assert deliver(mock_client, BODY, jira_signature(BODY)).status_code == 409
    assert deliver(mock_client, BODY, None).status_code == 401
    assert all_runs(mock_client) == []


def test_signed_delivery_starts_exactly_one_run_carrying_the_whole_payload(
    mock_client: TestClient,
) -> None:
    """A signed delivery starts one jira run; once completed, E3's response holds the payload."""
    response = deliver(mock_client, BODY, jira_signature(BODY))
    assert response.status_code == 200
    start = response.json()
    assert (start["status"], start["response"], start["logs"]) == ("pending", {}, [])
    (run,) = all_runs(mock_client)
    assert (run["workflow_id"], run["source"]) == (start["workflow_id"], "jira")
    assert (run["environment"], run["message"]) == ("DEV", "")
    assert run["user_variables"] == PAYLOAD
    mock_client.post("/__admin/clock", json={"advance_s": 60})
    final = mock_client.get(f"/trigger/status/demo/{start['workflow_id']}", headers=AUTH).json()
    assert final["status"] == "completed"
    assert {key: final["response"][key] for key in PAYLOAD} == PAYLOAD
    assert final["response"]["workflow_id"] == start["workflow_id"]
    assert len(all_runs(mock_client)) == 1
