"""`GET /openapi.json`: an OpenAPI 3.1 description of the trigger API (E1-E4, not the admin API).

Every path is described under `/trigger/...`; the two servers (`/` and `/api/v1/ai`) give the two
prefixes the mock serves. The document is one a tool such as Schemathesis can drive against the
served world (`schemathesis run <mock>/openapi.json -H 'Authorization: Bearer <key>'`):

- the path parameters carry examples taken from that world: its first workspace, for E1 and E2
  its quickest trigger that runs (not paused, not Jira-only; shortest typical duration), for E4
  its first trigger with a Jira secret, each with the first environment it runs in;
- E3's `workflow_id` example is an id in the mock's format that no run has (a 404); real ids
  come from the OpenAPI link on E2's answer (`workflow_id` -> E3), which is what Schemathesis's
  stateful phase follows;
- the bearer key is the `bearerAuth` security scheme (E4 has none: it is signed instead);
- E4's example is the empty object `{}`; its `X-Hub-Signature` has a pattern and no example.

The document never holds a key, a Jira secret or a signature (a valid signature would let whoever
reads the document start a Jira run): a tool's E4 calls get the A12 refusal.
"""

from __future__ import annotations

from typing import Any, Final

from ._config import ENVIRONMENTS, Duration, MockConfig, TriggerConfig

__all__ = ["UNKNOWN_WORKFLOW_ID", "openapi_document"]

_JSON = "application/json"
UNKNOWN_WORKFLOW_ID: Final = "00000000-0000-4000-8000-000000000000"
"""E3's `workflow_id` example: a version-4 UUID like the mock's ids, never given to a run."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _path_param(
    name: str, description: str, example: str | None, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }
    if example is not None:
        param["example"] = example
    return param


def _typical_s(duration: Duration) -> float:
    """A trigger's typical run time in virtual seconds (what E1 would wait), for ranking."""
    for value in (duration.s, duration.median_s, duration.mean_s):
        if value is not None:
            return value
    low, high = duration.min_s or 0.0, duration.max_s or 0.0
    return (low + high) / 2


def _signature_param() -> dict[str, Any]:
    """E4's `X-Hub-Signature` header (A12's grammar); no example: a signature is a secret."""
    return {
        "name": "X-Hub-Signature",
        "in": "header",
        "required": True,
        "description": "`sha256=<hex>`: HMAC-SHA256 of the raw body.",
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
    }


def _start_params(workspace_id: str | None, trigger: TriggerConfig | None) -> list[dict[str, Any]]:
    """The path parameters of a start call, with the world's example values (if it has them)."""
    return [
        _path_param("workspace_id", "The workspace the trigger belongs to.", workspace_id),
        _path_param("trigger_id", "The trigger to run.", trigger.id if trigger else None),
        _path_param(
            "environment",
            "Which environment's build runs (exact upper case).",
            trigger.environments[0] if trigger else None,
            _ref("Environment"),
        ),
    ]


_STATUS_LINK: Final = {
    "GetStatus": {
        "operationId": "getStatus",
        "description": "Follow the started run: its `workflow_id` is E3's path id.",
        "parameters": {
            "workspace_id": "$request.path.workspace_id",
            "workflow_id": "$response.body#/workflow_id",
        },
    }
}
"""The OpenAPI link from E2's answer to E3 (the stateful phase of a test tool follows it)."""


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


def _operations(config: MockConfig) -> dict[str, Any]:
    start_errors = ("401", "404", "409", "413", "422", "429", "500")
    workspace = config.workspaces[0] if config.workspaces else None
    workspace_id = workspace.id if workspace else None
    runnable = [t for t in workspace.triggers if not t.paused] if workspace else []
    quickest = min(runnable, key=lambda t: _typical_s(t.duration), default=None)
    jira = next((t for t in runnable if t.jira_secret is not None), None)
    started = _responses("The new run, pending.", *start_errors)
    started["200"]["links"] = _STATUS_LINK
    return {
        "/trigger/{workspace_id}/{trigger_id}/{environment}": {
            "post": {
                "operationId": "runSync",
                "summary": "E1: run a flow synchronously; blocks until the flow ends.",
                "parameters": _start_params(workspace_id, quickest),
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
                "parameters": _start_params(workspace_id, quickest),
                "requestBody": _run_body(),
                "responses": started,
            }
        },
        "/trigger/status/{workspace_id}/{workflow_id}": {
            "get": {
                "operationId": "getStatus",
                "summary": "E3: status of a background run.",
                "parameters": [
                    _path_param("workspace_id", "The workspace the run belongs to.", workspace_id),
                    _path_param(
                        "workflow_id", "The id a start call answered with.", UNKNOWN_WORKFLOW_ID
                    ),
                ],
                "responses": _responses("The run's envelope now.", "401", "404", "429", "500"),
            }
        },
        "/trigger/jira/start/{workspace_id}/{trigger_id}/{environment}": {
            "post": {
                "operationId": "startJiraRun",
                "summary": "E4: start a flow from a Jira webhook (signed, no bearer key).",
                "security": [],
                "parameters": [*_start_params(workspace_id, jira), _signature_param()],
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": {"type": "object", "additionalProperties": True},
                            "example": {},
                        }
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


def openapi_document(config: MockConfig) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the trigger API as the mock serves `config`'s world.

    Args:
        config: the served world; its first workspace and triggers give the examples (a world
            without workspaces gets a document without examples).
    """
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
        "paths": _operations(config),
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
