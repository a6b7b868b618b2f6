"""GET /openapi.json: a valid OpenAPI 3.1 document describing E1-E4 and their errors."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from starlette.testclient import TestClient

from mock_server._openapi import openapi_document

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


def test_document_lists_the_four_endpoints_and_both_servers(document: dict[str, Any]) -> None:
    """OpenAPI 3.1 with E1-E4 only (no admin API) and the servers "/" and "/api/v1/ai"."""
    assert document["openapi"].startswith("3.1")
    assert {path: next(iter(item)) for path, item in document["paths"].items()} == PATHS
    assert [server["url"] for server in document["servers"]] == ["/", "/api/v1/ai"]
    assert document == openapi_document()


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
