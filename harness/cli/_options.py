"""The options several commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ._edge import Edge

__all__ = [
    "allow_production_option",
    "current_edge",
    "max_runs_option",
    "report_dir_option",
    "seed_option",
    "target_options",
    "time_limit_option",
]

F = TypeVar("F", bound=Callable[..., Any])


def report_dir_option(func: F) -> F:
    """`--report-dir DIR` (default `reports`)."""
    return click.option(
        "--report-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("reports"),
        show_default=True,
        help="Where report folders are written.",
    )(func)


def allow_production_option(func: F) -> F:
    """`--allow-production`."""
    return click.option(
        "--allow-production",
        is_flag=True,
        default=False,
        help="Allow a target marked production = true (this command starts runs).",
    )(func)


def max_runs_option(func: F) -> F:
    """`--max-runs N`: start at most N runs on the target (fuzz, load, size-polling)."""
    return click.option(
        "--max-runs",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Start at most N runs on the target, then stop starting them (the report says "
        "so). Default: the bound the other options give, printed before starting.",
    )(func)


def seed_option(func: F) -> F:
    """`--seed N`: the run's seed; a random one (printed and recorded) when not given."""
    return click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=None,
        help="Seed of the run's randomness (default: a random one, printed and recorded in "
        "the report; give it again to replay the run).",
    )(func)


def time_limit_option(func: F) -> F:
    """`--time-limit SECONDS`: real seconds for the whole command's work."""
    return click.option(
        "--time-limit",
        "time_limit_s",
        type=click.FloatRange(min=0.0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="Stop starting new work after this many real seconds (what was not reached is "
        "reported as such).",
    )(func)


def target_options(func: F) -> F:
    """`--target NAME`, `--targets FILE`, `--report-dir DIR` and `--allow-production`."""
    func = allow_production_option(func)
    func = report_dir_option(func)
    func = click.option(
        "--targets",
        "targets_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Targets file (default: $TRIGGER_HARNESS_TARGETS, then ./harness.toml).",
    )(func)
    return click.option("--target", "target_name", required=True, help="Target name.")(func)


def current_edge(ctx: click.Context | None = None) -> Edge:
    """The `Edge` the `trigger-harness` group put on the context, or a default one.

    Args:
        ctx: the click context; the current one when None.
    """
    obj = (ctx or click.get_current_context()).obj
    return obj if isinstance(obj, Edge) else Edge(echo=click.echo)
