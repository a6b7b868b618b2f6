"""`TriggerStore`: the mock's state — keys, triggers, runs and cron schedules — with no HTTP.

A facade over the store's parts: `KeyRing` (auth scopes), `Triggers` (pause flags, A4
checks, schedules) over `CronTicks` (A13's tick heap), `Retention` (A9's expiry heap),
`ActiveRuns` (A8's concurrency), `SyncLimit` (A1) and `resume` (A10). Runs live in one map
shared with `Retention`; statuses are derived from the virtual clock at read time
(`Run.status_at`). All times are virtual POSIX seconds.

Every method that reads or changes state at "now" expects the store to be caught up first: the
HTTP layer runs `catch_up_some()` in bounded steps (yielding to the event loop between them)
until it returns False, once per request; the trigger changes that depend on the past (pause,
cron) call `catch_up()` themselves. E3 (`catch_up_some`, `key_scope`, `status_answer`) is the
hot path: it reads the run map, the heads of both heaps and the cache of final envelopes
directly, and `key_scope` is the key ring's own method, so no request pays a call per part.
"""

from __future__ import annotations

import random
from typing import Any

from .._clock import VirtualClock
from .._config import CronSpec, MockConfig
from .._errors import render_json, render_json_to_keep
from ._active import ActiveRuns
from ._cron import CronTicks, TriggerState
from ._exceptions import JiraNotEnabled, TriggerPaused, WorkflowNotFound
from ._keys import KeyRing, jira_signature_ok
from ._malloc import pin_malloc_thresholds
from ._resume import resume
from ._retention import Retention
from ._runs import Run, RunFilter, Source, count_by_status, draw_run, envelope_at, run_summary
from ._sync import SyncLimit
from ._triggers import Triggers

__all__ = ["CATCH_UP_STEP", "FINAL_ENVELOPE_CACHE", "FINAL_ENVELOPE_MAX_BYTES", "TriggerStore"]

CATCH_UP_STEP = 1024
"""The most cron ticks and run purges one `catch_up_some()` call handles (a few ms of work)."""

FINAL_ENVELOPE_CACHE = 4096
"""How many final runs' envelopes E3 keeps rendered (each a few hundred bytes)."""
FINAL_ENVELOPE_MAX_BYTES = 4096
"""The largest rendered envelope E3 keeps (larger ones, rare, are rendered per read)."""


