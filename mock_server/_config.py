"""The mock's configuration: frozen dataclasses, loaded from TOML and validated at once.

The field names are the TOML keys of interfaces.md. Every value is checked when it is loaded;
a bad one raises `ConfigError` naming the key (as a dotted path) and the value.

INTERFACE (fixed, other modules code against it): `MockConfig`, `MockSettings`,
`WorkspaceConfig`, `ApiKey`, `TriggerConfig`, `Duration`, `Outcome`, `CronSpec`,
`ConfigError`, `load_config(path)`, `parse_config(mapping, source=...)`, `demo_config()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "ENVIRONMENTS",
    "ApiKey",
    "ConfigError",
    "CronSpec",
    "Duration",
    "MockConfig",
    "MockSettings",
    "Outcome",
    "TriggerConfig",
    "WorkspaceConfig",
]

ENVIRONMENTS: tuple[str, ...] = ("DEV", "UAT", "PROD")

DurationDist = Literal["fixed", "uniform", "lognormal", "exponential"]


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the key and the value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration:
    """How long a run of a trigger takes, in virtual seconds.

    `fixed` uses `s`; `uniform` uses `min_s`, `max_s`; `lognormal` uses `median_s`, `sigma`
    and an optional cap `max_s`; `exponential` uses `mean_s` and an optional cap `max_s`.
    """

    dist: DurationDist
    s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    median_s: float | None = None
    sigma: float | None = None
    mean_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Probabilities of a run ending `failed` or pausing in `waiting_for_input`; the rest complete."""

    failed: float = 0.0
    waiting_for_input: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CronSpec:
    """A trigger's recurring schedule (A13): 5-field expression, timezone, overlap policy."""

    schedule: str
    timezone: str = "UTC"
    overlap: Literal["allow", "skip"] = "allow"
    environment: str | None = None  # None: the trigger's first environment
    message: str = ""
    user_variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerConfig:
    """One trigger of a workspace."""

    id: str
    environments: tuple[str, ...] = ENVIRONMENTS
    duration: Duration = Duration(dist="fixed", s=5.0)
    outcome: Outcome = Outcome()
    paused: bool = False
    cron: CronSpec | None = None
    jira_secret: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A workspace key; `environments` limits where it is accepted (A15), None means all."""

    key: str
    environments: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkspaceConfig:
    """A workspace: its keys and triggers."""

    id: str
    api_keys: tuple[ApiKey, ...]
    triggers: tuple[TriggerConfig, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MockSettings:
    """The `[mock]` table: clock, limits and the answers to the open questions A1-A15."""

    time_scale: float = 1.0
    start: datetime | None = None  # None: real UTC now when the server starts
    scenario: Literal["flaky", "degraded", "overloaded"] | None = None
    journal_limit: int = 10_000
    sync_limit_s: float = 150.0
    sync_timeout_policy: Literal["504", "failed"] = "504"
    background_limit_s: float = 2700.0
    retention_s: float = 86_400.0
    log_window: int = 5
    seed: int = 0
    max_body_bytes: int = 1_048_576  # A7: 413 above this
    rate_limit_per_s: float | None = None  # A8: per-workspace limit, off by default
    admin_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MockConfig:
    """The whole world the mock serves."""

    mock: MockSettings = MockSettings()
    workspaces: tuple[WorkspaceConfig, ...] = ()
