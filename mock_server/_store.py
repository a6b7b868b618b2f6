"""`TriggerStore`: the mock's state — keys, triggers, runs and cron schedules — with no HTTP.

A run is a small `__slots__` record holding its timeline (`started_at`, `pause_at`, `resumed_at`,
`end_at`); its status is derived from the virtual clock when read, so no task or timer exists per
run. Statuses: `pending` until `end_at` (final) or `pause_at` (`waiting_for_input` until input is
given, then `pending` again for a fresh duration, then final). A run whose running time would pass
`background_limit_s` is `failed` at that limit (A2); waiting time does not count.

Retention (A9): a final run disappears `retention_s` after it ended. Reads check the expiry
themselves; `catch_up()` purges expired runs from a heap keyed by expiry, so nothing is scanned.

Cron (A13): each schedule's ticks are computed by cronsim in the trigger's timezone (DST as
zoneinfo says), the first tick strictly after the clock's start (or after the moment `add_cron`
was called). `catch_up()` fires every due tick, across all triggers in time order, each run
started at its own tick time. Misfire rule: a clock jump past many ticks fires every tick it
passed, once each, in order, each at its own time (a run already past its retention by then is
counted but not kept). A tick is skipped, never fired later, when its trigger is paused at the
tick, or when its overlap is `skip` and the trigger's previous cron run is still
pending/waiting at the tick time (a run ending exactly at the tick does not overlap). Moving the
clock backwards does not re-fire ticks already fired. Firing costs about 25 µs per tick, so a jump
of a year past a once-a-minute schedule takes some seconds; an idle `catch_up()` is two compares.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from cronsim import CronSim

from ._clock import VirtualClock, format_iso
from ._config import ENVIRONMENTS, CronSpec, MockConfig, TriggerConfig, check_cron
from ._flows import (
    Ending,
    Fate,
    completed_response,
    draw_duration,
    draw_outcome,
    error_message,
    logs_at,
    resume_plan,
)

__all__ = [
    "CronStatus",
    "JiraNotEnabled",
    "KeyScope",
    "NoBuild",
    "NotWaitingForInput",
    "RunRecord",
    "Source",
    "StoreError",
    "TriggerNotFound",
    "TriggerPaused",
    "TriggerStore",
    "WorkflowNotFound",
]

_INF = float("inf")
_COMPACT_AFTER = 4096  # purging more runs than this at once (and than are left) compacts the map
_ENVIRONMENTS = {env: env for env in ENVIRONMENTS}  # shared strings keep records small
_PENDING = "pending"
FINAL_ENVELOPE_CACHE = 4096
"""How many final runs' envelopes E3 keeps ready (each a few hundred bytes)."""
_COMPLETED = "completed"
_FAILED = "failed"
_WAITING = "waiting_for_input"


class Source(StrEnum):
    """What started a run."""

    API = "api"
    CRON = "cron"
    JIRA = "jira"
    MANUAL = "manual"


class StoreError(Exception):
    """A request the store refuses; `status_code` and `detail` are the HTTP answer."""

    status_code: ClassVar[int] = 400
    default_detail: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        super().__init__(self.detail)


class TriggerNotFound(StoreError):
    """Unknown workspace or trigger (404)."""

    status_code: ClassVar[int] = 404
    default_detail: ClassVar[str] = "Trigger not found"


class JiraNotEnabled(TriggerNotFound):
    """The trigger has no Jira secret, so E4 does not exist for it (404, same body)."""


class TriggerPaused(StoreError):
    """The trigger is paused (409)."""

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "Trigger is paused"


class NoBuild(StoreError):
    """The trigger has no build in the requested environment (409)."""

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "No build is deployed to this environment"

    def __init__(self, environment: str) -> None:
        super().__init__(f"No build is deployed to environment {environment}")
        self.environment = environment


class WorkflowNotFound(StoreError):
    """Unknown or expired workflow id (404)."""

    status_code: ClassVar[int] = 404
    default_detail: ClassVar[str] = "Workflow not found"


