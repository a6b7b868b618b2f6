"""Targets: where the harness points, read from `harness.toml` into frozen, validated values.

A targets file holds `[targets.<name>]` tables (keys as in interfaces.md). Keys are never
written in the file: `api_key_env` / `jira_secret_env` name environment variables, read from an
injected `environ` when a target is selected, so one target's missing variable does not break
the others. The built-in `mock` target (the embedded mock's demo world) always exists.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from ._exceptions import ConfigError, ProductionGuardError
from ._redact import REDACTED
from ._types import Environ

__all__ = [
    "ENVIRONMENTS",
    "MOCK_TARGET_NAME",
    "PRODUCTION_SKIP_REASON",
    "TARGETS_ENV_VAR",
    "Secret",
    "Target",
    "guard_production",
    "load_targets",
    "mock_target",
    "resolve_secrets",
    "select_target",
]

ENVIRONMENTS: Final = ("DEV", "UAT", "PROD")
MOCK_TARGET_NAME: Final = "mock"
TARGETS_ENV_VAR: Final = "TRIGGER_HARNESS_TARGETS"
DEFAULT_TARGETS_FILE: Final = "harness.toml"
PRODUCTION_SKIP_REASON: Final = "starts runs on a production target; pass --allow-production"
"""Why a case, property or test that starts runs was skipped (`Target.may_start_runs`)."""


@dataclass(frozen=True, slots=True, repr=False)
class Secret:
    """A secret string whose repr and str are `[REDACTED]`; `reveal()` gives the value."""

    _value: str = field(compare=False)

    def reveal(self) -> str:
        """The secret value; use it only where it is sent."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


