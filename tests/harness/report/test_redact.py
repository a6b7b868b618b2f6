"""Tests of harness._redact: secrets and credential headers never survive redaction."""

from __future__ import annotations

import json
from urllib.parse import quote

from harness._models import Endpoint, Exchange
from harness._redact import REDACTED, Redactor
from harness.report import (
    CaseFinished,
    Event,
    FuzzFinding,
    JsonReporter,
    LoadSummary,
    NoteRecorded,
    Outcome,
    RunStarted,
    SizingResult,
    Suite,
    ViolationRecord,
)

from .conftest import API_KEY, JIRA_SECRET, START, WriteRun, make_exchange, sample_events

SECRET = 'p@ss/"wörd'


def test_plain_occurrences_are_replaced() -> None:
    """Every plain occurrence of a secret in text is replaced."""
    redactor = Redactor(["abcd1234"])
    assert redactor.redact_text("k=abcd1234 and abcd1234!") == f"k={REDACTED} and {REDACTED}!"


def test_escaped_spellings_are_replaced() -> None:
    """JSON-escaped, percent-encoded and HTML-escaped spellings of a secret are replaced."""
    redactor = Redactor([SECRET])
    for spelling in (
        json.dumps(SECRET),
        json.dumps(SECRET, ensure_ascii=False),
        quote(SECRET, safe=""),
        "p@ss/&quot;wörd",
    ):
        text = redactor.redact_text(f"before {spelling} after")
        assert text.startswith("before ")
        assert "wörd" not in text
        assert "w\\u00f6rd" not in text
        assert "w%C3%B6rd" not in text


def test_short_and_empty_secrets_are_ignored() -> None:
    """Secrets shorter than four characters are not redacted, so text stays readable."""
    redactor = Redactor(["", "abc", None])
    assert redactor.redact_text("abc abc") == "abc abc"


def test_bytes_are_redacted() -> None:
    """A secret inside a bytes body is replaced by the marker."""
    redactor = Redactor(["s3cret-value"])
    assert redactor.redact_bytes(b'{"k": "s3cret-value"}') == b'{"k": "[REDACTED]"}'


def test_credential_headers_are_blanked_whatever_their_value() -> None:
    """Authorization, X-Hub-Signature and X-Admin-Token values are blanked even if unknown."""
    redacted = Redactor().redact_headers(
        {
            "authorization": "Bearer unknown-key",
            "X-Hub-Signature": "sha256=deadbeef",
            "X-Admin-Token": "tok-123",
            "Accept": "application/json",
        }
    )
    assert redacted == {
        "authorization": f"Bearer {REDACTED}",
        "X-Hub-Signature": f"sha256={REDACTED}",
        "X-Admin-Token": REDACTED,
        "Accept": "application/json",
    }


def test_header_lines_in_text_are_blanked() -> None:
    """A curl-style `-H 'Authorization: Bearer x'` in text loses its credential."""
    text = Redactor().redact_text("curl -H 'Authorization: Bearer zzz-key' http://127.0.0.1")
    assert text == f"curl -H 'Authorization: Bearer {REDACTED}' http://127.0.0.1"


def test_nested_structures_and_dataclasses_are_walked() -> None:
    """Secrets inside nested mappings, lists and a frozen Exchange are all replaced."""
    redactor = Redactor(["nested-secret"])
    exchange = Exchange(
        endpoint=Endpoint.STATUS,
        method="GET",
        url="http://127.0.0.1/x?key=nested-secret",
        request_headers={"Authorization": "Bearer nested-secret"},
        request_body=b"",
        started_at=0.0,
        elapsed_s=0.1,
        status_code=200,
        response_headers={},
        response_body=b"nested-secret",
    )
    value = {"a": [{"b": ("nested-secret",)}], "exchange": exchange}
    result = redactor.redact(value)
    assert result["a"] == [{"b": (REDACTED,)}]
    redacted_exchange = result["exchange"]
    assert redacted_exchange.endpoint is Endpoint.STATUS
    assert "nested-secret" not in redacted_exchange.url
    assert redacted_exchange.request_headers["Authorization"] == f"Bearer {REDACTED}"
    assert redacted_exchange.response_body == REDACTED.encode()