class NotWaitingForInput(StoreError):
    """Input was given to a run that is not `waiting_for_input` (409)."""

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "Workflow is not waiting for input"


@dataclass(frozen=True, slots=True)
class CronStatus:
    """A trigger's schedule as the admin API shows it: spec, pause flag and next tick."""

    cron: CronSpec | None
    paused: bool
    next_tick: float | None  # virtual POSIX seconds; None without a schedule


@dataclass(frozen=True, slots=True)
class KeyScope:
    """What an accepted key may do: its workspace and, if limited (A15), its environments."""

    workspace_id: str
    environments: frozenset[str] | None


class RunRecord:
    """One run: identity, request and timeline (virtual POSIX seconds; `inf` = not yet)."""

    __slots__ = (
        "end_at",
        "ending",
        "environment",
        "error_text",
        "input_message",
        "message",
        "pause_at",
        "resumed_at",
        "seed",
        "source",
        "started_at",
        "trigger_id",
        "user_variables",
        "workflow_id",
        "workspace_id",
    )

    def __init__(
        self,
        *,
        workflow_id: str,
        workspace_id: str,
        trigger_id: str,
        environment: str,
        source: Source,
        started_at: float,
        message: str,
        user_variables: dict[str, Any],
        seed: int,
        pause_at: float,
        end_at: float,
        ending: int,
    ) -> None:
        self.workflow_id = workflow_id
        self.workspace_id = workspace_id
        self.trigger_id = trigger_id
        self.environment = environment
        self.source = source
        self.started_at = started_at
        self.message = message
        self.user_variables = user_variables
        self.seed = seed
        self.pause_at = pause_at
        self.resumed_at = _INF
        self.end_at = end_at
        self.ending = ending
        self.input_message: str | None = None
        self.error_text: str | None = None  # an error set by the store (E1's sync limit)

    def status_at(self, now: float) -> str:
        """The run's status at virtual time `now`."""
        if now >= self.end_at:
            return _FAILED if self.ending else _COMPLETED
        if self.pause_at <= now < self.resumed_at:
            return _WAITING
        return _PENDING

    def __repr__(self) -> str:
        return f"RunRecord({self.workflow_id!r}, {self.workspace_id}/{self.trigger_id})"


class _TriggerState:
    """Mutable per-trigger state: pause flag and cron schedule."""

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
        self.generation = 0
        self.last_cron_run: RunRecord | None = None
        self.next_tick: float | None = None

    def run_environment(self) -> str:
        if self.cron is not None and self.cron.environment is not None:
            return self.cron.environment
        return self.config.environments[0]


