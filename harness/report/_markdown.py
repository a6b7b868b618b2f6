"""`summary.md`: a short GitHub-flavoured summary fit for a CI job summary.

The verdict line comes first (with its reason when the run compared: "2 rows differ"), then a
table of suites, the failures with their titles, the comparison tables of `calibrate` and
`compare` (the same `ComparisonRecorded` events the HTML section shows), the notes table (open
questions A1–A15), and one line each for fuzz findings, load and sizing.

Every piece of text from a run goes through `markdown_cell` (one line of plain text) or
`markdown_code` (one code span), both `display_safe` first: a target's text can neither drive
the terminal or renderer (controls, bidi) nor become Markdown or HTML (a link, an image, a raw
tag, emphasis, a table cell of its own).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import ClassVar, Final

from harness._display import display_safe

from ._base import FileReporter
from ._comparison import ComparisonRecorded
from ._events import NOTE_SUITES, LoadSummary, Outcome, RunRecord, SizingThreeWay, Suite
from ._format import format_duration

__all__ = ["MarkdownReporter", "markdown_cell", "markdown_code", "render_markdown"]

_VERDICT_MARKS = {
    "passed": "✅",
    "failed": "❌",
    "error": "⚠️",
    "incomplete": "⏳",
    "could not judge": "❔",
    "interrupted": "⏹️",
}
_CELL_LIMIT = 200
_RECOMMENDATION_LIMIT: Final = 2000
"""The most characters of a sizing recommendation kept (it explains itself, in full)."""
_SIGNIFICANT: Final = re.compile(r"(?i)[\\`*_\[\]|~$@]|(?<=[a-z0-9])(?=://)|(?<=\bwww)(?=\.)")
"""Where a backslash goes (CommonMark §2.4, any ASCII punctuation may be escaped): before
`\\`, code, emphasis, link, table, strikethrough, math and e-mail characters, and inside
`scheme://` and `www.`, which GFM would otherwise turn into links (§6.9)."""
_BACKTICKS: Final = re.compile("`+")


class MarkdownReporter(FileReporter):
    """Writes `summary.md`."""

    file_name: ClassVar[str] = "summary.md"

    def render(self, record: RunRecord) -> str:
        """The Markdown text of the run."""
        return render_markdown(record)


def _one_line(text: str, limit: int) -> str:
    """The text display-safe, its whitespace runs (line breaks too) as single spaces, cut."""
    flat = " ".join(display_safe(text, multiline=True).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def _backslash(match: re.Match[str]) -> str:
    """A backslash before the matched character (or at the matched position)."""
    return "\\" + match.group()


def markdown_cell(text: str, limit: int = _CELL_LIMIT) -> str:
    """Text made safe for one Markdown line or table cell: shown as written, never as Markdown.

    `display_safe`, then one line (whitespace runs become one space), cut at `limit`; `&`, `<`
    and `>` become HTML entities (no raw HTML), and a backslash goes before every character
    that would start Markdown here: `` \\ ` * _ [ ] | ~ $ @ `` (code, emphasis, links and
    images, a new table cell, strikethrough, math, e-mail links), and into `scheme://` and
    `www.` (bare links). What a reader sees is exactly the text.

    Args:
        text: any text.
        limit: the most characters kept.
    """
    escaped = html.escape(_one_line(text, limit), quote=False)
    return _SIGNIFICANT.sub(_backslash, escaped)


def markdown_code(text: str, limit: int = _CELL_LIMIT) -> str:
    """Text as one Markdown code span (CommonMark §6.1), outside a table: shown as written.

    `display_safe`, one line, cut at `limit`, then fenced with one backtick more than its
    longest backtick run, padded with a space on each side when it starts or ends with a
    backtick (the renderer strips that space again). Inside a code span nothing is Markdown
    or HTML and nothing becomes a link.

    Args:
        text: any text, e.g. a target's name or URL.
        limit: the most characters kept.
    """
    flat = _one_line(text, limit)
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(flat)), default=0))
    pad = " " if "`" in (flat[:1], flat[-1:]) else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table of cells already made safe (`markdown_cell`, or Markdown of our own)."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict_line(record: RunRecord) -> str:
    verdict = record.verdict
    started = record.started
    what = (
        "run"
        if started is None
        else f"{markdown_code(started.command)} on {markdown_code(started.target_name)}"
    )
    code = "" if record.exit_code is None else f" (exit {record.exit_code})"
    reason = _error_reason(record) or _comparison_reason(record.comparisons)
    return f"## {_VERDICT_MARKS[verdict]} {verdict.upper()}: trigger-harness {what}{code}" + (
        f": {reason}" if reason else ""
    )


def _error_reason(record: RunRecord) -> str:
    """Why a run that ended in an error did (the recorded, redacted reason), one safe line;
    '' for a run that passed or failed, or recorded no reason."""
    finished = record.finished
    if finished is None or not finished.reason or record.verdict in ("passed", "failed"):
        return ""
    return markdown_cell(finished.reason)


def _comparison_reason(tables: Sequence[ComparisonRecorded]) -> str:
    """What the compare tables' verdicts come to ("2 rows differ", "no row differs, 1
    inconclusive"), '' when the run compared nothing."""
    rows = [row for table in tables if table.kind == "compare" for row in table.rows]
    if not rows:
        return ""
    differ = sum(row.verdict == "different" for row in rows)
    unsure = sum(row.verdict == "inconclusive" for row in rows)
    head = f"{differ} row{'s' if differ != 1 else ''} differ{'s' if differ == 1 else ''}"
    if differ == 0:
        head = "no row differs"
    return head + (f", {unsure} inconclusive" if unsure else "")


