"""`trigger-harness`: the command line. It parses flags and calls library functions, nothing more.

Exit codes come from the exception classes (`HarnessError.exit_code`): 0 every check held,
1 a check failed, 2 usage or configuration error, 3 the target could not be reached or refused
the key. A user error is one line on stderr, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from .._embedded import DEFAULT_TIME_SCALE
from .._exceptions import HarnessError
from ._contract import contract_command, probe_command
from ._fuzz import fuzz_cli
from ._load import load_command, size_polling_command
from ._options import current_edge, report_dir_option, target_options
from ._run import main_job

__all__ = ["main"]


class HarnessGroup(click.Group):
    """A click group that turns every `HarnessError` into its message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a `HarnessError` becomes one stderr line and its exit code."""
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.echo(f"trigger-harness: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trigger-harness")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Contract, fuzz and load checks for Phinite's workspace trigger API."""
    ctx.obj = current_edge(ctx)


@main.command()
@target_options
@click.option(
    "--select",
    multiple=True,
    metavar="PATTERN",
    help="Only these cases: ids, area prefixes (auth, body, runs, mock) or globs. Repeatable.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="Embedded mock only: virtual seconds per real second.",
)
@click.pass_context
def contract(ctx: click.Context, /, **options: Any) -> None:
    """Run the contract suite against a target; exit 1 if any invariant broke."""
    ctx.exit(contract_command(current_edge(ctx), **options))


@main.command()
@target_options
@click.option(
    "--slow-trigger",
    default=None,
    help="A trigger known to outlast the sync limit, to ask A1 (the mock: slow-sync).",
)
@click.pass_context
def probe(ctx: click.Context, /, **options: Any) -> None:
    """Ask the target the open questions (A1, A3-A8, A14, A15) and compare with the mock."""
    ctx.exit(probe_command(current_edge(ctx), **options))


main.add_command(fuzz_cli)
main.add_command(load_command)
main.add_command(size_polling_command)


@main.command()
@report_dir_option
@click.option("--quiet", is_flag=True, default=False, help="Print only the report's path.")
@click.option(
    "--json", "json_output", is_flag=True, default=False, help="Print one JSON summary object."
)
@click.pass_context
def run(ctx: click.Context, /, **options: Any) -> None:
    """The main job: contract, probe, load and sizing against the embedded mock, one report."""
    ctx.exit(main_job(current_edge(ctx), **options))
