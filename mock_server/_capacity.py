"""The capacity model: per-workspace token buckets and a cap on concurrent background runs.

Rate limits count REAL seconds (a client's politeness is judged in its own time); the run cap
counts runs that are not final on the virtual clock. A refusal is a `Retry-After` in whole
seconds (at least 1): when the bucket will hold a token again, or when the soonest active run
ends (converted to real seconds by the clock's time scale, at most 60).

Limits: `[mock] rate_limit_per_s` (A8: every API request of a workspace), `status_rate_per_s`
(E3 only) and `max_background_runs`; the `overloaded` preset sets the last two when unset.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from ._config import MockSettings
from ._fault_rules import preset

__all__ = ["Capacity", "TokenBucket"]

_MAX_RUN_RETRY_S = 60


class TokenBucket:
    """Holds up to `burst` tokens, refilled at `rate` per real second; each request takes one."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, now: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.tokens = self.burst
        self.updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when one was there, else the real seconds until one will be."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


class Capacity:
    """The workspace limits of one app; `refused` counts 429s by (reason, workspace).

    Args:
        settings: the `[mock]` table (limits, and the scenario whose preset fills unset ones).
        real_time: monotonic real seconds.
    """

    def __init__(self, settings: MockSettings, real_time: Callable[[], float]) -> None:
        chosen = preset(settings.scenario)
        self.request_rate = settings.rate_limit_per_s or None
        self.status_rate = settings.status_rate_per_s or (
            chosen.status_rate_per_s if chosen is not None else None
        )
        self.max_background_runs = settings.max_background_runs or (
            chosen.max_background_runs if chosen is not None else None
        )
        self.limits_status = self.request_rate is not None or self.status_rate is not None
        self._real_time = real_time
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.refused: Counter[tuple[str, str]] = Counter()

    def reset(self) -> None:
        """Full buckets and no refusals counted."""
        self._buckets.clear()
        self.refused.clear()

    def admit_request(self, workspace_id: str) -> int | None:
        """A8: None when the workspace may send a request now, else `Retry-After` seconds."""
        return self._take("request_rate", self.request_rate, workspace_id)

    def admit_status(self, workspace_id: str) -> int | None:
        """E3: the A8 limit, then the status limit; None or `Retry-After` seconds."""
        refused = self._take("request_rate", self.request_rate, workspace_id)
        if refused is None:
            refused = self._take("status_rate", self.status_rate, workspace_id)
        return refused

    def admit_start(
        self, workspace_id: str, active: int, next_free_in_s: float | None
    ) -> int | None:
        """A background start: None when under the run cap, else `Retry-After` seconds.

        Args:
            workspace_id: the workspace starting a run.
            active: its background runs not final now.
            next_free_in_s: real seconds until the soonest of them ends (None or inf: unknown,
                e.g. all are waiting for input or the clock is frozen).
        """
        limit = self.max_background_runs
        if limit is None or active < limit:
            return None
        self.refused[("concurrent_runs", workspace_id)] += 1
        known = next_free_in_s is not None and math.isfinite(next_free_in_s)
        wait = next_free_in_s if known and next_free_in_s is not None else _MAX_RUN_RETRY_S
        return min(_MAX_RUN_RETRY_S, _whole_seconds(wait))

    def _take(self, reason: str, rate: float | None, workspace_id: str) -> int | None:
        if rate is None:
            return None
        now = self._real_time()
        bucket = self._buckets.get((reason, workspace_id))
        if bucket is None:
            bucket = self._buckets[(reason, workspace_id)] = TokenBucket(rate, now)
        wait = bucket.take(now)
        if wait == 0.0:
            return None
        self.refused[(reason, workspace_id)] += 1
        return _whole_seconds(wait)
