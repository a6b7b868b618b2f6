"""E3, the status endpoint and the hot path: raw ASGI, one handler for every way it is reached.

`MockApp` recognises an E3 path (`parse_status_path`) before routing and tags the request once;
a GET with no fault rule or status limit in force, under the plain dialect, is served by
`serve_status` straight away; everything else (HEAD, GET under faults, limits or another
dialect) through routing to `status_route`, which calls the same handler with the dialect.
"""

from __future__ import annotations

import orjson
from starlette.types import Message, Receive, Scope, Send

from ._api import API_PREFIXES, MockState, bearer_token, too_many_requests
from ._dialect import ActiveDialect
from ._errors import send_json
from .store import KeyScope

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
    state: MockState,
    scope: Scope,
    send: Send,
    workspace_id: str,
    workflow_id: str,
    *,
    dialect: ActiveDialect | None = None,
) -> int:
    """E3 straight from the ASGI scope, on the fast path and the routed path alike.

    Auth (401), the status rate limit when one is in force (429 with `Retry-After` in whole
    seconds), then the envelope (200) or 404; the run's status is left in `mock.run_status`.
    Under a dialect other than today's, the path's id is read in the dialect's format and the
    answer written in it (wire id, extra envelope fields, the 404 text).

    Args:
        state: the app's state.
        scope: the request's scope.
        send: the ASGI send the answer goes to.
        workspace_id: the workspace of the path.
        workflow_id: the run id of the path.
        dialect: the dialect in force, None on the hot path (the plain dialect).

    Returns:
        The HTTP status code sent.
    """
    store = state.store
    if store.catch_up_some():
        await state.catch_up()
    key_scope = store.key_scope(workspace_id, bearer_token(scope["headers"]))
    if key_scope is None and dialect is not None:
        workspace_ids = [workspace.id for workspace in state.config.workspaces]
        refusal = dialect.workspace_refused(
            store.key_scope, workspace_ids, workspace_id, bearer_token(scope["headers"])
        )
        await refusal.response()(scope, _no_receive, send)
        return refusal.status_code
    if key_scope is None:
        await send_json(send, 401, _AUTH_FAILED_BODY, _WWW_AUTHENTICATE)
        return 401
    refused = state.capacity.admit_status(workspace_id) if state.capacity.limits_status else None
    if refused is not None:
        await too_many_requests(refused, "status requests").response()(scope, _no_receive, send)
        return 429
    if dialect is not None:
        return await _serve_in_dialect(
            state, scope, send, dialect, ids=(workspace_id, workflow_id), key_scope=key_scope
        )
    answer = store.status_answer(workspace_id, workflow_id, key_scope.environments)
    if answer is None:
        await send_json(send, 404, _WORKFLOW_NOT_FOUND)
        return 404
    scope["mock.run_status"], body = answer
    await send_json(send, 200, body)
    return 200


async def _serve_in_dialect(
    state: MockState,
    scope: Scope,
    send: Send,
    dialect: ActiveDialect,
    *,
    ids: tuple[str, str],
    key_scope: KeyScope,
) -> int:
    """E3's answer past auth and limits under a non-default dialect: the path's id read in the
    dialect's format (another format: 404), the envelope written in it, its 404 text."""
    workspace_id, workflow_id = ids
    store_id = dialect.codec.decode(workflow_id)
    if store_id is not None:
        answer = state.store.status_answer(workspace_id, store_id, key_scope.environments)
        if answer is not None:
            scope["mock.run_status"], body = answer
            await send_json(send, 200, dialect.status_body(body, store_id))
            return 200
    await send_json(send, 404, dialect.not_found_body)
    return 404


class _StatusRoute:
    """E3 reached through routing: a HEAD, or a GET while a fault rule or status limit is in force.

    A raw ASGI endpoint serving the ids `MockApp` tagged the request with, so the routed and the
    fast path answer E3 with the same code.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: MockState = scope["app"].state
        workspace_id, workflow_id = scope["mock.workspace_id"], scope["mock.workflow_id"]
        dialect = None if state.dialect.plain else state.dialect
        await serve_status(state, scope, send, workspace_id, workflow_id, dialect=dialect)


status_route = _StatusRoute()


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
