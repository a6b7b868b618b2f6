"""Detection delay with its resolution: from a run's end to the first answer showing it final.

A delay is an interval [lower, upper] of target seconds that holds the true delay, never one
figure that may be impossible. Three things bound it:

- the run's end: exact from the mock's admin API (`ended_at`), else the final log entry's time,
  `"YYYY-MM-DD HH:MM:SS"` with no zone (trigger-api.md, log entry; read as UTC), whole seconds,
  so the end lies in [t, t + 1];
- the answers: the run ended no earlier than the sending of the last answer that still showed it
  unfinished (the start answer counts: a run cannot end before it was asked for) and no later
  than the arrival of the first answer that showed it final (that answer was produced somewhere
  between its sending and its arrival);
- the client's clock, related to the target's by a `ClockMap` known to +/- its uncertainty.

When these cannot all hold (the end lies after the final answer arrived, a negative delay, or
before an answer that still showed the run going, a delay beyond the poll interval plus the
resolution) the figures are a measurement artefact, not a delay: clocks that differ (a
time-scaled mock read with this machine's clock, log times in another zone). An artefact is
reported as such and never used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from .._models import Observation, RunHistory, RunStatus
from ._times import log_end_time, parse_iso

__all__ = [
    "ADMIN_END",
    "CLOCK_READINGS",
    "LOG_END",
    "LOG_TIME_RESOLUTION_S",
    "ClockMap",
    "ClockSample",
    "DelayArtefact",
    "DelayBounds",
    "DelayResolution",
    "RunEnd",
    "admin_root",
    "clock_reading",
    "detection_delay",
    "exact_end",
    "log_end",
    "mock_clock_map",
    "pick_clock",
]

CLOCK_READINGS: Final = 3
"""How many `/__admin/clock` readings are taken to keep the one with the shortest round trip."""
LOG_TIME_RESOLUTION_S: Final = 1.0
"""A log entry's time is whole seconds (trigger-api.md, log entry `time`)."""
ADMIN_END: Final = "admin"
"""`RunEnd.source` of an end read from the mock's admin API (exact)."""
LOG_END: Final = "logs"
"""`RunEnd.source` of an end read from the final log entry (whole seconds)."""
_UNFINISHED: Final = frozenset({RunStatus.PENDING, RunStatus.WAITING_FOR_INPUT})


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockMap:
    """How the client's clock relates to the target's epoch time.

    Args:
        source: what the client's clock is, as reports say it.
        scale: target seconds per real second.
        offset_s: target epoch minus the client clock's reading (target seconds).
        uncertainty_s: the offset is known to +/- this many target seconds.
        known: False when the target's clock is unknown (a time-scaled target whose clock
            cannot be read): delays are then unknown, never guessed.
    """

    source: str
    scale: float = 1.0
    offset_s: float = 0.0
    uncertainty_s: float = 0.0
    known: bool = True

    def epoch(self, client_time: float) -> float:
        """The target's epoch time (seconds) at a client clock reading."""
        return client_time + self.offset_s


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnd:
    """When a run ended on the target's clock: somewhere in [earliest, latest] (epoch s).

    `source` is `admin` (exact, from the mock's admin API) or `logs` (the final log entry).
    """

    earliest: float
    latest: float
    source: str


def exact_end(ended_at: float) -> RunEnd:
    """An end known exactly (the mock's `ended_at`, epoch seconds)."""
    return RunEnd(earliest=ended_at, latest=ended_at, source=ADMIN_END)


def log_end(history: RunHistory) -> RunEnd | None:
    """The end the final envelope's last log entry gives: [t, t + 1 s]; None without one."""
    logged = log_end_time(history)
    if logged is None:
        return None
    return RunEnd(earliest=logged, latest=logged + LOG_TIME_RESOLUTION_S, source=LOG_END)


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayBounds:
    """A detection delay (target seconds) known to lie in [lower_s, upper_s]."""

    lower_s: float
    upper_s: float

    @property
    def exact(self) -> bool:
        """True when the bounds meet (an exact figure)."""
        return self.lower_s == self.upper_s

    def text(self) -> str:
        """`2.55 s` when exact, `0.40-1.40 s` otherwise."""
        if self.exact or not math.isfinite(self.upper_s):
            return f"{self.upper_s:.2f} s"
        return f"{self.lower_s:.2f}-{self.upper_s:.2f} s"


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayArtefact:
    """Figures that cannot be a detection delay: the run's end disagrees with the answers.

    `raw_s` is the naive figure (final answer's arrival minus the end's earliest time), kept
    to say how far off it was.
    """

    reason: str
    raw_s: float


def detection_delay(
    history: RunHistory, end: RunEnd | None, clock: ClockMap
) -> DelayBounds | DelayArtefact | None:
    """The detection delay of a followed run, as bounds, an artefact or None (unknown).

    None when the run was never seen final by a poll (a synchronous run has no delay), its end
    is unknown or the target's clock is unknown.

    Args:
        history: the run as followed (client clock, target seconds).
        end: when it ended on the target's clock.
        clock: client clock to target epoch.
    """
    index = _first_final(history)
    if index is None or index == 0 or end is None or not clock.known:
        return None
    observations = history.observations
    final = observations[index]
    arrived = clock.epoch(final.at + final.exchange.elapsed_s)
    still_going = clock.epoch(_last_unfinished(history, index).at)
    margin = clock.uncertainty_s
    earliest = max(still_going, end.earliest - margin)
    latest = min(arrived, end.latest + margin)
    if earliest <= latest:
        return DelayBounds(lower_s=arrived - latest, upper_s=arrived - earliest)
    raw = arrived - end.earliest
    if end.earliest - margin > arrived:
        reason = (
            f"the run's end ({end.source}) lies {end.earliest - arrived:.2f} s after the answer "
            "showing it final arrived: the target's clock and the client's differ"
        )
    else:
        reason = (
            f"the run's end ({end.source}) lies {still_going - end.latest:.2f} s before an "
            "answer that still showed it unfinished was sent: the target's clock and the "
            "client's differ"
        )
    return DelayArtefact(reason=reason, raw_s=raw)


