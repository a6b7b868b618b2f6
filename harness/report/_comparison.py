"""The calibrate and compare sections' event: a table of rows, each with a verdict.

`calibrate` emits one `ComparisonRecorded` (kind `calibrate`): what the target showed next to
what the written mock config says, one row per setting or trigger. `compare` emits one (kind
`compare`): the two sides' values and a verdict per row (`same`, `different`,
`inconclusive`, or `not compared` for a question asked on neither side). The HTML report
renders each in its own section (`templates/_comparisons.html.j2`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ComparisonRecorded", "ComparisonRow"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRow:
    """One row: what is compared (`topic`, within `group`), the two columns' values, the
    row's verdict word, why, and the p-value of its two-sample test (None when none ran)."""

    group: str
    topic: str
    left: str
    right: str
    verdict: str
    why: str = ""
    p_value: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRecorded:
    """A calibrate or compare table: `kind` (`calibrate` or `compare`), a title, the two
    columns' headings, the overall verdict, the rows and free notes (the written file, the
    runs started)."""

    kind: str
    title: str
    left: str
    right: str
    verdict: str
    rows: tuple[ComparisonRow, ...]
    notes: tuple[str, ...] = ()
