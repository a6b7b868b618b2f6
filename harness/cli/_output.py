"""Terminal output the commands share: plain-text tables and one-line summaries."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._display import display_safe
from .._redact import REDACTED, Redactor

__all__ = ["first_line", "render_table"]

_TABLE_WIDTH: Final = 140


def first_line(text: str, limit: int = 200, *, redactor: Redactor | None = None) -> str:
    """The first line of `text` (`str.splitlines`), redacted, at most `limit` characters,
    display-safe; "" for "".

    For a target's text in a one-line summary. Steps, in this order: redact the whole text
    (`redactor`, else one that knows no values but still blanks credential headers and
    signatures), so a secret at the limit is never cut in half before redaction could see it;
    cut on a safe boundary (`_cut`: a `[REDACTED]` marker at the limit is dropped whole, never
    left as `[REDA`); then escape every control or bidi character (`display_safe`), so an escape
    is never cut either and a newline cannot fake a new terminal line. The line kept is at most
    `limit` characters of the redacted text; its escapes may make the shown line longer.
    """
    lines = (redactor or Redactor()).redact_text(text).splitlines()
    return display_safe(_cut(lines[0], limit)) if lines else ""


def _cut(line: str, limit: int) -> str:
    """`line[:limit]`, or shorter so no `REDACTED` marker is cut: one across it is dropped."""
    if len(line) <= limit:
        return line
    for marker in re.finditer(re.escape(REDACTED), line):
        if marker.start() < limit < marker.end():
            return line[: marker.start()]
    return line[:limit]


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
