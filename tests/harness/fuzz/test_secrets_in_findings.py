"""Fuzz findings on Jira requests: the `X-Hub-Signature` value never reaches any artifact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness._embedded import embedded_app
from harness._models import Endpoint
from harness._targets import mock_target
from harness.cli._edge import Edge, report_run
from harness.cli._fuzz import describe_fuzz, fuzz_stage
from harness.fuzz import PROPERTIES, FuzzBudget, FuzzRequest, curl_command

_JIRA_PATH = "/trigger/jira/start/"


def _failing_jira(inner: Any, seen: list[str]) -> Any:
    """The demo mock, except that E4 answers 500 (a finding), keeping each signature sent."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_JIRA_PATH):
            headers = dict(scope["headers"])
            seen.append(headers.get(b"x-hub-signature", b"").decode("latin-1"))
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"internal error"})
            return
        await inner(scope, receive, send)

    return app


def test_a_jira_finding_shows_no_signature_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finding on E4: terminal lines, HTML, JUnit, JSON, Markdown and curl hold no signature."""
    seen: list[str] = []
    target = mock_target()
    jira = next(prop for prop in PROPERTIES if prop.name == "jira_delivery_accepted")
    lines: list[str] = []
    edge = Edge(
        environ={}, cwd=tmp_path, echo=lines.append, now=lambda: datetime(2026, 6, 10, tzinfo=UTC)
    )
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=FuzzBudget(profile="ci", max_examples=5, seed=1),
            database=None,
            properties=[jira],
            machine=False,
            app=_failing_jira(embedded_app(1000.0), seen),
        )
        for line in describe_fuzz(outcome):
            edge.echo(run.redactor.redact_text(line))
    assert outcome.found
    (result,) = outcome.results
    assert result.finding is not None
    signatures = {value for value in seen if value}
    digests = {value.removeprefix("sha256=") for value in signatures}
    assert digests
    assert all(len(digest) == 64 for digest in digests)
    artifacts = {path.name: path.read_text() for path in run.folder.path.iterdir()}
    assert {"index.html", "junit.xml", "results.json", "summary.md"} <= artifacts.keys()
    artifacts["terminal"] = "\n".join(lines) + capsys.readouterr().err
    artifacts["reproduction"] = result.finding.reproduction
    assert "FINDING" in artifacts["terminal"]
    for name, text in artifacts.items():
        for digest in digests:
            assert digest not in text, name
            assert digest.upper() not in text, name
    assert "demo-jira-secret" not in "".join(artifacts.values())


def test_a_wrong_signature_holding_a_digest_is_a_placeholder_in_curl() -> None:
    """An unsigned request's signature holding a SHA-256 digest is replaced in the curl; a
    malformed one (no digest: it can sign nothing) is written as sent."""
    target = mock_target()
    digest = "ab" * 32

    def request(signature: str) -> FuzzRequest:
        return FuzzRequest(
            endpoint=Endpoint.JIRA,
            method="POST",
            url=f"{target.base_url}/trigger/jira/start/demo/jira-triage/DEV",
            body=b"{}",
            auth=False,
            jira_signature=signature,
        )

    hidden = curl_command(request(f"sha256={digest}"), target)
    assert digest not in hidden
    assert "a sha256 signature, not shown" in hidden
    assert "sha256=zz" in curl_command(request("sha256=zz"), target)