def _comparisons(record: RunRecord) -> list[str]:
    """One table per calibrate or compare section: each row's two sides, verdict, p-value."""
    lines: list[str] = []
    for table in record.comparisons:
        heading = "Calibration" if table.kind == "calibrate" else "Comparison"
        lines += [
            f"### {heading}: {markdown_cell(table.title)} ({markdown_cell(table.verdict)})",
            "",
        ]
        lines += [f"- {markdown_cell(note)}" for note in table.notes]
        rows = [
            (
                markdown_cell(f"{row.group}: {row.topic}"),
                markdown_cell(row.left),
                markdown_cell(row.right),
                "**different**" if row.verdict == "different" else markdown_cell(row.verdict),
                "" if row.p_value is None else f"{row.p_value:.3g}",
                markdown_cell(row.why),
            )
            for row in table.rows
        ]
        header = ("what", markdown_cell(table.left), markdown_cell(table.right), "verdict", "p")
        lines += ["", *_table((*header, "why"), rows), ""]
    return lines


def render_markdown(record: RunRecord) -> str:
    """The summary of a run as Markdown.

    Args:
        record: the gathered (redacted) events.
    """
    lines = [_verdict_line(record), ""]
    if record.started is not None:
        duration = None if record.finished is None else record.finished.duration_s
        lines += [
            f"Target {markdown_code(record.started.target_name)} at "
            f"{markdown_code(record.started.base_url)}, started "
            f"{record.started.started_at.isoformat(timespec='seconds')}, "
            f"took {format_duration(duration)}."
            + _seed_sentence(record.started.options.get("seed")),
            "",
        ]
    lines += [*_suites(record), "", *_failures(record), ""]
    lines += _skipped(record)
    lines += _comparisons(record)
    lines += [*_notes(record), ""]
    lines += _details(record)
    return "\n".join(lines).rstrip() + "\n"


def _seed_sentence(seed: object) -> str:
    """` Seed N (replay with --seed N).` for a run that recorded its seed, else ''."""
    return "" if seed is None else f" Seed `{seed}` (replay with `--seed {seed}`)."


def _suites(record: RunRecord) -> list[str]:
    counts = record.counts()
    if not counts:
        return ["No suite ran." if not record.comparisons else "No suite ran (see the tables)."]
    rows = [
        (
            markdown_cell(c.suite),
            *(str(n) for n in (c.passed, c.failed, c.skipped, c.error, c.inconclusive)),
        )
        for c in counts
    ]
    return _table(("suite", "passed", "failed", "skipped", "error", "inconclusive"), rows)


