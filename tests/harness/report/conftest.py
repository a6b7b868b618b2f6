"""Builders of a sample event stream shared by the reporter tests."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness._models import Endpoint, Exchange
from harness._redact import Redactor
from harness.report import (
    CaseFinished,
    Event,
    FileReporter,
    FuzzFinding,
    LoadSeriesPoint,
    LoadStatsRow,
    LoadSummary,
    NoteRecorded,
    Outcome,
    ReportFolder,
    RunFinished,
    RunStarted,
    SizingResult,
    SizingRow,
    Suite,
    SuiteStarted,
    ViolationRecord,
    fan_out,
    standard_reporters,
)

START = datetime(2026, 6, 10, 0, 10, tzinfo=UTC)
API_KEY = "canary-KEY-123456"
JIRA_SECRET = "canary-SECRET-abcdef"


def make_exchange(
    *,
    request_body: bytes = b'{"message": "hi", "user_variables": {}}',
    response_body: bytes = b'{"workflow_id": "wf-1", "status": "pending"}',
    status_code: int | None = 200,
    headers: dict[str, str] | None = None,
    url: str = "http://127.0.0.1/trigger/start/demo/quick-answer/DEV",
) -> Exchange:
    """One E2 exchange with JSON bodies."""
    return Exchange(
        endpoint=Endpoint.START,
        method="POST",
        url=url,
        request_headers=headers or {"Content-Type": "application/json"},
        request_body=request_body,
        started_at=1.0,
        elapsed_s=0.012,
        status_code=status_code,
        response_headers={"content-type": "application/json"},
        response_body=response_body,
    )


def sample_events(*, exit_code: int = 1, extra: Sequence[Event] = ()) -> list[Event]:
    """A full run: contract (passed, failed, skipped), fuzz, load, sizing, notes."""
    violation = ViolationRecord(
        check="envelope_fields",
        title="Envelope misses a field",
        message="`logs` is missing from the E2 answer",
        severity="high",
        evidence=(make_exchange(response_body=b'{"workflow_id": "wf-1"}'),),
    )
    return [
        RunStarted(
            command="run",
            target_name="mock",
            base_url="http://127.0.0.1:8080",
            started_at=START,
            options={"max_examples": 20, "users": 5},
        ),
        SuiteStarted(suite=Suite.CONTRACT),
        CaseFinished(
            suite=Suite.CONTRACT,
            case_id="E1.envelope",
            title="E1 answers a full envelope",
            outcome=Outcome.PASSED,
            duration_s=0.05,
        ),
        CaseFinished(
            suite=Suite.CONTRACT,
            case_id="E2.envelope",
            title="E2 answers a full envelope",
            outcome=Outcome.FAILED,
            duration_s=0.07,
            violations=(violation,),
        ),
        CaseFinished(
            suite=Suite.CONTRACT,
            case_id="E4.signature",
            title="E4 refuses a bad signature",
            outcome=Outcome.SKIPPED,
            skip_reason="no jira_trigger configured",
        ),
        NoteRecorded(
            question_id="A6",
            title="HTTP code of E2",
            observed="200",
            mock_default="200",
            same=True,
        ),
        NoteRecorded(
            question_id="A9",
            title="retention",
            observed="404 after 1 h",
            mock_default="kept 24 h",
            same=False,
        ),
        SuiteStarted(suite=Suite.FUZZ),
        CaseFinished(
            suite=Suite.FUZZ,
            case_id="fuzz.no_5xx",
            title="No 5xx for any body",
            outcome=Outcome.FAILED,
            violations=(
                ViolationRecord(check="no_server_error", title="5xx answer", message="500"),
            ),
        ),
        FuzzFinding(
            title="500 on a nested user_variables",
            input_repr="{'user_variables': {'a': [None]}}",
            response=make_exchange(status_code=500, response_body=b'{"detail": "boom"}'),
            reproduction="curl -X POST http://127.0.0.1:8080/trigger/start/demo/q/DEV",
        ),
        SuiteStarted(suite=Suite.LOAD),
        LoadSummary(
            scenario="background",
            stats=(
                LoadStatsRow(
                    name="E2 start",
                    requests=100,
                    failures=2,
                    p50_ms=12,
                    p95_ms=40,
                    p99_ms=80,
                    rps=9.5,
                ),
            ),
            series=tuple(
                LoadSeriesPoint(
                    elapsed_s=t, users=5, rps=9.0 + t / 10, failures_per_s=0.1, p50_ms=12, p95_ms=40
                )
                for t in range(0, 10, 2)
            ),
            thresholds_crossed=("failure ratio 2.0% > 1%",),
        ),
        SuiteStarted(suite=Suite.SIZING),
        SizingResult(
            rows=(
                SizingRow(
                    interval_s=5,
                    status_rps=20.0,
                    mean_delay_s=2.5,
                    p95_delay_s=4.8,
                    mean_delay_low_s=1.5,
                    p95_delay_low_s=3.8,
                ),
                SizingRow(
                    interval_s=10,
                    status_rps=10.0,
                    mean_delay_s=math.inf,
                    p95_delay_s=math.inf,
                    artefacts=3,
                ),
            ),
            recommendation="poll every 5 s: 20 status requests/s for 100 runs",
            delay_resolution="run ends from log times in whole seconds (resolution 1 s)",
        ),
        *extra,
        RunFinished(exit_code=exit_code, finished_at=START, duration_s=12.5),
    ]


WriteRun = Callable[..., ReportFolder]


@pytest.fixture
def write_run(tmp_path: Path) -> WriteRun:
    """Write a report folder from events with the standard reporters (or `only` one)."""

    def write(
        events: Sequence[Event],
        *,
        secrets: Sequence[str] = (),
        only: type[FileReporter] | None = None,
    ) -> ReportFolder:
        folder = ReportFolder.create(
            tmp_path / "reports", "run", "mock", START, redactor=Redactor(secrets)
        )
        reporters = standard_reporters(folder) if only is None else [only(folder)]
        with fan_out(reporters) as bus:
            for event in events:
                bus.emit(event)
        return folder

    return write
