"""`trigger-mock serve`: the mock on uvicorn, configured by a TOML file and flags.

Flags override the config file's `[mock]` values. The admin token comes from `--admin-token`,
else from the environment variable `TRIGGER_MOCK_ADMIN_TOKEN`, else from `[mock] admin_token`;
an empty or malformed token is refused wherever it comes from (never shown). The first line on
stdout is the base URL; a bad config or flag is one line on stderr and exit code 2, never a
traceback. `-h`/`--help` and `--version` (the distribution's version) work on every level.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ._clock import MAX_TIME_SCALE
from ._config import ConfigError, MockConfig, admin_token_problem, demo_config, load_config
from ._serve import base_url, bind_socket, make_server
from .app import create_app

__all__ = ["ADMIN_TOKEN_ENV", "admin_token_from", "main", "serve"]

ADMIN_TOKEN_ENV = "TRIGGER_MOCK_ADMIN_TOKEN"  # noqa: S105 - a variable's name, not a token
"""The environment variable the admin token is read from when `--admin-token` is not given."""
_SCENARIOS = ("flaky", "degraded", "overloaded")
_SEEDS = click.IntRange(-(1 << 63), (1 << 64) - 1)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"trigger-mock: {message}", err=True)
    raise SystemExit(code)


def build_config(
    config_path: Path | None,
    *,
    time_scale: float | None = None,
    seed: int | None = None,
    admin_token: str | None = None,
    scenario: str | None = None,
) -> MockConfig:
    """The config file (or the demo world) with the given flags applied on top.

    Args:
        config_path: a TOML config file, or None for the built-in demo world.
        time_scale: overrides `[mock] time_scale` (virtual seconds per real second).
        seed: overrides `[mock] seed`.
        admin_token: overrides `[mock] admin_token`.
        scenario: overrides `[mock] scenario`.

    Raises:
        ConfigError: the file cannot be read or holds a bad key or value (named).
    """
    config = load_config(config_path) if config_path is not None else demo_config()
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "time_scale": time_scale,
            "seed": seed,
            "admin_token": admin_token,
            "scenario": scenario,
        }.items()
        if value is not None
    }
    if not overrides:
        return config
    return dataclasses.replace(config, mock=dataclasses.replace(config.mock, **overrides))


def admin_token_from(flag: str | None, environ: Mapping[str, str]) -> str | None:
    """The admin token: `--admin-token`, else `$TRIGGER_MOCK_ADMIN_TOKEN`, else None (the
    config's, if any).

    Args:
        flag: the `--admin-token` value, None when not given.
        environ: the process environment.

    Raises:
        ConfigError: the chosen value is empty or not visible ASCII; the message names the flag
            or variable, never the value.
    """
    source, token = "--admin-token", flag
    if token is None:
        source, token = f"${ADMIN_TOKEN_ENV}", environ.get(ADMIN_TOKEN_ENV)
    if token is None:
        return None
    problem = admin_token_problem(token)
    if problem is not None:
        raise ConfigError(f"{source}: {problem}")
    return token


def _time_scale(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """`--time-scale` must be a number (not NaN) in (0, MAX_TIME_SCALE]."""
    if value is not None and math.isnan(value):
        raise click.BadParameter(f"must be a number > 0 and <= {MAX_TIME_SCALE:g}, not nan")
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trigger-harness", prog_name="trigger-mock")
def main() -> None:
    """The stateful mock of Phinite's workspace trigger API."""


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: the built-in demo world).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to bind; 0 picks a free one.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True, max=MAX_TIME_SCALE),
    default=None,
    callback=_time_scale,
    help=f"Virtual seconds per real second, at most {MAX_TIME_SCALE:g} (overrides the config).",
)
@click.option("--seed", type=_SEEDS, default=None, help="Random seed (overrides the config).")
@click.option(
    "--admin-token",
    default=None,
    help=f"Bearer token the admin API requires (default: ${ADMIN_TOKEN_ENV}, else the config).",
)
@click.option(
    "--scenario",
    type=click.Choice(_SCENARIOS),
    default=None,
    help="A preset of fault rules (overrides the config).",
)
def serve(
    *,
    config_path: Path | None,
    host: str,
    port: int,
    time_scale: float | None,
    seed: int | None,
    admin_token: str | None,
    scenario: str | None,
) -> None:
    """Serve the mock over HTTP until interrupted."""
    try:
        config = build_config(
            config_path,
            time_scale=time_scale,
            seed=seed,
            admin_token=admin_token_from(admin_token, os.environ),
            scenario=scenario,
        )
    except ConfigError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"cannot read config {config_path}: {exc.strerror or exc}")
        return
    app = create_app(config)
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=1)
        return
    click.echo(f"serving {base_url(sock)}")
    sys.stdout.flush()
    try:
        make_server(app).run(sockets=[sock])
    finally:
        sock.close()