class TriggerStore:
    """All state of the mock world, with statuses derived from `clock` at read time."""

    def __init__(self, config: MockConfig, clock: VirtualClock) -> None:
        """Build the world of `config` on `clock`.

        Args:
            config: the validated config.
            clock: the virtual clock every time in the store is read from.
        """
        self.config = config
        self.clock = clock
        settings = config.mock
        self._sync_limit = settings.sync_limit_s
        self._background_limit = settings.background_limit_s
        self._retention = settings.retention_s
        self._window = settings.log_window
        self._keys: dict[str, tuple[tuple[bytes, frozenset[str] | None], ...]] = {
            ws.id: tuple(
                (k.key.encode(), None if k.environments is None else frozenset(k.environments))
                for k in ws.api_keys
            )
            for ws in config.workspaces
        }
        self._workspace_ids = {ws.id: ws.id for ws in config.workspaces}
        self._runs: dict[str, RunRecord] = {}
        self._final_envelopes: dict[str, dict[str, Any]] = {}
        self._triggers: dict[tuple[str, str], _TriggerState] = {}
        self._cron_heap: list[tuple[float, int, tuple[str, str], int]] = []
        self._expiry_heap: list[tuple[float, str]] = []
        self._rng = random.Random(settings.seed)
        self._seq = 0
        self._counters: dict[str, float] = {}
        self._active: dict[str, dict[str, RunRecord]] = {}
        self._active_pruned_at = 0
        self.reset(reset_clock=False)

    # --- auth and lookup -------------------------------------------------------------------

    def key_scope(self, workspace_id: str, presented_key: str | None) -> KeyScope | None:
        """The scope of `presented_key` in `workspace_id`, None when it is not one of its keys.

        Every key of the workspace is compared in constant time, whichever matches.

        Args:
            workspace_id: the workspace named in the path.
            presented_key: the bearer token sent, or None when absent.
        """
        keys = self._keys.get(workspace_id)
        if keys is None or presented_key is None:
            return None
        presented = presented_key.encode("utf-8", "surrogatepass")
        found: frozenset[str] | None = None
        matched = False
        for key, environments in keys:
            if hmac.compare_digest(presented, key):
                matched = True
                found = environments
        return KeyScope(self._workspace_ids[workspace_id], found) if matched else None

    def check_trigger(self, workspace_id: str, trigger_id: str, environment: str) -> TriggerConfig:
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
        state = self._trigger(workspace_id, trigger_id)
        if environment not in state.config.environments:
            raise NoBuild(environment)
        if state.paused:
            raise TriggerPaused
        return state.config

    def run_record(self, workflow_id: str) -> RunRecord | None:
        """The run with this id, whatever its workspace; None when unknown or expired.

        Args:
            workflow_id: the run's id.
        """
        run = self._runs.get(workflow_id)
        if run is None or self.clock.now() >= run.end_at + self._retention:
            return None
        return run

    # --- starting runs ---------------------------------------------------------------------

    def start_run(
        self,
        *,
        workspace_id: str,
        trigger_id: str,
        environment: str,
        message: str,
        user_variables: dict[str, Any],
        source: Source = Source.API,
        sync: bool = False,
    ) -> RunRecord:
        """Start a run now; ids, durations and outcomes come from the seeded RNG.

        The record keeps `user_variables` as given (the caller must not mutate it later).
        A sync run (E1) is not a background run; under `sync_timeout_policy = "failed"`, one
        still running at the sync limit ends `failed` there, with the limit's error (A1).

        Args:
            workspace_id: workspace of the path.
            trigger_id: trigger of the path.
            environment: environment of the path.
            message: the first message of the session.
            user_variables: the session variables.
            source: what started the run.
            sync: the run was started by E1 (it then blocks its caller).

        Raises:
            TriggerNotFound, NoBuild, TriggerPaused: as `check_trigger`.
        """
        self.check_trigger(workspace_id, trigger_id, environment)
        state = self._triggers[(workspace_id, trigger_id)]
        run = self._create_run(
            state,
            environment=environment,
            message=message,
            user_variables=user_variables,
            source=source,
            started_at=self.clock.now(),
            background=not sync,
        )
        if sync and self.config.mock.sync_timeout_policy == "failed":
            self._fail_at_sync_limit(run)
        return run

    def run_now(self, workspace_id: str, trigger_id: str) -> RunRecord:
        """Fire a trigger at once (source `manual`) with its cron's environment and message.

        Without a cron, the run uses the trigger's first environment, `""` and `{}`.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.

        Raises:
            TriggerNotFound: unknown trigger. TriggerPaused: the trigger is paused.
        """
        state = self._trigger(workspace_id, trigger_id)
        if state.paused:
            raise TriggerPaused
        cron = state.cron
        message = cron.message if cron is not None else ""
        variables = dict(cron.user_variables) if cron is not None else {}
        environment = state.run_environment()
        return self._create_run(
            state,
            environment=environment,
            message=message,
            user_variables=variables,
            source=Source.MANUAL,
            started_at=self.clock.now(),
        )

    def provide_input(self, workflow_id: str, message: str) -> RunRecord:
        """Resume a `waiting_for_input` run for a fresh duration; it then completes or fails.

        Args:
            workflow_id: the run.
            message: the input given (shown in the resumed run's result).

        Raises:
            WorkflowNotFound: unknown or expired id. NotWaitingForInput: not waiting now.
        """
        run = self.run_record(workflow_id)
        if run is None:
            raise WorkflowNotFound
        now = self.clock.now()
        if run.status_at(now) != _WAITING:
            raise NotWaitingForInput
        trigger = self._triggers[(run.workspace_id, run.trigger_id)].config
        length, failed = resume_plan(run.seed, trigger.duration, trigger.outcome)
        remaining = self._background_limit - (run.pause_at - run.started_at)
        run.resumed_at = now
        run.input_message = message
        if length > remaining:
            run.end_at, run.ending = now + remaining, Ending.LIMIT
        else:
            run.end_at, run.ending = now + length, Ending.FAILED if failed else Ending.COMPLETED
        heapq.heappush(self._expiry_heap, (run.end_at + self._retention, run.workflow_id))
        return run

    # --- reading runs ----------------------------------------------------------------------

    def envelope(self, run: RunRecord) -> dict[str, Any]:
        """The six-field answer for `run` at the clock's now.

        Args:
            run: the run.
        """
        return self._envelope_at(run, self.clock.now())

    def status_envelope(
        self,
        workspace_id: str,
        workflow_id: str,
        environments: frozenset[str] | None = None,
    ) -> dict[str, Any] | None:
        """E3: the envelope, or None (404) for unknown, foreign, expired or hidden runs.

        Args:
            workspace_id: the workspace of the path (already authorised).
            workflow_id: the run's id.
            environments: the key's environments (A15); None for an unlimited key.
        """
        run = self._runs.get(workflow_id)
        if run is None or run.workspace_id != workspace_id:
            return None
        if environments is not None and run.environment not in environments:
            return None
        now = self.clock.now()
        if now >= run.end_at + self._retention:
            return None
        cached = self._final_envelopes.get(workflow_id)
        if cached is not None:
            return cached
        envelope = self._envelope_at(run, now)
        if now >= run.end_at:
            self._remember_final(workflow_id, envelope)
        return envelope

    def _remember_final(self, workflow_id: str, envelope: dict[str, Any]) -> None:
        """Keep a final run's envelope: it never changes again (invariant 2), and pollers and
        dashboards keep reading finished runs. Bounded, oldest first out."""
        cache = self._final_envelopes
        if len(cache) >= FINAL_ENVELOPE_CACHE:
            del cache[next(iter(cache))]
        cache[workflow_id] = envelope

    def ended_at(self, run: RunRecord) -> float | None:
        """The virtual time the run became final, None while it is not final.

        Args:
            run: the run.
        """
        return run.end_at if self.clock.now() >= run.end_at else None

    def sync_answer_time(self, run: RunRecord) -> float:
        """When E1 stops waiting: the run leaves `pending` (A10), capped at the sync limit.

        Args:
            run: the run.
        """
        return min(run.pause_at, run.end_at, run.started_at + self._sync_limit)

    def sync_timed_out(self, run: RunRecord, at: float | None = None) -> bool:
        """True when E1 answering at `at` meets the sync limit (A1) with the run not done.

        Under the `failed` policy that is a run that ended failed at the limit; otherwise a
        run still pending at `at`, past the limit.

        Args:
            run: the run.
            at: the virtual time E1 answers (`sync_answer_time`); default now.
        """
        when = self.clock.now() if at is None else at
        limit_at = run.started_at + self._sync_limit
        if run.error_text is not None:
            return when >= run.end_at == limit_at
        return when >= limit_at and run.status_at(when) == _PENDING

    def sync_limit_error(self) -> str:
        """The error of a sync call past the limit (A1)."""
        return f"Flow did not finish within the synchronous limit of {self._sync_limit:g} s"

    def active_background_runs(self, workspace_id: str) -> tuple[int, float | None]:
        """How many background runs of a workspace are not final now, and the soonest end.

        Args:
            workspace_id: the workspace.
        """
        now = self.clock.now()
        active = self._active.get(workspace_id)
        if not active:
            return 0, None
        for workflow_id in [wid for wid, run in active.items() if now >= run.end_at]:
            del active[workflow_id]
        return len(active), min((run.end_at for run in active.values()), default=None)

    def list_runs(
        self,
        *,
        workspace_id: str | None = None,
        trigger_id: str | None = None,
        status: str | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]:
        """Stored runs in start order, filtered, as JSON-ready summaries (admin API).

        Args:
            workspace_id: keep only this workspace's runs.
            trigger_id: keep only this trigger's runs.
            status: keep only runs with this status now.
            source: keep only runs with this source (`api`, `cron`, `jira`, `manual`).
        """
        now = self.clock.now()
        rows = []
        runs = sorted(self._runs.values(), key=lambda run: run.started_at)
        for run in runs:
            run_status = run.status_at(now)
            if (
                now >= run.end_at + self._retention
                or (workspace_id is not None and run.workspace_id != workspace_id)
                or (trigger_id is not None and run.trigger_id != trigger_id)
                or (status is not None and run_status != status)
                or (source is not None and run.source != source)
            ):
                continue
            rows.append(
                {
                    "workflow_id": run.workflow_id,
                    "workspace_id": run.workspace_id,
                    "trigger_id": run.trigger_id,
                    "environment": run.environment,
                    "source": str(run.source),
                    "status": run_status,
                    "started_at": format_iso(run.started_at),
                    "ended_at": format_iso(run.end_at) if now >= run.end_at else None,
                    "message": run.message,
                    "user_variables": run.user_variables,
                }
            )
        return rows

    # --- Jira ------------------------------------------------------------------------------

    def verify_jira_signature(
        self, workspace_id: str, trigger_id: str, raw_body: bytes, header: str | None
    ) -> bool:
        """True when `header` is `sha256=<hex>` of the HMAC-SHA256 of `raw_body` (A12).

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.
            raw_body: the request body exactly as received.
            header: the `X-Hub-Signature` value, or None when absent.

        Raises:
            TriggerNotFound: unknown trigger. JiraNotEnabled: the trigger has no Jira secret.
        """
        secret = self._trigger(workspace_id, trigger_id).config.jira_secret
        if secret is None:
            raise JiraNotEnabled
        if header is None or not header.startswith("sha256="):
            return False
        given = header[len("sha256=") :].strip().lower().encode("ascii", "replace")
        expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(given, expected)

    # --- admin: pause and cron -------------------------------------------------------------

    def set_paused(self, workspace_id: str, trigger_id: str, paused: bool) -> None:
        """Pause or resume a trigger; ticks due before the change are settled first.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.
            paused: the new state.

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self._trigger(workspace_id, trigger_id)
        self.catch_up()
        state.paused = paused

    def add_cron(self, workspace_id: str, trigger_id: str, cron: CronSpec) -> None:
        """Give a trigger a (new) schedule; its first tick is strictly after now.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.
            cron: the schedule.

        Raises:
            TriggerNotFound: unknown trigger. ConfigError: a bad schedule, timezone,
                overlap or environment (the message names it).
        """
        state = self._trigger(workspace_id, trigger_id)
        check_cron(cron, state.config.environments)
        self.catch_up()
        state.cron = cron
        state.last_cron_run = None
        self._schedule(state, self.clock.now())

    def remove_cron(self, workspace_id: str, trigger_id: str) -> None:
        """Remove a trigger's schedule (no error if it had none).

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self._trigger(workspace_id, trigger_id)
        self.catch_up()
        state.cron = None
        state.cron_iter = None
        state.next_tick = None
        state.generation += 1

    def cron_status(self, workspace_id: str, trigger_id: str) -> CronStatus:
        """A trigger's schedule, pause flag and next tick (due ticks are settled first).

        The next tick is the schedule's, whether or not the trigger is paused then.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.

        Raises:
            TriggerNotFound: unknown trigger.
        """
        state = self._trigger(workspace_id, trigger_id)
        self.catch_up()
        return CronStatus(state.cron, state.paused, state.next_tick)

    def catch_up(self) -> None:
        """Fire every due cron tick in time order, then purge runs past their retention.

        O(1) when nothing is due.
        """
        now = self.clock.now()
        cron_heap = self._cron_heap
        expiry_heap = self._expiry_heap
        if (not cron_heap or now < cron_heap[0][0]) and (
            not expiry_heap or now < expiry_heap[0][0]
        ):
            return
        while cron_heap and cron_heap[0][0] <= now:
            tick, _, key, generation = heapq.heappop(cron_heap)
            state = self._triggers[key]
            if generation != state.generation or state.cron_iter is None:
                continue
            self._fire(state, tick)
            self._push_next_tick(state)
        purged = 0
        while expiry_heap and expiry_heap[0][0] <= now:
            _, workflow_id = heapq.heappop(expiry_heap)
            run = self._runs.get(workflow_id)
            if run is not None and now >= run.end_at + self._retention:
                del self._runs[workflow_id]
                self._final_envelopes.pop(workflow_id, None)
                self._active.get(run.workspace_id, {}).pop(workflow_id, None)
                purged += 1
        if purged:
            self._counters["runs_purged_total"] += purged
            if purged > _COMPACT_AFTER and len(self._runs) < purged:
                # A dict never shrinks on deletion: copy it so the freed table is returned.
                self._runs = dict(self._runs)

    # --- metrics and reset -----------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """Counters and gauges by plain snake_case name (e.g. `runs_started_cron_total`)."""
        now = self.clock.now()
        samples = dict(self._counters)
        samples["runs_stored"] = float(len(self._runs))
        by_status = dict.fromkeys((_PENDING, _WAITING, _COMPLETED, _FAILED), 0.0)
        for run in self._runs.values():
            by_status[run.status_at(now)] += 1
        for status, count in by_status.items():
            samples[f"runs_{status}"] = count
        for workspace_id in self._workspace_ids:
            active, _ = self.active_background_runs(workspace_id)
            samples[f'background_runs_active{{workspace="{workspace_id}"}}'] = float(active)
        return samples

    def reset(self, *, reset_clock: bool = True) -> None:
        """Back to the config: runs, pause flags, cron schedules, RNG, counters and clock.

        Args:
            reset_clock: also call `clock.reset()` (False only while constructing).
        """
        if reset_clock:
            self.clock.reset()
        self._runs.clear()
        self._final_envelopes.clear()
        self._active.clear()
        self._cron_heap.clear()
        self._expiry_heap.clear()
        self._rng.seed(self.config.mock.seed)
        self._seq = 0
        self._counters = {f"runs_started_{source}_total": 0.0 for source in Source}
        for name in ("cron_ticks_fired", "cron_ticks_skipped_paused", "cron_ticks_skipped_overlap"):
            self._counters[f"{name}_total"] = 0.0
        self._counters["runs_purged_total"] = 0.0
        self._triggers = {
            (ws.id, trigger.id): _TriggerState(ws.id, trigger)
            for ws in self.config.workspaces
            for trigger in ws.triggers
        }
        for state in self._triggers.values():
            self._schedule(state, self.clock.start)

    # --- internals -------------------------------------------------------------------------

    def _trigger(self, workspace_id: str, trigger_id: str) -> _TriggerState:
        state = self._triggers.get((workspace_id, trigger_id))
        if state is None:
            raise TriggerNotFound
        return state

    def _count(self, name: str) -> None:
        self._counters[name] = self._counters.get(name, 0.0) + 1

    def _create_run(
        self,
        state: _TriggerState,
        *,
        environment: str,
        message: str,
        user_variables: dict[str, Any],
        source: Source,
        started_at: float,
        background: bool = True,
    ) -> RunRecord:
        rng = self._rng
        workflow_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        seed = rng.getrandbits(63)
        trigger = state.config
        length = draw_duration(trigger.duration, rng)
        fate = draw_outcome(trigger.outcome, rng)
        pause_at, end_at, ending = _INF, started_at + length, Ending.COMPLETED
        if length > self._background_limit:
            end_at, ending = started_at + self._background_limit, Ending.LIMIT
        elif fate is Fate.WAITING:
            pause_at, end_at = started_at + length, _INF
        elif fate is Fate.FAILED:
            ending = Ending.FAILED
        run = RunRecord(
            workflow_id=workflow_id,
            workspace_id=state.key[0],
            trigger_id=trigger.id,
            environment=_ENVIRONMENTS.get(environment, environment),
            source=source,
            started_at=started_at,
            message=message,
            user_variables=user_variables,
            seed=seed,
            pause_at=pause_at,
            end_at=end_at,
            ending=ending,
        )
        self._count(f"runs_started_{source}_total")
        if end_at + self._retention <= self.clock.now():
            self._count("runs_purged_total")
            return run
        self._runs[workflow_id] = run
        if end_at != _INF:
            heapq.heappush(self._expiry_heap, (end_at + self._retention, workflow_id))
        if background:
            self._track_active(run)
        return run

    def _track_active(self, run: RunRecord) -> None:
        """Count a background run towards its workspace's concurrency (final ones pruned)."""
        active = self._active.setdefault(run.workspace_id, {})
        active[run.workflow_id] = run
        if len(active) > 2 * self._active_pruned_at + 64:
            self._active_pruned_at = self.active_background_runs(run.workspace_id)[0]

    def _fail_at_sync_limit(self, run: RunRecord) -> None:
        limit_at = run.started_at + self._sync_limit
        if min(run.pause_at, run.end_at) <= limit_at:
            return
        run.pause_at, run.end_at, run.ending = _INF, limit_at, Ending.FAILED
        run.error_text = self.sync_limit_error()
        heapq.heappush(self._expiry_heap, (run.end_at + self._retention, run.workflow_id))

    def _schedule(self, state: _TriggerState, after: float) -> None:
        """(Re)start a trigger's cron iterator at the first tick strictly after `after`."""
        state.generation += 1
        state.cron_iter = None
        state.next_tick = None
        if state.cron is None:
            return
        zone = ZoneInfo(state.cron.timezone)
        state.cron_iter = CronSim(state.cron.schedule, datetime.fromtimestamp(after, zone))
        self._push_next_tick(state)

    def _push_next_tick(self, state: _TriggerState) -> None:
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
        heapq.heappush(self._cron_heap, (tick, self._seq, state.key, state.generation))

    def _fire(self, state: _TriggerState, tick: float) -> None:
        cron = state.cron
        assert cron is not None
        if state.paused:
            self._count("cron_ticks_skipped_paused_total")
            return
        previous = state.last_cron_run
        if (
            cron.overlap == "skip"
            and previous is not None
            and previous.status_at(tick) in (_PENDING, _WAITING)
        ):
            self._count("cron_ticks_skipped_overlap_total")
            return
        self._count("cron_ticks_fired_total")
        variables = dict(cron.user_variables)
        environment = state.run_environment()
        state.last_cron_run = self._create_run(
            state,
            environment=environment,
            message=cron.message,
            user_variables=variables,
            source=Source.CRON,
            started_at=tick,
        )

    def _envelope_at(self, run: RunRecord, now: float) -> dict[str, Any]:
        status = run.status_at(now)
        error = None
        if status == _COMPLETED:
            response = completed_response(run)
        else:
            response = {}
            if status == _FAILED:
                error = run.error_text or error_message(
                    run.seed, run.ending, self._background_limit
                )
        logs = logs_at(run, now, window=self._window, background_limit_s=self._background_limit)
        if status == _FAILED and run.error_text is not None and logs:
            logs[-1]["message"] = run.error_text
        return {
            "workflow_id": run.workflow_id,
            "response": response,
            "status": status,
            "logs": logs,
            "requires_input": status == _WAITING,
            "error": error,
        }
