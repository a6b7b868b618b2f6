"""Load verdicts per answer and per flow: open questions are never violations, and a flow that
told nothing is inconclusive, counted apart from a failed one.

`scenarios._harness_user` imports locust (which gevent-patches the process), so the verdicts
are computed in a subprocess and printed as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.load import INCONCLUSIVE_PREFIX, PROJECT_ROOT, VIOLATION_PREFIX

pytestmark = pytest.mark.load

VERDICTS = """
import json
from harness._models import Endpoint, StopReason
from harness.checks import CheckContext
from scenarios._harness_user import FlowChecks, flow_failure
from tests.harness.factories import body, exchange, history, observation, poll

def answer(checks, item):
    failure = checks.failure(item)
    return None if failure is None else str(failure)

ctx = CheckContext()
flow = FlowChecks(ctx)
bad_key = FlowChecks(CheckContext(authorized=False), refused=True)
jira_refusal = {"detail": "Signature mismatch"}
lower = "/trigger/start/acme/summarise/dev"
cancelled = poll(9.0, "cancelled")
pending_late = poll(3000.0, "pending")
out = {
    "E2 202": answer(flow, exchange(Endpoint.START, 202, body("pending"))),
    "E4 202": answer(flow, exchange(Endpoint.JIRA, 202, body("pending"))),
    "E4 refusal 403": answer(bad_key, exchange(Endpoint.JIRA, 403, jira_refusal)),
    "E4 refusal 400": answer(bad_key, exchange(Endpoint.JIRA, 400, jira_refusal)),
    "lower-case accepted": answer(flow, exchange(Endpoint.START, 200, body("pending"), path=lower)),
    "429": answer(flow, exchange(Endpoint.STATUS, 429, {"detail": "slow down"})),
    "bad key 429": answer(bad_key, exchange(Endpoint.STATUS, 429, {"detail": "slow down"})),
    "no answer": answer(flow, exchange(Endpoint.STATUS, None)),
    "pending with error": answer(flow, exchange(Endpoint.STATUS, 200, body("pending", error="x"))),
    "flow rate-limited": flow_failure(ctx, history(
        poll(5.0), poll(10.0, None, 429), stop_reason=StopReason.RATE_LIMITED, deadline_s=30.0
    ), "background"),
    "flow connection lost": flow_failure(ctx, history(
        poll(5.0), observation(exchange(Endpoint.STATUS, None, started_at=10.0)),
        stop_reason=StopReason.CONNECTION_LOST,
    ), "background"),
    "flow cancelled": flow_failure(ctx, history(
        poll(5.0), cancelled, stop_reason=StopReason.UNKNOWN_STATUS
    ), "background"),
    "flow never finished": flow_failure(ctx, history(
        poll(5.0), pending_late, stop_reason=StopReason.DEADLINE, deadline_s=3000.0
    ), "background"),
    "flow held": flow_failure(ctx, history(poll(5.0), poll(10.0, "completed"),
        stop_reason=StopReason.FINAL), "background"),
    "flow failed": flow_failure(ctx, history(poll(5.0), poll(10.0, "failed"),
        stop_reason=StopReason.FINAL), "background"),
}
print(json.dumps({key: None if value is None else str(value) for key, value in out.items()}))
"""


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str | None]:
    """The verdicts the Locust glue gives, computed in a subprocess."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", VERDICTS],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, str | None] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "case", ["E2 202", "E4 202", "E4 refusal 403", "E4 refusal 400", "lower-case accepted"]
)
def test_an_open_question_answered_differently_is_no_failure(
    verdicts: dict[str, str | None], case: str
) -> None:
    """E2/E4 answering 202, any 4xx refusing a Jira signature and a lower-case environment
    accepted are open questions (A5, A6, A12): a Locust success, never a violation."""
    assert verdicts[case] is None


@pytest.mark.parametrize("case", ["429", "bad key 429", "no answer"])
def test_an_answer_that_tells_nothing_is_inconclusive(
    verdicts: dict[str, str | None], case: str
) -> None:
    """No answer and a 429 are inconclusive (also where a refusal was expected)."""
    assert (verdicts[case] or "").startswith(INCONCLUSIVE_PREFIX)


def test_a_broken_invariant_is_a_violation(verdicts: dict[str, str | None]) -> None:
    """A pending answer carrying an error breaks invariant 3: a contract violation."""
    assert (verdicts["pending with error"] or "").startswith(VIOLATION_PREFIX)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("flow rate-limited", "rate-limited"),
        ("flow connection lost", "connection lost"),
        ("flow cancelled", "'cancelled' outside the documented values"),
    ],
)
def test_a_flow_that_told_nothing_is_inconclusive_not_failed(
    verdicts: dict[str, str | None], case: str, words: str
) -> None:
    """Rate-limited past its deadline, connection lost or a status outside the enum: the flow
    is inconclusive, counted apart from failed flows and never a violation."""
    verdict = verdicts[case] or ""
    assert verdict.startswith(INCONCLUSIVE_PREFIX)
    assert words in verdict


def test_a_run_pending_past_its_limit_is_a_violation_and_a_final_one_holds(
    verdicts: dict[str, str | None],
) -> None:
    """Seen pending past 2700 s when the deadline passed breaks invariant 9; a run seen
    completed holds."""
    assert (verdicts["flow never finished"] or "").startswith(VIOLATION_PREFIX)
    assert verdicts["flow held"] is None


def test_a_run_that_ended_failed_is_a_failed_flow_with_its_error(
    verdicts: dict[str, str | None],
) -> None:
    """A run seen ending `failed` fails its flow (issue 16: an all-failing trigger passed),
    with the run's own error text; it is neither a violation nor inconclusive."""
    assert verdicts["flow failed"] == "run ended failed: tool crashed"
