"""GET /openapi.json: a valid OpenAPI 3.1 document describing E1-E4 and their errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from starlette.testclient import TestClient

from mock_server._config import MockConfig, demo_config
from mock_server._openapi import UNKNOWN_WORKFLOW_ID, openapi_document

PATHS = {
    "/trigger/{workspace_id}/{trigger_id}/{environment}": "post",
    "/trigger/start/{workspace_id}/{trigger_id}/{environment}": "post",
    "/trigger/status/{workspace_id}/{workflow_id}": "get",
    "/trigger/jira/start/{workspace_id}/{trigger_id}/{environment}": "post",
}


@pytest.fixture
def document(mock_client: TestClient) -> dict[str, Any]:
    """The served document."""
    response = mock_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served: dict[str, Any] = response.json()
    return served


def test_document_lists_the_four_endpoints_and_both_servers(
    document: dict[str, Any], mock_config: MockConfig
) -> None:
    """OpenAPI 3.1 with E1-E4 only (no admin API) and the servers "/" and "/api/v1/ai"; the
    document of the world served."""
    assert document["openapi"].startswith("3.1")
    assert {path: next(iter(item)) for path, item in document["paths"].items()} == PATHS
    assert [server["url"] for server in document["servers"]] == ["/", "/api/v1/ai"]
    assert document == openapi_document(mock_config)


def test_environment_is_an_enum(document: dict[str, Any]) -> None:
    """The environment path parameter is the enum DEV, UAT, PROD."""
    schemas = document["components"]["schemas"]
    assert schemas["Environment"] == {"type": "string", "enum": ["DEV", "UAT", "PROD"]}


def test_errors_and_security_are_described(document: dict[str, Any]) -> None:
    """Every start endpoint documents 401 (with WWW-Authenticate), 404, 409, 413, 422, 429, 500."""
    for path in list(PATHS)[:2] + list(PATHS)[3:]:
        responses = document["paths"][path]["post"]["responses"]
        assert {"200", "401", "404", "409", "413", "422", "429", "500"} <= set(responses)
        assert "WWW-Authenticate" in responses["401"]["headers"]
    sync = document["paths"][next(iter(PATHS))]["post"]["responses"]
    assert "504" in sync
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    jira = document["paths"][list(PATHS)[3]]["post"]
    assert jira["security"] == []
    assert any(p["name"] == "X-Hub-Signature" for p in jira["parameters"])


def test_envelope_schema(document: dict[str, Any]) -> None:
    """The envelope requires its six fields and enumerates the statuses."""
    envelope = document["components"]["schemas"]["Envelope"]
    assert set(envelope["required"]) == {
        "workflow_id",
        "response",
        "status",
        "logs",
        "requires_input",
        "error",
    }
    assert envelope["properties"]["status"]["enum"] == [
        "pending",
        "completed",
        "failed",
        "waiting_for_input",
    ]


def test_schemathesis_loads_every_operation(document: dict[str, Any]) -> None:
    """schemathesis accepts the document and finds the four operations."""
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.label for op in operations) == sorted(
        f"{method.upper()} {path}" for path, method in PATHS.items()
    )


def _examples(document: dict[str, Any], path: str) -> dict[str, Any]:
    operation = next(iter(document["paths"][path].values()))
    return {param["name"]: param.get("example") for param in operation["parameters"]}


def test_path_examples_come_from_the_served_world() -> None:
    """E1/E2: the first workspace and its quickest runnable trigger; E3: an unknown id; E4: the
    first Jira trigger, with no signature example (a signature is a secret)."""
    document = openapi_document(demo_config())
    paths = list(PATHS)
    quick = {"workspace_id": "demo", "trigger_id": "quick-answer", "environment": "DEV"}
    assert _examples(document, paths[0]) == quick
    assert _examples(document, paths[1]) == quick
    assert _examples(document, paths[2]) == {
        "workspace_id": "demo",
        "workflow_id": UNKNOWN_WORKFLOW_ID,
    }
    jira = _examples(document, paths[3])
    assert jira.pop("X-Hub-Signature") is None
    assert jira == {"workspace_id": "demo", "trigger_id": "jira-triage", "environment": "DEV"}
    body = document["paths"][paths[3]]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"] == {}
    assert "demo-jira-secret" not in str(document)
    assert "demo-key" not in str(document)
    assert re.search(r"sha256=[0-9a-fA-F]{64}", str(document)) is None


def test_a_world_without_workspaces_has_no_examples() -> None:
    """No workspace: the parameters are described without examples (E3's id excepted)."""
    document = openapi_document(MockConfig())
    examples = [value for path in PATHS for value in _examples(document, path).values()]
    assert [value for value in examples if value is not None] == [UNKNOWN_WORKFLOW_ID]


def test_e2_links_its_workflow_id_to_e3(document: dict[str, Any]) -> None:
    """E2's 200 answer links `workflow_id` (and the workspace) to E3's getStatus."""
    started = document["paths"][list(PATHS)[1]]["post"]["responses"]["200"]
    link = started["links"]["GetStatus"]
    assert link["operationId"] == "getStatus"
    assert link["parameters"] == {
        "workspace_id": "$request.path.workspace_id",
        "workflow_id": "$response.body#/workflow_id",
    }
    status = document["paths"]["/trigger/status/{workspace_id}/{workflow_id}"]["get"]
    assert status["operationId"] == "getStatus"
    assert {param["name"] for param in status["parameters"]} == set(link["parameters"])
