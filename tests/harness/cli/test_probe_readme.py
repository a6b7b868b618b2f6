"""The README's `probe` row and `probe -h` name every question the probe asks (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.cli._probe import probe_cli
from harness.suite import PROBE_QUESTIONS

README = Path(__file__).parents[3] / "README.md"


def _question_ids(text: str) -> set[str]:
    """`A1, A3–A8, A11 log window` -> {A1, A3, ..., A8, A11}: ids and ranges (– or -)."""
    ids: set[str] = set()
    for first, last in re.findall(r"\bA(\d+)(?:[–-]A(\d+))?", text):
        ids |= {f"A{n}" for n in range(int(first), int(last or first) + 1)}
    return ids


def test_the_readme_probe_row_lists_every_question_asked() -> None:
    """issue 14: `probe -h` listed A11 and A12, the README's command table did not."""
    row = next(line for line in README.read_text("utf-8").splitlines() if "| `probe " in line)
    asked = {question.question_id for question in PROBE_QUESTIONS}
    assert _question_ids(row.split("|")[2]) == asked


def test_probe_help_lists_every_question_asked() -> None:
    """`probe -h`'s first line (the command's help) names the same questions."""
    summary = (probe_cli.help or "").split("compare with")[0]
    assert _question_ids(summary) == {question.question_id for question in PROBE_QUESTIONS}
