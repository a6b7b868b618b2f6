"""Cron (A13): each trigger's live state and the heap of every schedule's next tick.

Each schedule's ticks are computed by cronsim in the trigger's timezone (DST as zoneinfo says),
the first tick strictly after the clock's start (or after the moment a schedule is set).
`CronTicks.fire_due(now)` fires every due tick, across all triggers in time order, each run
started at its own tick time. Misfire rule: a clock jump past many ticks fires every tick it
passed, once each, in order, each at its own time. A tick is skipped, never fired later, when
its trigger is paused at the tick, or when its overlap is `skip` and the trigger's previous cron
run is still pending/waiting at the tick time (a run ending exactly at the tick does not
overlap). Moving the clock backwards does not re-fire ticks already fired. Firing costs about
25 µs per tick, so a jump of a year past a once-a-minute schedule takes some seconds: `fire_due`
handles a bounded number per call, so the HTTP layer can yield to the event loop in between.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim

from .._config import CronSpec, TriggerConfig
from ._runs import PENDING, WAITING, Run

__all__ = ["CronRunStarter", "CronTicks", "TriggerState"]


class TriggerState:
    """Mutable per-trigger state: pause flag and cron schedule (reset from the config).

    Args:
        workspace_id: the trigger's workspace.
        config: the trigger's config (its starting pause flag and schedule).
    """

    __slots__ = (
        "config",
        "cron",
        "cron_iter",
        "generation",
        "key",
        "last_cron_run",
        "next_tick",
        "paused",
    )

    def __init__(self, workspace_id: str, config: TriggerConfig) -> None:
        self.key = (workspace_id, config.id)
        self.config = config
        self.paused = config.paused
        self.cron: CronSpec | None = config.cron
        self.cron_iter: CronSim | None = None
        self.generation = 0  # bumped on every (re)schedule: older heap entries are stale
        self.last_cron_run: Run | None = None
        self.next_tick: float | None = None

    def run_environment(self) -> str:
        """The environment of its cron and manual runs: the cron's, else the trigger's first."""
        if self.cron is not None and self.cron.environment is not None:
            return self.cron.environment
        return self.config.environments[0]


CronRunStarter = Callable[[TriggerState, CronSpec, float], Run]
"""Starts a trigger's cron run at a tick (virtual POSIX seconds) and returns it."""


class CronTicks:
    """Every schedule's next tick in one heap, fired in time order by `fire_due`.

    `heap` is a list of `(tick, seq, state, generation)`; its head is the next tick, so an idle
    check is one compare. The list is never replaced, so its holder may read the head directly.

    Args:
        start_run: starts the run of a tick that fires.
    """

    __slots__ = ("_seq", "_start_run", "fired", "heap", "skipped_overlap", "skipped_paused")

    def __init__(self, start_run: CronRunStarter) -> None:
        self._start_run = start_run
        self.heap: list[tuple[float, int, TriggerState, int]] = []
        self._seq = 0
        self.fired = 0
        self.skipped_paused = 0
        self.skipped_overlap = 0

    def reset(self) -> None:
        """Forget every tick and zero the counters (schedules are set again by `schedule`)."""
        self.heap.clear()
        self._seq = 0
        self.fired = self.skipped_paused = self.skipped_overlap = 0

    def counters(self) -> dict[str, float]:
        """Ticks fired and skipped (paused, overlap), by metric name."""
        return {
            "cron_ticks_fired_total": float(self.fired),
            "cron_ticks_skipped_paused_total": float(self.skipped_paused),
            "cron_ticks_skipped_overlap_total": float(self.skipped_overlap),
        }

    def schedule(self, state: TriggerState, after: float) -> None:
        """(Re)start `state`'s schedule at its first tick strictly after `after`.

        Args:
            state: the trigger; without a cron its schedule is only stopped.
            after: virtual POSIX seconds.

        Raises:
            zoneinfo.ZoneInfoNotFoundError: the cron's timezone is unknown (checked beforehand).
        """
        self.unschedule(state)
        if state.cron is None:
            return
        zone = ZoneInfo(state.cron.timezone)
        state.cron_iter = CronSim(state.cron.schedule, datetime.fromtimestamp(after, zone))
        self._push_next_tick(state)

    def unschedule(self, state: TriggerState) -> None:
        """Stop `state`'s ticks: its entries in the heap become stale and are dropped when due."""
        state.generation += 1
        state.cron_iter = None
        state.next_tick = None

    def fire_due(self, now: float, budget: int) -> bool:
        """Fire the ticks at or before `now` (virtual POSIX seconds), oldest first, at most
        `budget` of them; True when due ticks are left."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            if budget <= 0:
                return True
            budget -= 1
            tick, _, state, generation = heapq.heappop(heap)
            if generation != state.generation or state.cron_iter is None:
                continue
            self._fire(state, tick)
            self._push_next_tick(state)
        return False

    def _push_next_tick(self, state: TriggerState) -> None:
        if state.cron_iter is None:
            return
        try:
            tick = next(state.cron_iter).timestamp()
        except StopIteration:
            state.cron_iter = None
            state.next_tick = None
            return
        state.next_tick = tick
        self._seq += 1
        heapq.heappush(self.heap, (tick, self._seq, state, state.generation))

    def _fire(self, state: TriggerState, tick: float) -> None:
        cron = state.cron
        assert cron is not None
        if state.paused:
            self.skipped_paused += 1
            return
        previous = state.last_cron_run
        if (
            cron.overlap == "skip"
            and previous is not None
            and previous.status_at(tick) in (PENDING, WAITING)
        ):
            self.skipped_overlap += 1
            return
        self.fired += 1
        state.last_cron_run = self._start_run(state, cron, tick)
