"""The mock's configuration: frozen dataclasses, loaded from TOML and validated at once.

The field names are the TOML keys of interfaces.md. Every value is checked when it is loaded;
a bad one raises `ConfigError` naming the key (as a dotted path) and the value.

INTERFACE (fixed, other modules code against it): `MockConfig`, `MockSettings`,
`WorkspaceConfig`, `ApiKey`, `TriggerConfig`, `Duration`, `OutcomeRates`, `CronSpec`,
`ConfigError`, `load_config(path)`, `parse_config(mapping, source=...)`, `demo_config()`,
`check_cron(cron, environments)` (also used when a schedule is added at run time).

Secrets (API keys, Jira secrets, the admin token) are never echoed in error messages; TOML
dates inside cron `user_variables` become ISO strings so every variable is JSON-serialisable.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dt_time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from ._clock import MAX_TIME_SCALE, check_instant
from ._fault_rules import FaultRule, parse_fault_rules
from ._validate import (
    BEARER_TOKEN,
    MAX_DURATION_S,
    MAX_RATE_PER_S,
    MAX_REAL_DELAY_S,
    MAX_SIGMA,
    ConfigError,
    bearer_key,
    header_secret,
)
from ._validate import Where as _Where
from ._validate import (
    choice as _choice,
)
from ._validate import (
    integer as _integer,
)
from ._validate import (
    number as _number,
)
from ._validate import (
    required as _required,
)
from ._validate import (
    show_value as _show,
)
from ._validate import (
    string as _string,
)
from ._validate import (
    table as _table,
)

__all__ = [
    "ENVIRONMENTS",
    "ApiKey",
    "ConfigError",
    "CronSpec",
    "Dialect",
    "Duration",
    "MockConfig",
    "MockSettings",
    "OutcomeRates",
    "TriggerConfig",
    "WorkspaceConfig",
    "admin_token_problem",
    "check_cron",
    "demo_config",
    "load_config",
    "parse_config",
    "parse_dialect",
]

ENVIRONMENTS: tuple[str, ...] = ("DEV", "UAT", "PROD")

DurationDist = Literal["fixed", "uniform", "lognormal", "exponential"]


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
class OutcomeRates:
    """A trigger's outcome rates (TOML `outcome`): chances, each in [0, 1], of a run ending
    `failed` or pausing in `waiting_for_input`; the rest complete."""

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
    outcome: OutcomeRates = OutcomeRates()
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
class Dialect:
    """The `[mock.dialect]` table: how the mock answers the open questions and wire traits
    that have no `[mock]` key of their own; the defaults are the answers of trigger-api.md.

    Codes are HTTP status codes; `latency` maps an endpoint (`e1`..`e4`) to a distribution of
    added delays in real seconds (the shape of a trigger's `duration`, never scaled by the time
    scale). `extra_envelope_fields` is kept as a tuple of `(key, JSON value)` pairs so the
    dataclass stays hashable.
    """

    e2_status: int = 200  # A6
    e4_status: int = 200  # A6
    lowercase_environments: Literal["refuse", "accept"] = "refuse"  # A5
    extra_fields: Literal["ignore", "refuse"] = "ignore"  # A7
    missing_message: Literal["default", "refuse"] = "default"  # A7
    missing_user_variables: Literal["default", "refuse"] = "default"  # A7
    empty_body: Literal["accept", "refuse"] = "accept"  # A7
    workflow_not_found_detail: str = "Workflow not found"  # A3
    trigger_not_found_detail: str = "Trigger not found"  # A4
    paused_status: int = 409  # A4
    no_build_status: int = 409  # A4
    jira_auth_status: int = 401  # A12
    unknown_workspace_status: int = 401  # A4: a valid key naming a workspace that does not exist
    foreign_workspace_status: int = 401  # A4: a valid key naming another workspace
    idempotency: Literal["none", "key"] = "none"  # A14
    content_type: str = "application/json"
    compression: Literal["never", "gzip"] = "never"
    compression_min_bytes: int = 0
    workflow_id_format: Literal["uuid4", "hex", "prefixed"] = "uuid4"
    workflow_id_prefix: str = "wf_"
    extra_envelope_fields: tuple[tuple[str, Any], ...] = ()
    latency: tuple[tuple[str, Duration], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Every key with its value, as the TOML table and the admin API write it."""
        values: dict[str, Any] = {name: getattr(self, name) for name in DIALECT_KEYS}
        values["extra_envelope_fields"] = dict(self.extra_envelope_fields)
        values["latency"] = {
            endpoint: _duration_json(duration) for endpoint, duration in self.latency
        }
        return values


