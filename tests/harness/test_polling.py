"""Polling strategies, the retry policy and the pure next-action decision."""

from __future__ import annotations

import itertools
import json
import random
import re
from typing import Any

import pytest

from harness import UsageError, backoff, exponential, fixed, fixed_jittered
from harness._models import StopReason
from harness._polling import (
    DEFAULT_CAP_S,
    INTERVAL_RULE,
    STRATEGIES,
    Done,
    ExponentialStrategy,
    FixedJitteredStrategy,
    FixedStrategy,
    GiveUp,
    Poll,
    PollPlan,
    default_jitter,
    next_action,
    strategy_from,
)
from harness._protocol import Interpretation, build_status, interpret, make_exchange
from harness._redact import Redactor
from harness._targets import mock_target
from harness.load._sizing import parse_candidates


def take(strategy: Any, n: int, seed: int = 1) -> list[float]:
    return list(itertools.islice(strategy.delays(random.Random(seed)), n))


def answer(
    status: int | None, *, run: str = "pending", retry_after: str | None = None
) -> Interpretation:
    body = {
        "workflow_id": "wf",
        "response": {},
        "status": run,
        "logs": [],
        "requires_input": False,
        "error": "x" if run == "failed" else None,
    }
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    exchange = make_exchange(
        build_status(mock_target(), "wf"),
        Redactor(),
        started_at=0.0,
        elapsed_s=0.0,
        status_code=status,
        response_headers=headers.items(),
        response_body=json.dumps(body).encode() if status == 200 else b"{}",
        error="reset" if status is None else None,
    )
    return interpret(exchange, now_epoch=0.0)


def test_fixed_yields_the_interval() -> None:
    """fixed(5) yields 5 s forever."""
    assert take(fixed(5), 4) == [5.0, 5.0, 5.0, 5.0]


def test_fixed_jittered_jitters_only_the_first_poll() -> None:
    """fixed_jittered adds U(0, jitter) to the first delay only, reproducibly per seed."""
    delays = take(fixed_jittered(5, first_poll_jitter_s=2), 4, seed=7)
    assert 5.0 <= delays[0] <= 7.0
    assert delays[0] != 5.0
    assert delays[1:] == [5.0, 5.0, 5.0]
    assert delays == take(fixed_jittered(5, first_poll_jitter_s=2), 4, seed=7)
    assert take(fixed_jittered(5, first_poll_jitter_s=0), 2) == [5.0, 5.0]


def test_exponential_grows_to_the_cap() -> None:
    """exponential doubles from its initial delay and stays at its cap."""
    assert take(exponential(1, factor=2, cap_s=10), 6) == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_exponential_jitter_stays_in_band() -> None:
    """Jittered exponential delays stay within ±jitter of the base and never exceed the cap."""
    delays = take(exponential(2, factor=2, cap_s=8, jitter=0.5), 50, seed=3)
    bases = [2.0, 4.0, *([8.0] * 48)]
    assert all(0.5 * b <= d <= min(8.0, 1.5 * b) for d, b in zip(delays, bases, strict=True))
    assert len(set(delays)) > 10


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: fixed(0), r"fixed\(\): interval_s must be a finite number >= .*, got 0"),
        (lambda: fixed("5"), r"fixed\(\): interval_s must be a finite number >= .*, got '5'"),
        (lambda: fixed(float("inf")), r"interval_s must be a finite number"),
        (lambda: fixed_jittered(5, first_poll_jitter_s=-1), r"first_poll_jitter_s must be .*>= 0"),
        (lambda: exponential(0), r"exponential\(\): initial_s"),
        (lambda: exponential(1, factor=0.5), r"factor must be >= 1, got 0.5"),
        (lambda: exponential(5, cap_s=2), r"cap_s must be >= initial_s=5, got 2"),
        (lambda: exponential(1, jitter=1.5), r"jitter must be between 0 and 1, got 1.5"),
        (lambda: backoff(-1), r"backoff\(\): initial_s"),
        (lambda: backoff(1, max_attempts=0), r"max_attempts must be an integer >= 1, got 0"),
        (lambda: backoff(1, max_attempts=True), r"max_attempts must be an integer"),
        (lambda: backoff(2, cap_s=1), r"cap_s must be >= initial_s"),
    ],
)
def test_factories_validate_arguments_at_once(make: Any, message: str) -> None:
    """Each factory rejects a bad argument immediately, naming the argument and the value."""
    with pytest.raises(UsageError, match=message):
        make()


