"""Tests of summary.md and index.html saying what happened (issue 16 item 6): one row per open
question, the error's reason in the headline, no empty section, "not run" for open questions no
stage asked."""

from __future__ import annotations

from harness.report import (
    CaseFinished,
    Event,
    HtmlReporter,
    MarkdownReporter,
    NoteRecorded,
    Outcome,
    RunFinished,
    RunRecord,
    RunStarted,
    Suite,
    SuiteStarted,
)

from .conftest import START, WriteRun

_DEFAULT = "HTTP 504 after sync_limit_s"


def _started(command: str = "run") -> RunStarted:
    return RunStarted(
        command=command,
        target_name="mock",
        base_url="http://127.0.0.1:8080",
        started_at=START,
        options={},
    )


def _finished(exit_code: int = 0, reason: str = "") -> RunFinished:
    return RunFinished(exit_code=exit_code, finished_at=START, duration_s=1.0, reason=reason)


def _note(question: str, title: str, observed: str, *, same: bool = True) -> NoteRecorded:
    return NoteRecorded(
        question_id=question, title=title, observed=observed, mock_default=_DEFAULT, same=same
    )


def _probe_case(question: str, observed: str) -> CaseFinished:
    return CaseFinished(
        suite=Suite.PROBE,
        case_id=f"probe.{question}",
        title=f"{question}: asked",
        outcome=Outcome.PASSED,
        message=observed,
    )


def _run_with_repeats() -> list[Event]:
    """The contract and the probe both saying A1, two A7 wordings, A5 twice."""
    return [
        _started(),
        SuiteStarted(suite=Suite.CONTRACT),
        _note("A1", "E1 past its limit", "HTTP 504: too long"),
        _note("A7", "Body fields", "body with no message accepted"),
        _note("A7", "Body over 1 MiB", "2 MB body refused (HTTP 413)"),
        _note("A5", "Environment spelling", "environment 'dev' refused (HTTP 422)"),
        _note("A5", "Environment spelling", "environment 'x' refused (HTTP 422)"),
        SuiteStarted(suite=Suite.PROBE),
        _probe_case("A1", 'HTTP 504 "too long"'),
        _note("A1", "E1 past its limit", 'HTTP 504 "too long"'),
        _finished(),
    ]


def _record(events: list[Event]) -> RunRecord:
    record = RunRecord()
    for event in events:
        record.add(event)
    return record


def _read(write_run: WriteRun, events: list[Event], name: str) -> str:
    reporter = MarkdownReporter if name == "summary.md" else HtmlReporter
    return (write_run(events, only=reporter).path / name).read_text(encoding="utf-8")


def test_one_row_per_open_question() -> None:
    """A question the probe answered is its answer alone; others merge into one row."""
    rows = _record(_run_with_repeats()).open_questions()
    assert [row.question_id for row in rows] == ["A1", "A7", "A5"]
    assert rows[0].observed == 'HTTP 504 "too long"'
    assert rows[1].title == "Body fields; Body over 1 MiB"
    assert rows[1].observed == "body with no message accepted; 2 MB body refused (HTTP 413)"
    assert rows[1].mock_default == _DEFAULT
    assert rows[2].observed.count("refused") == 2


def test_a_suite_difference_is_never_hidden_by_the_probe() -> None:
    """A suite's note that differs stays beside the probe's answer, and the row differs."""
    events: list[Event] = [
        _started(),
        _note("A1", "E1 past its limit", "HTTP 200 failed", same=False),
        _probe_case("A1", "HTTP 504"),
        _note("A1", "E1 past its limit", "HTTP 504"),
        _finished(),
    ]
    (row,) = _record(events).open_questions()
    assert row.observed == "HTTP 504; HTTP 200 failed"
    assert row.same is False


def test_summary_says_each_question_once(write_run: WriteRun) -> None:
    """summary.md has one A1 row, one A7 row and one A5 row."""
    text = _read(write_run, _run_with_repeats(), "summary.md")
    table = [line for line in text.splitlines() if line.startswith("| A")]
    assert [line.split()[1] for line in table] == ["A1", "A7", "A5"]


def test_html_says_each_question_once(write_run: WriteRun) -> None:
    """index.html shows the merged rows: the A5 and A7 rows once each, A1 in the probe table."""
    page = _read(write_run, _run_with_repeats(), "index.html")
    assert page.count("Environment spelling") == 1
    assert page.count("Body fields; Body over 1 MiB") == 1
    assert page.count("HTTP 504: too long") == 0


def test_headline_carries_the_error_reason(write_run: WriteRun) -> None:
    """A run that ended in an error says why in its first line, display-safe."""
    events: list[Event] = [_started("load"), _finished(2, "no workers came in 30 s\x1b[31m | *x*")]
    first = _read(write_run, events, "summary.md").splitlines()[0]
    assert first.startswith("## ⚠️ ERROR: trigger-harness `load` on `mock` (exit 2): ")
    assert "no workers came in 30 s" in first
    assert "\x1b" not in first
    assert "\\| \\*x\\*" in first


def test_headline_of_a_passed_run_has_no_reason(write_run: WriteRun) -> None:
    """Only an error's reason is shown: a passed run's line ends at its exit code."""
    first = _read(write_run, [_started(), _finished(0)], "summary.md").splitlines()[0]
    assert first.endswith("(exit 0)")


def test_no_empty_skipped_section(write_run: WriteRun) -> None:
    """An interrupted run without skipped cases prints no Skipped heading at all."""
    events: list[Event] = [
        _started(),
        SuiteStarted(suite=Suite.CONTRACT),
        _finished(130, "interrupted"),
    ]
    text = _read(write_run, events, "summary.md")
    assert "### Skipped" not in text
    assert "interrupted" in text.splitlines()[0]


def test_open_questions_not_run_for_load(write_run: WriteRun) -> None:
    """A load run asked no open question: "Not run.", not "No observations recorded."."""
    events: list[Event] = [_started("load"), SuiteStarted(suite=Suite.LOAD), _finished(0)]
    text = _read(write_run, events, "summary.md")
    assert "### Open questions\n\nNot run." in text
    assert "No observations recorded" not in text
    page = _read(write_run, events, "index.html")
    assert "Not run: neither the probe nor a suite asked" in page


def test_open_questions_asked_without_notes(write_run: WriteRun) -> None:
    """A contract run that recorded no note says so (it ran)."""
    events: list[Event] = [_started(), SuiteStarted(suite=Suite.CONTRACT), _finished(0)]
    assert "No observations recorded." in _read(write_run, events, "summary.md")
