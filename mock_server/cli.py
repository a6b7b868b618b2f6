"""`trigger-mock serve`: the mock on uvicorn, configured by a TOML file and flags.

Flags override the config file's `[mock]` values. The first line on stdout is the base URL;
a bad config or flag is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from ._config import ConfigError, MockConfig, demo_config, load_config
from ._serve import base_url, bind_socket, make_server
from .app import create_app

__all__ = ["main", "serve"]

_SCENARIOS = ("flaky", "degraded", "overloaded")


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


@click.group()
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
    type=click.FloatRange(min=0, min_open=True, max=1e9),
    default=None,
    help="Virtual seconds per real second (overrides the config).",
)
@click.option("--seed", type=int, default=None, help="Random seed (overrides the config).")
@click.option(
    "--admin-token",
    default=None,
    help="Bearer token the admin API requires (overrides the config).",
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
            admin_token=admin_token,
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
