"""The stateful fuzzer against the selected target: `pytest tests/fuzz --target NAME`."""

from __future__ import annotations

import pytest
from hypothesis.stateful import run_state_machine_as_test

from harness.fuzz import FuzzBudget, FuzzContext, build_machine

BUDGET = FuzzBudget(profile="ci", max_examples=15)


@pytest.mark.starts_runs
def test_trigger_state_machine(fuzz_context: FuzzContext) -> None:
    """Runs started, polled rightly and wrongly and aged keep every invariant after each step."""
    run_state_machine_as_test(build_machine(fuzz_context), settings=BUDGET.settings(None))
    assert fuzz_context.meter.examples >= 1
    assert fuzz_context.meter.requests > fuzz_context.meter.examples