def test_longer_secret_wins_over_a_shorter_one_inside_it() -> None:
    """When one secret contains another, the whole longer one is replaced."""
    redactor = Redactor(["key-1234", "key-1234-extended"])
    assert redactor.redact_text("key-1234-extended") == REDACTED


def _canary_events() -> list[Event]:
    """A run whose every event kind carries the canary key and secret somewhere."""
    key_json = json.dumps({"detail": json.dumps({"key": API_KEY, "secret": JIRA_SECRET})})
    leaky = make_exchange(
        url=f"http://127.0.0.1/trigger/status/demo/wf?k={quote(API_KEY)}",
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "X-Hub-Signature": "sha256=0123abcd",
            "X-Note": JIRA_SECRET,
        },
        request_body=json.dumps(
            {"message": API_KEY, "user_variables": {"s": JIRA_SECRET}}
        ).encode(),
        response_body=key_json.encode(),
    )
    violation = ViolationRecord(
        check="no_secret_echo",
        title=f"echoed {API_KEY}",
        message=f"secret {JIRA_SECRET} in body",
        evidence=(leaky,),
    )
    return sample_events(
        extra=[
            RunStarted(
                command="run",
                target_name="mock",
                base_url="http://127.0.0.1",
                started_at=START,
                options={"api_key": API_KEY, "nested": {"jira": JIRA_SECRET}},
            ),
            CaseFinished(
                suite=Suite.CONTRACT,
                case_id=f"leak-{API_KEY}",
                title=f"leak {JIRA_SECRET}",
                outcome=Outcome.FAILED,
                message=f"key {API_KEY}",
                violations=(violation,),
                evidence=(leaky,),
            ),
            NoteRecorded(
                question_id="A15",
                title=API_KEY,
                observed=JIRA_SECRET,
                mock_default=API_KEY,
                same=False,
            ),
            FuzzFinding(
                title=f"finding {API_KEY}",
                input_repr=repr({"secret": JIRA_SECRET}),
                response=leaky,
                reproduction=f"curl -H 'Authorization: Bearer {API_KEY}' http://127.0.0.1",
                message=JIRA_SECRET,
            ),
            LoadSummary(
                scenario=f"load-{API_KEY}",
                stats=(),
                thresholds_crossed=(f"secret {JIRA_SECRET}",),
            ),
            SizingResult(rows=(), recommendation=f"{API_KEY} {JIRA_SECRET}"),
        ]
    )


def test_canary_secrets_never_reach_any_report_file(write_run: WriteRun) -> None:
    """No file of the report folder holds the canary key or secret, plain or JSON-escaped."""
    folder = write_run(_canary_events(), secrets=[API_KEY, JIRA_SECRET])
    written = sorted(path.name for path in folder.path.iterdir())
    assert written == ["index.html", "junit.xml", "results.json", "summary.md"]
    for path in folder.path.iterdir():
        content = path.read_bytes()
        for secret in (API_KEY, JIRA_SECRET):
            for spelling in {secret, json.dumps(secret)[1:-1], quote(secret, safe="")}:
                assert spelling.encode() not in content, f"{spelling} leaked into {path.name}"
        assert b"0123abcd" not in content, f"signature leaked into {path.name}"
        assert REDACTED.encode() in content


def test_canary_test_would_catch_a_leak(write_run: WriteRun) -> None:
    """Without the secrets configured the canary key does reach the files (the test can fail)."""
    folder = write_run(_canary_events(), secrets=[], only=JsonReporter)
    assert API_KEY.encode() in (folder.path / "results.json").read_bytes()
