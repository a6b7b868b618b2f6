"""Polling strategies, the retry policy and the pure decisions both clients share.

Strategies are small frozen values made by lowercase factories (`fixed`, `fixed_jittered`,
`exponential`) that check their arguments at once; each yields the delays between polls of a
healthy run from an injected `random.Random`. `STRATEGIES` names them and `strategy_from` builds
one from a name and numbers, with the one set of defaults every command uses (`load`,
`size-polling` and the Locust users): `fixed_jittered` spreads first polls over one interval
unless told otherwise, and `exponential` grows to `DEFAULT_CAP_S` without jitter.

`backoff` spaces retries of transient failures (no answer, 5xx, 429) and never waits less than a
`Retry-After` up to its `max_wait_s`; 429s are retried until the deadline. `next_action` decides
what a polling loop does after each answer and why it stops (`StopReason`), and `CallRetry` the
same for one call, so the loops in the clients own no policy.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from ._exceptions import UsageError
from ._models import UNFINISHED_STATUSES, Envelope, RunStatus, StopReason
from ._protocol import Interpretation, Verdict

__all__ = [
    "DEFAULT_CALL_DEADLINE_S",
    "DEFAULT_CAP_S",
    "DEFAULT_MAX_WAIT_S",
    "INTERVAL_RULE",
    "MIN_POLL_INTERVAL_S",
    "STRATEGIES",
    "Action",
    "CallRetry",
    "Done",
    "ExponentialStrategy",
    "FixedJitteredStrategy",
    "FixedStrategy",
    "GiveUp",
    "Poll",
    "PollPlan",
    "PollState",
    "PollStrategy",
    "RetryPolicy",
    "backoff",
    "default_jitter",
    "exponential",
    "fixed",
    "fixed_jittered",
    "next_action",
    "require_interval",
    "strategy_from",
]

STRATEGIES: Final = ("fixed", "fixed_jittered", "exponential")
"""The strategy names `strategy_from` knows (`--poll-strategy`, `--intervals name:seconds`)."""
DEFAULT_CAP_S: Final = 60.0
"""exponential: the longest delay when no cap is given."""
MIN_POLL_INTERVAL_S: Final = 0.1
"""The shortest poll interval (target seconds) any strategy, flag or targets file may ask for.

