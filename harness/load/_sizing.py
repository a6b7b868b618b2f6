"""Polling sizing: what a polling schedule costs in status requests and how late it notices.

For each candidate schedule (`fixed:5`, `exponential:2`, ...) `N` flows are started together and
each is followed by the async client until final. Everything is measured, nothing computed:

- status requests per second for `N` flows in flight = `N` x (E3 requests sent) / (flow-seconds
  in flight, start to detection), which is the steady-state rate by Little's law;
- detection delay = arrival of the first answer showing the final status minus the run's end.

Against the embedded mock the flows run in process at a high time scale, and the client reads
the mock's own virtual clock, so delays are exact in virtual (target) seconds; the run's end
comes from `/__admin/runs`. Against a real target the end is the final log entry's time.
The recommendation is the cheapest candidate whose delay (p95 or mean) meets the budget.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import httpx

from .._async_client import AsyncTriggerClient
from .._client import workflow_id_of
from .._exceptions import UsageError
from .._models import RunHistory
from .._polling import PollStrategy
from .._targets import Secret, Target
from ..report import SizingResult, SizingRow
from ._locust import STRATEGIES, strategy_from

__all__ = [
    "DELAY_STATS",
    "Candidate",
    "FlowSample",
    "Measurement",
    "SizingPlan",
    "SteppedTime",
    "expected_fixed",
    "first_final_at",
    "log_end_time",
    "measure",
    "measure_candidate",
    "parse_candidates",
    "parse_duration_dist",
    "parse_iso",
    "recommend",
    "run_on_mock",
    "run_on_target",
    "sample_of",
    "sizing_results",
]

DELAY_STATS: Final = ("p95", "mean")
_LOG_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_DURATION_KEYS: Final = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma", "max_s"),
    "exponential": ("mean_s", "max_s"),
}
_P95: Final = 0.95
T = TypeVar("T")


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO 8601 time such as the admin API's `ended_at` (`Z` allowed)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def log_end_time(history: RunHistory) -> float | None:
    """Epoch seconds of the final envelope's last log entry (read as UTC), None without one."""
    final = history.final
    if final is None or not final.logs:
        return None
    try:
        moment = datetime.strptime(final.logs[-1].time, _LOG_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def first_final_at(history: RunHistory) -> float | None:
    """Client clock time the first answer showing a final status arrived, None if none did.

    The answer's arrival (not its sending) is when the client notices: the server may only
    judge the run's status some time after the request left.
    """
    for observation in history.observations:
        if observation.envelope is not None and observation.envelope.is_final:
            return observation.at + observation.exchange.elapsed_s
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One polling schedule to try: a strategy name and its numbers (target seconds)."""

    strategy: str
    interval_s: float
    jitter: float = 0.0
    cap_s: float = 60.0

    def build(self) -> PollStrategy:
        """The polling strategy."""
        return strategy_from(self.strategy, self.interval_s, jitter=self.jitter, cap_s=self.cap_s)

    @property
    def label(self) -> str:
        """`fixed 5s`, `exponential 2s`, ..."""
        return f"{self.strategy} {self.interval_s:g}s"


def parse_candidates(text: str, *, default_strategy: str = "fixed") -> tuple[Candidate, ...]:
    """Candidates from `5,10,30` or `fixed:5,exponential:2,fixed_jittered:5`.

    Args:
        text: the `--intervals` value.
        default_strategy: the strategy of a bare number.
    """
    candidates = []
    for item in (part.strip() for part in text.split(",")):
        name, _, number = item.rpartition(":")
        name = name or default_strategy
        if name not in STRATEGIES:
            raise UsageError(f"--intervals: unknown strategy {name!r} in {item!r}")
        try:
            interval = float(number)
        except ValueError:
            raise UsageError(f"--intervals: {item!r} is not [strategy:]seconds") from None
        if not math.isfinite(interval) or interval <= 0:
            raise UsageError(f"--intervals: interval must be > 0, got {item!r}")
        jitter = interval if name == "fixed_jittered" else 0.0
        candidate = Candidate(strategy=name, interval_s=interval, jitter=jitter)
        candidate.build()
        candidates.append(candidate)
    if not candidates:
        raise UsageError("--intervals: give at least one interval")
    return tuple(candidates)


def parse_duration_dist(text: str) -> dict[str, Any]:
    """A mock `duration` table from `lognormal:median_s=180,sigma=0.5,max_s=900`, `fixed:30`.

    Args:
        text: the `--duration-dist` value; keys as in the mock's config file.
    """
    dist, _, rest = text.partition(":")
    dist = dist.strip()
    if dist not in _DURATION_KEYS:
        raise UsageError(
            f"--duration-dist: unknown distribution {dist!r}; known: {', '.join(_DURATION_KEYS)}"
        )
    table: dict[str, Any] = {"dist": dist}
    for part in filter(None, (piece.strip() for piece in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep and dist == "fixed":
            key, value = "s", part
        if key.strip() not in _DURATION_KEYS[dist]:
            allowed = ", ".join(_DURATION_KEYS[dist])
            raise UsageError(f"--duration-dist: {dist} takes {allowed}, got {part!r}")
        try:
            table[key.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--duration-dist: {part!r} is not key=number") from None
    return table


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSample:
    """One followed flow: E3 requests sent, time in flight and detection delay (target s)."""

    polls: int
    in_flight_s: float
    delay_s: float | None


def sample_of(history: RunHistory, ended_at: float | None) -> FlowSample | None:
    """The sample of a flow that was seen final, None when it never was.

    Args:
        history: the flow's history (client clock in target epoch seconds).
        ended_at: the run's end, same clock; None when unknown.
    """
    seen = first_final_at(history)
    if seen is None:
        return None
    return FlowSample(
        polls=len(history.polls),
        in_flight_s=seen - history.start.at,
        delay_s=None if ended_at is None else seen - ended_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """What one candidate measured, for `flows` flows in flight."""

    candidate: Candidate
    flows: int
    samples: int
    lost: int
    status_rps: float
    mean_delay_s: float
    p95_delay_s: float
    polls_per_flow: float

    def delay(self, stat: str) -> float:
        """The delay statistic the budget applies to (`p95` or `mean`)."""
        return self.p95_delay_s if stat == "p95" else self.mean_delay_s


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(_P95 * len(ordered)) - 1)]


def measure(candidate: Candidate, samples: Sequence[FlowSample | None], flows: int) -> Measurement:
    """Status requests per second for `flows` in flight and the delay statistics.

    Args:
        candidate: the schedule measured.
        samples: one per flow started; None for a flow never seen final (counted as lost).
        flows: the number of flows in flight the rate is given for.
    """
    seen = [sample for sample in samples if sample is not None]
    delays = [sample.delay_s for sample in seen if sample.delay_s is not None]
    in_flight = sum(sample.in_flight_s for sample in seen)
    polls = sum(sample.polls for sample in seen)
    return Measurement(
        candidate=candidate,
        flows=flows,
        samples=len(seen),
        lost=len(samples) - len(seen),
        status_rps=flows * polls / in_flight if in_flight > 0 else math.inf,
        mean_delay_s=statistics.fmean(delays) if delays else math.inf,
        p95_delay_s=_p95(delays) if delays else math.inf,
        polls_per_flow=polls / len(seen) if seen else 0.0,
    )


def expected_fixed(interval_s: float, flows: int) -> tuple[float, float]:
    """The analytic expectation for a fixed interval T: (mean delay T/2, N/T requests/s)."""
    return interval_s / 2, flows / interval_s


def recommend(
    measurements: Sequence[Measurement], *, max_delay_s: float, stat: str = "p95"
) -> tuple[Measurement | None, str]:
    """The cheapest candidate (fewest status requests/s) whose delay meets the budget.

    Args:
        measurements: one per candidate.
        max_delay_s: the detection delay budget (target seconds).
        stat: which delay the budget applies to, `p95` or `mean`.
    """
    if stat not in DELAY_STATS:
        raise UsageError(f"--delay-stat: must be p95 or mean, got {stat!r}")
    meeting = [m for m in measurements if m.lost == 0 and m.delay(stat) <= max_delay_s]
    if not meeting:
        closest = min(measurements, key=lambda m: m.delay(stat), default=None)
        hint = f"; the smallest {stat} delay was {closest.delay(stat):.2f} s" if closest else ""
        return None, f"no candidate meets a {stat} delay of {max_delay_s:g} s{hint}"
    best = min(meeting, key=lambda m: (m.status_rps, m.delay(stat)))
    return best, (
        f"{best.candidate.label}: {best.status_rps:.2f} status requests/s for "
        f"{best.flows} flows in flight, {stat} delay {best.delay(stat):.2f} s "
        f"<= {max_delay_s:g} s"
    )


def sizing_results(
    measurements: Sequence[Measurement],
    recommendation: str,
    *,
    best: Measurement | None = None,
    max_delay_s: float | None = None,
    delay_stat: str = "p95",
) -> tuple[SizingResult, ...]:
    """The sizing table as one `SizingResult`: a row per candidate (by strategy, then interval).

    Args:
        measurements: one per candidate.
        recommendation: the recommendation's text.
        best: the recommended measurement, whose row is marked `recommended`.
        max_delay_s: the delay budget the recommendation was judged against.
        delay_stat: which delay the budget applies to.
    """
    strategies = list(dict.fromkeys(m.candidate.strategy for m in measurements))
    rows = tuple(
        SizingRow(
            strategy=m.candidate.strategy,
            interval_s=m.candidate.interval_s,
            status_rps=m.status_rps,
            mean_delay_s=m.mean_delay_s,
            p95_delay_s=m.p95_delay_s,
            recommended=m is best,
        )
        for m in sorted(
            measurements,
            key=lambda m: (strategies.index(m.candidate.strategy), m.candidate.interval_s),
        )
    )
    if not rows:
        return ()
    return (
        SizingResult(
            rows=rows,
            recommendation=recommendation,
            max_delay_s=max_delay_s,
            delay_stat=delay_stat,
        ),
    )


EndTimes = Callable[[Iterable[str]], Awaitable[Mapping[str, float]]]
"""Looks up the end (target epoch seconds) of the given runs."""

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
    trigger_id: str | None = None,
    seed: int = 0,
    run_all: RunAll | None = None,
) -> Measurement:
    """Start `flows` runs together, follow each with the candidate's schedule, measure.

    Args:
        client: the async client (its clock in target epoch seconds).
        candidate: the schedule to try.
        flows: runs started (and the in-flight count the rate is given for).
        end_times: the mock's run ends; None to read each final log entry instead.
        deadline_s: give up on a run after this long (target seconds).
        trigger_id: the background trigger (default: the target's).
        seed: seeds the jitter of the candidate's strategy.
        run_all: runs the flows' coroutines together (default `asyncio.gather`).
    """
    strategy = candidate.build()
    rng = random.Random(seed)

    async def one(index: int) -> RunHistory:
        started = await client.start(
            trigger_id, user_variables={"sizing": candidate.label, "flow": index}
        )
        return await client.wait(
            workflow_id_of(started),
            strategy=_Seeded(strategy, rng.random()),
            deadline_s=deadline_s,
            start=started,
        )

    flows_to_run = [one(index) for index in range(flows)]
    if run_all is None:
        histories = await asyncio.gather(*flows_to_run)
    else:
        histories = await run_all(flows_to_run)
    finished = list(histories)
    ended: Mapping[str, float] = {}
    if end_times is not None:
        ended = await end_times(history.workflow_id for history in finished)
    samples = [
        sample_of(
            history,
            ended.get(history.workflow_id) if end_times is not None else log_end_time(history),
        )
        for history in finished
    ]
    return measure(candidate, samples, flows)


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
    """

    candidates: tuple[Candidate, ...]
    flows: int = 50
    max_delay_s: float = 10.0
    delay_stat: str = "p95"
    deadline_s: float = 2700.0
    time_scale: float | None = None
    duration: Mapping[str, Any] | None = None
    seed: int = 7

    def __post_init__(self) -> None:
        if not self.candidates:
            raise UsageError("--intervals: give at least one interval")
        if self.flows < 1:
            raise UsageError(f"--flows: must be >= 1, got {self.flows!r}")
        if not self.max_delay_s > 0:
            raise UsageError(f"--max-delay-s: must be > 0, got {self.max_delay_s!r}")
        if self.delay_stat not in DELAY_STATS:
            raise UsageError(f"--delay-stat: must be p95 or mean, got {self.delay_stat!r}")
        if self.time_scale is not None and not self.time_scale > 0:
            raise UsageError(f"--time-scale: must be > 0, got {self.time_scale!r}")
        if not self.deadline_s > 0:
            raise UsageError(f"deadline_s: must be > 0, got {self.deadline_s!r}")


_MOCK_WORKSPACE: Final = "sizing"
_MOCK_TRIGGER: Final = "sizing"
_DEFAULT_DURATION: Final = {"dist": "lognormal", "median_s": 180.0, "sigma": 0.5, "max_s": 900.0}


def run_on_mock(plan: SizingPlan) -> list[Measurement]:
    """Measure every candidate against an in-process mock whose trigger has `plan.duration`.

    The client reads the mock's virtual clock, so delays are exact in virtual seconds.

    Args:
        plan: the experiment.
    """
    return asyncio.run(_on_mock(plan))


async def _on_mock(plan: SizingPlan) -> list[Measurement]:
    from mock_server import create_app  # noqa: PLC0415 - the mock only at the edge
    from mock_server._clock import VirtualClock  # noqa: PLC0415 - likewise
    from mock_server._config import parse_config  # noqa: PLC0415 - likewise

    world = {
        "mock": {"time_scale": plan.time_scale or 1.0, "seed": plan.seed},
        "workspaces": [
            {
                "id": _MOCK_WORKSPACE,
                "api_keys": ["sizing-key"],
                "triggers": [
                    {"id": _MOCK_TRIGGER, "duration": dict(plan.duration or _DEFAULT_DURATION)}
                ],
            }
        ],
    }
    try:
        config = parse_config(world, source="--duration-dist")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    clock = VirtualClock(start=time.time(), time_scale=plan.time_scale or 1.0)
    app = create_app(config, clock=clock)
    target = Target(
        name="mock",
        base_url="http://testserver",
        workspace_id=_MOCK_WORKSPACE,
        environment="DEV",
        api_key=Secret("sizing-key"),
        background_trigger=_MOCK_TRIGGER,
        max_run_s=plan.deadline_s,
        poll_interval_s=min(5.0, plan.deadline_s),
    )
    stepped: SteppedTime | None = None
    if plan.time_scale is None:
        clock.set_frozen(True)
        stepped = SteppedTime(clock.set_now, start=clock.now())
    scale = plan.time_scale or 1.0

    async def scaled_sleep(seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / scale)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=target.base_url) as http:

        async def end_times(ids: Iterable[str]) -> Mapping[str, float]:
            wanted = set(ids)
            answer = await http.get("/__admin/runs", params={"workspace_id": _MOCK_WORKSPACE})
            answer.raise_for_status()
            return {
                row["workflow_id"]: parse_iso(row["ended_at"])
                for row in answer.json()["runs"]
                if row["workflow_id"] in wanted and row.get("ended_at")
            }

        client = AsyncTriggerClient(
            target,
            http=http,
            clock=clock.now,
            sleep=stepped.sleep if stepped else scaled_sleep,
        )
        return [
            await measure_candidate(
                client,
                candidate,
                flows=plan.flows,
                end_times=end_times,
                deadline_s=plan.deadline_s,
                seed=plan.seed + index,
                run_all=stepped.run if stepped else None,
            )
            for index, candidate in enumerate(plan.candidates)
        ]


def run_on_target(plan: SizingPlan, target: Target) -> list[Measurement]:
    """Measure every candidate against a real target (real time; run ends from the logs).

    Args:
        plan: the experiment; `duration` must be None.
        target: a selected target (secrets read) with a background trigger.
    """
    if plan.duration is not None:
        raise UsageError("--duration-dist: only the mock target can be given a distribution")

    async def all_candidates() -> list[Measurement]:
        async with httpx.AsyncClient(timeout=target.timeout_s) as http:
            client = AsyncTriggerClient(target, http=http, clock=time.time)
            return [
                await measure_candidate(
                    client,
                    candidate,
                    flows=plan.flows,
                    end_times=None,
                    deadline_s=plan.deadline_s,
                    seed=plan.seed + index,
                )
                for index, candidate in enumerate(plan.candidates)
            ]

    return asyncio.run(all_candidates())