def test_backoff_grows_caps_and_honours_retry_after() -> None:
    """Backoff doubles per failure up to its cap and never waits less than Retry-After."""
    policy = backoff(1, factor=2, cap_s=5, max_attempts=4)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, 30.0) == 30.0
    assert policy.delay(3, 0.5) == 4.0


def test_backoff_bounds_a_retry_after_by_max_wait() -> None:
    """A server-suggested wait longer than `max_wait_s` is honoured only up to it."""
    policy = backoff(1, factor=2, cap_s=5, max_wait_s=60)
    assert policy.delay(1, 86400.0) == 60.0
    assert policy.delay(1, float("inf")) == 60.0
    assert backoff().max_wait_s == 60.0


def test_call_retry_stops_on_success_permanent_errors_and_attempts() -> None:
    """Single-call retries happen only for transient failures; 5xx within max_attempts (a 429
    in between does not count towards it)."""
    retry = backoff(1, max_attempts=3).begin_call(started_at=0.0)
    assert retry.next_delay(answer(503), 0.0) == 1.0
    assert retry.next_delay(answer(429, retry_after="9"), 1.0) == 9.0
    assert retry.next_delay(answer(503), 10.0) == 4.0
    assert retry.next_delay(answer(503), 14.0) is None
    for final in (answer(200), answer(404), answer(401)):
        assert backoff(1).begin_call(started_at=0.0).next_delay(final, 0.0) is None


def test_call_retry_keeps_honouring_429_until_the_deadline() -> None:
    """429s are retried past max_attempts, each wait at least Retry-After, until the deadline."""
    retry = backoff(1, cap_s=1, max_attempts=2).begin_call(started_at=0.0, deadline_s=30.0)
    waits = []
    while (wait := retry.next_delay(answer(429, retry_after="3"), retry.waited_s)) is not None:
        waits.append(wait)
    assert waits == [3.0] * 10
    assert retry.waited_s == 30.0


def test_call_retry_bounds_retry_after_by_max_wait_and_the_deadline() -> None:
    """`Retry-After: 86400` waits at most max_wait_s, and not at all past the call's deadline."""
    policy = backoff(1, max_wait_s=60)
    assert policy.begin_call(started_at=0.0).next_delay(answer(429, retry_after="86400"), 0) == 60
    short = policy.begin_call(started_at=0.0, deadline_s=30.0)
    assert short.next_delay(answer(429, retry_after="86400"), 0.0) is None
    huge = policy.begin_call(started_at=0.0)
    assert huge.next_delay(answer(429, retry_after="99999999999"), 0.0) == 60.0


def test_call_retry_of_a_start_retries_only_429() -> None:
    """A start may have begun a run on no answer or a 5xx, so only a 429 is re-sent."""
    retry = backoff(1).begin_call(started_at=0.0, rate_limited_only=True)
    assert retry.next_delay(answer(503), 0.0) is None
    assert retry.next_delay(answer(None), 0.0) is None
    assert retry.next_delay(answer(429, retry_after="2"), 0.0) == 2.0


def test_call_retry_ends_under_a_clock_that_does_not_move() -> None:
    """The waits handed out count as elapsed time, so retries end even if the clock is stuck."""
    retry = backoff(1, cap_s=4).begin_call(started_at=0.0, deadline_s=20.0)
    count = 0
    while retry.next_delay(answer(429), 0.0) is not None:
        count += 1
    assert count == 6  # 1 + 2 + 4 + 4 + 4 + 4 = 19 s; 4 s more would pass 20 s


def plan(deadline_s: float = 100.0, max_attempts: int = 6) -> PollPlan:
    return PollPlan(
        strategy=exponential(2, factor=2, cap_s=64),
        retry=backoff(1, factor=2, cap_s=30, max_attempts=max_attempts),
        deadline_s=deadline_s,
    )


