"""The pytest plugin shows a failure's text display-safe: a target's control and bidi
characters in a violation's message reach pytest's terminal as escapes (issue 14 review)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
_VIOLATIONS_TEST = """
from harness._exceptions import ContractViolation
from harness.checks._registry import ContractViolations

HOSTILE = "body said \\x1b[2J\\u202etxt.exe"

def test_one_violation():
    raise ContractViolation("T1", HOSTILE)

def test_several_violations():
    raise ContractViolations([ContractViolation("T2", HOSTILE), ContractViolation("T3", "x")])

def test_plain_assertion():
    assert HOSTILE == "", HOSTILE

def test_a_clean_failure_keeps_pytest_form():
    assert 1 == 2
"""


def test_a_failure_holding_controls_is_shown_escaped(pytester: pytest.Pytester) -> None:
    pytester.makeini(_INI)
    pytester.makepyfile(test_hostile=_VIOLATIONS_TEST)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert "\x1b" not in out
    assert "\u202e" not in out
    for title in ("T1", "T2", "T3"):
        assert title in out
    assert out.count("body said \\x1b[2J\\u202etxt.exe") >= 3
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])
