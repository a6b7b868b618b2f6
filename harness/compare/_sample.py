"""Following runs to measure a target: each trigger's durations and outcomes, and latency.

`sample_triggers` starts N runs of each trigger the target names (E2 for the sync and
background triggers, E4 with a correctly signed delivery for the Jira trigger when its secret
is known, else E2; a 429 on E2 is waited out as its Retry-After says), then checks them on a
schedule until each has ended (or paused in `waiting_for_input`) or the deadline passes. A
run's duration is the midpoint between the last check that saw it `pending` and the first that
did not, measured from the middle of its start request; the width of that interval is its
resolution.

Time comes from a `Timeline`:
- `RealTimeline` (any target): the session's clock and sleep; checks every `poll_interval_s`
  of the target, each polling every unfinished run with E3.
- `AdminTimeline` (a mock whose admin API the harness reaches): the mock's clock is frozen
  while the runs are followed and moved forward with `POST /__admin/clock` in steps growing
  with the time passed (`ADMIN_STEP_S`, `ADMIN_GROWTH`), so minutes of runs take moments;
  at each step the admin run listing says which runs left `pending`, and only those are polled
  with E3. The clock is unfrozen afterwards.

- a live target's own time otherwise, read as its clock allows (`clock_basis`): a mock
  whose `GET /__admin/clock` answers is followed on its virtual clock (mapped from this
  machine's, checks every `poll_interval_s` of its time but at most every `MIN_REAL_CHECK_S`
  real seconds); a target answering that path 401/403 is a mock whose clock cannot be read
  (`Measurement.clock_known` False: its durations are compared with nothing); any other
  target's time is this machine's (real seconds).

Where the mock's admin run listing is readable (embedded, or a live mock with an open admin
API), a run that ended gets its exact duration from its own `started_at`/`ended_at` (target
seconds, resolution 0) instead of the checks' interval.

Every exchange's latency is kept per endpoint (`LatencyLog`, real seconds).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from .._admin_client import MockAdmin
from .._client import TriggerClient
from .._embedded import Session
from .._exceptions import HarnessError
from .._jira import JiraIssue, issue_created, jira_signature, signed_delivery
from .._models import Exchange, Observation
from .._targets import Target
from .._types import Clock, Sleep
from ..load import CLOCK_READINGS, admin_root, parse_iso, pick_clock

__all__ = [
    "ADMIN_GROWTH",
    "ADMIN_STEP_S",
    "MIN_REAL_CHECK_S",
    "AdminTimeline",
    "ClockBasis",
    "LatencyLog",
    "Measurement",
    "RealTimeline",
    "Timeline",
    "TriggerSample",
    "admin_timeline",
    "clock_basis",
    "exact_durations",
    "measure",
    "sample_triggers",
    "trigger_roles",
]

ADMIN_STEP_S: Final = 0.05
"""The smallest clock step (target seconds) on a mock's admin clock."""
ADMIN_GROWTH: Final = 0.02
"""Each admin clock step is at least this share of the time passed: durations are known to 2%."""
MIN_REAL_CHECK_S: Final = 0.05
"""A live time-scaled mock is checked at most this often (real seconds): its rate limits."""
_WAITING: Final = "waiting_for_input"
_PENDING: Final = "pending"


class Timeline(Protocol):
    """Where the checks' time comes from (target seconds) and how to wait for the next one."""

    def now(self) -> float:
        """Target seconds (any origin)."""

    def next_check(self, now: float) -> float:
        """When to check next after a check at `now`."""

    def wait_until(self, moment: float) -> None:
        """Let time pass until `moment`."""

    def due(self, pending: Mapping[str, str]) -> Collection[str]:
        """Which of the `pending` runs (workflow id -> trigger id) to poll now."""


@dataclass(frozen=True, slots=True)
class RealTimeline:
    """A target's own time: the session clock and sleep; every pending run is polled."""

    clock: Clock
    sleep: Sleep
    interval_s: float

    def now(self) -> float:
        """The session clock."""
        return self.clock()

    def next_check(self, now: float) -> float:
        """One poll interval later."""
        return now + self.interval_s

    def wait_until(self, moment: float) -> None:
        """Sleep until `moment`."""
        self.sleep(max(0.0, moment - self.clock()))

    def due(self, pending: Mapping[str, str]) -> Collection[str]:
        """Every pending run."""
        return list(pending)


