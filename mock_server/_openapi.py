"""`GET /openapi.json`: an OpenAPI 3.1 description of the trigger API (E1-E4, not the admin API).

Every path is described under `/trigger/...`; the two servers (`/` and `/api/v1/ai`) give the two
prefixes the mock serves.
"""

from __future__ import annotations

from typing import Any

from ._config import ENVIRONMENTS

__all__ = ["openapi_document"]

_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _path_param(
    name: str, description: str, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_WORKSPACE = _path_param("workspace_id", "The workspace the trigger belongs to.")
_TRIGGER = _path_param("trigger_id", "The trigger to run.")
_ENVIRONMENT = _path_param(
    "environment", "Which environment's build runs (exact upper case).", _ref("Environment")
)
_WORKFLOW = _path_param("workflow_id", "The id a start call answered with.")


def _error(description: str, schema: str = "Error", **headers: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {_JSON: {"schema": _ref(schema)}},
    }
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return answer


def _responses(ok: str, *codes: str) -> dict[str, Any]:
    known: dict[str, dict[str, Any]] = {
        "401": _error(
            "Missing or invalid credentials.",
            **{"WWW-Authenticate": "Always `Bearer`."},
        ),
        "404": _error("Unknown trigger or workflow (or Jira not enabled for the trigger)."),
        "409": _error("The trigger is paused, or has no build in this environment."),
        "413": _error("The request body is larger than the configured limit (1 MiB)."),
        "422": _error("The request failed validation.", "ValidationError"),
        "429": _error(
            "A per-workspace limit was exceeded (A8 request rate, status-request rate, or "
            "concurrent background runs); nothing was started.",
            **{"Retry-After": "Whole seconds to wait before retrying."},
        ),
        "500": _error("Server error."),
        "504": _error("The flow did not finish within the synchronous limit."),
    }
    responses: dict[str, Any] = {
        "200": {"description": ok, "content": {_JSON: {"schema": _ref("Envelope")}}}
    }
    responses.update({code: known[code] for code in codes})
    return responses


def _run_body() -> dict[str, Any]:
    return {
        "required": False,
        "content": {_JSON: {"schema": _ref("RunRequest")}},
    }


def _operations() -> dict[str, Any]:
    start_errors = ("401", "404", "409", "413", "422", "429", "500")
    return {
        "/trigger/{workspace_id}/{trigger_id}/{environment}": {
            "post": {
                "operationId": "runSync",
                "summary": "E1: run a flow synchronously; blocks until the flow ends.",
                "parameters": [_WORKSPACE, _TRIGGER, _ENVIRONMENT],
                "requestBody": _run_body(),
                "responses": _responses(
                    "The run's final envelope (completed, failed or waiting_for_input).",
                    *start_errors,
                    "504",
                ),
            }
        },
        "/trigger/start/{workspace_id}/{trigger_id}/{environment}": {
            "post": {
                "operationId": "startRun",
                "summary": "E2: start a flow in the background.",
                "parameters": [_WORKSPACE, _TRIGGER, _ENVIRONMENT],
                "requestBody": _run_body(),
                "responses": _responses("The new run, pending.", *start_errors),
            }
        },
        "/trigger/status/{workspace_id}/{workflow_id}": {
            "get": {
                "operationId": "getStatus",
                "summary": "E3: status of a background run.",
                "parameters": [_WORKSPACE, _WORKFLOW],
                "responses": _responses("The run's envelope now.", "401", "404", "429", "500"),
            }
        },
        "/trigger/jira/start/{workspace_id}/{trigger_id}/{environment}": {
            "post": {
                "operationId": "startJiraRun",
                "summary": "E4: start a flow from a Jira webhook (signed, no bearer key).",
                "security": [],
                "parameters": [
                    _WORKSPACE,
                    _TRIGGER,
                    _ENVIRONMENT,
                    {
                        "name": "X-Hub-Signature",
                        "in": "header",
                        "required": True,
                        "description": "`sha256=<hex>`: HMAC-SHA256 of the raw body.",
                        "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {"schema": {"type": "object", "additionalProperties": True}}
                    },
                },
                "responses": _responses("The new run, pending.", *start_errors),
            }
        },
    }


def _schemas() -> dict[str, Any]:
    return {
        "Environment": {"type": "string", "enum": list(ENVIRONMENTS)},
        "RunRequest": {
            "type": "object",
            "properties": {
                "message": {"type": "string", "default": ""},
                "user_variables": {
                    "type": "object",
                    "additionalProperties": True,
                    "default": {},
                },
            },
            "additionalProperties": True,
        },
        "LogEntry": {
            "type": "object",
            "required": ["time", "level", "node_id", "message", "status", "user_logs_type"],
            "properties": {
                "time": {"type": "string", "description": "`YYYY-MM-DD HH:MM:SS`, no zone."},
                "level": {"type": "string"},
                "node_id": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "user_logs_type": {"type": "string"},
            },
        },
        "Envelope": {
            "type": "object",
            "required": ["workflow_id", "response", "status", "logs", "requires_input", "error"],
            "properties": {
                "workflow_id": {"type": "string"},
                "response": {"type": "object", "additionalProperties": True},
                "status": {
                    "type": "string",
                    "enum": ["pending", "completed", "failed", "waiting_for_input"],
                },
                "logs": {"type": "array", "items": _ref("LogEntry")},
                "requires_input": {"type": "boolean"},
                "error": {"type": ["string", "null"]},
            },
        },
        "Error": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        },
        "ValidationIssue": {
            "type": "object",
            "required": ["type", "loc", "msg"],
            "properties": {
                "type": {"type": "string"},
                "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                "msg": {"type": "string"},
                "input": {},
                "ctx": {"type": "object"},
            },
        },
        "ValidationError": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "array", "items": _ref("ValidationIssue")}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the trigger API as the mock serves it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Phinite workspace trigger API (mock)",
            "version": "1.0.0",
            "description": "Start agent flows over HTTP and follow background runs.",
        },
        "servers": [
            {"url": "/", "description": "direct style"},
            {"url": "/api/v1/ai", "description": "gateway style"},
        ],
        "security": [{"bearerAuth": []}],
        "paths": _operations(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The workspace API key.",
                }
            },
        },
    }