@dataclass(frozen=True, slots=True, kw_only=True)
class MockSettings:
    """The `[mock]` table: clock, limits and the answers to the open questions A1-A15."""

    time_scale: float = 1.0
    start: datetime | None = None  # None: real UTC now when the server starts
    scenario: Literal["flaky", "degraded", "overloaded"] | None = None
    journal_limit: int = 10_000
    journal_max_bytes: int = 32 * 1024 * 1024  # the journal's byte budget (estimated)
    sync_limit_s: float = 150.0
    sync_timeout_policy: Literal["504", "failed"] = "504"
    background_limit_s: float = 2700.0
    retention_s: float = 86_400.0
    log_window: int = 5
    seed: int = 0
    max_body_bytes: int = 1_048_576  # A7: 413 above this
    rate_limit_per_s: float | None = None  # A8: per-workspace limit, off by default
    status_rate_per_s: float | None = None  # per-workspace limit on E3 only (real seconds)
    max_background_runs: int | None = None  # per-workspace concurrent background runs
    admin_token: str | None = None
    dialect: Dialect = Dialect()


@dataclass(frozen=True, slots=True, kw_only=True)
class MockConfig:
    """The whole world the mock serves."""

    mock: MockSettings = MockSettings()
    workspaces: tuple[WorkspaceConfig, ...] = ()
    faults: tuple[FaultRule, ...] = ()  # `[[faults]]`, applied after the scenario's rules


# --- loading and validation -------------------------------------------------------------------

_MAX_CRON_CHARS = 256
"""The longest cron schedule or timezone name."""
_ID_PATTERN = re.compile(r"[A-Za-z0-9._~-]+")
_MOCK_KEYS = (
    "time_scale",
    "start",
    "scenario",
    "journal_limit",
    "journal_max_bytes",
    "sync_limit_s",
    "sync_timeout_policy",
    "background_limit_s",
    "retention_s",
    "log_window",
    "seed",
    "max_body_bytes",
    "rate_limit_per_s",
    "status_rate_per_s",
    "max_background_runs",
    "admin_token",
    "dialect",
)
_NUMBER_MAXIMA: dict[str, float] = {
    "time_scale": MAX_TIME_SCALE,
    "sync_limit_s": MAX_DURATION_S,
    "background_limit_s": MAX_DURATION_S,
    "retention_s": MAX_DURATION_S,
    "rate_limit_per_s": MAX_RATE_PER_S,
    "status_rate_per_s": MAX_RATE_PER_S,
}
"""The `[mock]` numbers (each > 0) and their documented maxima."""
_INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "journal_limit": (1, 10_000_000),
    "journal_max_bytes": (1 << 16, 1 << 34),
    "log_window": (1, 1000),
    "max_body_bytes": (1, 1 << 30),
    "max_background_runs": (1, 10_000_000),
    "seed": (-(1 << 63), (1 << 64) - 1),
}
"""The `[mock]` integers and their documented bounds (inclusive)."""
_DURATION_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma", "max_s"),
    "exponential": ("mean_s", "max_s"),
}
_DURATION_REQUIRED: dict[str, tuple[str, ...]] = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma"),
    "exponential": ("mean_s",),
}


def _identifier(value: object, where: _Where) -> str:
    text = _string(value, where)
    if not _ID_PATTERN.fullmatch(text):
        raise where.fail("must use only letters, digits and . _ ~ -", value)
    return text


def _environments(value: object, where: _Where) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise where.fail("must be a non-empty array of environments", value)
    envs = tuple(_choice(env, where / i, ENVIRONMENTS) for i, env in enumerate(value))
    if len(set(envs)) != len(envs):
        raise where.fail("must not repeat an environment", value)
    return envs


