"""The two things `compare` sets side by side: a target of the targets file, or a mock config
served by an embedded mock (`--mock-config FILE`).

A mock config names no target, so its side's target is read from the config: the workspace
(the other side's, when the config has it, else the first), its first key not limited to some
environments, the other side's environment (else DEV), and the triggers by role. Where the
other side is a target, each role takes the same trigger id when the config has it (else the
role stays empty, so two different triggers are never compared); otherwise the first trigger
with a Jira secret is the Jira trigger, the first other active trigger the sync trigger and the
second the background trigger (the order `calibrate` writes them in). The slow trigger (A1) is
the first whose every duration outlasts the sync limit. Limits come from `[mock]`
(`background_limit_s`, `sync_limit_s`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .._embedded import DEFAULT_TIME_SCALE, Session, embedded_mock, open_session
from .._exceptions import ConfigError
from .._targets import ENVIRONMENTS, Secret, Target, mock_target

__all__ = [
    "Side",
    "load_mock_config",
    "mock_config_target",
    "open_side",
    "slow_trigger_of",
]

_SYNC_LIMIT_S: Final = 150.0
_BACKGROUND_LIMIT_S: Final = 2700.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    """One side of a comparison: a selected target, or a mock config file and its contents."""

    name: str
    target: Target | None = None
    config_path: Path | None = None
    config: Mapping[str, Any] | None = None

    @property
    def admin_token(self) -> str | None:
        """The mock config's admin token (`[mock] admin_token`), None when open or a target."""
        token = (self.config or {}).get("mock", {}).get("admin_token")
        return token if isinstance(token, str) else None


def load_mock_config(path: Path) -> Side:
    """Read a mock config file for `--mock-config` (validated when its mock is built).

    Raises:
        ConfigError: the file cannot be read or is not TOML (exit 2).
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--mock-config {path}: cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--mock-config {path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--mock-config {path}: invalid TOML: {exc}") from exc
    return Side(name=f"mock config {path.name}", config_path=path, config=document)


def _tables(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _workspace(config: Mapping[str, Any], like: Target | None) -> Mapping[str, Any]:
    workspaces = _tables(config.get("workspaces"))
    if not workspaces:
        raise ConfigError("mock config: workspaces: must be a non-empty array of tables")
    wanted = like.workspace_id if like is not None else None
    return next((ws for ws in workspaces if ws.get("id") == wanted), workspaces[0])


def _key(workspace: Mapping[str, Any]) -> str:
    keys = workspace.get("api_keys")
    entries = keys if isinstance(keys, list) else []
    unlimited = [
        k if isinstance(k, str) else k.get("key")
        for k in entries
        if isinstance(k, str) or (isinstance(k, dict) and "environments" not in k)
    ]
    limited = [k.get("key") for k in entries if isinstance(k, dict)]
    key = next((k for k in [*unlimited, *limited] if isinstance(k, str) and k), None)
    if key is None:
        raise ConfigError(f"mock config: workspace {workspace.get('id')!r} has no API key")
    return key


def _roles(triggers: Sequence[Mapping[str, Any]], like: Target | None) -> dict[str, str | None]:
    ids = [str(t.get("id")) for t in triggers]
    if like is not None:
        return {
            role: name if name in ids else None
            for role, name in (
                ("sync_trigger", like.sync_trigger),
                ("background_trigger", like.background_trigger),
                ("jira_trigger", like.jira_trigger),
            )
        }
    jira = next((str(t["id"]) for t in triggers if t.get("jira_secret")), None)
    active = [
        str(t["id"])
        for t in triggers
        if not t.get("jira_secret") and not t.get("paused") and "cron" not in t
    ]
    return {
        "sync_trigger": active[0] if active else None,
        "background_trigger": active[1] if len(active) > 1 else (active[0] if active else None),
        "jira_trigger": jira,
    }


def slow_trigger_of(config: Mapping[str, Any], target: Target) -> str | None:
    """The first trigger of the target's workspace whose every duration outlasts the sync
    limit (`fixed` longer, or `uniform` starting beyond it), None when there is none."""
    workspace = _workspace(config, target)
    for trigger in _tables(workspace.get("triggers")):
        duration = trigger.get("duration")
        if not isinstance(duration, dict):
            continue
        shortest = duration.get("s") if duration.get("dist") == "fixed" else duration.get("min_s")
        if (
            duration.get("dist") in ("fixed", "uniform")
            and isinstance(shortest, int | float)
            and shortest > target.sync_limit_s
        ):
            return str(trigger.get("id"))
    return None


def mock_config_target(config: Mapping[str, Any], *, name: str, like: Target | None) -> Target:
    """The embedded target serving `config` (see the module docstring for what is chosen).

    Raises:
        ConfigError: the config has no workspace or no key.
    """
    workspace = _workspace(config, like)
    triggers = _tables(workspace.get("triggers"))
    roles = _roles(triggers, like)
    jira = next((t for t in triggers if t.get("id") == roles["jira_trigger"]), None)
    secret = jira.get("jira_secret") if jira is not None else None
    found = config.get("mock")
    settings: Mapping[str, Any] = found if isinstance(found, dict) else {}
    environment = (
        like.environment if like is not None and like.environment in ENVIRONMENTS else "DEV"
    )
    return mock_target(
        name=name,
        workspace_id=str(workspace.get("id")),
        environment=environment,
        api_key=Secret(_key(workspace)),
        jira_secret=Secret(secret) if isinstance(secret, str) else None,
        max_run_s=float(settings.get("background_limit_s", _BACKGROUND_LIMIT_S)),
        sync_limit_s=float(settings.get("sync_limit_s", _SYNC_LIMIT_S)),
        **roles,
    )


@contextmanager
def open_side(
    side: Side, *, like: Target | None = None, time_scale: float = DEFAULT_TIME_SCALE
) -> Iterator[Session]:
    """A session on `side`: its target's, or an embedded mock serving its config.

    Args:
        side: the side to open.
        like: the other side's target, whose trigger roles a mock config side takes.
        time_scale: embedded mocks: virtual seconds per real second.

    Raises:
        ConfigError: the mock config is invalid (the message names the key).
    """
    if side.config is None:
        if side.target is None:
            raise ConfigError(f"{side.name}: neither a target nor a mock config")
        with open_session(side.target, time_scale=time_scale) as session:
            yield session
        return
    target = mock_config_target(side.config, name=side.name, like=like)
    source = str(side.config_path or side.name)
    mock = embedded_mock(
        side.config, time_scale=time_scale, admin_token=side.admin_token, source=source
    )
    with open_session(
        target, app=mock.app, time_scale=time_scale, admin_token=side.admin_token
    ) as session:
        yield session
