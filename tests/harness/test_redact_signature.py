"""Signatures in text: redacted when they are one (`sha256=` and hex digits), kept otherwise."""

from __future__ import annotations

import hmac

import pytest

from harness._redact import REDACTED, Redactor
from harness.checks import OPEN_QUESTIONS

DIGEST = hmac.digest(b"jira-secret", b'{"issue": 1}', "sha256").hex()


def test_the_a12_mock_default_is_shown_as_written() -> None:
    """issue 14: the probe's A12 "mock's default" cell read `sha256=[REDACTED]`, where the
    documentation's text is literally `sha256=<hex>`, which is no signature."""
    default = OPEN_QUESTIONS["A12"].mock_default
    assert "sha256=<hex>" in default
    assert Redactor(["demo-key"]).redact_text(default) == default


@pytest.mark.parametrize(
    "text",
    [
        "X-Hub-Signature: sha256=<hex>",
        "X-Hub-Signature: sha256=zz",
        "X-Hub-Signature: sha256=",
        "openssl dgst -sha256 -hmac key",
        "sha256 = 01ab (spaced: no signature)",
    ],
)
def test_text_that_is_no_signature_is_kept(text: str) -> None:
    assert Redactor().redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"X-Hub-Signature: sha256={DIGEST}", f"X-Hub-Signature: sha256={REDACTED}"),
        (f"x-hub-signature:sha256={DIGEST.upper()}'", f"x-hub-signature:sha256={REDACTED}'"),
        (f"sent sha256={DIGEST[:32]} twice", f"sent sha256={REDACTED} twice"),
        (f'{{"sig": "SHA256={DIGEST}"}}', f'{{"sig": "SHA256={REDACTED}"}}'),
        ("X-Hub-Signature: not-a-sha", f"X-Hub-Signature: {REDACTED}"),
    ],
)
def test_a_signature_is_redacted_wherever_it_is_written(text: str, expected: str) -> None:
    """A signature (hex after `sha256=`, any case, even truncated) is blanked in any text, and
    any other value of an `X-Hub-Signature:` line as before."""
    assert Redactor().redact_text(text) == expected
    assert DIGEST not in Redactor().redact_text(text).lower()


def test_a_signature_header_in_a_mapping_is_still_blanked_whole() -> None:
    """A header mapping's credential value is blanked whatever it holds (its scheme kept)."""
    assert Redactor().redact_headers({"X-Hub-Signature": f"sha256={DIGEST}"}) == {
        "X-Hub-Signature": f"sha256={REDACTED}"
    }
