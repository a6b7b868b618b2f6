"""`describe_fuzz` shows a target's text on one display-safe line (issue 14 review)."""

from __future__ import annotations

from harness.cli._fuzz import FuzzOutcome, describe_fuzz
from harness.fuzz import PropertyResult
from harness.report import CaseFinished, FuzzFinding, Outcome, Suite

_HOSTILE = "boom\x1b[2J\u202e\nFINDING fuzz.fake: forged line"


def _outcome(
    outcome: Outcome, *, message: str = "", finding: FuzzFinding | None = None
) -> FuzzOutcome:
    case = CaseFinished(
        suite=Suite.FUZZ, case_id="fuzz.p", title="P", outcome=outcome, message=message
    )
    result = PropertyResult(case=case, finding=finding, examples=1, requests=1)
    return FuzzOutcome(results=(result,), examples=1, requests=1, duration_s=0.1)


def _assert_one_safe_line(lines: list[str], prefix: str) -> None:
    shown = [line for line in lines if line.startswith(prefix)]
    assert shown == [f"{prefix}boom\\x1b[2J\\u202e"]
    assert not any("forged line" in line for line in lines)


def test_an_error_message_shows_its_first_line_display_safe() -> None:
    lines = describe_fuzz(_outcome(Outcome.ERROR, message=_HOSTILE))

    _assert_one_safe_line(lines, "  ERROR fuzz.p: ")


def test_a_finding_message_shows_its_first_line_display_safe() -> None:
    finding = FuzzFinding(
        title="T", input_repr="{}", response=None, reproduction="curl x", message=_HOSTILE
    )

    lines = describe_fuzz(_outcome(Outcome.FAILED, finding=finding))

    _assert_one_safe_line(lines, "  FINDING fuzz.p: T: ")
    assert "    curl x" in lines
