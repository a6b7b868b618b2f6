"""Triggers: each one's pause flag and schedule by (workspace, trigger), and the A4 checks.

Changes that depend on the past (pause, resume, a new or removed schedule) first `settle`
every tick due before them, so a tick before a pause still fires and one after does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._clock import VirtualClock
from .._config import CronSpec, MockConfig, TriggerConfig, check_cron
from ._cron import CronTicks, TriggerState
from ._exceptions import NoBuild, TriggerNotFound, TriggerPaused

__all__ = ["CronStatus", "Triggers"]


@dataclass(frozen=True, slots=True)
class CronStatus:
    """A trigger's schedule as the admin API shows it: spec, pause flag and next tick."""

    cron: CronSpec | None
    paused: bool
    next_tick: float | None  # virtual POSIX seconds; None without a schedule


class Triggers:
    """The config's triggers with their live state; schedules run on `ticks`.

    Args:
        config: the validated config (its triggers, as `reset` restores them).
        clock: the virtual clock (a new schedule's first tick is strictly after now).
        ticks: the cron heap schedules are (re)started on.
        settle: fires every tick due now (the store's `catch_up`).
    """

    __slots__ = ("_clock", "_config", "_settle", "_states", "_ticks")

    def __init__(
        self,
        config: MockConfig,
        clock: VirtualClock,
        ticks: CronTicks,
        settle: Callable[[], None],
    ) -> None:
        self._config = config
        self._clock = clock
        self._ticks = ticks
        self._settle = settle
        self._states: dict[tuple[str, str], TriggerState] = {}

    def reset(self) -> None:
        """Back to the config's pause flags and schedules, ticking from the clock's start."""
        self._states = {
            (ws.id, trigger.id): TriggerState(ws.id, trigger)
            for ws in self._config.workspaces
            for trigger in ws.triggers
        }
        for state in self._states.values():
            self._ticks.schedule(state, self._clock.start)

    def get(self, workspace_id: str, trigger_id: str) -> TriggerState:
        """A trigger's live state.

        Raises:
            TriggerNotFound: unknown workspace or trigger.
        """
        state = self._states.get((workspace_id, trigger_id))
        if state is None:
            raise TriggerNotFound
        return state

    def check(self, workspace_id: str, trigger_id: str, environment: str) -> TriggerConfig:
        """The trigger's config if a run may start there; raises in the order of A4.

        Args:
            workspace_id: workspace of the path.
            trigger_id: trigger of the path.
            environment: environment of the path.

        Raises:
            TriggerNotFound: unknown workspace or trigger.
            NoBuild: the trigger has no build in `environment`.
            TriggerPaused: the trigger is paused.
        """
        state = self.get(workspace_id, trigger_id)
        if environment not in state.config.environments:
            raise NoBuild(environment)
        if state.paused:
            raise TriggerPaused
        return state.config

    def set_paused(self, workspace_id: str, trigger_id: str, paused: bool) -> None:
        """Pause or resume a trigger; ticks due before the change are settled first.

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self.get(workspace_id, trigger_id)
        self._settle()
        state.paused = paused

    def set_cron(self, workspace_id: str, trigger_id: str, cron: CronSpec) -> None:
        """Give a trigger a (new) schedule; its first tick is strictly after now.

        Raises:
            TriggerNotFound: unknown trigger. ConfigError: a bad schedule, timezone,
                overlap or environment (the message names it).
        """
        state = self.get(workspace_id, trigger_id)
        check_cron(cron, state.config.environments)
        self._settle()
        state.cron = cron
        state.last_cron_run = None
        self._ticks.schedule(state, self._clock.now())

    def remove_cron(self, workspace_id: str, trigger_id: str) -> None:
        """Remove a trigger's schedule (no error if it had none).

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self.get(workspace_id, trigger_id)
        self._settle()
        state.cron = None
        self._ticks.unschedule(state)

    def cron_status(self, workspace_id: str, trigger_id: str) -> CronStatus:
        """A trigger's schedule, pause flag and next tick (due ticks are settled first).

        The next tick is the schedule's, whether or not the trigger is paused then.

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self.get(workspace_id, trigger_id)
        self._settle()
        return CronStatus(state.cron, state.paused, state.next_tick)
