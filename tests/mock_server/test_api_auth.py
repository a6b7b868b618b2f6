"""Bearer auth on E1-E3: invariant 8, A4 (unknown workspace) and A15 (environment-limited keys)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fixtures.mock import AUTH

AUTH_BODY = {"detail": "Invalid authentication credentials"}
PATHS = [
    ("POST", "/trigger/demo/quick-answer/DEV"),
    ("POST", "/trigger/start/demo/quick-answer/DEV"),
    ("GET", "/trigger/status/demo/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/v1/ai/trigger/demo/quick-answer/DEV"),
    ("POST", "/api/v1/ai/trigger/start/demo/quick-answer/DEV"),
    ("GET", "/api/v1/ai/trigger/status/demo/00000000-0000-0000-0000-000000000000"),
    ("POST", "/trigger/start/nowhere/quick-answer/DEV"),
    ("POST", "/trigger/start/demo/no-such-trigger/DEV"),
    ("GET", "/trigger/status/nowhere/some-id"),
    ("POST", "/trigger/start/demo/quick-answer/dev"),
]
BAD_HEADERS = [
    {},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": "Bearer sandbox-key"},
    {"Authorization": "demo-key"},
    {"Authorization": "Basic demo-key"},
    {"Authorization": "Bearer  demo-key"},
    {"Authorization": "Bearer demo-key extra"},
    {"Authorization": "Bearer "},
]


@pytest.mark.parametrize(("method", "path"), PATHS)
@pytest.mark.parametrize("headers", BAD_HEADERS)
def test_bad_credentials_get_the_same_401_everywhere(
    mock_client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    """Without a valid key of that workspace every path answers the same 401 body and header."""
    response = mock_client.request(method, path, headers=headers, json={"message": "x"})
    assert response.status_code == 401
    assert response.json() == AUTH_BODY
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/json"


def test_a_refused_request_starts_no_run(mock_client: TestClient) -> None:
    """A 401 on E1/E2 leaves the store without runs (nothing is run)."""
    mock_client.post("/trigger/start/demo/quick-answer/DEV", headers={"Authorization": "Bearer x"})
    mock_client.post("/trigger/demo/quick-answer/DEV", headers={"Authorization": "Bearer x"})
    assert mock_client.get("/__admin/runs").json() == {"runs": []}


def test_scheme_is_case_insensitive(mock_client: TestClient) -> None:
    """`bearer` and `BEARER` are accepted like `Bearer`."""
    for scheme in ("bearer", "BEARER"):
        response = mock_client.post(
            "/trigger/start/demo/quick-answer/DEV", headers={"Authorization": f"{scheme} demo-key"}
        )
        assert response.status_code == 200


def test_one_key_works_in_every_environment(mock_client: TestClient) -> None:
    """A15: the workspace key starts runs in DEV, UAT and PROD."""
    for environment in ("DEV", "UAT", "PROD"):
        response = mock_client.post(f"/trigger/start/demo/quick-answer/{environment}", headers=AUTH)
        assert response.status_code == 200


def test_environment_limited_key_gets_401_elsewhere(mock_client: TestClient) -> None:
    """A15: a key limited to DEV starts DEV runs and gets the 401 body in UAT and PROD."""
    dev_key = {"Authorization": "Bearer demo-dev-key"}
    assert (
        mock_client.post("/trigger/start/demo/quick-answer/DEV", headers=dev_key).status_code == 200
    )
    for environment in ("UAT", "PROD"):
        response = mock_client.post(
            f"/trigger/start/demo/quick-answer/{environment}", headers=dev_key
        )
        assert response.status_code == 401
        assert response.json() == AUTH_BODY


def test_environment_limited_key_sees_only_its_runs_on_e3(mock_client: TestClient) -> None:
    """A15: on E3 a DEV-only key finds DEV runs and gets 404 for a UAT run."""
    dev_key = {"Authorization": "Bearer demo-dev-key"}
    dev_run = mock_client.post("/trigger/start/demo/quick-answer/DEV", headers=AUTH).json()
    uat_run = mock_client.post("/trigger/start/demo/quick-answer/UAT", headers=AUTH).json()
    found = mock_client.get(f"/trigger/status/demo/{dev_run['workflow_id']}", headers=dev_key)
    hidden = mock_client.get(f"/trigger/status/demo/{uat_run['workflow_id']}", headers=dev_key)
    assert found.status_code == 200
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Workflow not found"}


def test_invalid_environment_with_valid_key_is_422_not_401(mock_client: TestClient) -> None:
    """Auth is checked before the environment, and a valid key reaches the 422."""
    response = mock_client.post("/trigger/start/demo/quick-answer/QA", headers=AUTH)
    assert response.status_code == 422
