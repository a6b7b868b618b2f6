"""E3, the status endpoint and the hot path: raw ASGI, one handler for every way it is reached.

`MockApp` recognises an E3 path (`parse_status_path`) before routing and tags the request once;
a GET with no fault rule or status limit in force is served by `serve_status` straight away,
everything else (HEAD, GET under faults or limits) through routing to `status_route`, which
calls the same handler.
"""

from __future__ import annotations

import orjson
from starlette.types import Message, Receive, Scope, Send

from ._api import API_PREFIXES, MockState, bearer_token, too_many_requests
from ._errors import send_json

__all__ = ["parse_status_path", "serve_status", "status_route"]

_STATUS_PREFIXES = tuple(f"{prefix}/trigger/status/" for prefix in API_PREFIXES)
_WORKFLOW_NOT_FOUND = orjson.dumps({"detail": "Workflow not found"})
_AUTH_FAILED_BODY = orjson.dumps({"detail": "Invalid authentication credentials"})
_WWW_AUTHENTICATE = ((b"www-authenticate", b"Bearer"),)


def parse_status_path(path: str) -> tuple[str, str] | None:
    """`(workspace_id, workflow_id)` when `path` is an E3 path under either prefix, else None.

    Matches exactly the paths of the routed E3 (`.../trigger/status/{workspace_id}/{workflow_id}`).
    """
    for prefix in _STATUS_PREFIXES:
        if path.startswith(prefix):
            workspace_id, sep, workflow_id = path[len(prefix) :].partition("/")
            if sep and workspace_id and workflow_id and "/" not in workflow_id:
                return workspace_id, workflow_id
            return None
    return None


async def serve_status(
    state: MockState, scope: Scope, send: Send, workspace_id: str, workflow_id: str
) -> int:
    """E3 straight from the ASGI scope, on the fast path and the routed path alike.

    Auth (401), the status rate limit when one is in force (429 with `Retry-After` in whole
    seconds), then the envelope (200) or 404; the run's status is left in `mock.run_status`.

    Args:
        state: the app's state.
        scope: the request's scope.
        send: the ASGI send the answer goes to.
        workspace_id: the workspace of the path.
        workflow_id: the run id of the path.

    Returns:
        The HTTP status code sent.
    """
    store = state.store
    if store.catch_up_some():
        await state.catch_up()
    key_scope = store.key_scope(workspace_id, bearer_token(scope["headers"]))
    if key_scope is None:
        await send_json(send, 401, _AUTH_FAILED_BODY, _WWW_AUTHENTICATE)
        return 401
    refused = state.capacity.admit_status(workspace_id) if state.capacity.limits_status else None
    if refused is not None:
        await too_many_requests(refused, "status requests").response()(scope, _no_receive, send)
        return 429
    answer = store.status_answer(workspace_id, workflow_id, key_scope.environments)
    if answer is None:
        await send_json(send, 404, _WORKFLOW_NOT_FOUND)
        return 404
    scope["mock.run_status"], body = answer
    await send_json(send, 200, body)
    return 200


class _StatusRoute:
    """E3 reached through routing: a HEAD, or a GET while a fault rule or status limit is in force.

    A raw ASGI endpoint serving the ids `MockApp` tagged the request with, so the routed and the
    fast path answer E3 with the same code.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: MockState = scope["app"].state
        workspace_id, workflow_id = scope["mock.workspace_id"], scope["mock.workflow_id"]
        await serve_status(state, scope, send, workspace_id, workflow_id)


status_route = _StatusRoute()


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
