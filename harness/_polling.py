"""Polling strategies, the retry policy and the pure decisions both clients share.

Strategies are small frozen values made by lowercase factories (`fixed`, `fixed_jittered`,
`exponential`) that check their arguments at once; each yields the delays between polls of a
healthy run from an injected `random.Random`. `STRATEGIES` names them and `strategy_from` builds
one from a name and numbers, with the one set of defaults every command uses (`load`,
`size-polling` and the Locust users): `fixed_jittered` spreads first polls over one interval
unless told otherwise, and `exponential` grows to `DEFAULT_CAP_S` without jitter.

`backoff` spaces retries of transient failures (no answer, 5xx, 429) and never waits less than a
`Retry-After`. `next_action` decides what a polling loop does after each answer, so the loops in
the clients own no policy.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from ._exceptions import UsageError
from ._models import Envelope
from ._protocol import Interpretation, Verdict

__all__ = [
    "DEFAULT_CAP_S",
    "STRATEGIES",
    "Action",
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
    "retry_delay",
    "start_retry_delay",
    "strategy_from",
]

STRATEGIES: Final = ("fixed", "fixed_jittered", "exponential")
"""The strategy names `strategy_from` knows (`--poll-strategy`, `--intervals name:seconds`)."""
DEFAULT_CAP_S: Final = 60.0
"""exponential: the longest delay when no cap is given."""


def _positive(factory: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{factory}: {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{factory}: {name} must be a finite number > 0, got {value!r}")
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
    return FixedStrategy(_positive("fixed()", "interval_s", interval_s))


def fixed_jittered(interval_s: float, *, first_poll_jitter_s: float) -> FixedJitteredStrategy:
    """Poll every `interval_s`, the first poll delayed by a further `U(0, first_poll_jitter_s)`."""
    return FixedJitteredStrategy(
        _positive("fixed_jittered()", "interval_s", interval_s),
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
    initial = _positive(name, "initial_s", initial_s)
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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff, honouring `Retry-After`."""

    initial_s: float
    factor: float
    cap_s: float
    max_attempts: int

    def delay(self, failures: int, retry_after_s: float | None) -> float:
        """Wait before the retry after `failures` consecutive failures (>= Retry-After)."""
        computed = min(self.cap_s, self.initial_s * self.factor ** max(0, failures - 1))
        return max(computed, retry_after_s or 0.0)


def backoff(
    initial_s: float = 1.0, *, factor: float = 2.0, cap_s: float = 30.0, max_attempts: int = 6
) -> RetryPolicy:
    """Retry transient failures after `initial_s`, `initial_s*factor`, ... up to `cap_s`.

    Args:
        initial_s: wait before the first retry, > 0.
        factor: growth per retry, >= 1.
        cap_s: longest wait (a longer `Retry-After` is still honoured), >= initial_s.
        max_attempts: attempts per request including the first, >= 1; 1 means no retry.
    """
    name = "backoff()"
    initial = _positive(name, "initial_s", initial_s)
    if _positive(name, "factor", factor) < 1.0:
        raise UsageError(f"{name}: factor must be >= 1, got {factor!r}")
    if _positive(name, "cap_s", cap_s) < initial:
        raise UsageError(f"{name}: cap_s must be >= initial_s={initial_s!r}, got {cap_s!r}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise UsageError(f"{name}: max_attempts must be an integer >= 1, got {max_attempts!r}")
    return RetryPolicy(initial, float(factor), float(cap_s), max_attempts)


def retry_delay(policy: RetryPolicy, attempt: int, outcome: Interpretation) -> float | None:
    """Delay before retrying a single call after its `attempt`-th try; None: stop here."""
    if outcome.verdict is not Verdict.RETRYABLE or attempt >= policy.max_attempts:
        return None
    return policy.delay(attempt, outcome.retry_after_s)


def start_retry_delay(policy: RetryPolicy, attempt: int, outcome: Interpretation) -> float | None:
    """Delay before re-sending a start (E1/E2/E4) after its `attempt`-th try; None: stop.

    Only a 429 is retried: the server refused before doing anything, so no run started. A lost
    answer or a 5xx may have started one, and sending again could start a second run (A14).
    """
    if outcome.verdict is not Verdict.RETRYABLE or attempt >= policy.max_attempts:
        return None
    if outcome.observation.status_code != 429:
        return None
    return policy.delay(attempt, outcome.retry_after_s)


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
    """Stop following: the deadline passed (`timed_out`) or an answer cannot be retried."""

    reason: str
    timed_out: bool = False


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
    """Where one followed run stands: the strategy's schedule and consecutive failures."""

    plan: PollPlan
    started_at: float
    delays: Iterator[float]
    failures: int = 0

    @property
    def deadline_at(self) -> float:
        """Client clock time of the deadline."""
        return self.started_at + self.plan.deadline_s


def next_action(state: PollState, outcome: Interpretation | None, now: float) -> Action:
    """What to do after `outcome` (None: nothing seen yet) at client time `now`.

    A healthy non-final answer takes the strategy's next delay; a transient failure takes the
    retry policy's delay (at least its Retry-After) without advancing the strategy; polls are
    clamped to the deadline, and a non-final answer at the deadline means timed out.
    """
    if outcome is None:
        return _schedule(state, 0.0, now, at_least=0.0)
    if outcome.verdict is Verdict.SUCCESS and outcome.observation.envelope is not None:
        if outcome.observation.envelope.is_final:
            return Done(outcome.observation.envelope)
        state.failures = 0
        return _schedule(state, next(state.delays), now, at_least=0.0)
    if outcome.verdict is Verdict.RETRYABLE:
        state.failures += 1
        retry = state.plan.retry
        if state.failures >= retry.max_attempts:
            return GiveUp(f"{state.failures} consecutive transient failures: {outcome.error}")
        wait = retry.delay(state.failures, outcome.retry_after_s)
        return _schedule(state, wait, now, at_least=outcome.retry_after_s or 0.0)
    return GiveUp(f"{outcome.verdict}: {outcome.error}")


def _schedule(state: PollState, delay: float, now: float, *, at_least: float) -> Action:
    remaining = state.deadline_at - now
    if remaining <= 0:
        return GiveUp(f"not final after the {state.plan.deadline_s:g} s deadline", timed_out=True)
    if at_least > remaining:
        return GiveUp(
            f"Retry-After {at_least:g} s reaches past the {state.plan.deadline_s:g} s deadline",
            timed_out=True,
        )
    return Poll(min(delay, remaining))
