"""`first_line`: redact, then cut on a safe boundary, then make display-safe."""

from __future__ import annotations

import pytest

from harness._redact import REDACTED, Redactor
from harness.cli._output import first_line

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize("start", range(190, 201))
def test_a_marker_at_the_limit_is_dropped_whole_never_cut(start: int) -> None:
    """issue 14: a failure line ended `[REDA`; a marker across the limit is now left out whole,
    one that ends at the limit is kept whole."""
    text = "x" * start + REDACTED + " and more"
    shown = first_line(text, 200)
    assert len(shown) <= 200
    kept = start + len(REDACTED) <= 200
    assert shown == ("x" * start + REDACTED if kept else "x" * start)


@pytest.mark.parametrize("start", range(180, 201))
def test_a_secret_across_the_limit_is_redacted_before_the_cut(start: int) -> None:
    """A known secret straddling the limit never shows a piece of itself: the whole line is
    redacted first, then cut."""
    text = "y" * start + SECRET + " tail"
    shown = first_line(text, 200, redactor=Redactor([SECRET]))
    assert not any(SECRET[:n] in shown for n in range(4, len(SECRET) + 1))
    assert shown.startswith("y" * start)


def test_a_signature_header_is_blanked_without_a_redactor() -> None:
    """With no redactor given, credential headers and signatures are still blanked."""
    digest = "ab" * 32
    assert first_line(f"X-Hub-Signature: sha256={digest}") == f"X-Hub-Signature: sha256={REDACTED}"


@pytest.mark.parametrize("start", range(195, 201))
def test_an_escape_is_never_cut(start: int) -> None:
    """Controls are escaped after the cut: `\\x1b` shows whole or not at all."""
    shown = first_line("z" * start + "\x1b[2J" + "w" * 10, 200)
    assert "\x1b" not in shown
    if start < 200:
        assert shown.startswith("z" * start + "\\x1b")
    else:
        assert shown == "z" * 200


def test_only_the_first_line_is_kept_and_empty_is_empty() -> None:
    assert first_line("one\ntwo") == "one"
    assert first_line("") == ""
