"""Mock configs of three non-default dialects (and the default one) for the round trips."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

_TRIGGERS: list[dict[str, Any]] = [
    {"id": "sync-flow", "duration": {"dist": "uniform", "min_s": 20, "max_s": 40}},
    {
        "id": "batch",
        "duration": {"dist": "lognormal", "median_s": 30, "sigma": 0.5},
        "outcome": {"failed": 0.2},
    },
    {"id": "jira-flow", "duration": {"dist": "fixed", "s": 12}, "jira_secret": "jira-secret-x"},
    {"id": "slow", "duration": {"dist": "fixed", "s": 200}},
]
SLOW_TRIGGER = "slow"
"""Outlasts the sync limit (150 s): A1 is asked on it."""

DIALECTS: dict[str, dict[str, Any]] = {
    "strict-202": {
        "e2_status": 202,
        "lowercase_environments": "accept",
        "extra_fields": "refuse",
        "jira_auth_status": 403,
    },
    "wire": {
        "content_type": "application/json; charset=utf-8",
        "compression": "gzip",
        "workflow_id_format": "hex",
        "extra_envelope_fields": {"region": "eu-1", "api_version": 2},
        "workflow_not_found_detail": "No such run",
        "trigger_not_found_detail": "Unknown trigger",
    },
    "keyed": {
        "idempotency": "key",
        "missing_message": "refuse",
        "empty_body": "refuse",
        "workflow_id_format": "prefixed",
        "workflow_id_prefix": "run-",
        "e4_status": 202,
    },
}
"""Dialects the round trips use: each answers several open questions unlike the default."""


def _config(name: str | None, *, seed: int = 11) -> dict[str, Any]:
    """A one-workspace config (key `k-1`) of four triggers speaking dialect `name` (None:
    the mock's defaults); `keyed` also answers 200 `failed` past the sync limit (A1)."""
    mock: dict[str, Any] = {"seed": seed}
    if name == "keyed":
        mock["sync_timeout_policy"] = "failed"
    if name is not None:
        mock["dialect"] = dict(DIALECTS[name])
    workspace = {"id": "ws", "api_keys": ["k-1"], "triggers": copy.deepcopy(_TRIGGERS)}
    return {"mock": mock, "workspaces": [workspace]}


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> str:
    """Each non-default dialect's name."""
    return str(request.param)


@pytest.fixture
def dialect_config() -> Callable[..., dict[str, Any]]:
    """Builds a dialect's config: `dialect_config(name, seed=...)`."""
    return _config
