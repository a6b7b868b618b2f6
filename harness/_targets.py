"""Targets: where the harness points, read from `harness.toml` into frozen, validated values.

A targets file holds `[targets.<name>]` tables (keys as in interfaces.md). Keys are never
written in the file: `api_key_env` / `jira_secret_env` name environment variables, read from an
injected `environ` when a target is selected. Only the selected target must be valid: another
target's mistake is kept in `Targets.problems` (a warning for the caller to show), and a missing
Jira secret only leaves `jira_secret` unset (E4 work is skipped with `jira_unavailable`). The
built-in `mock` target (the embedded mock's demo world) always exists.

No message quotes a configured value that could hold a secret: URLs are shown without userinfo,
query and fragment, a value that should name a variable and does not is never echoed, other
values are described by their type, and a selected target's errors are redacted with the
secrets its variables hold.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import ConfigError, ProductionGuardError
from ._redact import REDACTED, Redactor
from ._types import Environ

__all__ = [
    "ENVIRONMENTS",
    "MOCK_TARGET_NAME",
    "PRODUCTION_SKIP_REASON",
    "TARGETS_ENV_VAR",
    "Secret",
    "Target",
    "Targets",
    "guard_production",
    "load_targets",
    "mock_target",
    "resolve_secrets",
    "select_target",
    "shown_url",
    "shown_variable",
]

ENVIRONMENTS: Final = ("DEV", "UAT", "PROD")
MOCK_TARGET_NAME: Final = "mock"
TARGETS_ENV_VAR: Final = "TRIGGER_HARNESS_TARGETS"
DEFAULT_TARGETS_FILE: Final = "harness.toml"
PRODUCTION_SKIP_REASON: Final = "starts runs on a production target; pass --allow-production"
"""Why a case, property or test that starts runs was skipped (`Target.may_start_runs`)."""
_VARIABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What `api_key_env` / `jira_secret_env` must be: a POSIX environment variable name."""
_CONVENTIONAL_NAME: Final = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
"""A variable name a message may show: upper case, digits and `_`, at most 64 characters."""
_KEY_LIKE_WORD: Final = re.compile(r"(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{12,}")
"""A `_`-free run of 12+ characters mixing letters and digits: hex or base32, as keys are."""
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
"""A secret sendable in an HTTP header: visible ASCII, inner single spaces (RFC 9110 §5.5)."""


