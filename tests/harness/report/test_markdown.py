"""Tests of harness.report._markdown: summary.md reads as a CI job summary."""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

from harness._display import display_safe
from harness.report import (
    CaseFinished,
    FuzzFinding,
    LoadSummary,
    MarkdownReporter,
    NoteRecorded,
    Outcome,
    Suite,
)
from harness.report._markdown import markdown_cell, markdown_code

from .conftest import WriteRun, sample_events


def _summary(write_run: WriteRun, events: list) -> str:  # type: ignore[type-arg]
    return (write_run(events, only=MarkdownReporter).path / "summary.md").read_text(
        encoding="utf-8"
    )


def test_verdict_line_comes_first(write_run: WriteRun) -> None:
    """The first line states the verdict, command, target and exit code."""
    first = _summary(write_run, sample_events(exit_code=1)).splitlines()[0]
    assert first == "## ❌ FAILED: trigger-harness `run` on `mock` (exit 1)"
    passed = _summary(write_run, sample_events(exit_code=0)).splitlines()[0]
    assert passed.startswith("## ✅ PASSED")


def test_suite_table_counts_outcomes(write_run: WriteRun) -> None:
    """The suites table has one row per suite with passed, failed, skipped and error counts."""
    text = _summary(write_run, sample_events())
    assert "| suite | passed | failed | skipped | error | inconclusive |" in text
    assert "| contract | 1 | 1 | 1 | 0 |" in text
    assert "| fuzz | 0 | 1 | 0 | 0 |" in text


def test_failures_are_listed_with_titles(write_run: WriteRun) -> None:
    """Each failing case is listed with its violation titles."""
    text = _summary(write_run, sample_events())
    assert (
        "- **contract / E2.envelope** E2 answers a full envelope: Envelope misses a field" in text
    )


def test_sizing_states_the_delay_resolution(write_run: WriteRun) -> None:
    """The sizing line is followed by what bounds the delays."""
    text = _summary(write_run, sample_events())
    assert "- Polling sizing: poll every 5 s" in text
    assert "  - Delay resolution: run ends from log times in whole seconds (resolution 1 s)" in text


def test_notes_table_marks_differences(write_run: WriteRun) -> None:
    """The notes table has the four probe columns and flags a difference."""
    text = _summary(write_run, sample_events())
    assert "| question | what the target did | the mock's default | same/different |" in text
    assert "| A9 retention | 404 after 1 h | kept 24 h | **different** |" in text


def test_cells_cannot_break_the_table(write_run: WriteRun) -> None:
    """Pipes, newlines and HTML in a title stay inside one escaped cell."""
    case = CaseFinished(
        suite=Suite.CONTRACT,
        case_id="x",
        title="a | b\nc <script>",
        outcome=Outcome.FAILED,
        message="m",
    )
    text = _summary(write_run, sample_events(extra=[case]))
    assert "a \\| b c &lt;script&gt;" in text
    assert "<script>" not in text


def test_empty_run_says_so(write_run: WriteRun) -> None:
    """A run with no suites, notes or details says so instead of leaving sections out."""
    text = _summary(write_run, [])
    assert text.splitlines()[0].startswith("## ⏳ INCOMPLETE")
    assert "No suite ran." in text
    assert "### Open questions\n\nNot run." in text
    assert "### Skipped" not in text
    assert "- Load: not run." in text


def test_markdown_cell_truncates_long_text() -> None:
    """A cell longer than the limit is cut and ends with an ellipsis."""
    assert markdown_cell("x" * 300, limit=10) == "x" * 9 + "…"


def test_a_load_case_verdict_beyond_thresholds_is_listed_under_its_load(
    write_run: WriteRun,
) -> None:
    """The soak's figures (its case message) follow its load line; threshold lines do not."""
    soak = LoadSummary(scenario="soak", stats=(), series=(), thresholds_crossed=("p95 too high",))
    case = CaseFinished(
        suite=Suite.LOAD,
        case_id="load.soak",
        title="Soak",
        outcome=Outcome.FAILED,
        message="soak held: lost runs: 0, unexpected 5xx: 0\np95 too high",
    )
    text = _summary(write_run, sample_events(extra=[case, soak]))
    assert "- Load `soak`: 0 HTTP requests, 0 failures, p95 too high.\n" in text
    assert "\n  - soak held: lost runs: 0, unexpected 5xx: 0\n" in text


_HOSTILE = "boom \x1b]0;title\x07 \x1b[2J \x00 \x07 \u202e end"
_INJECTION = (
    "[click me](https://evil.example/a) ![pixel](http://evil.example/p.png) <img src=x> "
    "<b>bold</b> *em* _em_ ~~gone~~ `code` $x$ https://bare.example www.bare.example "
    "a@mail.example | new cell"
)


def _rendered(markdown: str) -> str:
    """The HTML a CommonMark renderer with GFM tables and strikethrough makes of the text."""
    rendered: str = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    return rendered


def test_controls_from_a_target_are_escapes_in_the_summary(write_run: WriteRun) -> None:
    """An error's message, a note and a finding holding controls and bidi characters show
    their escapes, never the raw characters."""
    case = CaseFinished(
        suite=Suite.CONTRACT,
        case_id="x",
        title="hostile",
        outcome=Outcome.ERROR,
        message=_HOSTILE,
    )
    note = NoteRecorded(
        question_id="A3", title="unknown run", observed=_HOSTILE, mock_default="404", same=False
    )
    finding = FuzzFinding(title=_HOSTILE, input_repr="", response=None, reproduction="")
    text = _summary(write_run, sample_events(extra=[case, note, finding]))
    assert not {"\x1b", "\x07", "\x00", "\u202e"} & set(text)
    rendered = _rendered(text)
    assert rendered.count("boom \\x1b]0;title\\x07 \\x1b[2J \\x00 \\x07 \\u202e end") == 3


def test_text_from_a_target_never_becomes_markdown_or_html() -> None:
    """Links, images, raw HTML, emphasis, strikethrough, code, math and bare links in a cell
    render as the very text, in a line and in a table cell."""
    cell = markdown_cell(_INJECTION, limit=1000)
    for markdown in (f"- {cell}", f"| a |\n| --- |\n| {cell} |"):
        rendered = _rendered(markdown)
        for tag in ("<a", "<img", "<b>", "<em>", "<del>", "<s>", "<code>", "</td><td"):
            assert tag not in rendered
        assert html.escape(_INJECTION, quote=False) in rendered
    assert "https\\://bare.example www\\.bare.example a\\@mail.example" in cell


def test_code_spans_hold_any_text_as_written() -> None:
    """`markdown_code` fences past the text's own backticks and renders it whole."""
    for text in ("mock", "a`b``c", "`edge`", "<b>x</b> [l](u)", _HOSTILE):
        span = markdown_code(text)
        rendered = _rendered(span)
        assert rendered == f"<p><code>{html.escape(display_safe(text), quote=False)}</code></p>\n"
    assert markdown_code("a`b``c") == "```a`b``c```"
