"""The false-alarm guard of issue 15: against a mock serving a non-default dialect, `contract`
and a short `fuzz` find nothing.

Each dialect answers open questions (A3-A7, A12, A14) and wire traits (charset, gzip, id
format, extra envelope fields, latency) unlike the mock's defaults, every answer a correct one:
the harness must note them, never fail them. Each mock is served on 127.0.0.1 and reached as a
plain target (not the embedded mock, whose defaults are the notes' baseline). Verdicts only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.cli._edge import Edge
from mock_server import create_app, parse_config, serve_in_thread

pytestmark = pytest.mark.socket

API_KEY: Final = "dialect-KEY-51c0e2f7a8"
JIRA_SECRET: Final = "dialect-JIRA-9d3b7e61c4"
ENVIRON: Final = {"DIALECT_API_KEY": API_KEY, "DIALECT_JIRA_SECRET": JIRA_SECRET}
FUZZ_BUDGET: Final = ("--profile", "ci", "--max-examples", "5")

DIALECTS: Final[dict[str, dict[str, Any]]] = {
    "strict-202": {
        "e2_status": 202,
        "e4_status": 202,
        "lowercase_environments": "accept",
        "extra_fields": "refuse",
        "jira_auth_status": 403,
        "content_type": "application/json; charset=utf-8",
        "compression": "gzip",
    },
    "strict-body": {
        "missing_message": "refuse",
        "missing_user_variables": "refuse",
        "empty_body": "refuse",
        "workflow_not_found_detail": "Not Found",
        "trigger_not_found_detail": "Not Found",
        "paused_status": 423,
        "no_build_status": 404,
        "idempotency": "key",
        "workflow_id_format": "hex",
    },
    "prefixed-extras": {
        "e2_status": 202,
        "workflow_id_format": "prefixed",
        "workflow_id_prefix": "run-",
        "extra_envelope_fields": {"trace_id": "t-1", "api_version": 2},
        "compression": "gzip",
        "compression_min_bytes": 64,
        "latency": {"e3": {"dist": "fixed", "s": 0.002}},
    },
}

EXPECTED_NOTES: Final = {
    "strict-202": {"A5", "A6", "A12"},
    "strict-body": {"A3", "A7"},
    "prefixed-extras": {"A6"},
}
"""Open questions `contract` must note as answered unlike the mock's defaults, per dialect."""


def _world(dialect: dict[str, Any]) -> dict[str, Any]:
    """A small world on real time: short runs, a Jira trigger, the dialect under test."""
    return {
        "mock": {"seed": 3, "dialect": dialect},
        "workspaces": [
            {
                "id": "dialect-ws",
                "api_keys": [API_KEY],
                "triggers": [
                    {"id": "sync-echo", "duration": {"dist": "fixed", "s": 0.1}},
                    {"id": "batch", "duration": {"dist": "fixed", "s": 0.3}},
                    {
                        "id": "jira",
                        "duration": {"dist": "fixed", "s": 0.2},
                        "jira_secret": JIRA_SECRET,
                    },
                ],
            }
        ],
    }


def _targets(folder: Path, url: str) -> None:
    (folder / "harness.toml").write_text(
        f"""
[targets.dialect]
base_url = "{url}/api/v1/ai"
workspace_id = "dialect-ws"
environment = "DEV"
production = false
api_key_env = "DIALECT_API_KEY"
jira_secret_env = "DIALECT_JIRA_SECRET"
sync_trigger = "sync-echo"
background_trigger = "batch"
jira_trigger = "jira"
max_run_s = 20
poll_interval_s = 0.1
"""
    )


@pytest.fixture(scope="module", params=sorted(DIALECTS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Each dialect's name and mock, served on 127.0.0.1 for the module."""
    name = request.param
    app = create_app(parse_config(_world(DIALECTS[name]), source=name))
    with serve_in_thread(app) as url:
        yield name, url


def _invoke(folder: Path, url: str, args: list[str]) -> tuple[int, str, dict[str, Any]]:
    """`trigger-harness <args> --target dialect`: exit code, output and `results.json`."""
    _targets(folder, url)
    lines: list[str] = []
    edge = Edge(environ=ENVIRON, cwd=folder, echo=lines.append)
    result = CliRunner().invoke(
        main, [*args, "--target", "dialect"], obj=edge, catch_exceptions=False
    )
    report = folder / "reports" / "latest" / "results.json"
    results = json.loads(report.read_text()) if report.is_file() else {}
    return result.exit_code, "\n".join([*lines, result.output]), results


def _problems(results: dict[str, Any]) -> list[str]:
    cases = [
        f"{case['outcome']} {case['case_id']}: {case.get('message')}"[:400]
        for case in results.get("cases", [])
        if case["outcome"] in ("failed", "error")
    ]
    findings = [f"{f['title']}: {f['message']}"[:400] for f in results.get("findings", [])]
    return cases + findings


def test_contract_passes_and_notes_each_different_answer(
    tmp_path: Path, served: tuple[str, str]
) -> None:
    """`contract` exits 0 with no failed case, and notes the dialect's answers as different."""
    name, url = served
    code, output, results = _invoke(tmp_path, url, ["contract"])
    problems = _problems(results)
    assert (code, problems) == (0, []), output[-3000:] + "\n" + "\n".join(problems)
    different = {note["question_id"] for note in results["notes"] if not note["same"]}
    assert EXPECTED_NOTES[name] <= different, different


def test_a_short_fuzz_finds_nothing(tmp_path: Path, served: tuple[str, str]) -> None:
    """`fuzz` (small ci budget) exits 0 with no finding and no failed case."""
    code, output, results = _invoke(tmp_path, served[1], ["fuzz", *FUZZ_BUDGET])
    problems = _problems(results)
    assert (code, problems) == (0, []), output[-3000:] + "\n" + "\n".join(problems)
