"""`index.html`: the self-contained report (inline CSS, charts as `data:` URIs, no network).

Rendered from Jinja2 templates with autoescaping; on top of it, every interpolated value goes
through `display_safe` (the environment's `finalize`), so controls and bidi characters from a
target are shown as visible escapes (`\\x1b`, `\\u202e`), newlines and tabs kept for `<pre>`
blocks. A reader sees the verdict banner first (with the failing cases linked and one figure per
suite), then a table of contents and the sections in a fixed order: contract checks with their
evidence, fuzz findings with their reproduction commands, load charts, the polling trade-off
with its recommendation, the probe table (documented default next to what the target did) and
the run's options. Evidence sits in collapsed `<details>` so the page stays short until a reader
asks for more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Final

import jinja2

from harness._display import display_safe
from harness._models import Exchange

from ._base import FileReporter
from ._events import (
    NOTE_SUITES,
    CaseFinished,
    FuzzFinding,
    LoadSummary,
    NoteRecorded,
    Outcome,
    RunRecord,
    SizingFigures,
    SizingResult,
    SizingThreeWay,
    Suite,
)
from ._format import body_view, format_duration, jsonable
from ._plots import load_chart_png, png_data_uri, sizing_chart_png

__all__ = ["SECTIONS", "HtmlReporter", "render_html"]

_TEMPLATES = Path(__file__).parent / "templates"
_BODY_LIMIT = 4_000
_BANNER_PROBLEMS = 5

SECTIONS: tuple[tuple[str, str], ...] = (
    ("contract", "Contract checks"),
    ("fuzz", "Fuzz findings"),
    ("load", "Load"),
    ("sizing", "Polling sizing"),
    ("probe", "Open questions"),
    ("options", "Run options"),
)
"""The page's sections in order: (element id, heading)."""


class HtmlReporter(FileReporter):
    """Writes `index.html`."""

    file_name: ClassVar[str] = "index.html"

    def render(self, record: RunRecord) -> str:
        """The HTML text of the run."""
        return render_html(record)


def _shown(value: Any) -> Any:
    """What one `{{ ... }}` shows: markup the templates built (a macro's output, anything with
    `__html__`) as is, any other value as display-safe text, which autoescaping then escapes."""
    if hasattr(value, "__html__"):
        return value
    return display_safe(str(value), multiline=True)


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        finalize=_shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = format_duration
    return environment


@dataclass(frozen=True, slots=True, kw_only=True)
class _ExchangeView:
    title: str
    request_head: str
    request_body: str
    request_omitted: int
    response_head: str
    response_body: str
    response_omitted: int


def _exchange_view(exchange: Exchange) -> _ExchangeView:
    request_head = "\n".join(
        [f"{exchange.method} {exchange.url}"]
        + [f"{name}: {value}" for name, value in exchange.request_headers.items()]
    )
    if exchange.status_code is None:
        status = f"no answer after {exchange.elapsed_s:.3f} s: {exchange.error or 'unknown'}"
    else:
        status = f"HTTP {exchange.status_code} in {exchange.elapsed_s:.3f} s"
    response_head = "\n".join(
        [status] + [f"{name}: {value}" for name, value in exchange.response_headers.items()]
    )
    request_body = body_view(exchange.request_body, _BODY_LIMIT)
    response_body = body_view(exchange.response_body, _BODY_LIMIT)
    endpoint = f"{exchange.endpoint} " if exchange.endpoint is not None else ""
    return _ExchangeView(
        title=f"{endpoint}{exchange.method} {exchange.url} → {exchange.status_code or 'no answer'}",
        request_head=request_head,
        request_body=request_body.text,
        request_omitted=request_body.omitted_chars,
        response_head=response_head,
        response_body=response_body.text,
        response_omitted=response_body.omitted_chars,
    )


def _case_anchor(case: CaseFinished, index: int) -> str:
    return f"case-{case.suite}-{index}"


def _case_views(record: RunRecord, suite: Suite) -> list[dict[str, Any]]:
    return [
        {
            "case": case,
            "anchor": _case_anchor(case, index),
            "violations": [
                {"record": v, "evidence": [_exchange_view(e) for e in v.evidence]}
                for v in case.violations
            ],
            "evidence": [_exchange_view(e) for e in case.evidence],
        }
        for index, case in enumerate(record.cases_of(suite), start=1)
    ]


_CASE_ROWS = frozenset({Suite.CONTRACT, Suite.FUZZ})
"""Suites shown as a table of cases; the others' verdicts are their own section's content."""


def _problem_links(record: RunRecord) -> list[dict[str, str]]:
    """Every failing or erroring case with the anchor of its row (or of its suite's section)."""
    links = []
    for suite in Suite:
        for index, case in enumerate(record.cases_of(suite), start=1):
            if case.outcome in {Outcome.FAILED, Outcome.ERROR}:
                first = case.violations[0].title if case.violations else case.message
                links.append(
                    {
                        "anchor": _case_anchor(case, index) if suite in _CASE_ROWS else str(suite),
                        "suite": str(suite),
                        "title": case.title,
                        "why": (first or str(case.outcome)).splitlines()[0][:160],
                    }
                )
    return links


