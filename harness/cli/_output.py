"""Terminal output the commands share: plain-text tables and one-line summaries."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._display import display_safe

__all__ = ["first_line", "render_table"]

_TABLE_WIDTH: Final = 140


def first_line(text: str, limit: int = 200) -> str:
    """The first line of `text` (`str.splitlines`), at most `limit` characters, display-safe.

    For a target's text in a one-line summary: a newline in it cannot fake a new terminal line,
    and every control or bidi character in the line kept is shown as an escape
    (`display_safe`). Cut before escaping, so an escape is never cut in half; "" for "".
    """
    lines = text.splitlines()
    return display_safe(lines[0][:limit]) if lines else ""


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
