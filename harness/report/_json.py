"""`results.json`: the whole run as one JSON document (`schema_version` 1, fixed key order)."""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar, Final

from ._base import FileReporter
from ._comparison import ComparisonRecorded
from ._events import (
    CaseFinished,
    FuzzFinding,
    LoadSummary,
    NoteRecorded,
    RunRecord,
    SizingFigures,
    SizingResult,
    SizingThreeWay,
    ViolationRecord,
)
from ._format import exchange_record, jsonable

__all__ = ["SCHEMA_VERSION", "JsonReporter", "results_document"]

SCHEMA_VERSION: Final = 1


class JsonReporter(FileReporter):
    """Writes `results.json`."""

    file_name: ClassVar[str] = "results.json"

    def render(self, record: RunRecord) -> str:
        """The JSON text of the run."""
        return json.dumps(results_document(record), indent=2, ensure_ascii=False) + "\n"


def results_document(record: RunRecord) -> dict[str, Any]:
    """The run as a JSON-ready dict; keys always in the same order.

    Args:
        record: the gathered (redacted) events.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": record.verdict,
        "exit_code": record.exit_code,
        "run": _run(record),
        "suites": [
            {
                "suite": str(counts.suite),
                "total": counts.total,
                "passed": counts.passed,
                "failed": counts.failed,
                "skipped": counts.skipped,
                "error": counts.error,
                "inconclusive": counts.inconclusive,
            }
            for counts in record.counts()
        ],
        "cases": [_case(case) for case in record.cases],
        "notes": [_note(note) for note in record.notes],
        "findings": [_finding(finding) for finding in record.findings],
        "load": [_load(summary) for summary in record.loads],
        "sizing": [_sizing(result) for result in record.sizings],
        "sizing_three_way": [_three_way(table) for table in record.three_ways],
        "comparisons": [_comparison(table) for table in record.comparisons],
    }


def _comparison(table: ComparisonRecorded) -> dict[str, Any]:
    """A calibrate or compare table: its sides, overall verdict, notes and every row (the
    two sides' values, the verdict, why, and the p-value where a test ran)."""
    return {
        "kind": table.kind,
        "title": table.title,
        "left": table.left,
        "right": table.right,
        "verdict": table.verdict,
        "notes": list(table.notes),
        "rows": [
            {
                "group": row.group,
                "topic": row.topic,
                "left": row.left,
                "right": row.right,
                "verdict": row.verdict,
                "why": row.why,
                "p_value": _finite(row.p_value),
            }
            for row in table.rows
        ],
    }


def _run(record: RunRecord) -> dict[str, Any]:
    started, finished = record.started, record.finished
    return {
        "command": None if started is None else started.command,
        "target": None if started is None else started.target_name,
        "base_url": None if started is None else started.base_url,
        "started_at": None if started is None else started.started_at.isoformat(),
        "finished_at": None if finished is None else finished.finished_at.isoformat(),
        "duration_s": None if finished is None else finished.duration_s,
        "options": {} if started is None else jsonable(started.options),
    }


def _violation(violation: ViolationRecord) -> dict[str, Any]:
    return {
        "check": violation.check,
        "title": violation.title,
        "message": violation.message,
        "severity": violation.severity,
        "evidence": [exchange_record(exchange) for exchange in violation.evidence],
    }


def _case(case: CaseFinished) -> dict[str, Any]:
    return {
        "suite": str(case.suite),
        "case_id": case.case_id,
        "title": case.title,
        "outcome": str(case.outcome),
        "duration_s": case.duration_s,
        "message": case.message,
        "skip_reason": case.skip_reason,
        "violations": [_violation(violation) for violation in case.violations],
        "evidence": [exchange_record(exchange) for exchange in case.evidence],
    }


def _note(note: NoteRecorded) -> dict[str, Any]:
    return {
        "question_id": note.question_id,
        "title": note.title,
        "observed": note.observed,
        "mock_default": note.mock_default,
        "same": note.same,
    }


def _finding(finding: FuzzFinding) -> dict[str, Any]:
    return {
        "title": finding.title,
        "message": finding.message,
        "input": finding.input_repr,
        "reproduction": finding.reproduction,
        "response": None if finding.response is None else exchange_record(finding.response),
    }


def _load(summary: LoadSummary) -> dict[str, Any]:
    return {
        "scenario": summary.scenario,
        "interrupted": summary.interrupted,
        "thresholds_crossed": list(summary.thresholds_crossed),
        "flow_statuses": [
            {"flow": row.flow, "status": row.status, "count": row.count}
            for row in summary.flow_statuses
        ],
        "failures": list(summary.failures),
        "locust_html": summary.locust_html,
        "stats": [
            {
                "name": row.name,
                "requests": row.requests,
                "failures": row.failures,
                "p50_ms": row.p50_ms,
                "p95_ms": row.p95_ms,
                "p99_ms": row.p99_ms,
                "rps": row.rps,
            }
            for row in summary.stats
        ],
        "series": [
            {
                "elapsed_s": point.elapsed_s,
                "users": point.users,
                "rps": point.rps,
                "failures_per_s": point.failures_per_s,
                "p50_ms": point.p50_ms,
                "p95_ms": point.p95_ms,
            }
            for point in summary.series
        ],
    }


def _finite(value: float | None) -> float | None:
    """`value`, or None for a figure that was not measured (infinite: not valid JSON)."""
    return value if value is not None and math.isfinite(value) else None


def _sizing(result: SizingResult) -> dict[str, Any]:
    return {
        "recommendation": result.recommendation,
        "max_delay_s": result.max_delay_s,
        "delay_stat": result.delay_stat,
        "delay_resolution": result.delay_resolution,
        "rows": [
            {
                "strategy": row.strategy,
                "interval_s": row.interval_s,
                "status_rps": _finite(row.status_rps),
                "mean_delay_s": _finite(row.mean_delay_s),
                "p95_delay_s": _finite(row.p95_delay_s),
                "mean_delay_low_s": _finite(row.mean_delay_low_s),
                "p95_delay_low_s": _finite(row.p95_delay_low_s),
                "artefacts": row.artefacts,
                "recommended": row.recommended,
            }
            for row in result.rows
        ],
    }


def _figures(figures: SizingFigures | None) -> dict[str, float | None] | None:
    if figures is None:
        return None
    return {
        "status_rps": _finite(figures.status_rps),
        "polls_per_flow": _finite(figures.polls_per_flow),
        "mean_delay_s": _finite(figures.mean_delay_s),
        "p95_delay_s": _finite(figures.p95_delay_s),
        "max_delay_s": _finite(figures.max_delay_s),
    }


def _three_way(table: SizingThreeWay) -> dict[str, Any]:
    """The three-way table: per schedule the computed (null: no closed form), simulated and
    measured figures, and the measured gaps to `reference` (relative; null when unknown)."""
    return {
        "recommendation": table.recommendation,
        "durations": table.durations,
        "flows": table.flows,
        "files": list(table.files),
        "rows": [
            {
                "schedule": row.schedule,
                "strategy": row.strategy,
                "interval_s": row.interval_s,
                "computed": _figures(row.computed),
                "simulated": _figures(row.simulated),
                "measured": _figures(row.measured),
                "reference": row.reference,
                "gaps": {name: _finite(gap) for name, gap in row.gaps.items()},
                "seen": row.seen,
                "lost": row.lost,
                "failed": row.failed,
                "simulated_lost": row.simulated_lost,
                "notes": row.notes,
                "recommended": row.recommended,
            }
            for row in table.rows
        ],
    }