def _finding_view(finding: FuzzFinding) -> dict[str, Any]:
    response = None if finding.response is None else _exchange_view(finding.response)
    return {"finding": finding, "response": response}


def _load_view(summary: LoadSummary) -> dict[str, Any]:
    png = load_chart_png(summary)
    http = [row for row in summary.stats if not row.is_flow_metric]
    requests = sum(row.requests for row in http)
    failures = sum(row.failures for row in http)
    return {
        "summary": summary,
        "chart": None if png is None else png_data_uri(png),
        "http": http,
        "flows": [row for row in summary.stats if row.is_flow_metric],
        "requests": requests,
        "failures": failures,
        "fail_ratio": failures / requests if requests else 0.0,
        "rps": sum(row.rps for row in http),
        "p95_ms": max((row.p95_ms for row in http), default=0.0),
    }


def _sizing_view(result: SizingResult) -> dict[str, Any]:
    png = sizing_chart_png(result)
    return {
        "result": result,
        "chart": None if png is None else png_data_uri(png),
        "picked": next((row for row in result.rows if row.recommended), None),
    }


_THREE_WAY_FIGURES: Final = (
    ("status req/s", "status_rps"),
    ("polls/flow", "polls_per_flow"),
    ("mean delay s", "mean_delay_s"),
    ("p95 delay s", "p95_delay_s"),
    ("max delay s", "max_delay_s"),
)
"""The figures of the three-way table: (heading, `SizingFigures` field), in display order."""


def _figure_text(figures: SizingFigures | None, name: str) -> str:
    """One figure as text: blank without a closed form, `unmeasured` when infinite."""
    if figures is None:
        return ""
    value: float = getattr(figures, name)
    return f"{value:.2f}" if math.isfinite(value) else "unmeasured"


def _three_way_view(table: SizingThreeWay) -> dict[str, Any]:
    """The three-way table as rows of (schedule, figure): computed, simulated and measured
    side by side, with the measured gap to the row's reference where one is compared."""
    rows = []
    for row in table.rows:
        for heading, name in _THREE_WAY_FIGURES:
            gap = row.gaps.get(name, math.nan)
            rows.append(
                {
                    "row": row,
                    "first": name == _THREE_WAY_FIGURES[0][1],
                    "figure": heading,
                    "cells": [
                        _figure_text(figures, name)
                        for figures in (row.computed, row.simulated, row.measured)
                    ],
                    "gap": f"{gap:+.1%} vs {row.reference}" if math.isfinite(gap) else "",
                }
            )
    return {"table": table, "rows": rows, "span": len(_THREE_WAY_FIGURES)}


def _probe_rows(
    cases: Iterable[CaseFinished], notes: Sequence[NoteRecorded]
) -> tuple[list[dict[str, Any]], list[NoteRecorded]]:
    """Probe cases joined with their notes (documented default), and the notes left over.

    A probe case `probe.<question>` carries what the target did as its message; its note is
    the one of the same question and observation.
    """
    unmatched = list(notes)
    rows = []
    for case in cases:
        question_id = case.case_id.removeprefix("probe.")
        note = next(
            (n for n in unmatched if n.question_id == question_id and n.observed == case.message),
            None,
        )
        if note is not None:
            unmatched.remove(note)
        rows.append(
            {
                "case": case,
                "note": note,
                "evidence": [_exchange_view(e) for e in case.evidence],
            }
        )
    return rows, unmatched


def render_html(record: RunRecord) -> str:
    """The report of a run as one self-contained HTML page.

    Args:
        record: the gathered (redacted) events.
    """
    started = record.started
    counts = {c.suite: c for c in record.counts()}
    questions = record.open_questions()
    probe_rows, other_notes = _probe_rows(record.cases_of(Suite.PROBE), questions)
    problems = _problem_links(record)
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            verdict=record.verdict,
            exit_code=record.exit_code,
            started=started,
            finished=record.finished,
            options=jsonable(started.options) if started is not None else {},
            sections=SECTIONS,
            counts=counts,
            suite=Suite,
            problems=problems[:_BANNER_PROBLEMS],
            problem_count=len(problems),
            contract=_case_views(record, Suite.CONTRACT),
            fuzz_cases=_case_views(record, Suite.FUZZ),
            findings=[_finding_view(finding) for finding in record.findings],
            loads=[_load_view(summary) for summary in record.loads],
            sizings=[_sizing_view(result) for result in record.sizings],
            three_ways=[_three_way_view(table) for table in record.three_ways],
            comparisons=record.comparisons,
            probe_rows=probe_rows,
            other_notes=other_notes,
            differences=sum(not note.same for note in questions),
            notes_ran=any(suite in record.suites for suite in NOTE_SUITES),
        )
    )