A clock of epoch seconds held in a float advances in steps of about 2.4e-7 s today, so a
shorter delay (1e-7) never moves the mock's stepped clock and a sizing run never ends; the docs
advise 5-10 s. Issue 14: intervals have a sane lower bound, named in the message.
"""
INTERVAL_RULE: Final = (
    f"must be a finite number >= MIN_POLL_INTERVAL_S = {MIN_POLL_INTERVAL_S:g} s (a shorter "
    "interval never lets a float clock move on)"
)
"""What every poll interval must be, in the words of every refusal of one (`require_interval`)."""


def _positive(factory: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{factory}: {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{factory}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


def require_interval(where: str, name: str, value: float) -> float:
    """`value` as a poll interval (seconds): a finite number >= `MIN_POLL_INTERVAL_S`.

    Args:
        where: what takes the value (`fixed()`, `--intervals`, the targets file).
        name: the value's name there (`interval_s`, `poll_interval_s`).
        value: the interval asked for.

    Raises:
        UsageError: not a number, or not finite, or below `MIN_POLL_INTERVAL_S`: one message
            for all three, naming the bound (`INTERVAL_RULE`).
    """
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not (number and MIN_POLL_INTERVAL_S <= value <= sys.float_info.max):  # NaN too
        raise UsageError(f"{where}: {name} {INTERVAL_RULE}, got {value!r}")
    return float(value)


def _non_negative(factory: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{factory}: {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{factory}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class PollStrategy(Protocol):
    """Anything that yields the delays (seconds) between polls of a healthy run."""

    def delays(self, rng: random.Random) -> Iterator[float]:
        """An endless iterator of delays; `rng` is the only source of randomness."""
        ...


@dataclass(frozen=True, slots=True)
class FixedStrategy:
    """The same delay before every poll."""

    interval_s: float

    def delays(self, rng: random.Random) -> Iterator[float]:
        """`interval_s` forever."""
        return itertools.repeat(self.interval_s)


@dataclass(frozen=True, slots=True)
class FixedJitteredStrategy:
    """A first poll after `interval_s` plus up to `first_poll_jitter_s`, then `interval_s`.

    Spreads the polls of many runs started together without slowing any of them later.
    """

    interval_s: float
    first_poll_jitter_s: float

    def delays(self, rng: random.Random) -> Iterator[float]:
        """The jittered first delay, then `interval_s` forever."""
        first = self.interval_s + rng.uniform(0.0, self.first_poll_jitter_s)
        return itertools.chain((first,), itertools.repeat(self.interval_s))


@dataclass(frozen=True, slots=True)
class ExponentialStrategy:
    """Delays growing by `factor` from `initial_s` up to `cap_s`, each scaled by ±`jitter`."""

    initial_s: float
    factor: float
    cap_s: float
    jitter: float

    def delays(self, rng: random.Random) -> Iterator[float]:
        """`min(cap_s, initial_s * factor**n)` times a uniform draw in `1 ± jitter`, capped."""
        base = self.initial_s
        while True:
            scale = rng.uniform(1.0 - self.jitter, 1.0 + self.jitter) if self.jitter else 1.0
            yield min(self.cap_s, base * scale)
            base = min(self.cap_s, base * self.factor)


def fixed(interval_s: float) -> FixedStrategy:
    """Poll every `interval_s` seconds (the docs advise 5-10 s)."""
    return FixedStrategy(require_interval("fixed()", "interval_s", interval_s))


def fixed_jittered(interval_s: float, *, first_poll_jitter_s: float) -> FixedJitteredStrategy:
    """Poll every `interval_s`, the first poll delayed by a further `U(0, first_poll_jitter_s)`."""
    return FixedJitteredStrategy(
        require_interval("fixed_jittered()", "interval_s", interval_s),
        _non_negative("fixed_jittered()", "first_poll_jitter_s", first_poll_jitter_s),
    )


def exponential(
    initial_s: float, *, factor: float = 2.0, cap_s: float = 60.0, jitter: float = 0.0
) -> ExponentialStrategy:
    """Poll after `initial_s`, then `factor` times longer each time, never above `cap_s`.

    Args:
        initial_s: first delay, > 0.
        factor: growth per poll, >= 1.
        cap_s: longest delay, >= initial_s.
        jitter: each delay is scaled by a uniform draw in `[1 - jitter, 1 + jitter]`, 0-1.
    """
    name = "exponential()"
    initial = require_interval(name, "initial_s", initial_s)
    if _positive(name, "factor", factor) < 1.0:
        raise UsageError(f"{name}: factor must be >= 1, got {factor!r}")
    if _positive(name, "cap_s", cap_s) < initial:
        raise UsageError(f"{name}: cap_s must be >= initial_s={initial_s!r}, got {cap_s!r}")
    if _non_negative(name, "jitter", jitter) > 1.0:
        raise UsageError(f"{name}: jitter must be between 0 and 1, got {jitter!r}")
    return ExponentialStrategy(initial, float(factor), float(cap_s), float(jitter))


def default_jitter(name: str, interval_s: float) -> float:
    """The jitter a strategy takes when none is given.

    `fixed_jittered` spreads the first polls of runs started together over one interval (its
    jitter is seconds); `fixed` has none and `exponential` none (its jitter is a fraction).

    Args:
        name: one of `STRATEGIES`.
        interval_s: the strategy's interval (exponential: first delay), seconds.
    """
    return float(interval_s) if name == "fixed_jittered" else 0.0


def strategy_from(
    name: str, interval_s: float, *, jitter: float | None = None, cap_s: float | None = None
) -> PollStrategy:
    """The polling strategy a name and its numbers describe.

    Args:
        name: `fixed`, `fixed_jittered` or `exponential`.
        interval_s: the interval (exponential: the first delay), seconds.
        jitter: fixed_jittered: first-poll jitter in seconds; exponential: a fraction 0-1;
            None: `default_jitter(name, interval_s)`.
        cap_s: exponential: the longest delay (never below `interval_s`); None: `DEFAULT_CAP_S`.
    """
    if name not in STRATEGIES:
        raise UsageError(f"unknown poll strategy {name!r}; known: {', '.join(STRATEGIES)}")
    spread = default_jitter(name, interval_s) if jitter is None else jitter
    if name == "fixed":
        return fixed(interval_s)
    if name == "fixed_jittered":
        return fixed_jittered(interval_s, first_poll_jitter_s=spread)
    cap = DEFAULT_CAP_S if cap_s is None else cap_s
    return exponential(interval_s, cap_s=max(cap, interval_s), jitter=spread)


DEFAULT_MAX_WAIT_S: Final = 60.0
"""The longest a server-suggested wait (`Retry-After`) is honoured before trying again."""
DEFAULT_CALL_DEADLINE_S: Final = 120.0
"""How long one `status()` or `start()` call keeps retrying, from its first attempt."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff, honouring `Retry-After`.

    A `Retry-After` (RFC 9110 §10.2.3) is honoured up to `max_wait_s` and never past the
    call's deadline. 429s are retried until that deadline; no answer and 5xx at most
    `max_attempts` times in a row.
    """

    initial_s: float
    factor: float
    cap_s: float
    max_attempts: int
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    call_deadline_s: float = DEFAULT_CALL_DEADLINE_S

    def delay(self, failures: int, retry_after_s: float | None) -> float:
        """Wait (seconds) after `failures` consecutive failures: the backoff or the server's
        `Retry-After` (bounded by `max_wait_s`), whichever is longer."""
        computed = min(self.cap_s, self.initial_s * self.factor ** max(0, failures - 1))
        return max(computed, self.suggested(retry_after_s))

    def suggested(self, retry_after_s: float | None) -> float:
        """The server's suggested wait as honoured: at most `max_wait_s`, 0 when none."""
        return min(retry_after_s or 0.0, self.max_wait_s)

    def begin_call(
        self, *, started_at: float, deadline_s: float | None = None, rate_limited_only: bool = False
    ) -> CallRetry:
        """Retry state for one call begun at `started_at` (client clock).

        Args:
            started_at: when the first attempt was sent.
            deadline_s: stop retrying past this many seconds; default `call_deadline_s`.
            rate_limited_only: retry only 429s (a start: anything else may have started a run).
        """
        deadline = self.call_deadline_s if deadline_s is None else deadline_s
        _positive("call", "deadline_s", deadline)
        return CallRetry(
            policy=self,
            started_at=started_at,
            deadline_s=float(deadline),
            rate_limited_only=rate_limited_only,
        )


