"""`python -m scenarios [NAME]`: where the locustfiles are, for plain `locust -f`.

Without NAME, prints the folder holding them; with NAME (a `trigger-harness load --scenario`
name: `sync`, `background`, `mixed`, `jira-burst`, `bad-key-storm`, `soak`), prints that
scenario's locustfile. It works the same from a checkout and from an installed wheel:

    locust -f "$(python -m scenarios background)" --host http://127.0.0.1:8080 --mock-admin

`python -m scenarios NAME --help` prints the custom arguments of that locustfile with their help
texts, which `locust -f FILE --help` cannot (Locust prints its help before it imports the
locustfile, locustio/locust#2917): the locustfile is imported and its own
`init_command_line_parser` listeners declare them on an empty Locust parser.

An unknown name is a usage error (exit 2); a locustfile missing from the installed copy is
one line on stderr and exit 1.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from harness import HarnessError
from harness.load import SCENARIOS, scenario_file

__all__ = ["main"]


@click.command(add_help_option=False)
@click.argument("name", required=False, type=click.Choice(SCENARIOS))
@click.option("-h", "--help", "show_help", is_flag=True, help="With NAME: its custom arguments.")
@click.pass_context
def main(ctx: click.Context, name: str | None, show_help: bool) -> None:
    """Print the folder of the locustfiles, or the locustfile of scenario NAME.

    With NAME and --help: the locustfile's custom arguments (`locust -f FILE --help` omits them).
    """
    folder = Path(__file__).resolve().parent
    if show_help and name is None:
        click.echo(ctx.get_help())
        return
    if name is None:
        click.echo(str(folder))
        return
    try:
        path = scenario_file(name, folder.parent)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(custom_help(path) if show_help else str(path))


def custom_help(locustfile: Path) -> str:
    """The help of `locustfile`'s own arguments (every `init_command_line_parser` listener's).

    Importing it registers its listeners on Locust's events; they declare their arguments on
    a parser holding nothing else, whose help is returned.
    """
    from locust import events  # noqa: PLC0415 - Locust gevent-patches: only for --help
    from locust.argument_parser import LocustArgumentParser  # noqa: PLC0415

    importlib.import_module(f"scenarios.{locustfile.stem}")
    parser = LocustArgumentParser(
        prog=f"locust -f {locustfile}",
        add_help=False,
        description="Custom arguments of this locustfile (with Locust's own: locust --help).",
    )
    events.init_command_line_parser.fire(parser=parser)  # type: ignore[no-untyped-call]
    text: str = parser.format_help()
    return text


if __name__ == "__main__":
    main(prog_name="python -m scenarios")
