"""The dialect in force (`[mock.dialect]`, `/__admin/dialect`): what each answer needs of it.

`ActiveDialect` wraps a validated `Dialect` with everything a request needs precomputed: the
id codec (the store keeps UUID 4 ids; the wire shows them as the dialect's format, a bijection),
the extra envelope fields rendered once, the 404 body of E3, the content type, the latency
draws (real seconds) and the memory of idempotency keys (A14). `plain` is True for today's
answers, so the E3 hot path checks one flag and nothing else.
"""

from __future__ import annotations

import hashlib
import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final

from starlette.types import Message, Send

from ._config import ENVIRONMENTS, Dialect
from ._errors import AUTH_FAILED, JSON_CONTENT_TYPE, ApiHTTPError, auth_failed, render_json
from ._flows import draw_duration
from .store import (
    JiraNotEnabled,
    KeyScope,
    NoBuild,
    StoreError,
    TriggerNotFound,
    TriggerPaused,
)

__all__ = ["IDEMPOTENCY_MEMORY", "ActiveDialect", "IdCodec"]

IDEMPOTENCY_MEMORY = 10_000
"""How many idempotency keys the mock remembers (the oldest is forgotten first)."""
_HEX = frozenset("0123456789abcdef")
_UUID_HEX_CHARS = 32
_WORKSPACE_DETAILS: Final = {
    403: "Not authorized for this workspace",
    404: "Workspace not found",
}
"""The `detail` of a valid key refused on a workspace not its own, by code (A4)."""


