"""The `trigger-harness` click group; each command lives in its own module of this package.

Exit codes come from the exception classes (`HarnessError.exit_code`): 0 every check held,
1 a check failed, 2 usage or configuration error, 3 the target could not be reached or refused
the key, 4 the harness could not judge, 130/143 interrupted by SIGINT / SIGTERM (or SIGHUP).
A user error is one line on stderr, never a traceback. An internal error (any other exception:
a bug in the harness) exits 4, as its report records (`report_run`): one plain line, then the
traceback on stderr, both redacted and display-safe.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import click

from .._display import display_safe
from .._exceptions import CannotJudge, HarnessError, Interrupted, Terminated
from .._redact import Redactor
from .._targets import load_targets
from ._calibrate import calibrate_cli
from ._compare import compare_cli
from ._contract import contract_cli
from ._fuzz import fuzz_cli
from ._load import load_cli
from ._options import current_edge
from ._probe import probe_cli
from ._run import run_cli
from ._size_polling import size_polling_cli

__all__ = ["main"]


class HarnessGroup(click.Group):
    """A click group that turns every `HarnessError` into its message and exit code."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's resolution; the command and its arguments are kept for `_known_secrets`."""
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[_INVOKED] = (name, command, list(rest))
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a `HarnessError` becomes one stderr line and its exit code.

        SIGTERM and SIGHUP raise `Terminated` while the command runs, so every `finally` runs
        (Locust processes are stopped, the report is closed with the verdict `interrupted`)
        and the exit code is 143; Ctrl-C likewise ends in `Interrupted`, exit 130. Click's own
        exceptions (usage errors, `ctx.exit`) pass through to click; any other exception is
        an internal error: `_internal_error` says so and the exit code is 4.
        """
        with _signals_raise():
            try:
                return super().invoke(ctx)
            except (HarnessError, Interrupted) as exc:
                click.echo(
                    f"trigger-harness: error: {display_safe(str(exc), multiline=True)}", err=True
                )
                ctx.exit(exc.exit_code)
            except KeyboardInterrupt:
                click.echo("trigger-harness: interrupted (SIGINT)", err=True)
                ctx.exit(Interrupted.exit_code)
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except Exception as exc:
                _internal_error(exc, Redactor(_known_secrets(ctx)))
                ctx.exit(CannotJudge.exit_code)


def _internal_error(exc: Exception, redactor: Redactor) -> None:
    """Say on stderr that `exc` is a bug: one plain line, then its traceback.

    Both are redacted (`redactor`) and display-safe: the line on one line, the traceback with
    its newlines kept.
    """
    summary = redactor.redact_text(f"{type(exc).__name__}: {exc}")
    click.echo(
        "trigger-harness: internal error (a bug in the harness, please report it): "
        + display_safe(summary),
        err=True,
    )
    trace = redactor.redact_text("".join(traceback.format_exception(exc)))
    click.echo(display_safe(trace, multiline=True).rstrip("\n"), err=True)


def _known_secrets(ctx: click.Context) -> list[str]:
    """Every key and Jira secret the failed command's targets file names, read from the
    environment; best effort: none when the command or its targets file cannot be read
    (the credential headers are blanked by `Redactor` regardless)."""
    edge = current_edge(ctx)
    try:
        name, command, rest = ctx.meta[_INVOKED]
        parsed = command.make_context(name, rest, parent=ctx, resilient_parsing=True)
        targets = load_targets(
            parsed.params.get("targets_file"), environ=edge.environ, cwd=edge.cwd
        )
    except Exception:
        return []
    variables = (variable for names in targets.variables.values() for variable in names)
    return [value for variable in variables if (value := edge.environ.get(variable))]


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(f"terminated ({signal.Signals(signum).name}); the report holds what ran")


@contextmanager
def _signals_raise() -> Iterator[None]:
    """While the block runs (main thread only), SIGTERM and SIGHUP raise `Terminated`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in _TERMINATING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_TERMINATING: Final = (signal.SIGTERM, signal.SIGHUP)
_INVOKED: Final = "trigger_harness.invoked"
"""`ctx.meta` key: the subcommand's name, command and arguments, as `resolve_command` found."""


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trigger-harness")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Contract, fuzz and load checks for Phinite's workspace trigger API."""
    ctx.obj = current_edge(ctx)


for _command in (
    contract_cli,
    probe_cli,
    fuzz_cli,
    load_cli,
    size_polling_cli,
    run_cli,
    calibrate_cli,
    compare_cli,
):
    main.add_command(_command)
