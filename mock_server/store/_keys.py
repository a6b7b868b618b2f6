"""Auth scopes: which workspace and environments a bearer key opens, and Jira signatures.

Keys are workspace-level (A15); a key may be limited to some environments. Every comparison
is constant time (`hmac.compare_digest`), whichever key matches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .._config import WorkspaceConfig

__all__ = ["KeyRing", "KeyScope", "jira_signature_ok", "signature_digest"]

_SIGNATURE = re.compile(r"sha256=([0-9A-Fa-f]{64})")
"""A12's grammar: `sha256=` and exactly 64 ASCII hex digits, nothing between or after."""
_OWS = " \t"


@dataclass(frozen=True, slots=True)
class KeyScope:
    """What an accepted key may do: its workspace and, if limited (A15), its environments."""

    workspace_id: str
    environments: frozenset[str] | None


class KeyRing:
    """Every workspace's API keys, as bytes with their environment limits.

    Args:
        workspaces: the config's workspaces.
    """

    __slots__ = ("_keys", "_workspace_ids")

    def __init__(self, workspaces: Iterable[WorkspaceConfig]) -> None:
        self._keys: dict[str, tuple[tuple[bytes, frozenset[str] | None], ...]] = {}
        self._workspace_ids: dict[str, str] = {}
        for workspace in workspaces:
            self._keys[workspace.id] = tuple(
                (k.key.encode(), None if k.environments is None else frozenset(k.environments))
                for k in workspace.api_keys
            )
            self._workspace_ids[workspace.id] = workspace.id

    @property
    def workspace_ids(self) -> tuple[str, ...]:
        """Every workspace id, in config order."""
        return tuple(self._workspace_ids)

    def scope(self, workspace_id: str, presented_key: str | None) -> KeyScope | None:
        """The scope of `presented_key` in `workspace_id`; None when it is not one of its keys.

        Every key of the workspace is compared in constant time, whichever matches; a key with
        lone surrogates is compared as its `surrogatepass` bytes (and so never matches).

        Args:
            workspace_id: the workspace named in the path.
            presented_key: the bearer token sent, or None when absent.
        """
        keys = self._keys.get(workspace_id)
        if keys is None or presented_key is None:
            return None
        presented = presented_key.encode("utf-8", "surrogatepass")
        found: frozenset[str] | None = None
        matched = False
        for key, environments in keys:
            if hmac.compare_digest(presented, key):
                matched = True
                found = environments
        return KeyScope(self._workspace_ids[workspace_id], found) if matched else None


def signature_digest(header: str | None) -> bytes | None:
    """The lower-case hex digest of an `X-Hub-Signature` value; None unless it is exactly
    `sha256=` followed by 64 hex digits (either case).

    Only the field's leading and trailing OWS (space, tab) is set aside, as RFC 9110 §5.5
    excludes it from the field value; whitespace inside (`sha256= <hex>`), a no-break space or
    any other character anywhere makes the header malformed.

    Args:
        header: the header value, or None when absent.
    """
    if header is None:
        return None
    match = _SIGNATURE.fullmatch(header.strip(_OWS))
    return None if match is None else match.group(1).lower().encode("ascii")


def jira_signature_ok(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex>` of the HMAC-SHA256 of `raw_body` under `secret` (A12).

    The header is parsed with its exact grammar (`signature_digest`); the digest is compared
    case-insensitively and in constant time.

    Args:
        secret: the trigger's Jira secret.
        raw_body: the request body exactly as received.
        header: the `X-Hub-Signature` value, or None when absent.
    """
    given = signature_digest(header)
    if given is None:
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(given, expected)
