"""`index.html`: the self-contained report (inline CSS, charts as `data:` URIs, no network).

Rendered from Jinja2 templates with autoescaping; the verdict comes first, then suite counts,
each suite's cases with their evidence, the open-question notes, fuzz findings, load and sizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import jinja2

from harness._models import Exchange

from ._base import FileReporter
from ._events import CaseFinished, LoadSummary, RunRecord, SizingResult, Suite
from ._format import body_view, format_duration, jsonable
from ._plots import load_chart_png, png_data_uri, sizing_chart_png

__all__ = ["HtmlReporter", "render_html"]

_TEMPLATES = Path(__file__).parent / "templates"
_BODY_LIMIT = 4_000


class HtmlReporter(FileReporter):
    """Writes `index.html`."""

    file_name: ClassVar[str] = "index.html"

    def render(self, record: RunRecord) -> str:
        """The HTML text of the run."""
        return render_html(record)


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
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
        title=f"{endpoint}{exchange.method} → {exchange.status_code or 'no answer'}",
        request_head=request_head,
        request_body=request_body.text,
        request_omitted=request_body.omitted_chars,
        response_head=response_head,
        response_body=response_body.text,
        response_omitted=response_body.omitted_chars,
    )


def _case_view(case: CaseFinished) -> dict[str, Any]:
    return {
        "case": case,
        "violations": [
            {"record": violation, "evidence": [_exchange_view(e) for e in violation.evidence]}
            for violation in case.violations
        ],
        "evidence": [_exchange_view(e) for e in case.evidence],
    }


def _load_view(summary: LoadSummary) -> dict[str, Any]:
    png = load_chart_png(summary)
    return {"summary": summary, "chart": None if png is None else png_data_uri(png)}


def _sizing_view(result: SizingResult) -> dict[str, Any]:
    png = sizing_chart_png(result)
    return {"result": result, "chart": None if png is None else png_data_uri(png)}


def render_html(record: RunRecord) -> str:
    """The report of a run as one self-contained HTML page.

    Args:
        record: the gathered (redacted) events.
    """
    started = record.started
    suites = [
        {"suite": suite, "cases": [_case_view(case) for case in record.cases_of(suite)]}
        for suite in sorted(record.suites, key=list(Suite).index)
    ]
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            verdict=record.verdict,
            exit_code=record.exit_code,
            started=started,
            finished=record.finished,
            options=jsonable(started.options) if started is not None else {},
            counts=record.counts(),
            problems=len(record.problems()),
            suites=suites,
            notes=record.notes,
            findings=[
                {
                    "finding": finding,
                    "response": None
                    if finding.response is None
                    else _exchange_view(finding.response),
                }
                for finding in record.findings
            ],
            loads=[_load_view(summary) for summary in record.loads],
            sizings=[_sizing_view(result) for result in record.sizings],
        )
    )