class TriggerStore:
    """All state of the mock world, with statuses derived from `clock` at read time.

    The first store of a process pins the C allocator's thresholds (`pin_malloc_thresholds`),
    so the memory a purge or a large request body frees goes back to the system.

    Args:
        config: the validated config.
        clock: the virtual clock every time in the store is read from.
    """

    def __init__(self, config: MockConfig, clock: VirtualClock) -> None:
        pin_malloc_thresholds()  # so purged runs and parsed bodies give their memory back
        self.config = config
        self.clock = clock
        settings = config.mock
        self._window = settings.log_window
        self._background_limit = settings.background_limit_s
        self._retention_s = settings.retention_s
        self.sync_limit = SyncLimit(settings.sync_limit_s)
        """E1's limit (A1): when a sync call answers, and whether it timed out."""
        self._keys = KeyRing(config.workspaces)
        self.key_scope = self._keys.scope  # bound once: E3's key check is a single call
        """`key_scope(workspace_id, bearer token or None) -> KeyScope | None` (`KeyRing.scope`)."""
        self._runs: dict[str, Run] = {}
        self._final_envelopes: dict[str, tuple[str, bytes]] = {}
        self._active = ActiveRuns()
        self._retention = Retention(settings.retention_s, self._runs, self._forget)
        self._cron = CronTicks(self._start_cron_run)
        self._expiry_heap = self._retention.heap  # read by catch_up: the lists are never replaced
        self._cron_heap = self._cron.heap
        self.triggers = Triggers(config, clock, self._cron, self.catch_up)
        """The triggers' pause flags, schedules and A4 checks."""
        self._rng = random.Random(settings.seed)
        self._started: dict[str, float] = {}
        self.reset(reset_clock=False)

    # --- lookup ----------------------------------------------------------------------------

    def run_record(self, workflow_id: str) -> Run | None:
        """The run with this id, whatever its workspace; None when unknown or expired.

        Args:
            workflow_id: the run's id.
        """
        run = self._runs.get(workflow_id)
        if run is None or self._retention.expired(run, self.clock.now()):
            return None
        return run

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
        secret = self.triggers.get(workspace_id, trigger_id).config.jira_secret
        if secret is None:
            raise JiraNotEnabled
        return jira_signature_ok(secret, raw_body, header)

    # --- starting and resuming runs --------------------------------------------------------

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
    ) -> Run:
        """Start a run now; ids, durations and outcomes come from the seeded RNG.

        The run keeps `user_variables` as given (the caller must not mutate it later).
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
            TriggerNotFound, NoBuild, TriggerPaused: as `Triggers.check`.
        """
        self.triggers.check(workspace_id, trigger_id, environment)
        state = self.triggers.get(workspace_id, trigger_id)
        return self._create_run(
            state,
            environment=environment,
            message=message,
            user_variables=user_variables,
            source=source,
            started_at=self.clock.now(),
            sync=sync,
        )

    def run_now(self, workspace_id: str, trigger_id: str) -> Run:
        """Fire a trigger at once (source `manual`) with its cron's environment and message.

        Without a cron, the run uses the trigger's first environment, `""` and `{}`.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.

        Raises:
            TriggerNotFound: unknown trigger. TriggerPaused: the trigger is paused.
        """
        state = self.triggers.get(workspace_id, trigger_id)
        if state.paused:
            raise TriggerPaused
        cron = state.cron
        message = cron.message if cron is not None else ""
        variables = dict(cron.user_variables) if cron is not None else {}
        return self._create_run(
            state,
            environment=state.run_environment(),
            message=message,
            user_variables=variables,
            source=Source.MANUAL,
            started_at=self.clock.now(),
        )

    def provide_input(self, workflow_id: str, message: str) -> Run:
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
        trigger = self.triggers.get(run.workspace_id, run.trigger_id).config
        resume(run, self.clock.now(), message, trigger, self._background_limit)
        self._retention.track(run)
        return run

    # --- reading runs ----------------------------------------------------------------------

    def envelope(self, run: Run) -> dict[str, Any]:
        """The six-field answer for `run` at the clock's now (see `envelope_at`).

        Args:
            run: the run.
        """
        return envelope_at(run, self.clock.now(), self._window, self._background_limit)

    def status_answer(
        self,
        workspace_id: str,
        workflow_id: str,
        environments: frozenset[str] | None = None,
    ) -> tuple[str, bytes] | None:
        """E3: the run's status and its envelope as JSON bytes, or None (404) for unknown,
        foreign, expired or hidden runs.

        A final run's envelope never changes again (invariant 2), and pollers and dashboards
        keep reading finished runs: the newest `FINAL_ENVELOPE_CACHE` of them are kept
        rendered, each at most `FINAL_ENVELOPE_MAX_BYTES` (a larger one is rendered per read,
        so the cache stays within a few MiB whatever the runs' variables).

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
        if now >= run.end_at + self._retention_s:
            return None
        cache = self._final_envelopes
        cached = cache.get(workflow_id)
        if cached is not None:
            return cached
        envelope = envelope_at(run, now, self._window, self._background_limit)
        answer = envelope["status"], render_json(envelope)
        if now >= run.end_at and len(answer[1]) <= FINAL_ENVELOPE_MAX_BYTES:
            if len(cache) >= FINAL_ENVELOPE_CACHE:
                del cache[next(iter(cache))]
            answer = answer[0], render_json_to_keep(envelope)
            cache[workflow_id] = answer
        return answer

    def active_background_runs(self, workspace_id: str) -> tuple[int, float | None]:
        """How many background runs of a workspace are not final now, and the soonest end.

        Args:
            workspace_id: the workspace.

        Returns:
            `(count, soonest end in virtual POSIX seconds)`; the end is None without runs and
            `inf` when every run is waiting for input.
        """
        return self._active.count(workspace_id, self.clock.now())

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

        Returns:
            One `run_summary` row per run (times as ISO 8601 strings).
        """
        filters = RunFilter(
            workspace_id=workspace_id, trigger_id=trigger_id, status=status, source=source
        )
        now = self.clock.now()
        return [
            run_summary(run, run_status, now)
            for run, run_status in filters.select(self._runs.values(), now)
            if not self._retention.expired(run, now)
        ]

    # --- time passing ----------------------------------------------------------------------

    def catch_up_some(self, budget: int = CATCH_UP_STEP) -> bool:
        """Fire due cron ticks in time order, then purge runs past their retention: at most
        `budget` of each; True when work is left for another call.

        Two compares when nothing is due.

        Args:
            budget: the most ticks, and the most purges, handled by this call.
        """
        now = self.clock.now()
        cron_heap = self._cron_heap
        if cron_heap and cron_heap[0][0] <= now and self._cron.fire_due(now, budget):
            return True
        expiry_heap = self._expiry_heap
        if expiry_heap and expiry_heap[0].end_at + self._retention_s <= now:
            return self._retention.purge_due(now, budget)
        return False

    def catch_up(self) -> None:
        """Everything due now, at once (see `catch_up_some`; the HTTP layer goes step by step)."""
        while self.catch_up_some():
            pass

    # --- metrics and reset -----------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """Counters and gauges by plain snake_case name (e.g. `runs_started_cron_total`)."""
        now = self.clock.now()
        samples = {f"runs_started_{source}_total": count for source, count in self._started.items()}
        samples.update(self._cron.counters())
        samples["runs_purged_total"] = float(self._retention.purged)
        samples["runs_stored"] = float(len(self._runs))
        for status, count in count_by_status(self._runs.values(), now).items():
            samples[f"runs_{status}"] = float(count)
        for workspace_id in self._keys.workspace_ids:
            active, _ = self._active.count(workspace_id, now)
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
        self._retention.reset()
        self._cron.reset()
        self._rng.seed(self.config.mock.seed)
        self._started = dict.fromkeys(Source, 0.0)
        self.triggers.reset()

    # --- internals -------------------------------------------------------------------------

    def _create_run(
        self,
        state: TriggerState,
        *,
        environment: str,
        message: str,
        user_variables: dict[str, Any],
        source: Source,
        started_at: float,
        sync: bool = False,
    ) -> Run:
        """Draw a run, count it, and keep it unless it is past its retention already.

        A sync run (E1) is not counted as a background run; under the `failed` policy its end
        moves to the sync limit before it is tracked (a tracked end never changes).
        """
        run = draw_run(
            state.config,
            self._rng,
            workspace_id=state.key[0],
            environment=environment,
            source=source,
            started_at=started_at,
            message=message,
            user_variables=user_variables,
            background_limit_s=self._background_limit,
        )
        if sync and self.config.mock.sync_timeout_policy == "failed":
            self.sync_limit.fail_at_limit(run)
        self._started[source] += 1
        now = self.clock.now()
        if self._retention.admit(run, now):
            self._runs[run.workflow_id] = run
            if not sync:
                self._active.add(run, now)
        return run

    def _start_cron_run(self, state: TriggerState, cron: CronSpec, tick: float) -> Run:
        return self._create_run(
            state,
            environment=state.run_environment(),
            message=cron.message,
            user_variables=dict(cron.user_variables),
            source=Source.CRON,
            started_at=tick,
        )

    def _forget(self, run: Run) -> None:
        """Drop a purged run from the indexes besides the run map."""
        self._final_envelopes.pop(run.workflow_id, None)
        self._active.discard(run, self.clock.now())
