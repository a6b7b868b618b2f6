"""Terminal output the commands share: plain-text tables."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._display import display_safe

__all__ = ["render_table"]

_TABLE_WIDTH: Final = 140


def _cell(text: str) -> str:
    """One line of a target's text as rich shows it: controls escaped, no markup."""
    return escape(display_safe(text))


def render_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table (rich's layout, no colour codes) ready for `edge.echo`.

    Cells are shown as written: `[...]` in them (a target's text) is never read as markup, and
    every control or bidi character (a newline too: a cell is one line of text) is shown as an
    escape by `display_safe`.
    """
    table = Table(title=_cell(title), title_justify="left")
    for column in columns:
        table.add_column(_cell(column), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(cell) for cell in row))
    console = Console(file=io.StringIO(), width=_TABLE_WIDTH, color_system=None)
    console.print(table)
    return console.file.getvalue().rstrip()  # type: ignore[attr-defined, no-any-return]