def test_next_action_follows_strategy_and_stops_at_final() -> None:
    """Healthy pending answers take the strategy's delays; a final answer is Done."""
    state = plan().begin(started_at=0.0, rng=random.Random(0))
    assert next_action(state, None, 0.0) == Poll(0.0)
    assert next_action(state, answer(200), 0.0) == Poll(2.0)
    assert next_action(state, answer(200), 2.0) == Poll(4.0)
    done = next_action(state, answer(200, run="completed"), 6.0)
    assert isinstance(done, Done)
    assert done.envelope.status == "completed"
    assert isinstance(next_action(state, answer(200, run="failed"), 6.0), Done)


def test_transient_failures_do_not_advance_the_strategy() -> None:
    """Retries use the backoff (at least Retry-After) and the strategy resumes where it was."""
    state = plan().begin(started_at=0.0, rng=random.Random(0))
    assert next_action(state, answer(200), 0.0) == Poll(2.0)
    assert next_action(state, answer(503), 2.0) == Poll(1.0)
    assert next_action(state, answer(None), 3.0) == Poll(2.0)
    assert next_action(state, answer(429, retry_after="3"), 5.0) == Poll(4.0)
    assert next_action(state, answer(429, retry_after="9"), 9.0) == Poll(9.0)
    assert next_action(state, answer(200), 18.0) == Poll(4.0)
    assert state.failures == 0


def test_too_many_consecutive_failures_give_up_without_timing_out() -> None:
    """max_attempts consecutive transient failures end following with a reason, not a timeout."""
    state = plan(max_attempts=2).begin(started_at=0.0, rng=random.Random(0))
    assert isinstance(next_action(state, answer(500), 0.0), Poll)
    action = next_action(state, answer(500), 1.0)
    assert action == GiveUp(StopReason.SERVER_ERROR, action.detail)
    assert "2 consecutive transient failures" in action.detail
    state = plan(max_attempts=2).begin(started_at=0.0, rng=random.Random(0))
    assert isinstance(next_action(state, answer(None), 0.0), Poll)
    lost = next_action(state, answer(None), 1.0)
    assert isinstance(lost, GiveUp)
    assert lost.reason is StopReason.CONNECTION_LOST


def test_permanent_errors_give_up() -> None:
    """A 401, 404 or malformed answer while polling ends following at once."""
    for outcome in (answer(401), answer(404)):
        state = plan().begin(started_at=0.0, rng=random.Random(0))
        action = next_action(state, outcome, 0.0)
        assert isinstance(action, GiveUp)
        assert action.reason is StopReason.NOT_RETRYABLE


def test_deadline_clamps_the_last_poll_then_times_out() -> None:
    """A poll due past the deadline happens at the deadline; still pending there is timed out."""
    state = plan(deadline_s=10.0).begin(started_at=100.0, rng=random.Random(0))
    assert next_action(state, answer(200), 100.0) == Poll(2.0)
    assert next_action(state, answer(200), 102.0) == Poll(4.0)
    assert next_action(state, answer(200), 106.0) == Poll(4.0)
    action = next_action(state, answer(200), 110.0)
    assert isinstance(action, GiveUp)
    assert action.reason is StopReason.DEADLINE


def test_retry_after_past_the_deadline_is_rate_limited_not_a_timeout() -> None:
    """A Retry-After reaching past the deadline (3600 s on a 30 s run) ends as rate-limited."""
    state = plan(deadline_s=30.0).begin(started_at=0.0, rng=random.Random(0))
    action = next_action(state, answer(429, retry_after="3600"), 1.0)
    assert isinstance(action, GiveUp)
    assert action.reason is StopReason.RATE_LIMITED
    assert "Retry-After 60" in action.detail  # bounded by max_wait_s first


def test_429s_are_honoured_until_the_deadline_never_earlier() -> None:
    """Consecutive 429s never exhaust max_attempts: polls go on until the deadline passes."""
    state = plan(deadline_s=120.0, max_attempts=2).begin(started_at=0.0, rng=random.Random(0))
    now, actions = 0.0, []
    action = next_action(state, answer(429, retry_after="3"), now)
    while isinstance(action, Poll):
        actions.append(action)
        now += action.after_s
        action = next_action(state, answer(429, retry_after="3"), now)
    assert len(actions) > 2
    assert now == pytest.approx(120.0)
    assert action == GiveUp(StopReason.RATE_LIMITED, action.detail)