class IdCodec:
    """Workflow ids on the wire: the store's UUID 4 text shown as `uuid4`, `hex` or `prefixed`.

    Args:
        fmt: `uuid4` (the store's text as is), `hex` (32 lower-case hex digits) or `prefixed`
            (`prefix` then 32 hex digits).
        prefix: the prefix of `prefixed` ids.
    """

    __slots__ = ("identity", "prefix")

    def __init__(self, fmt: str, prefix: str) -> None:
        self.identity = fmt == "uuid4"
        self.prefix = prefix if fmt == "prefixed" else ""

    def encode(self, workflow_id: str) -> str:
        """The wire form of a store id (`8-4-4-4-12` hex text)."""
        return workflow_id if self.identity else self.prefix + workflow_id.replace("-", "")

    def decode(self, wire_id: str) -> str | None:
        """The store id of a wire id; None when `wire_id` is not of the dialect's format."""
        if self.identity:
            return wire_id
        if not wire_id.startswith(self.prefix):
            return None
        digits = wire_id[len(self.prefix) :]
        if len(digits) != _UUID_HEX_CHARS or not _HEX.issuperset(digits):
            return None
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class ActiveDialect:
    """A validated `Dialect` and what the handlers need of it, computed once.

    Args:
        dialect: the dialect.
        seed: seeds the latency draws (so a seeded mock's delays repeat).
    """

    def __init__(self, dialect: Dialect, seed: int = 0) -> None:
        self.dialect = dialect
        self.plain = dialect == Dialect()
        """True for today's answers: the E3 hot path and every handler skip the dialect."""
        self.codec = IdCodec(dialect.workflow_id_format, dialect.workflow_id_prefix)
        self.extra = dict(dialect.extra_envelope_fields)
        self._extra_json = render_json(self.extra)[1:-1]
        self.not_found_body = render_json({"detail": dialect.workflow_not_found_detail})
        self.content_type = dialect.content_type.encode("ascii")
        self.latency = dict(dialect.latency)
        self._rng = random.Random(seed)
        self._keys: OrderedDict[tuple[str, ...], tuple[bytes, str]] = OrderedDict()

    # --- requests ---------------------------------------------------------------------------

    def environment(self, environment: str) -> str:
        """The path's environment as the store knows it: upper-cased when the dialect accepts
        any case of DEV/UAT/PROD (A5), else as given (the caller refuses unknown ones)."""
        if self.dialect.lowercase_environments == "accept" and environment.isascii():
            upper = environment.upper()
            if upper in ENVIRONMENTS:
                return upper
        return environment

    def delay_s(self, endpoint: str) -> float:
        """Real seconds to add before answering `endpoint` (`E1`..`E4`); 0 without latency."""
        duration = self.latency.get(endpoint.lower())
        return 0.0 if duration is None else draw_duration(duration, self._rng)

    # --- answers ----------------------------------------------------------------------------

    def envelope(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """An E1/E2/E4 envelope (or admin run envelope) with wire ids and the extra fields."""
        if not self.codec.identity:
            envelope["workflow_id"] = self.codec.encode(envelope["workflow_id"])
            response = envelope["response"]
            if "workflow_id" in response:
                response = envelope["response"] = dict(response)
                response["workflow_id"] = self.codec.encode(response["workflow_id"])
        if self.extra:
            envelope.update(self.extra)
        return envelope

    def status_body(self, body: bytes, workflow_id: str) -> bytes:
        """E3's rendered envelope of run `workflow_id` (store id) with wire ids and extras.

        The id is replaced as text: a store id is 36 characters of hex and dashes, found in the
        body only where the run's id was written (`workflow_id`, `response.workflow_id`).
        """
        if not self.codec.identity:
            body = body.replace(workflow_id.encode(), self.codec.encode(workflow_id).encode())
        if self._extra_json:
            body = body[:-1] + b"," + self._extra_json + b"}"
        return body

    def store_error(self, exc: StoreError) -> tuple[int, str]:
        """The HTTP code and detail of a store refusal on E1/E2/E4 (A4)."""
        dialect = self.dialect
        if isinstance(exc, TriggerNotFound | JiraNotEnabled):
            return exc.status_code, dialect.trigger_not_found_detail
        if isinstance(exc, TriggerPaused):
            return dialect.paused_status, exc.detail
        if isinstance(exc, NoBuild):
            return dialect.no_build_status, exc.detail
        return exc.status_code, exc.detail

    def jira_refused(self) -> ApiHTTPError:
        """The answer to a missing, malformed or wrong Jira signature (A12): 401 as every
        auth failure, or 403 with the same body (and no `WWW-Authenticate`)."""
        if self.dialect.jira_auth_status == 401:
            return auth_failed()
        return ApiHTTPError(403, AUTH_FAILED)

    def workspace_refused(
        self,
        key_scope: Callable[[str, str | None], KeyScope | None],
        workspace_ids: Sequence[str],
        workspace_id: str,
        token: str | None,
    ) -> ApiHTTPError:
        """The answer to a bearer token the path's workspace does not accept (A4).

        401 as every auth failure, unless the token is a key of another workspace: then
        `foreign_workspace_status` when the path names an existing workspace,
        `unknown_workspace_status` when it names none; 403 and 404 carry a `detail` of their
        own (`_WORKSPACE_DETAILS`) and no `WWW-Authenticate`. Keys are compared in constant
        time (`key_scope`), and only when the dialect answers something other than 401.

        Args:
            key_scope: the store's key check (`TriggerStore.key_scope`).
            workspace_ids: every configured workspace id.
            workspace_id: the workspace the path names.
            token: the bearer token sent, None when absent or malformed.
        """
        known = workspace_id in workspace_ids
        dialect = self.dialect
        code = dialect.foreign_workspace_status if known else dialect.unknown_workspace_status
        if code == 401 or token is None:
            return auth_failed()
        others = (other for other in workspace_ids if other != workspace_id)
        if not any(key_scope(other, token) is not None for other in others):
            return auth_failed()
        return ApiHTTPError(code, _WORKSPACE_DETAILS[code])

    # --- idempotency (A14) ------------------------------------------------------------------

    def replayed(self, scope_key: tuple[str, ...], body: bytes) -> str | None:
        """The store id of the run an earlier request with this idempotency key started.

        Args:
            scope_key: `(workspace_id, trigger_id, environment, Idempotency-Key)`.
            body: the raw request body.

        Returns:
            The run's store id, or None when the key is new.

        Raises:
            ApiHTTPError: 422 when the key was used with another body.
        """
        seen = self._keys.get(scope_key)
        if seen is None:
            return None
        digest, workflow_id = seen
        if digest != hashlib.sha256(body).digest():
            raise ApiHTTPError(422, "Idempotency-Key was already used with a different body")
        return workflow_id

    def remember(self, scope_key: tuple[str, ...], body: bytes, workflow_id: str) -> None:
        """Remember the run a request with an idempotency key started (bounded memory)."""
        self._keys[scope_key] = (hashlib.sha256(body).digest(), workflow_id)
        if len(self._keys) > IDEMPOTENCY_MEMORY:
            self._keys.popitem(last=False)

    def forget(self, scope_key: tuple[str, ...]) -> None:
        """Forget a key whose run is gone (expired), so the key starts a new run."""
        self._keys.pop(scope_key, None)

    # --- wire -------------------------------------------------------------------------------

    def content_type_send(self, send: Send) -> Send:
        """`send` with every `application/json` content type replaced by the dialect's."""
        wanted = self.content_type
        if wanted == JSON_CONTENT_TYPE:
            return send

        async def relabel(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (
                        name,
                        wanted
                        if name.lower() == b"content-type" and value == JSON_CONTENT_TYPE
                        else value,
                    )
                    for name, value in message.get("headers", ())
                ]
            await send(message)

        return relabel