_STR_FIELDS: Final = ("name", "base_url", "workspace_id", "environment")
_OPTIONAL_STR_FIELDS: Final = (
    "api_key_env",
    "sync_trigger",
    "background_trigger",
    "jira_trigger",
    "jira_secret_env",
)
_POSITIVE_FIELDS: Final = ("max_run_s", "poll_interval_s", "sync_limit_s", "timeout_s")
_BOOL_FIELDS: Final = ("production", "embedded")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One endpoint the harness can check: base URL, workspace, environment, triggers, limits.

    `base_url` is everything before `/trigger/...` (gateway `.../api/v1/ai` or direct host).
    `api_key` / `jira_secret` are filled from `api_key_env` / `jira_secret_env` by
    `select_target`; `timeout_s` bounds each request (E1 gets `sync_limit_s` plus slack).
    """

    name: str
    base_url: str
    workspace_id: str
    environment: str
    api_key: Secret | None = None
    api_key_env: str | None = None
    sync_trigger: str | None = None
    background_trigger: str | None = None
    jira_trigger: str | None = None
    jira_secret: Secret | None = None
    jira_secret_env: str | None = None
    max_run_s: float = 2700.0
    poll_interval_s: float = 5.0
    sync_limit_s: float = 150.0
    timeout_s: float = 30.0
    production: bool = False
    embedded: bool = False

    def __post_init__(self) -> None:
        for name in _STR_FIELDS:
            self._check_str(name, getattr(self, name))
        for name in _OPTIONAL_STR_FIELDS:
            value = getattr(self, name)
            if value is not None:
                self._check_str(name, value)
        for name in _POSITIVE_FIELDS:
            self._check_positive(name, getattr(self, name))
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                self._fail(name, f"must be true or false, got {getattr(self, name)!r}")
        for name in ("api_key", "jira_secret"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), Secret):
                self._fail(name, "must be a Secret")
        if self.environment not in ENVIRONMENTS:
            self._fail("environment", f"must be DEV, UAT or PROD, got {self.environment!r}")
        self._check_base_url()
        if self.poll_interval_s > self.max_run_s:
            self._fail(
                "poll_interval_s",
                f"must not exceed max_run_s={self.max_run_s!r}, got {self.poll_interval_s!r}",
            )

    def may_start_runs(self, *, allow_production: bool) -> bool:
        """Whether runs may be started (or load sent): never on production without the flag.

        The one production predicate: commands, contract cases, fuzz properties, the state
        machine and the pytest plugin all ask it (interfaces.md, `--allow-production`).
        """
        return allow_production or not self.production

    def secret_values(self) -> tuple[str, ...]:
        """The revealed secrets a run against this target may hold: API key, Jira secret."""
        return tuple(secret.reveal() for secret in (self.api_key, self.jira_secret) if secret)

    def _fail(self, name: str, problem: str) -> None:
        raise ConfigError(f"targets.{self.name}.{name}: {problem}")

    def _check_str(self, name: str, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            self._fail(name, f"must be a non-empty string, got {value!r}")

    def _check_positive(self, name: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._fail(name, f"must be a number of seconds, got {value!r}")
        elif not math.isfinite(value) or value <= 0:
            self._fail(name, f"must be a finite number > 0, got {value!r}")

    def _check_base_url(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._fail("base_url", f"must be an http(s) URL with a host, got {self.base_url!r}")
        if parts.username is not None or parts.password is not None:
            self._fail("base_url", "must not carry credentials (use api_key_env)")
        if parts.query or parts.fragment:
            self._fail("base_url", f"must have no query or fragment, got {self.base_url!r}")


def mock_target(**changes: Any) -> Target:
    """The built-in `mock` target: the embedded mock serving its demo world.

    Args:
        changes: fields to replace (`dataclasses.replace`), e.g. for a mock world of one's own.
    """
    target = Target(
        name=MOCK_TARGET_NAME,
        base_url="http://testserver",
        workspace_id="demo",
        environment="DEV",
        api_key=Secret("demo-key"),
        sync_trigger="quick-answer",
        background_trigger="nightly-report",
        jira_trigger="jira-triage",
        jira_secret=Secret("demo-jira-secret"),
        max_run_s=2700.0,
        poll_interval_s=5.0,
        embedded=True,
    )
    return dataclasses.replace(target, **changes) if changes else target


_REQUIRED_KEYS: Final = ("base_url", "workspace_id", "environment", "api_key_env")
_FILE_STR_KEYS: Final = (
    "base_url",
    "workspace_id",
    "environment",
    "api_key_env",
    "sync_trigger",
    "background_trigger",
    "jira_trigger",
    "jira_secret_env",
)
_FILE_NUMBER_KEYS: Final = _POSITIVE_FIELDS
_FILE_BOOL_KEYS: Final = ("production",)
_SECRET_KEYS: Final = {"api_key": "api_key_env", "jira_secret": "jira_secret_env"}


def load_targets(path: Path | None, *, environ: Environ, cwd: Path) -> dict[str, Target]:
    """Load the targets: the built-in `mock` plus those of the targets file, if any.

    Args:
        path: the file given on the command line; None to look further.
        environ: where `$TRIGGER_HARNESS_TARGETS` is read (the keys are read only at selection).
        cwd: where a relative path and `harness.toml` are looked up.
    """
    targets = {MOCK_TARGET_NAME: mock_target()}
    source = _targets_file(path, environ=environ, cwd=cwd)
    if source is None:
        return targets
    for name, target in _parse_file(source).items():
        targets[name] = target
    return targets


def _targets_file(path: Path | None, *, environ: Environ, cwd: Path) -> Path | None:
    if path is not None:
        return path if path.is_absolute() else cwd / path
    from_env = environ.get(TARGETS_ENV_VAR, "")
    if from_env:
        resolved = Path(from_env)
        resolved = resolved if resolved.is_absolute() else cwd / resolved
        if not resolved.is_file():
            raise ConfigError(f"${TARGETS_ENV_VAR}: targets file {str(resolved)!r} does not exist")
        return resolved
    default = cwd / DEFAULT_TARGETS_FILE
    return default if default.is_file() else None


def _parse_file(source: Path) -> dict[str, Target]:
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read targets file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: targets file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"targets"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key {unknown[0]!r} (expected [targets.NAME])"
        )
    tables = document.get("targets", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: targets: must be a table of [targets.NAME] tables")
    result: dict[str, Target] = {}
    for name, table in tables.items():
        if name == MOCK_TARGET_NAME:
            raise ConfigError(
                f"{source}: targets.mock: the built-in mock target cannot be redefined"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: targets.{name}: must be a table, got {table!r}")
        result[name] = _parse_target(source, name, table)
    return result


def _parse_target(source: Path, name: str, table: Mapping[str, Any]) -> Target:
    prefix = f"{source}: targets.{name}"
    for key in sorted(table):
        if key in _SECRET_KEYS:
            raise ConfigError(
                f"{prefix}.{key}: secrets are never written in the file; "
                f"set {_SECRET_KEYS[key]} to the name of an environment variable"
            )
        if key not in (*_FILE_STR_KEYS, *_FILE_NUMBER_KEYS, *_FILE_BOOL_KEYS):
            raise ConfigError(f"{prefix}.{key}: unknown key")
    for key in _REQUIRED_KEYS:
        if key not in table:
            raise ConfigError(f"{prefix}.{key}: missing required key")
    for key, value in table.items():
        _check_file_type(prefix, key, value)
    try:
        return Target(name=name, **table)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _check_file_type(prefix: str, key: str, value: object) -> None:
    if key in _FILE_STR_KEYS and not isinstance(value, str):
        raise ConfigError(f"{prefix}.{key}: must be a string, got {value!r}")
    if key in _FILE_NUMBER_KEYS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConfigError(f"{prefix}.{key}: must be a number, got {value!r}")
    if key in _FILE_BOOL_KEYS and not isinstance(value, bool):
        raise ConfigError(f"{prefix}.{key}: must be true or false, got {value!r}")


def select_target(targets: Mapping[str, Target], name: str, *, environ: Environ) -> Target:
    """The target called `name`, with its secrets read from `environ`.

    Args:
        targets: as returned by `load_targets`.
        name: the `--target` value.
        environ: where `api_key_env` / `jira_secret_env` are read.
    """
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise ConfigError(f"--target: unknown target {name!r}; known targets: {known}")
    return resolve_secrets(targets[name], environ=environ)


def resolve_secrets(target: Target, *, environ: Environ) -> Target:
    """`target` with `api_key` / `jira_secret` read from the variables it names."""
    api_key = _read_secret(target, "api_key_env", environ) or target.api_key
    jira_secret = _read_secret(target, "jira_secret_env", environ) or target.jira_secret
    return dataclasses.replace(target, api_key=api_key, jira_secret=jira_secret)


def _read_secret(target: Target, env_field: str, environ: Environ) -> Secret | None:
    variable = getattr(target, env_field)
    if variable is None:
        return None
    value = environ.get(variable, "")
    where = f"targets.{target.name}.{env_field}: environment variable {variable}"
    if not value.strip():
        raise ConfigError(f"{where} is not set or empty")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ConfigError(f"{where} holds control characters")
    return Secret(value)


def guard_production(target: Target, *, allow_production: bool) -> None:
    """Refuse a production target unless `--allow-production` was given.

    Raises:
        ProductionGuardError: `target.may_start_runs(...)` is False.
    """
    if not target.may_start_runs(allow_production=allow_production):
        raise ProductionGuardError(
            f"target {target.name!r} is a production target; "
            "pass --allow-production to start runs or send load against it"
        )
