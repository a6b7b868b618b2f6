"""summary.md says what happened: a stage that did not run says so, no row is repeated."""

from __future__ import annotations

from harness.report import (
    CaseFinished,
    FuzzFinding,
    MarkdownReporter,
    NoteRecorded,
    Outcome,
    RunStarted,
    Suite,
    SuiteStarted,
)
from harness.report._markdown import markdown_cell

from .conftest import START, WriteRun, sample_events


def _summary(write_run: WriteRun, events: list) -> str:  # type: ignore[type-arg]
    return (write_run(events, only=MarkdownReporter).path / "summary.md").read_text(
        encoding="utf-8"
    )


def test_fuzz_that_did_not_run_says_not_run(write_run: WriteRun) -> None:
    started = RunStarted(
        command="contract", target_name="mock", base_url="http://x", started_at=START, options={}
    )
    text = _summary(write_run, [started, SuiteStarted(suite=Suite.CONTRACT)])
    assert "- Fuzz: not run." in text
    assert "Fuzz findings: none" not in text


def test_fuzz_that_ran_clean_says_none(write_run: WriteRun) -> None:
    started = RunStarted(
        command="fuzz", target_name="mock", base_url="http://x", started_at=START, options={}
    )
    text = _summary(write_run, [started, SuiteStarted(suite=Suite.FUZZ)])
    assert "- Fuzz findings: none." in text


def test_repeated_notes_findings_and_skips_appear_once(write_run: WriteRun) -> None:
    note = NoteRecorded(
        question_id="A4",
        title="Unknown trigger",
        observed="HTTP 404",
        mock_default="404",
        same=True,
    )
    skip = CaseFinished(
        suite=Suite.CONTRACT,
        case_id="mock.sync_limit.E1",
        title="E1 past the sync limit",
        outcome=Outcome.SKIPPED,
        message="target names no slow_sync_trigger; set slow_sync_trigger in the targets file",
        skip_reason="target names no slow_sync_trigger; set slow_sync_trigger in the targets file",
    )
    finding = next(e for e in sample_events() if isinstance(e, FuzzFinding))
    text = _summary(write_run, sample_events(extra=[note, note, skip, skip, finding]))
    assert text.count("A4 Unknown trigger") == 1
    skipped = [line for line in text.splitlines() if "in the targets file" in line]
    assert len(skipped) == 1
    assert "limit.E1" in skipped[0]
    assert text.count(markdown_cell(finding.title)) == 1
