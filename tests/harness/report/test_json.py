"""Tests of harness.report._json: results.json parses back with every part of the run."""

from __future__ import annotations

import json

from harness.report import SCHEMA_VERSION, CaseFinished, JsonReporter, Outcome, Suite

from .conftest import WriteRun, make_exchange, sample_events


def test_results_json_holds_the_whole_run(write_run: WriteRun) -> None:
    """The document carries the schema version, run, cases, notes, findings, load and sizing."""
    folder = write_run(only=JsonReporter, events=sample_events(exit_code=1))
    document = json.loads((folder.path / "results.json").read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["verdict"] == "failed"
    assert document["exit_code"] == 1
    assert document["run"]["command"] == "run"
    assert document["run"]["target"] == "mock"
    assert document["run"]["started_at"] == "2026-06-10T00:10:00+00:00"
    assert document["run"]["options"] == {"max_examples": 20, "users": 5}
    outcomes = {case["case_id"]: case["outcome"] for case in document["cases"]}
    assert outcomes == {
        "E1.envelope": "passed",
        "E2.envelope": "failed",
        "E4.signature": "skipped",
        "fuzz.no_5xx": "failed",
    }
    failed = next(case for case in document["cases"] if case["case_id"] == "E2.envelope")
    violation = failed["violations"][0]
    assert violation["check"] == "envelope_fields"
    assert violation["evidence"][0]["response_body"] == '{"workflow_id": "wf-1"}'
    assert violation["evidence"][0]["endpoint"] == "E2"
    assert [note["same"] for note in document["notes"]] == [True, False]
    assert document["findings"][0]["response"]["status_code"] == 500
    assert document["load"][0]["stats"][0]["requests"] == 100
    assert len(document["load"][0]["series"]) == 5
    assert document["sizing"][0]["rows"][1]["interval_s"] == 10
    sizing = document["sizing"][0]
    assert sizing["delay_resolution"].startswith("run ends from log times")
    assert (sizing["rows"][0]["mean_delay_low_s"], sizing["rows"][0]["mean_delay_s"]) == (1.5, 2.5)
    assert (sizing["rows"][1]["p95_delay_s"], sizing["rows"][1]["artefacts"]) == (None, 3)
    assert [suite["suite"] for suite in document["suites"]] == [
        "contract",
        "fuzz",
        "load",
        "sizing",
    ]


def test_key_order_is_stable(write_run: WriteRun) -> None:
    """The top-level keys always come in the same documented order."""
    folder = write_run(only=JsonReporter, events=sample_events())
    document = json.loads((folder.path / "results.json").read_text(encoding="utf-8"))
    assert list(document) == [
        "schema_version",
        "verdict",
        "exit_code",
        "run",
        "suites",
        "cases",
        "notes",
        "findings",
        "load",
        "sizing",
        "sizing_three_way",
        "comparisons",
    ]


def test_unfinished_run_still_writes_valid_json(write_run: WriteRun) -> None:
    """A run that never emitted RunFinished is recorded as incomplete with no exit code."""
    folder = write_run(only=JsonReporter, events=sample_events()[:-1])
    document = json.loads((folder.path / "results.json").read_text(encoding="utf-8"))
    assert document["verdict"] == "incomplete"
    assert document["exit_code"] is None
    assert document["run"]["finished_at"] is None


def test_binary_bodies_do_not_break_the_document(write_run: WriteRun) -> None:
    """Undecodable response bytes are written as replacement characters, not an error."""
    case = CaseFinished(
        suite=Suite.PROBE,
        case_id="odd",
        title="odd body",
        outcome=Outcome.PASSED,
        evidence=(make_exchange(response_body=b"\xff\xfe\x00binary"),),
    )
    folder = write_run(only=JsonReporter, events=sample_events(extra=[case]))
    document = json.loads((folder.path / "results.json").read_text(encoding="utf-8"))
    body = document["cases"][-1]["evidence"][0]["response_body"]
    assert body == "\ufffd\ufffd\x00binary"