def backoff(
    initial_s: float = 1.0,
    *,
    factor: float = 2.0,
    cap_s: float = 30.0,
    max_attempts: int = 6,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    call_deadline_s: float = DEFAULT_CALL_DEADLINE_S,
) -> RetryPolicy:
    """Retry transient failures after `initial_s`, `initial_s*factor`, ... up to `cap_s`.

    Args:
        initial_s: wait before the first retry, > 0.
        factor: growth per retry, >= 1.
        cap_s: longest computed wait (a longer `Retry-After` is honoured up to `max_wait_s`),
            >= initial_s.
        max_attempts: attempts per request including the first, >= 1; 1 means no retry of
            no answer or a 5xx (429s are retried until the deadline whatever this says).
        max_wait_s: longest `Retry-After` honoured, > 0 (default 60 s).
        call_deadline_s: how long one `status()`/`start()` call retries, > 0 (default 120 s).
    """
    name = "backoff()"
    initial = require_interval(name, "initial_s", initial_s)
    if _positive(name, "factor", factor) < 1.0:
        raise UsageError(f"{name}: factor must be >= 1, got {factor!r}")
    if _positive(name, "cap_s", cap_s) < initial:
        raise UsageError(f"{name}: cap_s must be >= initial_s={initial_s!r}, got {cap_s!r}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise UsageError(f"{name}: max_attempts must be an integer >= 1, got {max_attempts!r}")
    return RetryPolicy(
        initial,
        float(factor),
        float(cap_s),
        max_attempts,
        _positive(name, "max_wait_s", max_wait_s),
        _positive(name, "call_deadline_s", call_deadline_s),
    )


def _is_rate_limited(outcome: Interpretation) -> bool:
    return outcome.observation.status_code == 429


@dataclass(slots=True, kw_only=True)
class CallRetry:
    """Where the retries of one call stand (`RetryPolicy.begin_call`); sans-IO.

    Elapsed time is the larger of the clock's and the waits handed out, so a loop ends even
    under a clock that does not move.
    """

    policy: RetryPolicy
    started_at: float
    deadline_s: float
    rate_limited_only: bool
    failures: int = 0
    errors: int = 0
    waited_s: float = 0.0

    def next_delay(self, outcome: Interpretation, now: float) -> float | None:
        """Seconds to wait before sending the call again after `outcome`; None: stop here.

        Only transient answers are retried (a start: only 429). A 429 is retried until the
        deadline; no answer or a 5xx at most `max_attempts` times in a row. A wait that would
        end past the deadline stops the call instead.
        """
        if outcome.verdict is not Verdict.RETRYABLE:
            return None
        limited = _is_rate_limited(outcome)
        if self.rate_limited_only and not limited:
            return None
        self.failures += 1
        if not limited:
            self.errors += 1
            if self.errors >= self.policy.max_attempts:
                return None
        wait = self.policy.delay(self.failures, outcome.retry_after_s)
        if max(now - self.started_at, self.waited_s) + wait > self.deadline_s:
            return None
        self.waited_s += wait
        return wait


@dataclass(frozen=True, slots=True)
class Poll:
    """Poll again after `after_s` seconds."""

    after_s: float


@dataclass(frozen=True, slots=True)
class Done:
    """The run reached a final status."""

    envelope: Envelope


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop following: why (`StopReason`, never `FINAL`) and what was seen last."""

    reason: StopReason
    detail: str


Action: TypeAlias = Poll | Done | GiveUp


@dataclass(frozen=True, slots=True, kw_only=True)
class PollPlan:
    """How a run is followed: the strategy, the retry policy and the deadline (seconds)."""

    strategy: PollStrategy
    retry: RetryPolicy
    deadline_s: float

    def __post_init__(self) -> None:
        _positive("PollPlan", "deadline_s", self.deadline_s)

    def begin(self, *, started_at: float, rng: random.Random) -> PollState:
        """A fresh state for one run followed from `started_at` (client clock)."""
        return PollState(plan=self, started_at=started_at, delays=self.strategy.delays(rng))


@dataclass(slots=True, kw_only=True)
class PollState:
    """Where one followed run stands: the schedule, consecutive failures, waits handed out.

    `failures` counts consecutive transient answers (the backoff grows with it), `errors`
    those of them that were no answer or a 5xx (`max_attempts` bounds it; 429s do not count).
    """

    plan: PollPlan
    started_at: float
    delays: Iterator[float]
    failures: int = 0
    errors: int = 0
    waited_s: float = 0.0

    @property
    def deadline_at(self) -> float:
        """Client clock time of the deadline."""
        return self.started_at + self.plan.deadline_s


def _transient_reason(outcome: Interpretation) -> StopReason:
    if _is_rate_limited(outcome):
        return StopReason.RATE_LIMITED
    if outcome.observation.status_code is None:
        return StopReason.CONNECTION_LOST
    return StopReason.SERVER_ERROR


def next_action(state: PollState, outcome: Interpretation | None, now: float) -> Action:
    """What to do after `outcome` (None: nothing seen yet) at client time `now`.

    - a final status: `Done`;
    - pending or waiting_for_input: the strategy's next delay, clamped to the deadline; past
      it, `GiveUp(DEADLINE)`;
    - a status outside `RunStatus` (e.g. `cancelled`): `GiveUp(UNKNOWN_STATUS)` at once;
    - 429: the retry policy's delay (at least the bounded `Retry-After`) until the deadline,
      then `GiveUp(RATE_LIMITED)`; also when the `Retry-After` reaches past the deadline;
    - no answer or 5xx: likewise, but at most `max_attempts` in a row (`CONNECTION_LOST`,
      `SERVER_ERROR`); transient answers never advance the strategy;
    - anything else (401, another 4xx, a malformed envelope): `GiveUp(NOT_RETRYABLE)`.
    """
    if outcome is None:
        return _schedule(state, 0.0, now, expired=StopReason.CONNECTION_LOST)
    envelope = outcome.observation.envelope
    if outcome.verdict is Verdict.SUCCESS and envelope is not None:
        if envelope.is_final:
            return Done(envelope)
        if envelope.status not in UNFINISHED_STATUSES:
            return GiveUp(
                StopReason.UNKNOWN_STATUS,
                f"status {envelope.status!r} is none of {', '.join(RunStatus)}",
            )
        state.failures = state.errors = 0
        return _schedule(state, next(state.delays), now, expired=StopReason.DEADLINE)
    if outcome.verdict is Verdict.RETRYABLE:
        return _retry(state, outcome, now)
    return GiveUp(StopReason.NOT_RETRYABLE, f"{outcome.verdict}: {outcome.error}")


def _retry(state: PollState, outcome: Interpretation, now: float) -> Action:
    retry, reason = state.plan.retry, _transient_reason(outcome)
    state.failures += 1
    if reason is not StopReason.RATE_LIMITED:
        state.errors += 1
        if state.errors >= retry.max_attempts:
            return GiveUp(reason, f"{state.errors} consecutive transient failures: {outcome.error}")
    wait = retry.delay(state.failures, outcome.retry_after_s)
    return _schedule(
        state, wait, now, expired=reason, at_least=retry.suggested(outcome.retry_after_s)
    )


def _schedule(
    state: PollState, delay: float, now: float, *, expired: StopReason, at_least: float = 0.0
) -> Action:
    remaining = state.plan.deadline_s - max(now - state.started_at, state.waited_s)
    if remaining <= 0:
        return GiveUp(expired, f"not final after the {state.plan.deadline_s:g} s deadline")
    if at_least > remaining:
        return GiveUp(
            expired,
            f"Retry-After {at_least:g} s reaches past the {state.plan.deadline_s:g} s deadline",
        )
    wait = min(delay, remaining)
    state.waited_s += wait
    return Poll(wait)
