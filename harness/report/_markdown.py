"""`summary.md`: a short GitHub-flavoured summary fit for a CI job summary.

The verdict line comes first, then a table of suites, the failures with their titles, the notes
table (open questions A1–A15), and one line each for fuzz findings, load and sizing.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import ClassVar

from ._base import FileReporter
from ._events import LoadSummary, RunRecord
from ._format import format_duration

__all__ = ["MarkdownReporter", "markdown_cell", "render_markdown"]

_VERDICT_MARKS = {
    "passed": "✅",
    "failed": "❌",
    "error": "⚠️",
    "incomplete": "⏳",
    "could not judge": "❔",
    "interrupted": "⏹️",
}
_CELL_LIMIT = 200


class MarkdownReporter(FileReporter):
    """Writes `summary.md`."""

    file_name: ClassVar[str] = "summary.md"

    def render(self, record: RunRecord) -> str:
        """The Markdown text of the run."""
        return render_markdown(record)


def markdown_cell(text: str, limit: int = _CELL_LIMIT) -> str:
    """Text made safe for one Markdown table cell: one line, pipes and HTML escaped, cut.

    Args:
        text: any text.
        limit: the most characters kept.
    """
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return html.escape(flat, quote=False).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _verdict_line(record: RunRecord) -> str:
    verdict = record.verdict
    started = record.started
    what = "run" if started is None else f"`{started.command}` on `{started.target_name}`"
    code = "" if record.exit_code is None else f" (exit {record.exit_code})"
    return f"## {_VERDICT_MARKS[verdict]} {verdict.upper()}: trigger-harness {what}{code}"


def render_markdown(record: RunRecord) -> str:
    """The summary of a run as Markdown.

    Args:
        record: the gathered (redacted) events.
    """
    lines = [_verdict_line(record), ""]
    if record.started is not None:
        duration = None if record.finished is None else record.finished.duration_s
        lines += [
            f"Target `{markdown_cell(record.started.target_name)}` at "
            f"`{markdown_cell(record.started.base_url)}`, started "
            f"{record.started.started_at.isoformat(timespec='seconds')}, "
            f"took {format_duration(duration)}.",
            "",
        ]
    lines += [*_suites(record), "", *_failures(record), "", *_notes(record), ""]
    lines += _details(record)
    return "\n".join(lines).rstrip() + "\n"


def _suites(record: RunRecord) -> list[str]:
    counts = record.counts()
    if not counts:
        return ["No suite ran."]
    rows = [
        (str(c.suite), str(c.passed), str(c.failed), str(c.skipped), str(c.error)) for c in counts
    ]
    return _table(("suite", "passed", "failed", "skipped", "error"), rows)


def _failures(record: RunRecord) -> list[str]:
    problems = record.problems()
    if not problems:
        return ["### Failures", "", "None."]
    lines = ["### Failures", ""]
    for case in problems:
        titles = "; ".join(v.title for v in case.violations) or case.message or case.outcome
        lines.append(
            f"- **{markdown_cell(f'{case.suite} / {case.case_id}')}** "
            f"{markdown_cell(case.title)}: {markdown_cell(titles)}"
        )
    return lines


def _notes(record: RunRecord) -> list[str]:
    lines = ["### Open questions", ""]
    if not record.notes:
        return [*lines, "No observations recorded."]
    rows = [
        (
            f"{note.question_id} {note.title}",
            note.observed,
            note.mock_default,
            "same" if note.same else "**different**",
        )
        for note in record.notes
    ]
    return lines + _table(
        ("question", "what the target did", "the mock's default", "same/different"), rows
    )


def _details(record: RunRecord) -> list[str]:
    lines = ["### Fuzz, load and sizing", ""]
    findings = len(record.findings)
    lines.append(
        f"- Fuzz findings: {findings}"
        + "".join(f"\n  - {markdown_cell(f.title)}" for f in record.findings)
        if findings
        else "- Fuzz findings: none."
    )
    if not record.loads:
        lines.append("- Load: not run.")
    for summary in record.loads:
        http = [row for row in summary.stats if not row.is_flow_metric]
        requests = sum(row.requests for row in http)
        failures = sum(row.failures for row in http)
        crossed = "; ".join(summary.thresholds_crossed) or "no threshold crossed"
        lines.append(
            f"- Load `{markdown_cell(summary.scenario)}`: {requests} HTTP requests, "
            f"{failures} failures, {markdown_cell(crossed)}."
        )
        verdict = _load_verdict(record, summary)
        if verdict:
            lines.append(f"  - {markdown_cell(verdict, 2 * _CELL_LIMIT)}")
    if not record.sizings:
        lines.append("- Polling sizing: not run.")
    for sizing in record.sizings:
        lines.append(f"- Polling sizing: {markdown_cell(sizing.recommendation)}")
        if sizing.delay_resolution:
            lines.append(f"  - Delay resolution: {markdown_cell(sizing.delay_resolution)}")
    return lines


def _load_verdict(record: RunRecord, summary: LoadSummary) -> str:
    """A load case's own verdict beyond its thresholds (the soak's figures), else ''."""
    crossed = set(summary.thresholds_crossed)
    for case in record.cases:
        if case.case_id == f"load.{summary.scenario}":
            return "; ".join(line for line in case.message.splitlines() if line not in crossed)
    return ""