@dataclass(slots=True)
class AdminTimeline:
    """A mock's frozen virtual clock, moved by its admin API (see the module docstring)."""

    admin: MockAdmin
    passed: float = 0.0

    def now(self) -> float:
        """Virtual seconds moved since the clock was frozen."""
        return self.passed

    def next_check(self, now: float) -> float:
        """A step growing with the time passed (`ADMIN_STEP_S`, `ADMIN_GROWTH`)."""
        return now + max(ADMIN_STEP_S, now * ADMIN_GROWTH)

    def wait_until(self, moment: float) -> None:
        """Move the mock's clock forward to `moment`."""
        if moment > self.passed:
            self.admin.advance(moment - self.passed)
            self.passed = moment

    def due(self, pending: Mapping[str, str]) -> Collection[str]:
        """The pending runs the admin listing shows as no longer `pending`."""
        statuses = {
            row["workflow_id"]: row["status"]
            for trigger_id in set(pending.values())
            for row in self.admin.runs(trigger_id=trigger_id)
        }
        return [run for run in pending if statuses.get(run, _PENDING) != _PENDING]


@contextmanager
def admin_timeline(admin: MockAdmin) -> Iterator[AdminTimeline]:
    """Freeze the mock's clock for the block (unfrozen again at its end)."""
    admin.freeze(True)
    try:
        yield AdminTimeline(admin)
    finally:
        admin.freeze(False)


