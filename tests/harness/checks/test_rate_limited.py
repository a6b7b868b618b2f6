"""A 429 processed nothing (A8): no check faults it, `judge` calls it inconclusive (issue 14:
"Unauthenticated request not refused: ... got HTTP 429" was a false alarm)."""

from __future__ import annotations

import pytest

from harness._models import Endpoint, Exchange
from harness.checks import CheckContext, Verdict, check_results, inconclusive_reason, judge, refused
from tests.harness.factories import exchange


def _limited(endpoint: Endpoint) -> Exchange:
    return exchange(endpoint, 429, {"detail": "slow down"}, headers={"retry-after": "1"})


@pytest.mark.parametrize("endpoint", [Endpoint.SYNC, Endpoint.START, Endpoint.STATUS])
def test_a_429_to_a_keyless_request_breaks_no_invariant(endpoint: Endpoint) -> None:
    """`unauthorized_refused` (invariant 8) no longer faults a 429 without a valid key."""
    ctx = CheckContext(endpoint=endpoint, authorized=False)
    failed = [r.name for r in check_results(ctx, _limited(endpoint)) if r.violation]
    assert failed == []


def test_judge_calls_a_429_to_a_wrong_key_inconclusive() -> None:
    """Even where the docs demand a refusal, a 429 says nothing: inconclusive, with the reason."""
    ctx = CheckContext(endpoint=Endpoint.SYNC, authorized=False)
    answer = _limited(Endpoint.SYNC)
    judgement = judge(ctx, answer, refused("a wrong key", invariant=8))
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.reason == inconclusive_reason(answer) == "rate limited (HTTP 429, A8)"
