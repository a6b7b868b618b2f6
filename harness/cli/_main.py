"""The `trigger-harness` click group; each command lives in its own module of this package.

Exit codes come from the exception classes (`HarnessError.exit_code`): 0 every check held,
1 a check failed, 2 usage or configuration error, 3 the target could not be reached or refused
the key, 4 the harness could not judge, 130/143 interrupted by SIGINT / SIGTERM (or SIGHUP).
A user error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import click

from .._display import display_safe
from .._exceptions import HarnessError, Interrupted, Terminated
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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a `HarnessError` becomes one stderr line and its exit code.

        SIGTERM and SIGHUP raise `Terminated` while the command runs, so every `finally` runs
        (Locust processes are stopped, the report is closed with the verdict `interrupted`)
        and the exit code is 143; Ctrl-C likewise ends in `Interrupted`, exit 130.
        """
        with _signals_raise():
            try:
                return super().invoke(ctx)
            except HarnessError as exc:
                click.echo(
                    f"trigger-harness: error: {display_safe(str(exc), multiline=True)}", err=True
                )
                ctx.exit(exc.exit_code)
            except KeyboardInterrupt:
                click.echo("trigger-harness: interrupted (SIGINT)", err=True)
                ctx.exit(Interrupted.exit_code)


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