def _first_final(history: RunHistory) -> int | None:
    for index, observation in enumerate(history.observations):
        if observation.envelope is not None and observation.envelope.is_final:
            return index
    return None


def _last_unfinished(history: RunHistory, before: int) -> Observation:
    """The last answer before `before` showing the run unfinished; the start answer else."""
    for observation in reversed(history.observations[1:before]):
        if observation.envelope is not None and observation.envelope.status in _UNFINISHED:
            return observation
    return history.start


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayResolution:
    """How finely delays were measured: the run ends' source and the client's clock.

    Args:
        end_source: `admin` (exact ends) or `logs` (whole-second log times).
        clock: the client's clock and how well it maps to the target's.
    """

    end_source: str
    clock: ClockMap

    @property
    def exact(self) -> bool:
        """True when ends and clock are both exact (the embedded mock)."""
        return self.end_source == ADMIN_END and self.clock.uncertainty_s == 0

    def describe(self) -> str:
        """One sentence for reports: what the delays' bounds come from."""
        if not self.clock.known:
            return f"delays unknown: {self.clock.source}"
        if self.end_source == ADMIN_END:
            ends = "run ends exact (the mock's admin API)"
        else:
            ends = (
                f"run ends from log times in whole seconds (resolution "
                f"{LOG_TIME_RESOLUTION_S:g} s, read as UTC), bounded by each poll's send and "
                "receive times"
            )
        clock = self.clock.source
        if self.clock.uncertainty_s > 0:
            clock += f" to +/-{self.clock.uncertainty_s:.3f} s"
        prefix = "exact: " if self.exact else ""
        return f"{prefix}{ends}; {clock}"


def admin_root(base_url: str) -> str:
    """Where a mock's admin API is: `/__admin` at the root of `base_url`'s origin.

    The mock serves its API under both prefixes but its admin API only at the root
    (interfaces.md, admin API).
    """
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "/__admin", "", ""))


def clock_reading(body: object) -> tuple[float, float, bool] | None:
    """`(now epoch s, time_scale, frozen)` from a `/__admin/clock` answer, None if it is not one.

    interfaces.md, admin API: `{"now": "<ISO 8601>", "time_scale": x, "frozen": bool}`.
    """
    if not isinstance(body, Mapping):
        return None
    now, scale, frozen = body.get("now"), body.get("time_scale"), body.get("frozen", False)
    if not isinstance(now, str) or not isinstance(frozen, bool):
        return None
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        return None
    if not (math.isfinite(scale) and scale > 0):
        return None
    try:
        epoch = parse_iso(now)
    except ValueError:
        return None
    return epoch, float(scale), frozen


def mock_clock_map(
    reading: tuple[float, float, bool],
    *,
    sent_at: float,
    received_at: float,
    monotonic: Callable[[], float],
) -> tuple[Callable[[], float], ClockMap]:
    """A client clock on a mock's virtual epoch from one `/__admin/clock` reading.

    The reading was taken somewhere between `sent_at` and `received_at` (real monotonic
    seconds), so the clock is known to half that round trip, in virtual seconds. A frozen
    mock's clock is followed at one second per second.

    Args:
        reading: `clock_reading`'s value.
        sent_at: real monotonic time the request left.
        received_at: real monotonic time its answer arrived.
        monotonic: the real clock the client clock runs on.
    """
    virtual, scale, frozen = reading
    rate = 1.0 if frozen else scale
    anchor = (sent_at + received_at) / 2

    def clock() -> float:
        return virtual + (monotonic() - anchor) * rate

    uncertainty = (received_at - sent_at) / 2 * rate
    source = f"the mock's clock (/__admin/clock, time scale {scale:g})"
    return clock, ClockMap(source=source, scale=rate, uncertainty_s=uncertainty)


ClockSample = tuple[object, float, float]
"""One `/__admin/clock` answer body with the real monotonic times it was sent and received."""


def pick_clock(
    samples: Sequence[ClockSample], *, monotonic: Callable[[], float]
) -> tuple[Callable[[], float], ClockMap] | None:
    """The client clock of the sample with the shortest round trip; None when there is no
    sample or one is not a clock reading (the target is not a mock with an open admin API).

    Args:
        samples: `(body, sent_at, received_at)` of each reading taken.
        monotonic: the real clock the returned client clock runs on.
    """
    best: tuple[Callable[[], float], ClockMap] | None = None
    for body, sent_at, received_at in samples:
        reading = clock_reading(body)
        if reading is None:
            return None
        found = mock_clock_map(
            reading, sent_at=sent_at, received_at=received_at, monotonic=monotonic
        )
        if best is None or found[1].uncertainty_s < best[1].uncertainty_s:
            best = found
    return best
