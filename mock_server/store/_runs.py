"""A run: the `Run` record, how it is drawn, and its status and envelope derived at read time.

A run is a small `__slots__` record holding its timeline in virtual POSIX seconds
(`started_at`, `pause_at`, `resumed_at`, `end_at`; `inf` = not yet). Its status is derived
from the clock when read, so no task or timer exists per run: `pending` until `end_at` (final:
`completed` or `failed`) or `pause_at` (`waiting_for_input` until input is given, then `pending`
again for a fresh duration, then final). A run whose running time would pass the background
limit is `failed` at that limit (A2); waiting time does not count.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .._clock import format_iso
from .._config import ENVIRONMENTS, TriggerConfig
from .._errors import render_json_to_keep
from .._flows import (
    Ending,
    Fate,
    completed_response,
    draw_duration,
    draw_outcome,
    error_message,
    logs_at,
)

__all__ = [
    "COMPLETED",
    "FAILED",
    "INF",
    "PENDING",
    "STATUSES",
    "WAITING",
    "Run",
    "RunExtra",
    "RunFilter",
    "Source",
    "count_by_status",
    "decode_variables",
    "draw_run",
    "encode_variables",
    "envelope_at",
    "run_summary",
]

INF = float("inf")
"""A timeline instant that has not come (and may never)."""
PENDING = "pending"
WAITING = "waiting_for_input"
COMPLETED = "completed"
FAILED = "failed"
STATUSES = (PENDING, WAITING, COMPLETED, FAILED)
"""Every status a run can show, in lifecycle order."""
_ENVIRONMENTS = {env: env for env in ENVIRONMENTS}  # shared strings keep records small
_SHARED_MESSAGE_CHARS = 64
"""Messages up to this long are interned: runs started with the same message share one."""
_NO_VARIABLES = b"{}"


def encode_variables(variables: dict[str, Any]) -> bytes:
    """A run's session variables as compact JSON bytes, as they are kept.

    A parsed JSON object holds one Python object per value (a 1 MiB body of small objects
    is about 24 MiB of them); its JSON text is no larger than the body. Integers of any size
    are kept exactly (`render_json_to_keep`).

    Args:
        variables: a JSON object (string keys, JSON values).
    """
    return render_json_to_keep(variables) if variables else _NO_VARIABLES


def decode_variables(encoded: bytes) -> dict[str, Any]:
    """The variables `encode_variables` kept, as a fresh object (the stdlib parser: exact
    integers, the same floats).

    Args:
        encoded: what `encode_variables` returned.
    """
    if encoded is _NO_VARIABLES:
        return {}
    variables: dict[str, Any] = json.loads(encoded)
    return variables


class Source(StrEnum):
    """What started a run."""

    API = "api"
    CRON = "cron"
    JIRA = "jira"
    MANUAL = "manual"


class RunExtra:
    """The fields few runs set, kept apart so a run that never pauses or fails early holds
    one `None` instead of four slots (`Run.extra`).

    Args:
        pause_at: when the run pauses for input (virtual POSIX seconds; `inf`: never).
    """

    __slots__ = ("error_text", "input_message", "pause_at", "resumed_at")

    def __init__(self, pause_at: float = INF) -> None:
        self.pause_at = pause_at
        self.resumed_at = INF
        self.input_message: str | None = None
        self.error_text: str | None = None


class Run:
    """One run: identity, request and timeline (virtual POSIX seconds; `inf` = not yet).

    Twelve slots (128 bytes with the GC header): the timeline's rare fields (`pause_at`,
    `resumed_at`, `input_message`, `error_text`) live in `extra`, None until one is set, and
    are read and written through properties of the same names. Runs order by `end_at`
    (`__lt__`), so the expiry heap holds the runs themselves: a run's `end_at` must not change
    once it is finite and tracked (only a waiting run, `end_at = inf`, gets a new end).

    Args:
        workflow_id: the run's id (a UUID 4 string).
        workspace_id: its workspace.
        trigger_id: its trigger.
        environment: `DEV`, `UAT` or `PROD`.
        source: what started it.
        started_at: when it started.
        message: the first message of its session.
        user_variables: its session variables (kept as compact JSON, `encode_variables`).
        seed: the seed its logs, result and error derive from.
        pause_at: when it pauses for input (`inf`: never).
        end_at: when it becomes final (`inf`: while it waits for input).
        ending: an `Ending` value: how it ends at `end_at`.
    """

    __slots__ = (
        "end_at",
        "ending",
        "environment",
        "extra",
        "message",
        "seed",
        "source",
        "started_at",
        "trigger_id",
        "variables_json",
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
        self.variables_json = encode_variables(user_variables)
        self.seed = seed
        self.end_at = end_at
        self.ending = ending
        self.extra: RunExtra | None = None if pause_at == INF else RunExtra(pause_at)

    def _extra(self) -> RunExtra:
        extra = self.extra
        if extra is None:
            extra = self.extra = RunExtra()
        return extra

    @property
    def pause_at(self) -> float:
        """When it pauses for input (virtual POSIX seconds; `inf`: never)."""
        extra = self.extra
        return INF if extra is None else extra.pause_at

    @pause_at.setter
    def pause_at(self, value: float) -> None:
        if value != INF or self.extra is not None:
            self._extra().pause_at = value

    @property
    def resumed_at(self) -> float:
        """When input resumed it (virtual POSIX seconds; `inf`: not yet)."""
        extra = self.extra
        return INF if extra is None else extra.resumed_at

    @resumed_at.setter
    def resumed_at(self, value: float) -> None:
        self._extra().resumed_at = value

    @property
    def input_message(self) -> str | None:
        """The input given when it resumed; None until then."""
        extra = self.extra
        return None if extra is None else extra.input_message

    @input_message.setter
    def input_message(self, value: str | None) -> None:
        self._extra().input_message = value

    @property
    def error_text(self) -> str | None:
        """An error set by the store (E1's sync limit), shown instead of the drawn one."""
        extra = self.extra
        return None if extra is None else extra.error_text

    @error_text.setter
    def error_text(self, value: str | None) -> None:
        self._extra().error_text = value

    @property
    def user_variables(self) -> dict[str, Any]:
        """Its session variables, decoded afresh from the kept JSON."""
        return decode_variables(self.variables_json)

    def status_at(self, now: float) -> str:
        """The run's status (one of `STATUSES`) at virtual time `now` (POSIX seconds)."""
        if now >= self.end_at:
            return FAILED if self.ending else COMPLETED
        extra = self.extra
        if extra is not None and extra.pause_at <= now < extra.resumed_at:
            return WAITING
        return PENDING

    def __lt__(self, other: Run) -> bool:
        """Expiry order: the run that ends first (the expiry heap's order)."""
        return self.end_at < other.end_at

    def __repr__(self) -> str:
        return f"Run({self.workflow_id!r}, {self.workspace_id}/{self.trigger_id})"


def draw_run(
    trigger: TriggerConfig,
    rng: random.Random,
    *,
    workspace_id: str,
    environment: str,
    source: Source,
    started_at: float,
    message: str,
    user_variables: dict[str, Any],
    background_limit_s: float,
) -> Run:
    """A new run of `trigger`: id, seed, duration and outcome drawn from `rng`, in that order.

    Args:
        trigger: the trigger's config (duration distribution and outcome rates).
        rng: the store's seeded random source; five draws are taken from it.
        workspace_id: the run's workspace.
        environment: the run's environment.
        source: what starts it.
        started_at: virtual POSIX seconds it starts at.
        message: the first message of its session.
        user_variables: its session variables.
        background_limit_s: the A2 limit in virtual seconds; a longer draw fails there.
    """
    workflow_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    seed = rng.getrandbits(63)
    pause_at, end_at, ending = _draw_timeline(trigger, rng, started_at, background_limit_s)
    return Run(
        workflow_id=workflow_id,
        workspace_id=workspace_id,
        trigger_id=trigger.id,
        environment=_ENVIRONMENTS.get(environment, environment),
        source=source,
        started_at=started_at,
        message=sys.intern(message) if len(message) <= _SHARED_MESSAGE_CHARS else message,
        user_variables=user_variables,
        seed=seed,
        pause_at=pause_at,
        end_at=end_at,
        ending=ending,
    )


def _draw_timeline(
    trigger: TriggerConfig, rng: random.Random, started_at: float, background_limit_s: float
) -> tuple[float, float, Ending]:
    """`(pause_at, end_at, ending)` of a new run: its duration, then its fate, from `rng`."""
    length = draw_duration(trigger.duration, rng)
    fate = draw_outcome(trigger.outcome, rng)
    if length > background_limit_s:
        return INF, started_at + background_limit_s, Ending.LIMIT
    if fate is Fate.WAITING:
        return started_at + length, INF, Ending.COMPLETED
    if fate is Fate.FAILED:
        return INF, started_at + length, Ending.FAILED
    return INF, started_at + length, Ending.COMPLETED


def envelope_at(run: Run, now: float, window: int, background_limit_s: float) -> dict[str, Any]:
    """The six-field answer of E1-E3 for `run` at virtual time `now`.

    Args:
        run: the run.
        now: virtual POSIX seconds of the read.
        window: how many of the latest log entries to show (A11).
        background_limit_s: the A2 limit, named by the error of a run that hit it.

    Returns:
        `{"workflow_id", "response", "status", "logs", "requires_input", "error"}`.
    """
    status = run.status_at(now)
    error = None
    if status == COMPLETED:
        response = completed_response(run)
    else:
        response = {}
        if status == FAILED:
            error = run.error_text or error_message(run.seed, run.ending, background_limit_s)
    logs = logs_at(run, now, window=window, background_limit_s=background_limit_s)
    if status == FAILED and run.error_text is not None and logs:
        logs[-1]["message"] = run.error_text
    return {
        "workflow_id": run.workflow_id,
        "response": response,
        "status": status,
        "logs": logs,
        "requires_input": status == WAITING,
        "error": error,
    }


def run_summary(run: Run, status: str, now: float) -> dict[str, Any]:
    """The admin API's row for `run` (times as ISO 8601 strings; `ended_at` None until final).

    Args:
        run: the run.
        status: its status at `now`.
        now: virtual POSIX seconds of the read.
    """
    return {
        "workflow_id": run.workflow_id,
        "workspace_id": run.workspace_id,
        "trigger_id": run.trigger_id,
        "environment": run.environment,
        "source": str(run.source),
        "status": status,
        "started_at": format_iso(run.started_at),
        "ended_at": format_iso(run.end_at) if now >= run.end_at else None,
        "message": run.message,
        "user_variables": run.user_variables,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFilter:
    """Which runs an admin listing keeps; None ignores a field."""

    workspace_id: str | None = None
    trigger_id: str | None = None
    status: str | None = None
    source: str | None = None

    def select(self, runs: Iterable[Run], now: float) -> Iterator[tuple[Run, str]]:
        """The matching runs in start order, each with its status at `now` (virtual seconds)."""
        for run in sorted(runs, key=_started_at):
            status = run.status_at(now)
            if (
                (self.workspace_id is not None and run.workspace_id != self.workspace_id)
                or (self.trigger_id is not None and run.trigger_id != self.trigger_id)
                or (self.status is not None and status != self.status)
                or (self.source is not None and run.source != self.source)
            ):
                continue
            yield run, status


def count_by_status(runs: Iterable[Run], now: float) -> dict[str, int]:
    """How many of `runs` show each of `STATUSES` at `now` (virtual POSIX seconds)."""
    counts = dict.fromkeys(STATUSES, 0)
    for run in runs:
        counts[run.status_at(now)] += 1
    return counts


def _started_at(run: Run) -> float:
    return run.started_at
