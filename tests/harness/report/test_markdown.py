"""Tests of harness.report._markdown: summary.md reads as a CI job summary."""

from __future__ import annotations

from harness.report import CaseFinished, LoadSummary, MarkdownReporter, Outcome, Suite
from harness.report._markdown import markdown_cell

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
    assert "| suite | passed | failed | skipped | error |" in text
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
    assert "No observations recorded." in text
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