def shown_url(url: str) -> str:
    """`url` as a message may show it: userinfo, query and fragment masked, at most 200 chars.

    A value that does not parse as a URL is replaced by a description, never echoed.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(not a URL; not shown)"
    netloc = f"{REDACTED}@{host}{port}" if "@" in parts.netloc else parts.netloc
    query = REDACTED if parts.query else ""
    fragment = REDACTED if parts.fragment else ""
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    return repr(shown if len(shown) <= 200 else shown[:200] + "...")


def shown_variable(variable: str) -> str | None:
    """`variable` when a message may show it, None when it must not be echoed.

    Shown only when it looks like a conventional variable name (`_CONVENTIONAL_NAME`, e.g.
    `PHINITE_DEV_KEY`) and has no word that looks like a key (`_KEY_LIKE_WORD`): a key pasted
    where a variable's name belongs can still be a valid name (`a3f9c2e8...` is one), and is
    then not shown (README: a pasted key is refused without being echoed).
    """
    conventional = _CONVENTIONAL_NAME.fullmatch(variable) is not None
    key_like = any(_KEY_LIKE_WORD.fullmatch(word) for word in variable.split("_"))
    return variable if conventional and not key_like else None


def _word(value: str) -> str:
    """A short plain word quoted as is; anything longer or odder is not shown (it may be a key)."""
    return (
        repr(value)
        if len(value) <= 12 and value.isascii() and value.isalpha()
        else "a value not shown"
    )


def _kind(value: object) -> str:
    """A value's TOML type in words, shown instead of the value itself."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


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
    "failing_trigger",
    "input_trigger",
    "slow_sync_trigger",
    "other_workspace_id",
    "other_api_key_env",
)
_POSITIVE_FIELDS: Final = ("max_run_s", "poll_interval_s", "sync_limit_s", "timeout_s")
_BOOL_FIELDS: Final = ("production", "embedded")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One endpoint the harness can check: base URL, workspace, environment, triggers, limits.

    `base_url` is everything before `/trigger/...` (gateway `.../api/v1/ai` or direct host).
    `api_key` / `jira_secret` are filled from `api_key_env` / `jira_secret_env` by
    `select_target`; `timeout_s` bounds each request (E1 gets `sync_limit_s` plus slack).
    The optional triggers let the contract cases the mock runs on its virtual clock run on a
    real target too: `failing_trigger` (runs that end failed), `input_trigger` (runs that
    pause in `waiting_for_input`), `slow_sync_trigger` (flows longer than `sync_limit_s`);
    `other_workspace_id` with `other_api_key` (read from `other_api_key_env`) is a second
    workspace whose runs this workspace must never see; `other_unavailable` says why that
    key could not be read.
    `production` left unset (None) means `environment == "PROD"` (default-deny,
    interfaces.md); after construction it is always a bool. `jira_unavailable` says why E4
    work cannot run (the Jira secret's variable is unset), None when it can.
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
    failing_trigger: str | None = None
    input_trigger: str | None = None
    slow_sync_trigger: str | None = None
    other_workspace_id: str | None = None
    other_api_key: Secret | None = None
    other_api_key_env: str | None = None
    production: bool | None = None
    embedded: bool = False
    jira_unavailable: str | None = None
    other_unavailable: str | None = None

    def __post_init__(self) -> None:
        if self.production is None:
            object.__setattr__(self, "production", self.environment == "PROD")
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
                self._fail(name, f"must be true or false, got {_kind(getattr(self, name))}")
        for name in _SECRET_KEYS.values():
            self._check_variable_name(name)
        for name in _SECRET_KEYS:
            if getattr(self, name) is not None and not isinstance(getattr(self, name), Secret):
                self._fail(name, "must be a Secret")
        if self.environment not in ENVIRONMENTS:
            self._fail("environment", f"must be DEV, UAT or PROD, got {_word(self.environment)}")
        self._check_base_url()
        self._check_other_workspace()
        if self.poll_interval_s > self.max_run_s:
            self._fail(
                "poll_interval_s",
                f"must not exceed max_run_s={self.max_run_s!r}, got {self.poll_interval_s!r}",
            )

    @property
    def is_production(self) -> bool:
        """`production` as resolved at construction (explicit, else `environment == "PROD"`)."""
        return bool(self.production)

    def may_start_runs(self, *, allow_production: bool) -> bool:
        """Whether runs may be started (or load sent): never on production without the flag.

        The one production predicate: commands, contract cases, fuzz properties, the state
        machine and the pytest plugin all ask it (interfaces.md, `--allow-production`).
        """
        return allow_production or not self.is_production

    @property
    def jira_skip_reason(self) -> str | None:
        """Why E4 work cannot run on this target (no `jira_trigger`, or no Jira secret), or None.

        The one predicate for Jira work: contract cases, fuzz, the state machine and load ask it.
        """
        if self.jira_trigger is None:
            return "target sets no jira_trigger"
        if self.jira_secret is None:
            return self.jira_unavailable or "target has no Jira secret (jira_secret_env)"
        return None

    @property
    def other_workspace_skip_reason(self) -> str | None:
        """Why no run of a second workspace can be started here, or None when one can."""
        if self.other_workspace_id is None:
            return (
                "target names no other_workspace_id; set other_workspace_id and "
                "other_api_key_env in the targets file to run it"
            )
        if self.other_api_key is None:
            return self.other_unavailable or "target has no key for other_workspace_id"
        return None

    def secret_values(self) -> tuple[str, ...]:
        """The revealed secrets a run against this target may hold: API keys, Jira secret."""
        secrets = (self.api_key, self.jira_secret, self.other_api_key)
        return tuple(secret.reveal() for secret in secrets if secret)

    def _fail(self, name: str, problem: str) -> None:
        raise ConfigError(f"targets.{self.name}.{name}: {problem}")

    def _check_str(self, name: str, value: object) -> None:
        if not isinstance(value, str):
            self._fail(name, f"must be a string, got {_kind(value)}")
        elif not value.strip():
            self._fail(name, "must be a non-empty string")

    def _check_positive(self, name: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._fail(name, f"must be a number of seconds, got {_kind(value)}")
        elif not math.isfinite(value) or value <= 0:
            self._fail(name, f"must be a finite number > 0, got {value!r}")

    def _check_variable_name(self, name: str) -> None:
        value = getattr(self, name)
        if value is not None and not _VARIABLE_NAME.fullmatch(value):
            self._fail(
                name,
                "must name an environment variable (letters, digits and _); the value given "
                "is not a variable name and is not shown, since it may be the secret itself",
            )

    def _check_other_workspace(self) -> None:
        """`other_workspace_id` and its key's variable come together, or not at all."""
        has_key = self.other_api_key is not None or self.other_api_key_env is not None
        if has_key and self.other_workspace_id is None:
            self._fail("other_workspace_id", "must be set when other_api_key_env is")
        if self.other_workspace_id is not None and not has_key:
            self._fail("other_api_key_env", "must be set when other_workspace_id is")
        if self.other_workspace_id is not None and self.other_workspace_id == self.workspace_id:
            self._fail("other_workspace_id", "must differ from workspace_id")

    def _check_base_url(self) -> None:
        shown = shown_url(self.base_url)
        try:
            parts = urlsplit(self.base_url)
            hostname = parts.hostname
            parts.port  # noqa: B018 - urlsplit checks the port only when it is read
        except ValueError:
            self._fail("base_url", f"must be an http(s) URL with a host, got {shown}")
        if parts.username is not None or parts.password is not None:
            self._fail("base_url", f"must not carry credentials (use api_key_env), got {shown}")
        if parts.scheme not in ("http", "https") or not hostname:
            self._fail("base_url", f"must be an http(s) URL with a host, got {shown}")
        if parts.query or parts.fragment:
            self._fail("base_url", f"must have no query or fragment, got {shown}")


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
        failing_trigger="flaky-enrichment",
        input_trigger="approval-flow",
        slow_sync_trigger="slow-sync",
        other_workspace_id="sandbox",
        other_api_key=Secret("sandbox-key"),
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
    "failing_trigger",
    "input_trigger",
    "slow_sync_trigger",
    "other_workspace_id",
    "other_api_key_env",
)
_FILE_NUMBER_KEYS: Final = _POSITIVE_FIELDS
_FILE_BOOL_KEYS: Final = ("production",)
_SECRET_KEYS: Final = {
    "api_key": "api_key_env",
    "jira_secret": "jira_secret_env",
    "other_api_key": "other_api_key_env",
}


class Targets(Mapping[str, Target]):
    """The valid targets by name, and each invalid one's error (`problems`), kept apart.

    Selecting an invalid target raises its error; the others only warrant a warning.
    `variables` holds, for every target of the file, the variable names it gives for its
    secrets (when they are names), so an error can be redacted with what they hold.
    """

    def __init__(
        self,
        valid: Mapping[str, Target],
        problems: Mapping[str, ConfigError] | None = None,
        variables: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._valid = dict(valid)
        self.problems: Mapping[str, ConfigError] = dict(problems or {})
        self.variables: Mapping[str, tuple[str, ...]] = dict(variables or {})

    def __getitem__(self, name: str) -> Target:
        return self._valid[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._valid)

    def __len__(self) -> int:
        return len(self._valid)

    def warnings(self, selected: str) -> list[str]:
        """One line per invalid target other than `selected`: it is skipped, with its error."""
        return [
            f"warning: target {name!r} is skipped: {problem}"
            for name, problem in sorted(self.problems.items())
            if name != selected
        ]


def load_targets(path: Path | None, *, environ: Environ, cwd: Path) -> Targets:
    """Load the targets: the built-in `mock` plus those of the targets file, if any.

    A file that cannot be read or parsed is a `ConfigError` at once; a target whose table is
    invalid is kept in `Targets.problems` and fails only when selected.

    Args:
        path: the file given on the command line; None to look further.
        environ: where `$TRIGGER_HARNESS_TARGETS` is read (the keys are read only at selection).
        cwd: where a relative path and `harness.toml` are looked up.

    Raises:
        ConfigError: the file is missing, unreadable, not TOML, or not `[targets.NAME]` tables.
    """
    source = _targets_file(path, environ=environ, cwd=cwd)
    if source is None:
        return Targets({MOCK_TARGET_NAME: mock_target()})
    return _parse_file(source)


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


def _parse_file(source: Path) -> Targets:
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
    valid: dict[str, Target] = {MOCK_TARGET_NAME: mock_target()}
    problems: dict[str, ConfigError] = {}
    variables: dict[str, tuple[str, ...]] = {}
    for name, table in tables.items():
        try:
            valid[name] = _parse_target(source, name, table)
        except ConfigError as exc:
            problems[name] = exc
        if isinstance(table, dict):
            variables[name] = _variables_named(table)
    return Targets(valid, problems, variables)


def _variables_named(table: Mapping[str, Any]) -> tuple[str, ...]:
    """The variable names a target table gives for its secrets, where they are names."""
    named = (table.get(key) for key in _SECRET_KEYS.values())
    return tuple(v for v in named if isinstance(v, str) and _VARIABLE_NAME.fullmatch(v))


def _parse_target(source: Path, name: str, table: object) -> Target:
    prefix = f"{source}: targets.{name}"
    if name == MOCK_TARGET_NAME:
        raise ConfigError(f"{prefix}: the built-in mock target cannot be redefined")
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix}: must be a [targets.{name}] table, got {_kind(table)}")
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
        raise ConfigError(f"{prefix}.{key}: must be a string, got {_kind(value)}")
    if key in _FILE_NUMBER_KEYS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConfigError(f"{prefix}.{key}: must be a number, got {_kind(value)}")
    if key in _FILE_BOOL_KEYS and not isinstance(value, bool):
        raise ConfigError(f"{prefix}.{key}: must be true or false, got {_kind(value)}")


def select_target(targets: Mapping[str, Target], name: str, *, environ: Environ) -> Target:
    """The target called `name`, with its secrets read from `environ`.

    Args:
        targets: as returned by `load_targets`.
        name: the `--target` value.
        environ: where `api_key_env` / `jira_secret_env` are read.
    """
    if isinstance(targets, Targets) and name in targets.problems:
        named = targets.variables.get(name, ())
        redactor = Redactor(environ.get(variable) for variable in named)
        raise ConfigError(redactor.redact_text(str(targets.problems[name])))
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise ConfigError(f"--target: unknown target {name!r}; known targets: {known}")
    return resolve_secrets(targets[name], environ=environ)


def resolve_secrets(target: Target, *, environ: Environ) -> Target:
    """`target` with `api_key` / `jira_secret` read from the variables it names.

    A missing API key is an error; a missing Jira secret only sets `jira_unavailable` (and a
    missing second workspace's key `other_unavailable`), so work that does not need it is not
    blocked by it.

    Raises:
        ConfigError: the key's variable is unset, or a secret cannot be sent in an HTTP
            header (control or non-ASCII characters); the message names the variable only.
    """
    changes: dict[str, Any] = {
        "api_key": _read_secret(target, "api_key_env", environ) or target.api_key
    }
    for secret, unavailable in (
        ("jira_secret", "jira_unavailable"),
        ("other_api_key", "other_unavailable"),
    ):
        try:
            changes[secret] = _read_secret(target, _SECRET_KEYS[secret], environ) or getattr(
                target, secret
            )
        except _Unset as unset:
            changes[unavailable] = str(unset)
    return dataclasses.replace(target, **changes)


class _Unset(ConfigError):
    """A secret's variable is unset or empty."""


def _read_secret(target: Target, env_field: str, environ: Environ) -> Secret | None:
    variable = getattr(target, env_field)
    if variable is None:
        return None
    value = environ.get(variable, "")
    shown = shown_variable(variable)
    where = f"targets.{target.name}.{env_field}: " + (
        f"environment variable {shown}" if shown else "the environment variable named here"
    )
    hidden = "" if shown else _HIDDEN_NAME
    if not value.strip():
        raise _Unset(f"{where} is not set or empty{hidden}")
    if not _HEADER_SAFE.fullmatch(value):
        raise ConfigError(
            f"{where} holds characters an HTTP header cannot carry (control characters, "
            f"non-ASCII text, or spaces at the ends){hidden}; set it to the key itself"
        )
    return Secret(value)


_HIDDEN_NAME: Final = (
    " (its name is not shown because it does not look like a conventional upper-case variable name;"
    " perhaps a key was pasted)"
)


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
