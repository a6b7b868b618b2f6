"""Tests of harness._redact: secrets and credential headers never survive redaction."""

from __future__ import annotations

import json
from urllib.parse import quote

from harness._models import Endpoint, Exchange
from harness._redact import REDACTED, Redactor

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
