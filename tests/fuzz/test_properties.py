"""Each fuzz property against the selected target: `pytest tests/fuzz --target NAME`.

The budget is small here (the `ci` profile, a few examples per property); for a long run:
`trigger-harness fuzz --target mock --max-examples 1500` (10,666 examples, nothing found).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from harness.fuzz import PROPERTIES, FuzzBudget, FuzzContext, Property

BUDGET = FuzzBudget(profile="ci", max_examples=20)


@pytest.mark.starts_runs
@pytest.mark.parametrize("prop", PROPERTIES, ids=[prop.name for prop in PROPERTIES])
def test_property_holds(prop: Property, fuzz_context: FuzzContext) -> None:
    """The property holds for every drawn input, or is skipped where the target cannot run it."""
    reason = prop.skip_reason(fuzz_context)
    if reason is not None:
        pytest.skip(reason)

    @BUDGET.settings(None)
    @given(drawn=prop.draw(fuzz_context))
    def check(drawn: Any) -> None:
        prop.check(fuzz_context, drawn)

    check()
    assert fuzz_context.meter.requests >= BUDGET.examples