def _failures(record: RunRecord) -> list[str]:
    problems = record.problems()
    differing = [
        f"- **{markdown_cell(f'{row.group}: {row.topic}')}** differs: {markdown_cell(row.why)}"
        for table in record.comparisons
        for row in table.rows
        if row.verdict == "different"
    ]
    if not problems:
        return ["### Failures", "", *(differing or ["None."])]
    rows = dict.fromkeys(
        f"- **{markdown_cell(f'{case.suite} / {case.case_id}')}** "
        f"{markdown_cell(case.title)}: "
        + markdown_cell("; ".join(v.title for v in case.violations) or case.message or case.outcome)
        for case in problems
    )
    return ["### Failures", "", *rows, *differing]


def _skipped(record: RunRecord) -> list[str]:
    """Each skipped case once, with its reason (which targets-file key would enable it)."""
    skipped = [case for case in record.cases if case.outcome == Outcome.SKIPPED]
    rows = dict.fromkeys(
        f"- {markdown_cell(f'{case.suite} / {case.case_id}')}: "
        f"{markdown_cell(case.skip_reason or case.message)}"
        for case in skipped
    )
    return ["### Skipped", "", *rows, ""] if rows else []


def _notes(record: RunRecord) -> list[str]:
    """One row per open question (`RunRecord.open_questions`); "not run" when neither the
    probe nor a suite that records notes ran, as a stage that did not run says."""
    lines = ["### Open questions", ""]
    if not record.notes:
        ran = any(suite in record.suites for suite in NOTE_SUITES)
        return [*lines, "No observations recorded." if ran else "Not run."]
    rows = [
        (
            markdown_cell(f"{note.question_id} {note.title}"),
            markdown_cell(note.observed),
            markdown_cell(note.mock_default),
            "same" if note.same else "**different**",
        )
        for note in record.open_questions()
    ]
    return lines + _table(
        ("question", "what the target did", "the mock's default", "same/different"), rows
    )


def _details(record: RunRecord) -> list[str]:
    lines = ["### Fuzz, load and sizing", ""]
    findings = list(dict.fromkeys(markdown_cell(f.title) for f in record.findings))
    if Suite.FUZZ not in record.suites:
        lines.append("- Fuzz: not run.")
    else:
        lines.append(
            f"- Fuzz findings: {len(findings)}" + "".join(f"\n  - {title}" for title in findings)
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
            f"- Load {markdown_code(summary.scenario)}: {requests} HTTP requests, "
            f"{failures} failures, {markdown_cell(crossed)}."
        )
        verdict = _load_verdict(record, summary)
        if verdict:
            lines.append(f"  - {markdown_cell(verdict, 2 * _CELL_LIMIT)}")
    if not record.sizings:
        lines.append("- Polling sizing: not run.")
    for sizing in record.sizings:
        lines.append(
            f"- Polling sizing: {markdown_cell(sizing.recommendation, _RECOMMENDATION_LIMIT)}"
        )
        if sizing.delay_resolution:
            lines.append(f"  - Delay resolution: {markdown_cell(sizing.delay_resolution)}")
    shown = {sizing.recommendation for sizing in record.sizings}
    lines.extend(_three_way_line(table, shown) for table in record.three_ways)
    return lines


def _three_way_line(table: SizingThreeWay, shown: set[str]) -> str:
    """The three-way table in one line: schedules, the largest gap, its files, and its
    recommendation unless the measured sizing already said it (no repeated rows)."""
    gaps = [abs(gap) for row in table.rows for gap in row.gaps.values() if math.isfinite(gap)]
    largest = f"largest measured gap {max(gaps):.1%}" if gaps else "no measured gap"
    files = ", ".join(markdown_code(name) for name in table.files) or "no files written"
    line = f"  - Computed, simulated, measured: {len(table.rows)} schedules, {largest}; {files}."
    if table.recommendation not in shown:
        line += (
            f"\n  - Recommendation: {markdown_cell(table.recommendation, _RECOMMENDATION_LIMIT)}"
        )
    return line


def _load_verdict(record: RunRecord, summary: LoadSummary) -> str:
    """A load case's own verdict beyond its thresholds (the soak's figures), else ''."""
    crossed = set(summary.thresholds_crossed)
    for case in record.cases:
        if case.case_id == f"load.{summary.scenario}":
            return "; ".join(line for line in case.message.splitlines() if line not in crossed)
    return ""