@dataclass(slots=True)
class LatencyLog:
    """Every answered exchange's time to answer, per endpoint id (`E1`..`E4`), in target
    seconds; `record` is a `TriggerClient` response hook."""

    by_endpoint: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def record(self, exchange: Exchange) -> None:
        """Keep `exchange`'s latency when it was answered."""
        if exchange.endpoint is not None and exchange.status_code is not None:
            self.by_endpoint[str(exchange.endpoint)].append(exchange.elapsed_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerSample:
    """What following one trigger's runs showed.

    `durations` (target seconds, one per run whose end or pause was seen) and `outcomes`
    (`completed`, `failed` or `waiting_for_input`, same order); `resolution_s` the widest
    interval a duration lies in; `unfinished` runs still pending at the deadline;
    `refused` why starts were refused (one line per refusal); `via` the endpoint that started
    them; `role` the trigger's role in the target (`sync`, `background`, `jira`).
    """

    trigger_id: str
    role: str
    via: str
    requested: int
    durations: tuple[float, ...]
    outcomes: tuple[str, ...]
    resolution_s: float
    unfinished: int
    refused: tuple[str, ...]


def trigger_roles(target: Target) -> dict[str, str]:
    """The triggers the target names, by id, each with its role (`sync`, `background`,
    `jira`); a trigger named twice keeps its first role."""
    roles: dict[str, str] = {}
    for role, trigger in (
        ("sync", target.sync_trigger),
        ("background", target.background_trigger),
        ("jira", target.jira_trigger),
    ):
        if trigger is not None:
            roles.setdefault(trigger, role)
    return roles


Starter = Callable[[], Observation]


def _starter(client: TriggerClient, trigger_id: str, role: str) -> tuple[str, Starter]:
    """The endpoint id and call starting one run of `trigger_id` (a fresh issue per E4 run)."""
    target = client.target
    if role == "jira" and target.jira_skip_reason is None and target.jira_secret is not None:
        secret = target.jira_secret

        def start_jira() -> Observation:
            issue = JiraIssue(key=f"QA-{uuid.uuid4().int % 100_000}", summary="calibrate")
            delivery = signed_delivery(issue_created(issue=issue, timestamp_ms=0), secret.reveal())
            signature = jira_signature(delivery.body, secret.reveal())
            return client.send_jira(delivery.body, signature=signature, trigger_id=trigger_id)

        return "E4", start_jira
    return "E2", lambda: client.start(
        trigger_id, message="calibrate", user_variables={}, retry_rate_limited=True
    )


@dataclass(slots=True)
class _Followed:
    """One started run: when it started, when it was last seen pending, how it ended."""

    trigger_id: str
    started: float
    last_pending: float
    ended: float | None = None
    outcome: str | None = None


def _start_runs(
    client: TriggerClient, roles: Mapping[str, str], runs: int, timeline: Timeline
) -> tuple[dict[str, _Followed], dict[str, str], dict[str, list[str]]]:
    followed: dict[str, _Followed] = {}
    via: dict[str, str] = {}
    refused: dict[str, list[str]] = defaultdict(list)
    for trigger_id, role in roles.items():
        via[trigger_id], start = _starter(client, trigger_id, role)
        for _ in range(runs):
            before = timeline.now()
            try:
                envelope = start().envelope
            except HarnessError as exc:
                refused[trigger_id].append(f"{type(exc).__name__}: {exc}")
                continue
            moment = (before + timeline.now()) / 2
            if envelope is not None:
                followed[envelope.workflow_id] = _Followed(trigger_id, moment, moment)
    return followed, via, refused


def _check(client: TriggerClient, followed: dict[str, _Followed], timeline: Timeline) -> None:
    """Poll the due runs once; record those that ended or paused."""
    pending = {run: item.trigger_id for run, item in followed.items() if item.outcome is None}
    due = set(timeline.due(pending))
    for workflow_id in pending.keys() - due:
        followed[workflow_id].last_pending = timeline.now()
    for workflow_id in due:
        run = followed[workflow_id]
        before = timeline.now()
        try:
            envelope = client.status(workflow_id).envelope
        except HarnessError:
            continue
        moment = (before + timeline.now()) / 2
        if envelope is None or envelope.status == _PENDING:
            run.last_pending = moment
        else:
            run.ended, run.outcome = moment, envelope.status


ExactDurations = Callable[[Mapping[str, str]], Mapping[str, float]]
"""`{workflow id: trigger id}` -> `{workflow id: exact duration}` for the runs that ended."""


def sample_triggers(
    client: TriggerClient,
    *,
    runs: int,
    timeline: Timeline,
    deadline_s: float,
    exact: ExactDurations | None = None,
) -> list[TriggerSample]:
    """Start `runs` runs of every trigger the client's target names and follow them.

    Args:
        client: a client of the target (its response hooks see every exchange).
        runs: how many runs per trigger.
        timeline: the checks' time (`RealTimeline` or an `AdminTimeline`).
        deadline_s: stop following this long (target seconds) after the last start.
        exact: where the target tells its runs' own start and end times: their durations
            (target seconds), which replace the checks' estimate of the runs that ended.

    Returns:
        One `TriggerSample` per trigger, in `trigger_roles` order.
    """
    roles = trigger_roles(client.target)
    followed, via, refused = _start_runs(client, roles, runs, timeline)
    deadline = timeline.now() + deadline_s
    moment = timeline.now()
    while any(run.outcome is None for run in followed.values()) and moment < deadline:
        moment = min(timeline.next_check(moment), deadline)
        timeline.wait_until(moment)
        _check(client, followed, timeline)
    ended = {run: item.trigger_id for run, item in followed.items() if item.outcome is not None}
    known = dict(exact(ended)) if exact is not None and ended else {}
    return [
        _sample(
            trigger_id,
            role,
            requested=runs,
            via=via[trigger_id],
            followed=followed,
            refused=refused,
            exact=known,
        )
        for trigger_id, role in roles.items()
    ]


def _sample(
    trigger_id: str,
    role: str,
    *,
    requested: int,
    via: str,
    followed: Mapping[str, _Followed],
    refused: Mapping[str, Sequence[str]],
    exact: Mapping[str, float],
) -> TriggerSample:
    mine = {wid: run for wid, run in followed.items() if run.trigger_id == trigger_id}
    seen = {
        wid: run for wid, run in mine.items() if run.ended is not None and run.outcome is not None
    }
    # (duration, width of the interval it lies in): exact when the target told it
    timed = [
        (exact[wid], 0.0)
        if wid in exact
        else (
            max((run.last_pending + (run.ended or 0.0)) / 2 - run.started, 1e-3),
            (run.ended or 0.0) - run.last_pending,
        )
        for wid, run in seen.items()
    ]
    return TriggerSample(
        trigger_id=trigger_id,
        role=role,
        via=via,
        requested=requested,
        durations=tuple(duration for duration, _ in timed),
        outcomes=tuple(run.outcome or "" for run in seen.values()),
        resolution_s=max((width for _, width in timed), default=0.0),
        unfinished=len(mine) - len(seen),
        refused=tuple(refused.get(trigger_id, ())),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """Runs followed on one target: one sample per trigger (`trigger_roles` order), every
    answered exchange's latency per endpoint id (real seconds), and the clock the durations
    were read on (`clock`, in words; `clock_known` False when it is not the target's own)."""

    runs_per_trigger: int
    samples: tuple[TriggerSample, ...]
    latency: Mapping[str, tuple[float, ...]]
    clock: str = "the target's own clock"
    clock_known: bool = True

    def by_role(self) -> dict[str, TriggerSample]:
        """The samples by trigger role (`sync`, `background`, `jira`)."""
        return {sample.role: sample for sample in self.samples}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockBasis:
    """How a live target's durations are read: its time (`clock`, target seconds), how to
    let that time pass (`sleep`, target seconds), in words (`source`), whether it is the
    target's own (`known`) and its admin API when the run listing can be read."""

    clock: Clock
    sleep: Sleep
    source: str
    known: bool
    rate: float = 1.0
    admin: MockAdmin | None = None


def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def clock_basis(session: Session, *, monotonic: Clock = time.monotonic) -> ClockBasis:
    """A live target's clock (see the module docstring): `GET /__admin/clock` is asked
    `CLOCK_READINGS` times with the target's key (a mock's admin token differs from it)."""
    target = session.target
    key = target.api_key.reveal() if target.api_key is not None else ""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    samples: list[tuple[object, float, float]] = []
    status = None
    for _ in range(CLOCK_READINGS):
        sent = monotonic()
        try:
            answer = session.http.get(admin_root(target.base_url) + "/clock", headers=headers)
            status = answer.status_code
            body = answer.json() if status == 200 else None
        except (httpx.HTTPError, ValueError):
            body = None
        samples.append((body, sent, monotonic()))
    found = pick_clock(samples, monotonic=monotonic)
    if found is not None:
        clock, mapped = found
        admin = MockAdmin(session.http, base_url=_origin(target.base_url))
        rate = mapped.scale

        def sleep(seconds: float) -> None:
            session.sleep(seconds / rate)

        return ClockBasis(
            clock=clock, sleep=sleep, source=mapped.source, known=True, rate=rate, admin=admin
        )
    if status in (401, 403):
        source = (
            f"this machine's clock: /__admin/clock answered {status}, a mock whose clock "
            "(and time scale) cannot be read"
        )
        return ClockBasis(clock=session.clock, sleep=session.sleep, source=source, known=False)
    source = "this machine's clock (real seconds, the target's own time)"
    return ClockBasis(clock=session.clock, sleep=session.sleep, source=source, known=True)


def exact_durations(admin: MockAdmin) -> ExactDurations:
    """Runs' exact durations from a mock's admin run listing (`ended_at - started_at`,
    virtual seconds); nothing when the listing cannot be read."""

    def durations(runs: Mapping[str, str]) -> Mapping[str, float]:
        try:
            rows = [row for trigger in set(runs.values()) for row in admin.runs(trigger_id=trigger)]
            return {
                row["workflow_id"]: parse_iso(row["ended_at"]) - parse_iso(row["started_at"])
                for row in rows
                if row.get("workflow_id") in runs
                and isinstance(row.get("ended_at"), str)
                and isinstance(row.get("started_at"), str)
            }
        except (HarnessError, httpx.HTTPError, ValueError, KeyError, TypeError):
            return {}

    return durations


@dataclass(frozen=True, slots=True, kw_only=True)
class _Clocking:
    timeline: Timeline
    source: str
    known: bool
    exact: ExactDurations | None


@contextmanager
def _clocking(session: Session) -> Iterator[_Clocking]:
    """The admin clock of a mock the session reaches, else the target's own time."""
    target = session.target
    if session.admin is not None:
        with admin_timeline(session.admin) as timeline:
            source = "the mock's clock, moved through its admin API (virtual seconds)"
            yield _Clocking(
                timeline=timeline, source=source, known=True, exact=exact_durations(session.admin)
            )
        return
    basis = clock_basis(session)
    interval = max(target.poll_interval_s, MIN_REAL_CHECK_S * basis.rate)
    yield _Clocking(
        timeline=RealTimeline(basis.clock, basis.sleep, interval),
        source=basis.source,
        known=basis.known,
        exact=exact_durations(basis.admin) if basis.admin is not None else None,
    )


def measure(session: Session, *, runs: int) -> Measurement:
    """Start and follow `runs` runs of each trigger the session's target names.

    Latency is read on the real clock (a mock's added latency is real seconds too); durations
    on the target's own clock (see the module docstring), exact where its runs tell.

    Args:
        session: an open session on the target.
        runs: runs per trigger (> 0).
    """
    latency = LatencyLog()
    client = session.client(clock=time.monotonic, event_hooks={"response": [latency.record]})
    target = session.target
    with _clocking(session) as clocking:
        samples = sample_triggers(
            client,
            runs=runs,
            timeline=clocking.timeline,
            deadline_s=target.max_run_s + target.poll_interval_s,
            exact=clocking.exact,
        )
    return Measurement(
        runs_per_trigger=runs,
        samples=tuple(samples),
        latency={endpoint: tuple(values) for endpoint, values in latency.by_endpoint.items()},
        clock=clocking.source,
        clock_known=clocking.known,
    )
