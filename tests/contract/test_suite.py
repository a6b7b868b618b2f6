"""The contract suite, one pytest test per case: `pytest tests/contract --target NAME`.

These are the cases `trigger-harness contract` runs, through the same `execute_case`.
"""

from __future__ import annotations

import pytest

from harness.report import Outcome
from harness.suite import CASES, SuiteContext, execute_case


@pytest.mark.parametrize("case_id", list(CASES))
def test_contract_case(case_id: str, suite_context: SuiteContext) -> None:
    """The case holds on the selected target, or is skipped with the reason it cannot run (or
    why it could not tell: an inconclusive case, A8)."""
    result = execute_case(suite_context, CASES[case_id])
    if result.outcome is Outcome.SKIPPED:
        pytest.skip(result.skip_reason or "skipped")
    if result.outcome is Outcome.INCONCLUSIVE:
        pytest.skip(result.message or "could not tell")
    assert result.outcome is Outcome.PASSED, result.message
