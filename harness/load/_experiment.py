"""The sizing experiment: start flows together, follow them with a candidate schedule, measure.

Against the embedded mock the flows run in process (`_embedded.embedded_mock`) and the client
reads the mock's own virtual clock, so delays are exact in virtual (target) seconds; the run's
end comes from `/__admin/runs`. By default virtual time is stepped from one wake-up to the next
(`SteppedTime`: exact and CPU-independent).

Against any other target the client first asks for `/__admin/clock` at the target's root: a
`trigger-mock serve` answers it (at any `--time-scale`), and the flows then run on the mock's
virtual clock (read to +/- half a round trip), sleep scaled time and take run ends from
`/__admin/runs`. A target that does not answer it is real: this machine's clock, assumed in
sync with the target's, and run ends from the final log entry's time (whole seconds), so
delays are bounds (`_delays`), and figures that disagree are artefacts, never delays.

Budget (issue 14: no candidate can run unbounded): every interval is at least
`MIN_POLL_INTERVAL_S` and every flow gives up at the plan's deadline, so a candidate ends; the
plan's `max_runs` leaves out the candidates that would start more runs than it allows, and its
`time_limit_s` (real seconds) starts no candidate after it and cuts the one in flight. The
candidates measured come first in the result, in order; the rest were not reached.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import httpx

from .._async_client import AsyncTriggerClient
from .._client import workflow_id_of
from .._embedded import embedded_mock, in_process_async_client, scaled_async_sleep
from .._exceptions import UsageError
from .._models import RunHistory
from .._polling import PollStrategy, require_interval
from .._targets import Secret, Target, mock_target
from .._types import AsyncSleep, Clock
from ._delays import (
    ADMIN_END,
    CLOCK_READINGS,
    LOG_END,
    ClockMap,
    ClockSample,
    DelayResolution,
    RunEnd,
    admin_root,
    exact_end,
    log_end,
    pick_clock,
)
from ._simulate import parse_duration
from ._sizing import DELAY_STATS, Candidate, Measurement, measure, sample_of
from ._times import parse_iso

__all__ = [
    "DEFAULT_MOCK_DURATION",
    "FlowDone",
    "SizingPlan",
    "SteppedTime",
    "measure_candidate",
    "run_on_mock",
    "run_on_target",
]

T = TypeVar("T")

FlowDone = Callable[[], None]
"""Called once per flow followed to its end (progress)."""
EndTimes = Callable[[Iterable[str]], Awaitable[Mapping[str, float]]]
"""Looks up the end (target epoch seconds) of the given runs."""

MACHINE_CLOCK: Final = ClockMap(source="this machine's clock, assumed in sync with the target's")
_IN_PROCESS_CLOCK: Final = ClockMap(source="the mock's own clock (in process)")

RunAll = Callable[[list[Coroutine[Any, Any, RunHistory]]], Awaitable[list[RunHistory]]]
"""Runs coroutines together and returns their results in order."""


class SteppedTime:
    """Virtual time that jumps to the earliest wake-up once every flow is asleep.

    Flows sleep through `sleep`; `run` drives them. While any flow is busy (sending a request
    to the in-process mock, which needs no real time) the clock stands still; when all are
    asleep it moves to the earliest wake-up, tells the mock (`set_now`) and wakes that flow.
    Requests really go to the mock and are counted; only the waiting is skipped.

    Args:
        set_now: moves the mock's (frozen) virtual clock.
        start: the virtual time now (epoch seconds).
    """

    def __init__(self, set_now: Callable[[float], None], *, start: float) -> None:
        self._set_now = set_now
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sequence = 0

    def clock(self) -> float:
        """The virtual time now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of virtual time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sequence += 1
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), self._sequence, future))
        await future

    async def run(self, coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
        """Run the coroutines to the end, stepping time whenever all of them sleep."""
        tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
        try:
            while not all(task.done() for task in tasks):
                busy = sum(not task.done() for task in tasks)
                if self._sleepers and len(self._sleepers) >= busy:
                    self._wake_next()
                await asyncio.sleep(0)
            return [task.result() for task in tasks]
        finally:
            for task in tasks:
                task.cancel()

    def _wake_next(self) -> None:
        when = self._sleepers[0][0]
        if when > self.now:
            self.now = when
            self._set_now(when)
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


async def measure_candidate(
    client: AsyncTriggerClient,
    candidate: Candidate,
    *,
    flows: int,
    end_times: EndTimes | None,
    deadline_s: float,
    clock: ClockMap = MACHINE_CLOCK,
    trigger_id: str | None = None,
    seed: int = 0,
    run_all: RunAll | None = None,
    on_flow: FlowDone | None = None,
) -> Measurement:
    """Start `flows` runs together, follow each with the candidate's schedule, measure.

    Args:
        client: the async client (its clock in target epoch seconds).
        candidate: the schedule to try.
        flows: runs started (and the in-flight count the rate is given for).
        end_times: the mock's run ends; None to read each final log entry instead.
        deadline_s: give up on a run after this long (target seconds).
        clock: how the client's clock relates to the target's.
        trigger_id: the background trigger (default: the target's).
        seed: seeds the jitter of the candidate's strategy.
        run_all: runs the flows' coroutines together (default `asyncio.gather`).
        on_flow: called as each flow ends (progress).
    """
    strategy = candidate.build()
    rng = random.Random(seed)

    async def one(index: int) -> RunHistory:
        started = await client.start(
            trigger_id, user_variables={"sizing": candidate.label, "flow": index}
        )
        history = await client.wait(
            workflow_id_of(started),
            strategy=_Seeded(strategy, rng.random()),
            deadline_s=deadline_s,
            start=started,
        )
        if on_flow is not None:
            on_flow()
        return history

    flows_to_run = [one(index) for index in range(flows)]
    if run_all is None:
        histories = await asyncio.gather(*flows_to_run)
    else:
        histories = await run_all(flows_to_run)
    finished = list(histories)
    ends: Mapping[str, RunEnd | None]
    if end_times is None:
        ends = {history.workflow_id: log_end(history) for history in finished}
    else:
        ended = await end_times(history.workflow_id for history in finished)
        ends = {workflow_id: exact_end(at) for workflow_id, at in ended.items()}
    samples = [sample_of(history, ends.get(history.workflow_id), clock) for history in finished]
    resolution = DelayResolution(
        end_source=LOG_END if end_times is None else ADMIN_END, clock=clock
    )
    return measure(candidate, samples, flows, resolution=resolution)


@dataclass(frozen=True, slots=True)
class _Seeded:
    """A strategy whose jitter comes from its own seed, whatever rng the client passes."""

    strategy: PollStrategy
    seed: float

    def delays(self, rng: random.Random) -> Any:
        """The wrapped strategy's delays from a generator seeded with `seed`."""
        return self.strategy.delays(random.Random(self.seed))


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingPlan:
    """A sizing experiment: the candidates, how many flows, the budget and (mock) the world.

    `duration` is the mock trigger's `duration` table (see `parse_duration_dist`); on a real
    target it must be None (the target's own flows decide). On the mock, `time_scale` None
    steps virtual time from one wake-up to the next (`SteppedTime`: exact and CPU-independent);
    a number runs the mock's clock that many times faster than real time instead.
    `max_runs` caps the runs started (each candidate starts `flows`), `time_limit_s` the real
    seconds spent; `seed` seeds the jitter and the mock's draws.
    """

    candidates: tuple[Candidate, ...]
    flows: int = 50
    max_delay_s: float = 10.0
    delay_stat: str = "p95"
    deadline_s: float = 2700.0
    time_scale: float | None = None
    duration: Mapping[str, Any] | None = None
    seed: int = 7
    max_runs: int | None = None
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if not self.candidates:
            raise UsageError("--intervals: give at least one interval")
        for candidate in self.candidates:
            require_interval("--intervals", candidate.label, candidate.interval_s)
        if self.flows < 1:
            raise UsageError(f"--flows: must be >= 1, got {self.flows!r}")
        if self.max_runs is not None and self.max_runs < self.flows:
            raise UsageError(
                f"--max-runs: each candidate starts --flows {self.flows} runs; "
                f"{self.max_runs!r} leaves room for none"
            )
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise UsageError(f"--time-limit: must be > 0, got {self.time_limit_s!r}")
        if not self.max_delay_s > 0:
            raise UsageError(f"--max-delay-s: must be > 0, got {self.max_delay_s!r}")
        if self.delay_stat not in DELAY_STATS:
            raise UsageError(f"--delay-stat: must be p95 or mean, got {self.delay_stat!r}")
        if self.time_scale is not None and not self.time_scale > 0:
            raise UsageError(f"--time-scale: must be > 0, got {self.time_scale!r}")
        if not self.deadline_s > 0:
            raise UsageError(f"deadline_s: must be > 0, got {self.deadline_s!r}")

    @property
    def planned(self) -> tuple[Candidate, ...]:
        """The candidates `max_runs` leaves room for, in order (all without a cap)."""
        if self.max_runs is None:
            return self.candidates
        return self.candidates[: self.max_runs // self.flows]

    @property
    def run_bound(self) -> int:
        """The most runs the experiment starts: `flows` per planned candidate."""
        return self.flows * len(self.planned)


class _Budget:
    """The plan's real-time limit: whether a candidate may start, and how long it may run."""

    def __init__(self, time_limit_s: float | None, clock: Clock) -> None:
        self._clock = clock
        self._deadline = None if time_limit_s is None else clock() + time_limit_s

    def remaining_s(self) -> float | None:
        """Real seconds left (None: no limit)."""
        return None if self._deadline is None else self._deadline - self._clock()

    async def run(self, work: Coroutine[Any, Any, T]) -> T | None:
        """`work`'s result, or None when the limit passed before or while it ran."""
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            work.close()
            return None
        try:
            return await asyncio.wait_for(work, remaining)
        except TimeoutError:
            return None


async def _measure_all(
    plan: SizingPlan,
    clock: Clock,
    measure_one: Callable[[int, Candidate], Coroutine[Any, Any, Measurement]],
) -> list[Measurement]:
    """Measure the planned candidates in order until the time limit; the measured ones."""
    budget = _Budget(plan.time_limit_s, clock)
    measurements = []
    for index, candidate in enumerate(plan.planned):
        measured = await budget.run(measure_one(index, candidate))
        if measured is None:
            break
        measurements.append(measured)
    return measurements


_MOCK_WORKSPACE: Final = "sizing"
_MOCK_TRIGGER: Final = "sizing"
_MOCK_KEY: Final = "sizing-key"
DEFAULT_MOCK_DURATION: Final = parse_duration("lognormal:median_s=180,sigma=0.5,max_s=900")
"""The sizing mock's run durations when `--duration-dist` is not given."""


def run_on_mock(
    plan: SizingPlan, *, clock: Clock = time.monotonic, on_flow: FlowDone | None = None
) -> list[Measurement]:
    """Measure the planned candidates against an in-process mock whose trigger has
    `plan.duration`, within the plan's time limit.

    The client reads the mock's virtual clock, so delays are exact in virtual seconds.

    Args:
        plan: the experiment.
        clock: real monotonic seconds (the time limit).
        on_flow: called as each flow ends (progress).
    """
    return asyncio.run(_on_mock(plan, clock, on_flow))


def _mock_world(plan: SizingPlan) -> dict[str, Any]:
    """The mock config of the experiment: one workspace, one trigger of `plan.duration`."""
    duration = dict(plan.duration or DEFAULT_MOCK_DURATION.table())
    trigger = {"id": _MOCK_TRIGGER, "duration": duration}
    return {
        "mock": {"seed": plan.seed},
        "workspaces": [{"id": _MOCK_WORKSPACE, "api_keys": [_MOCK_KEY], "triggers": [trigger]}],
    }


def _mock_target(plan: SizingPlan) -> Target:
    """The built-in mock target, aimed at the experiment's workspace and trigger."""
    return dataclasses.replace(
        mock_target(),
        workspace_id=_MOCK_WORKSPACE,
        api_key=Secret(_MOCK_KEY),
        sync_trigger=None,
        background_trigger=_MOCK_TRIGGER,
        jira_trigger=None,
        jira_secret=None,
        max_run_s=plan.deadline_s,
        poll_interval_s=min(5.0, plan.deadline_s),
    )


async def _on_mock(plan: SizingPlan, real: Clock, on_flow: FlowDone | None) -> list[Measurement]:
    stepping = plan.time_scale is None
    mock = embedded_mock(
        _mock_world(plan),
        time_scale=plan.time_scale or 1.0,
        frozen=stepping,
        source="--duration-dist",
    )
    stepped = SteppedTime(mock.set_now, start=mock.clock()) if stepping else None
    target = _mock_target(plan)
    async with in_process_async_client(mock.app, base_url=target.base_url) as http:
        end_times = _admin_end_times(http, "/__admin/runs", _MOCK_WORKSPACE)
        client = AsyncTriggerClient(
            target,
            http=http,
            clock=mock.clock,
            sleep=stepped.sleep if stepped else scaled_async_sleep(mock.time_scale),
        )
        return await _measure_all(
            plan,
            real,
            lambda index, candidate: measure_candidate(
                client,
                candidate,
                flows=plan.flows,
                end_times=end_times,
                deadline_s=plan.deadline_s,
                clock=_IN_PROCESS_CLOCK,
                seed=plan.seed + index,
                run_all=stepped.run if stepped else None,
                on_flow=on_flow,
            ),
        )


def _admin_end_times(http: httpx.AsyncClient, url: str, workspace_id: str) -> EndTimes:
    """Run ends (epoch s) from a mock's `/__admin/runs` listing of `workspace_id`."""

    async def end_times(ids: Iterable[str]) -> Mapping[str, float]:
        wanted = set(ids)
        answer = await http.get(url, params={"workspace_id": workspace_id})
        answer.raise_for_status()
        return {
            row["workflow_id"]: parse_iso(row["ended_at"])
            for row in answer.json()["runs"]
            if row["workflow_id"] in wanted and row.get("ended_at")
        }

    return end_times


async def read_target_clock(
    http: httpx.AsyncClient, base_url: str, *, monotonic: Clock = time.monotonic
) -> tuple[Clock, ClockMap] | None:
    """The target's clock when it is a mock that answers `/__admin/clock`, else None.

    Args:
        http: the client to ask through.
        base_url: the target's base URL (the admin API is at its root).
        monotonic: the real clock the returned client clock runs on.
    """
    samples: list[ClockSample] = []
    for _ in range(CLOCK_READINGS):
        sent = monotonic()
        try:
            answer = await http.get(admin_root(base_url) + "/clock")
            body = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        samples.append((body, sent, monotonic()))
    return pick_clock(samples, monotonic=monotonic)


def run_on_target(
    plan: SizingPlan,
    target: Target,
    *,
    clock: Clock = time.monotonic,
    on_flow: FlowDone | None = None,
) -> list[Measurement]:
    """Measure the planned candidates against a target outside this process, within the
    plan's time limit.

    A mock answering `/__admin/clock` is followed on its own (virtual) clock with exact run
    ends; any other target in real time, with run ends from the logs (module docstring).

    Args:
        plan: the experiment; `duration` must be None.
        target: a selected target (secrets read) with a background trigger.
        clock: real monotonic seconds (the time limit).
        on_flow: called as each flow ends (progress).
    """
    if plan.duration is not None:
        raise UsageError("--duration-dist: only the mock target can be given a distribution")

    async def all_candidates() -> list[Measurement]:
        async with httpx.AsyncClient(timeout=target.timeout_s) as http:
            mock = await read_target_clock(http, target.base_url)
            target_clock: Clock = time.time
            sleep: AsyncSleep = asyncio.sleep
            clock_map, end_times = MACHINE_CLOCK, None
            if mock is not None:
                target_clock, clock_map = mock
                sleep = scaled_async_sleep(clock_map.scale)
                runs_url = admin_root(target.base_url) + "/runs"
                end_times = _admin_end_times(http, runs_url, target.workspace_id)
            client = AsyncTriggerClient(target, http=http, clock=target_clock, sleep=sleep)
            return await _measure_all(
                plan,
                clock,
                lambda index, candidate: measure_candidate(
                    client,
                    candidate,
                    flows=plan.flows,
                    end_times=end_times,
                    deadline_s=plan.deadline_s,
                    clock=clock_map,
                    seed=plan.seed + index,
                    on_flow=on_flow,
                ),
            )

    return asyncio.run(all_candidates())