def _json_value(value: object) -> object:
    """TOML dates and times become ISO strings so every variable is JSON-serialisable."""
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, datetime | date | dt_time):
        return value.isoformat()
    return value


def _start(value: object, where: _Where) -> datetime:
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise where.fail(
                "must be an ISO 8601 UTC time like 2026-06-10T00:10:00Z", value
            ) from None
    else:
        raise where.fail("must be an ISO 8601 UTC time like 2026-06-10T00:10:00Z", value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise where.fail("must include a timezone (e.g. a trailing Z)", value)
    try:
        check_instant(moment.timestamp(), "start")
    except (ValueError, OverflowError):
        raise where.fail(
            "must be between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z", value
        ) from None
    return moment.astimezone(UTC)


def _parse_settings(value: object, where: _Where) -> MockSettings:
    table = _table(value, where, _MOCK_KEYS)
    values: dict[str, Any] = {}
    for key, item in table.items():
        at = where / key
        if key in _NUMBER_MAXIMA:
            values[key] = _number(item, at, minimum=0, maximum=_NUMBER_MAXIMA[key])
        elif key in _INTEGER_BOUNDS:
            low, high = _INTEGER_BOUNDS[key]
            values[key] = _integer(item, at, minimum=low, maximum=high)
        elif key == "start":
            values[key] = _start(item, at)
        elif key == "scenario":
            values[key] = _choice(item, at, ("flaky", "degraded", "overloaded"))
        elif key == "dialect":
            values[key] = _parse_dialect(item, at)
        elif key == "sync_timeout_policy":
            values[key] = _choice(
                str(item) if isinstance(item, int) else item, at, ("504", "failed")
            )
        else:  # admin_token
            problem = admin_token_problem(item) if isinstance(item, str) else None
            if problem is not None:
                raise at.fail(problem, show=False)
            values[key] = _string(item, at)
    return MockSettings(**values)


def admin_token_problem(token: str) -> str | None:
    """Why `token` cannot be the admin API's bearer token, or None when it can.

    It must be non-empty (an empty token would leave the admin API open while looking set)
    and made of visible ASCII characters, as an RFC 6750 bearer token is sent. The message
    never holds the token.

    Args:
        token: the candidate token.
    """
    if not token:
        return "must not be empty (leave it out to keep the admin API open)"
    if not BEARER_TOKEN.fullmatch(token):
        return "must be visible ASCII characters, without spaces (an RFC 6750 bearer token)"
    return None


def _parse_duration(value: object, where: _Where) -> Duration:
    if not isinstance(value, dict):
        raise where.fail("must be a table", value)
    dist = _choice(_required(value, "dist", where), where / "dist", tuple(_DURATION_KEYS))
    table = _table(value, where, ("dist", *_DURATION_KEYS[dist]))
    for key in _DURATION_REQUIRED[dist]:
        _required(table, key, where)
    params: dict[str, float] = {}
    for key in _DURATION_KEYS[dist]:
        if key in table:
            lowest_inclusive = key == "sigma" or (dist == "uniform" and key == "min_s")
            params[key] = _number(
                table[key],
                where / key,
                minimum=0,
                inclusive=lowest_inclusive,
                maximum=MAX_SIGMA if key == "sigma" else MAX_DURATION_S,
            )
    if dist == "uniform" and params["max_s"] < params["min_s"]:
        raise (where / "max_s").fail(f"must be >= min_s ({params['min_s']:g})", params["max_s"])
    return Duration(dist=dist, **params)  # type: ignore[arg-type]


DIALECT_KEYS: tuple[str, ...] = (
    "e2_status",
    "e4_status",
    "lowercase_environments",
    "extra_fields",
    "missing_message",
    "missing_user_variables",
    "empty_body",
    "workflow_not_found_detail",
    "trigger_not_found_detail",
    "paused_status",
    "no_build_status",
    "jira_auth_status",
    "unknown_workspace_status",
    "foreign_workspace_status",
    "idempotency",
    "content_type",
    "compression",
    "compression_min_bytes",
    "workflow_id_format",
    "workflow_id_prefix",
    "extra_envelope_fields",
    "latency",
)
"""The keys of `[mock.dialect]` (and of the admin API's `/__admin/dialect`)."""
_REFUSAL_CODES = (400, 403, 404, 409, 422, 423)
_WORKSPACE_CODES = (401, 403, 404)
_DIALECT_CHOICES: dict[str, tuple[str, ...] | tuple[int, ...]] = {
    "e2_status": (200, 202),
    "e4_status": (200, 202),
    "lowercase_environments": ("refuse", "accept"),
    "extra_fields": ("ignore", "refuse"),
    "missing_message": ("default", "refuse"),
    "missing_user_variables": ("default", "refuse"),
    "empty_body": ("accept", "refuse"),
    "paused_status": _REFUSAL_CODES,
    "no_build_status": _REFUSAL_CODES,
    "jira_auth_status": (401, 403),
    "unknown_workspace_status": _WORKSPACE_CODES,
    "foreign_workspace_status": _WORKSPACE_CODES,
    "idempotency": ("none", "key"),
    "content_type": ("application/json", "application/json; charset=utf-8"),
    "compression": ("never", "gzip"),
    "workflow_id_format": ("uuid4", "hex", "prefixed"),
}
"""The dialect keys whose value is one of a few strings or HTTP codes."""
_MAX_DETAIL_CHARS = 200
_MAX_PREFIX_CHARS = 32
_MAX_EXTRA_FIELDS = 32
_MAX_EXTRA_JSON_BYTES = 4096
_MAX_COMPRESSION_MIN_BYTES = 1 << 20
ENVELOPE_FIELDS = ("workflow_id", "response", "status", "logs", "requires_input", "error")
"""The six fields of every E1-E3 answer (trigger-api.md), which extra fields must not shadow."""
LATENCY_ENDPOINTS = ("e1", "e2", "e3", "e4")


def parse_dialect(data: Mapping[str, Any], *, source: str = "dialect") -> Dialect:
    """Validate a dialect table (TOML `[mock.dialect]`, or the admin API's JSON body).

    Args:
        data: the table; a missing key keeps today's answer (`Dialect()`'s default).
        source: the name at the start of every error message.

    Raises:
        ConfigError: the first bad key or value, named with the value.
    """
    return _parse_dialect(dict(data), _Where(source))


def _parse_dialect(value: object, where: _Where) -> Dialect:
    table = _table(value, where, DIALECT_KEYS)
    values: dict[str, Any] = {}
    for key, item in table.items():
        at = where / key
        if key in _DIALECT_CHOICES:
            values[key] = _listed(item, at, _DIALECT_CHOICES[key])
        elif key in ("workflow_not_found_detail", "trigger_not_found_detail"):
            values[key] = _detail_text(item, at)
        elif key == "workflow_id_prefix":
            values[key] = _identifier(item, at)
            if len(values[key]) > _MAX_PREFIX_CHARS:
                raise at.fail(f"must be at most {_MAX_PREFIX_CHARS} characters", item)
        elif key == "compression_min_bytes":
            values[key] = _integer(item, at, minimum=0, maximum=_MAX_COMPRESSION_MIN_BYTES)
        elif key == "extra_envelope_fields":
            values[key] = _extra_fields(item, at)
        else:  # latency
            values[key] = _latencies(item, at)
    return Dialect(**values)


def _listed(value: object, where: _Where, allowed: tuple[str, ...] | tuple[int, ...]) -> Any:
    """`value` when it is one of `allowed` (an int code is never a bool or a string)."""
    if isinstance(value, bool) or type(value) is not type(allowed[0]) or value not in allowed:
        raise where.fail(f"must be one of {', '.join(map(str, allowed))}", value)
    return value


def _detail_text(value: object, where: _Where) -> str:
    text = _string(value, where)
    if len(text) > _MAX_DETAIL_CHARS or not text.isprintable():
        raise where.fail(f"must be at most {_MAX_DETAIL_CHARS} printable characters", value)
    return text


def _extra_fields(value: object, where: _Where) -> tuple[tuple[str, Any], ...]:
    """The extra envelope fields as `(key, JSON value)` pairs (TOML dates become ISO strings).

    Raises:
        ConfigError: not a table, a key of the six envelope fields, too many keys, a value
            JSON cannot carry (NaN, infinity) or more than 4096 bytes as JSON.
    """
    if not isinstance(value, dict):
        raise where.fail("must be a table", value)
    if len(value) > _MAX_EXTRA_FIELDS:
        raise where.fail(f"must have at most {_MAX_EXTRA_FIELDS} keys", value)
    for key in value:
        if key in ENVELOPE_FIELDS or not key:
            raise (where / key).fail("must not be empty or one of the six envelope fields", key)
    fields = _json_value(value)
    try:
        size = len(json.dumps(fields, allow_nan=False).encode())
    except ValueError:
        raise where.fail("must hold only finite numbers (JSON has no NaN or infinity)") from None
    if size > _MAX_EXTRA_JSON_BYTES:
        raise where.fail(f"must be at most {_MAX_EXTRA_JSON_BYTES} bytes as JSON", value)
    assert isinstance(fields, dict)
    return tuple(fields.items())


def _latencies(value: object, where: _Where) -> tuple[tuple[str, Duration], ...]:
    """`{e1..e4: duration}` in real seconds, each number at most `MAX_REAL_DELAY_S`."""
    table = _table(value, where, LATENCY_ENDPOINTS)
    latencies = []
    for endpoint in LATENCY_ENDPOINTS:
        if endpoint not in table:
            continue
        at = where / endpoint
        duration = _parse_duration(table[endpoint], at)
        for name, number in _duration_json(duration).items():
            if isinstance(number, float) and name != "sigma" and number > MAX_REAL_DELAY_S:
                raise (at / name).fail(f"must be <= {MAX_REAL_DELAY_S:g} (real seconds)", number)
        latencies.append((endpoint, duration))
    return tuple(latencies)


def _duration_json(duration: Duration) -> dict[str, Any]:
    """A distribution as its TOML/JSON table (the keys it has)."""
    keys = ("s", "min_s", "max_s", "median_s", "sigma", "mean_s")
    return {"dist": duration.dist} | {
        key: getattr(duration, key) for key in keys if getattr(duration, key) is not None
    }


def _parse_outcome(value: object, where: _Where) -> OutcomeRates:
    table = _table(value, where, ("failed", "waiting_for_input"))
    probs = {
        key: _number(item, where / key, minimum=0, inclusive=True) for key, item in table.items()
    }
    for key, prob in probs.items():
        if prob > 1:
            raise (where / key).fail("must be a probability in [0, 1]", prob)
    total = sum(probs.values())
    if total > 1 + 1e-9:
        raise where.fail("failed + waiting_for_input must be <= 1", total)
    return OutcomeRates(**probs)


def check_cron(cron: CronSpec, environments: tuple[str, ...], *, where: str = "cron") -> None:
    """Check a cron spec against cronsim, zoneinfo and the trigger's environments.

    Args:
        cron: the spec to check.
        environments: the environments of its trigger.
        where: the key path used in error messages.

    Raises:
        ConfigError: naming the bad key and value.
    """
    if len(cron.schedule) > _MAX_CRON_CHARS:
        raise ConfigError(f"{where}.schedule: must be at most {_MAX_CRON_CHARS} characters")
    fields = cron.schedule.split()
    if len(fields) != 5:
        raise ConfigError(f"{where}.schedule: must have 5 fields, got {_show(cron.schedule)}")
    if len(cron.timezone) > _MAX_CRON_CHARS:
        raise ConfigError(f"{where}.timezone: must be at most {_MAX_CRON_CHARS} characters")
    try:
        zone = ZoneInfo(cron.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{where}.timezone: unknown timezone, got {_show(cron.timezone)}"
        ) from None
    try:
        next(CronSim(cron.schedule, datetime(2000, 1, 1, tzinfo=zone)))
    except (CronSimError, StopIteration) as exc:
        reason = str(exc) or "never fires"
        raise ConfigError(f"{where}.schedule: {reason}, got {_show(cron.schedule)}") from None
    if cron.overlap not in ("allow", "skip"):
        raise ConfigError(f"{where}.overlap: must be one of allow, skip, got {_show(cron.overlap)}")
    if cron.environment is not None and cron.environment not in environments:
        raise ConfigError(
            f"{where}.environment: must be one of the trigger's environments "
            f"({', '.join(environments)}), got {_show(cron.environment)}"
        )


def _parse_cron(value: object, where: _Where, environments: tuple[str, ...]) -> CronSpec:
    keys = ("schedule", "timezone", "overlap", "environment", "message", "user_variables")
    table = _table(value, where, keys)
    schedule = _string(_required(table, "schedule", where), where / "schedule")
    variables = table.get("user_variables", {})
    if not isinstance(variables, dict):
        raise (where / "user_variables").fail("must be a table", variables)
    environment = table.get("environment")
    cron = CronSpec(
        schedule=schedule,
        timezone=_string(table.get("timezone", "UTC"), where / "timezone"),
        overlap=_choice(table.get("overlap", "allow"), where / "overlap", ("allow", "skip")),  # type: ignore[arg-type]
        environment=None
        if environment is None
        else _choice(environment, where / "environment", ENVIRONMENTS),
        message=_string(table.get("message", ""), where / "message", nonempty=False),
        user_variables=_json_value(variables),  # type: ignore[arg-type]
    )
    check_cron(cron, environments, where=f"{where.source}: {where.path}")
    return cron


def _parse_trigger(value: object, where: _Where) -> TriggerConfig:
    keys = ("id", "environments", "duration", "outcome", "paused", "cron", "jira_secret")
    table = _table(value, where, keys)
    values: dict[str, Any] = {"id": _identifier(_required(table, "id", where), where / "id")}
    if "environments" in table:
        values["environments"] = _environments(table["environments"], where / "environments")
    environments = values.get("environments", ENVIRONMENTS)
    if "duration" in table:
        values["duration"] = _parse_duration(table["duration"], where / "duration")
    if "outcome" in table:
        values["outcome"] = _parse_outcome(table["outcome"], where / "outcome")
    if "paused" in table:
        if not isinstance(table["paused"], bool):
            raise (where / "paused").fail("must be true or false", table["paused"])
        values["paused"] = table["paused"]
    if "cron" in table:
        values["cron"] = _parse_cron(table["cron"], where / "cron", environments)
    if "jira_secret" in table:
        values["jira_secret"] = header_secret(table["jira_secret"], where / "jira_secret")
    return TriggerConfig(**values)


def _parse_api_key(value: object, where: _Where) -> ApiKey:
    if isinstance(value, str):
        return ApiKey(key=bearer_key(value, where))
    table = _table(value, where, ("key", "environments"))
    key = bearer_key(_required(table, "key", where), where / "key")
    envs = table.get("environments")
    return ApiKey(
        key=key, environments=None if envs is None else _environments(envs, where / "environments")
    )


def _parse_workspace(value: object, where: _Where) -> WorkspaceConfig:
    table = _table(value, where, ("id", "api_keys", "triggers"))
    ws_id = _identifier(_required(table, "id", where), where / "id")
    raw_keys = _required(table, "api_keys", where)
    if not isinstance(raw_keys, list) or not raw_keys:
        raise (where / "api_keys").fail("must be a non-empty array of keys", show=False)
    keys = tuple(_parse_api_key(item, where / "api_keys" / i) for i, item in enumerate(raw_keys))
    raw_triggers = table.get("triggers", [])
    if not isinstance(raw_triggers, list):
        raise (where / "triggers").fail("must be an array of tables", raw_triggers)
    triggers = tuple(
        _parse_trigger(item, where / "triggers" / i) for i, item in enumerate(raw_triggers)
    )
    seen: dict[str, int] = {}
    for i, trigger in enumerate(triggers):
        if trigger.id in seen:
            raise (where / "triggers" / i / "id").fail(
                f"duplicate trigger id (also triggers[{seen[trigger.id]}])", trigger.id
            )
        seen[trigger.id] = i
    return WorkspaceConfig(id=ws_id, api_keys=keys, triggers=triggers)


def parse_config(data: Mapping[str, Any], *, source: str = "<config>") -> MockConfig:
    """Validate a parsed TOML mapping and build the frozen config.

    Args:
        data: the TOML document as a mapping (`[mock]` and `[[workspaces]]`).
        source: the name used at the start of every error message (usually the file name).

    Raises:
        ConfigError: the first bad key or value, named as a dotted path with the value
            (secrets are never shown).
    """
    root = _Where(source)
    table = _table(dict(data), root, ("mock", "workspaces", "faults"))
    settings = _parse_settings(table.get("mock", {}), root / "mock")
    raw = table.get("workspaces", [])
    if not isinstance(raw, list) or not raw:
        raise (root / "workspaces").fail("must be a non-empty array of tables", show=False)
    workspaces = tuple(
        _parse_workspace(item, root / "workspaces" / i) for i, item in enumerate(raw)
    )
    seen_ids: dict[str, int] = {}
    seen_keys: dict[str, str] = {}
    for i, workspace in enumerate(workspaces):
        where = root / "workspaces" / i
        if workspace.id in seen_ids:
            raise (where / "id").fail(
                f"duplicate workspace id (also workspaces[{seen_ids[workspace.id]}])", workspace.id
            )
        seen_ids[workspace.id] = i
        for k, api_key in enumerate(workspace.api_keys):
            at = where / "api_keys" / k
            if api_key.key in seen_keys:
                raise at.fail(f"duplicate API key (also {seen_keys[api_key.key]})", show=False)
            seen_keys[api_key.key] = at.path
    faults = parse_fault_rules(table.get("faults", []), root / "faults")
    return MockConfig(mock=settings, workspaces=workspaces, faults=faults)


def load_config(path: str | os.PathLike[str]) -> MockConfig:
    """Read and validate a TOML config file.

    Args:
        path: the file to read.

    Raises:
        ConfigError: the file cannot be read, is not valid TOML (the message gives the line),
            or holds a bad key or value.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: TOML syntax error: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text") from None
    return parse_config(data, source=name)


def demo_config(*, seed: int = 7) -> MockConfig:
    """The built-in demo world served without `--config` (see interfaces.md).

    Args:
        seed: the RNG seed of the world.
    """
    dev_only = ("DEV",)
    triggers = (
        TriggerConfig(id="quick-answer", duration=Duration(dist="uniform", min_s=2, max_s=8)),
        TriggerConfig(
            id="nightly-report",
            duration=Duration(dist="lognormal", median_s=180, sigma=0.5, max_s=900),
        ),
        TriggerConfig(
            id="flaky-enrichment",
            duration=Duration(dist="uniform", min_s=10, max_s=40),
            outcome=OutcomeRates(failed=0.2),
        ),
        TriggerConfig(
            id="approval-flow",
            duration=Duration(dist="fixed", s=10),
            outcome=OutcomeRates(waiting_for_input=1.0),
        ),
        TriggerConfig(id="slow-sync", duration=Duration(dist="fixed", s=200)),
        TriggerConfig(id="long-batch", duration=Duration(dist="fixed", s=3000)),
        TriggerConfig(
            id="jira-triage",
            duration=Duration(dist="uniform", min_s=5, max_s=30),
            jira_secret="demo-jira-secret",  # noqa: S106 - the documented demo secret
        ),
        TriggerConfig(
            id="hourly-health",
            duration=Duration(dist="fixed", s=30),
            cron=CronSpec(
                schedule="0 * * * *",
                timezone="UTC",
                environment="DEV",
                message="scheduled health check",
            ),
        ),
        TriggerConfig(id="uat-only", environments=("UAT",), duration=Duration(dist="fixed", s=5)),
        TriggerConfig(id="paused-trigger", paused=True),
    )
    demo = WorkspaceConfig(
        id="demo",
        api_keys=(ApiKey(key="demo-key"), ApiKey(key="demo-dev-key", environments=dev_only)),
        triggers=triggers,
    )
    sandbox = WorkspaceConfig(
        id="sandbox",
        api_keys=(ApiKey(key="sandbox-key"),),
        triggers=(
            TriggerConfig(id="quick-answer", duration=Duration(dist="uniform", min_s=2, max_s=8)),
        ),
    )
    return MockConfig(mock=MockSettings(seed=seed), workspaces=(demo, sandbox))
