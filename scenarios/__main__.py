"""`python -m scenarios [NAME]`: where the locustfiles are, for plain `locust -f`.

Without NAME, prints the folder holding them; with NAME (a `trigger-harness load --scenario`
name: `sync`, `background`, `mixed`, `jira-burst`, `bad-key-storm`, `soak`), prints that
scenario's locustfile. It works the same from a checkout and from an installed wheel:

    locust -f "$(python -m scenarios background)" --host http://127.0.0.1:8080 --mock-admin

An unknown name is a usage error (exit 2); a locustfile missing from the installed copy is
one line on stderr and exit 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness import HarnessError
from harness.load import SCENARIOS, scenario_file

__all__ = ["main"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name", required=False, type=click.Choice(SCENARIOS))
def main(name: str | None) -> None:
    """Print the folder of the locustfiles, or the locustfile of scenario NAME."""
    folder = Path(__file__).resolve().parent
    if name is None:
        click.echo(str(folder))
        return
    try:
        click.echo(str(scenario_file(name, folder.parent)))
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main(prog_name="python -m scenarios")