def test_deadline_while_retrying_names_the_failure_not_the_deadline() -> None:
    """The deadline passing during 5xx retries is a server error: the run was not seen pending."""
    state = plan(deadline_s=3.0).begin(started_at=0.0, rng=random.Random(0))
    assert next_action(state, answer(503), 0.0) == Poll(1.0)
    action = next_action(state, answer(503), 3.0)
    assert isinstance(action, GiveUp)
    assert action.reason is StopReason.SERVER_ERROR


def test_status_outside_the_enum_stops_following_at_once() -> None:
    """`cancelled` (no documented status) ends following at the first sight, not the deadline."""
    state = plan().begin(started_at=0.0, rng=random.Random(0))
    action = next_action(state, answer(200, run="cancelled"), 1.0)
    assert isinstance(action, GiveUp)
    assert action.reason is StopReason.UNKNOWN_STATUS
    assert "'cancelled'" in action.detail


def test_waiting_for_input_is_followed_like_pending() -> None:
    """waiting_for_input is unfinished, not unknown: polling goes on, and the deadline applies."""
    state = plan(deadline_s=3.0).begin(started_at=0.0, rng=random.Random(0))
    assert next_action(state, answer(200, run="waiting_for_input"), 0.0) == Poll(2.0)
    action = next_action(state, answer(200, run="waiting_for_input"), 3.0)
    assert isinstance(action, GiveUp)
    assert action.reason is StopReason.DEADLINE


def test_plan_validates_deadline() -> None:
    """A non-positive deadline is refused, naming deadline_s."""
    with pytest.raises(UsageError, match="deadline_s"):
        plan(deadline_s=0)


def test_strategy_from_builds_each_strategy() -> None:
    """Each --poll-strategy name builds its strategy; an unknown one is a usage error."""
    assert strategy_from("fixed", 5, jitter=0, cap_s=60) == FixedStrategy(5.0)
    assert isinstance(strategy_from("fixed_jittered", 5, jitter=2, cap_s=60), FixedJitteredStrategy)
    assert isinstance(strategy_from("exponential", 2, jitter=0.1, cap_s=1), ExponentialStrategy)
    with pytest.raises(UsageError, match="unknown poll strategy 'random'"):
        strategy_from("random", 5, jitter=0, cap_s=60)


def test_strategy_defaults_spread_fixed_jittered_over_one_interval() -> None:
    """Without numbers, fixed_jittered jitters by its interval and exponential caps at 60 s."""
    assert [default_jitter(name, 5) for name in STRATEGIES] == [0.0, 5.0, 0.0]
    assert strategy_from("fixed_jittered", 5) == FixedJitteredStrategy(5.0, 5.0)
    assert strategy_from("exponential", 2) == ExponentialStrategy(2.0, 2.0, DEFAULT_CAP_S, 0.0)
    assert strategy_from("exponential", 90, cap_s=10) == ExponentialStrategy(90.0, 2.0, 90.0, 0.0)


@pytest.mark.parametrize("text", ["inf", "1e400", "-inf", "nan", "0", "-1", "1e-7", "fixed:inf"])
def test_every_bad_interval_says_the_same_rule(text: str) -> None:
    """issue 14: `--intervals inf` / `1e400` said "must be > 0"; every refusal of an interval
    (too small, zero, negative, infinite, NaN) now names the finite lower bound."""
    with pytest.raises(UsageError) as info:
        parse_candidates(text)
    assert str(info.value) == f"--intervals: interval {text!r} {INTERVAL_RULE}, got " + repr(
        float(text.rpartition(":")[2])
    )
    assert "MIN_POLL_INTERVAL_S = 0.1 s" in INTERVAL_RULE
    assert "> 0" not in str(info.value)


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), 1e-7, 10**400, True, "5"])
def test_require_interval_refuses_with_one_message(value: object) -> None:
    """The factories, flags and targets file share one message (`INTERVAL_RULE`)."""
    with pytest.raises(UsageError, match=re.escape(f"fixed(): interval_s {INTERVAL_RULE}, got")):
        fixed(value)  # type: ignore[arg-type]


def test_a_text_interval_names_the_rule_too() -> None:
    with pytest.raises(UsageError, match=re.escape(INTERVAL_RULE)):
        parse_candidates("fixed:soon")
