"""The mock's virtual clock: virtual POSIX seconds running `time_scale` times faster than real.

Virtual time is `anchor_virtual + (real() - anchor_real) * time_scale`; every jump, scale change or
freeze moves the anchor to the current instant, so `now()` stays continuous across scale and freeze
changes. The real-time source is injected (default `time.monotonic`), so tests drive the clock with
a fake one and never sleep.

Documented maxima (every move beyond them is refused with a `ValueError` naming the bound, so
no date ever leaves the range a `datetime` can show): virtual time stays within
[`MIN_TIMESTAMP`, `MAX_TIMESTAMP`] (1970-01-01 to 9000-01-01 UTC; a clock running into the upper
bound stops there), one jump moves at most `MAX_ADVANCE_S` (366 days) forward, and the scale is
at most `MAX_TIME_SCALE` (10^6 virtual seconds per real second).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar, Protocol

__all__ = [
    "MAX_ADVANCE_S",
    "MAX_TIMESTAMP",
    "MAX_TIME_SCALE",
    "MIN_TIMESTAMP",
    "ClockSettings",
    "VirtualClock",
    "check_instant",
    "check_time_scale",
    "format_iso",
]

MIN_TIMESTAMP = 0.0
"""The earliest virtual time (1970-01-01T00:00:00Z), in POSIX seconds."""
MAX_TIMESTAMP = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
"""The latest virtual time (9000-01-01T00:00:00Z): far from year 9999, where dates end."""
MAX_ADVANCE_S = 366 * 86_400.0
"""The longest single jump forward (`advance_s`, or `now` ahead of the clock): 366 days."""
MAX_TIME_SCALE = 1e6
"""The fastest clock: virtual seconds per real second (a real second is 11.6 virtual days)."""


def format_iso(timestamp: float) -> str:
    """Format virtual POSIX seconds as ISO 8601 UTC with a `Z` suffix (milliseconds kept).

    Args:
        timestamp: POSIX seconds (UTC).
    """
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ClockSettings(Protocol):
    """What a clock is built from (the config's `[mock]` table, `MockSettings`)."""

    @property
    def start(self) -> datetime | None:
        """Where the clock starts; None for the wall time now."""

    @property
    def time_scale(self) -> float:
        """Virtual seconds per real second."""


def _finite(value: object) -> float | None:
    """`value` as a finite float; None for anything else (booleans, NaN, infinities)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_time_scale(scale: object) -> float:
    """`scale` as a valid time scale: a finite number in (0, `MAX_TIME_SCALE`].

    Raises:
        ValueError: naming the bound it breaks.
    """
    value = _finite(scale)
    if value is None or not 0 < value <= MAX_TIME_SCALE:
        raise ValueError(f"time_scale must be a number > 0 and <= {MAX_TIME_SCALE:g}")
    return value


def check_instant(when: object, name: str = "now") -> float:
    """`when` as a valid virtual time: POSIX seconds in [`MIN_TIMESTAMP`, `MAX_TIMESTAMP`].

    Args:
        when: the value to check.
        name: how messages call it.

    Raises:
        ValueError: naming the range.
    """
    value = _finite(when)
    if value is None or not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise ValueError(
            f"{name} must be between {format_iso(MIN_TIMESTAMP)} and {format_iso(MAX_TIMESTAMP)}"
        )
    return value


class VirtualClock:
    """Virtual time for the mock: scalable, freezable, settable, with listeners for every move.

    Its documented maxima are class attributes: `MAX_TIME_SCALE`, `MAX_ADVANCE_S`,
    `MIN_TIMESTAMP` and `MAX_TIMESTAMP` (the module constants of the same names).
    """

    MAX_TIME_SCALE: ClassVar[float] = MAX_TIME_SCALE
    MAX_ADVANCE_S: ClassVar[float] = MAX_ADVANCE_S
    MIN_TIMESTAMP: ClassVar[float] = MIN_TIMESTAMP
    MAX_TIMESTAMP: ClassVar[float] = MAX_TIMESTAMP

    __slots__ = (
        "_anchor_real",
        "_anchor_virtual",
        "_frozen",
        "_initial_scale",
        "_listeners",
        "_real_time",
        "_scale",
        "_start",
    )

    def __init__(
        self,
        *,
        start: float,
        time_scale: float = 1.0,
        real_time: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a clock reading `start` now and running `time_scale` virtual s per real s.

        Args:
            start: virtual POSIX seconds (UTC) the clock reads at creation and after `reset()`.
            time_scale: virtual seconds per real second, in (0, `MAX_TIME_SCALE`].
            real_time: the real monotonic time source, in seconds.

        Raises:
            ValueError: `start` or `time_scale` is out of its documented range.
        """
        self._start = check_instant(start, "start")
        self._initial_scale = check_time_scale(time_scale)
        self._real_time = real_time
        self._scale = self._initial_scale
        self._frozen = False
        self._anchor_virtual = self._start
        self._anchor_real = real_time()
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def from_settings(
        cls,
        settings: ClockSettings,
        *,
        wall_time: Callable[[], float] = time.time,
        real_time: Callable[[], float] = time.monotonic,
    ) -> VirtualClock:
        """Build the clock a config asks for: its `start` (default: the wall time now) and scale.

        Args:
            settings: the `[mock]` table.
            wall_time: real UTC POSIX seconds, read once when `settings.start` is None.
            real_time: the real monotonic time source, in seconds.
        """
        start = settings.start.timestamp() if settings.start is not None else wall_time()
        return cls(start=start, time_scale=settings.time_scale, real_time=real_time)

    @property
    def start(self) -> float:
        """Virtual POSIX seconds the clock started at (and returns to on `reset()`)."""
        return self._start

    @property
    def time_scale(self) -> float:
        """Virtual seconds per real second."""
        return self._scale

    @property
    def frozen(self) -> bool:
        """True while virtual time stands still."""
        return self._frozen

    def now(self) -> float:
        """Virtual POSIX seconds (UTC), never past `MAX_TIMESTAMP`."""
        if self._frozen:
            return self._anchor_virtual
        now = self._anchor_virtual + (self._real_time() - self._anchor_real) * self._scale
        return now if now < MAX_TIMESTAMP else MAX_TIMESTAMP

    def now_datetime(self) -> datetime:
        """Virtual now as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` of virtual time, in [0, `MAX_ADVANCE_S`].

        Args:
            seconds: how far to jump, in virtual seconds.

        Raises:
            ValueError: `seconds` is negative, not finite, beyond `MAX_ADVANCE_S`, or would
                carry the clock past `MAX_TIMESTAMP`.
        """
        value = _finite(seconds)
        if value is None or not 0 <= value <= MAX_ADVANCE_S:
            raise ValueError(f"advance_s must be a number >= 0 and <= {MAX_ADVANCE_S:g}")
        target = self.now() + value
        if target > MAX_TIMESTAMP:
            raise ValueError(f"advance_s would pass the latest time {format_iso(MAX_TIMESTAMP)}")
        self._move(target, self._scale, self._frozen)

    def set_now(self, when: float) -> None:
        """Jump to virtual time `when`: backward anywhere in range, forward by `MAX_ADVANCE_S`.

        Args:
            when: virtual POSIX seconds (UTC), in [`MIN_TIMESTAMP`, `MAX_TIMESTAMP`].

        Raises:
            ValueError: `when` is out of range or more than `MAX_ADVANCE_S` ahead of now.
        """
        value = check_instant(when)
        if value - self.now() > MAX_ADVANCE_S:
            raise ValueError(f"now must be at most {MAX_ADVANCE_S:g} s ahead of the clock")
        self._move(value, self._scale, self._frozen)

    def set_time_scale(self, scale: float) -> None:
        """Change the speed of virtual time without a jump.

        Args:
            scale: virtual seconds per real second, in (0, `MAX_TIME_SCALE`].

        Raises:
            ValueError: `scale` is out of that range.
        """
        self._move(self.now(), check_time_scale(scale), self._frozen)

    def set_frozen(self, frozen: bool) -> None:
        """Stop or restart virtual time without a jump.

        Args:
            frozen: True to stop the clock, False to let it run.
        """
        self._move(self.now(), self._scale, bool(frozen))

    def real_delay_until(self, when: float) -> float | None:
        """Real seconds until the clock reads `when` (0 if already past); None while frozen.

        Args:
            when: virtual POSIX seconds.
        """
        if self._frozen:
            return None
        return max(0.0, when - self.now()) / self._scale

    def reset(self) -> None:
        """Return to the start time and initial scale, running."""
        self._move(self._start, self._initial_scale, False)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every jump, scale change, freeze change or reset.

        Args:
            listener: a callable taking no arguments.
        """
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (no error if it was not subscribed).

        Args:
            listener: a callable given to `subscribe`.
        """
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _move(self, virtual: float, scale: float, frozen: bool) -> None:
        self._anchor_virtual = virtual
        self._anchor_real = self._real_time()
        self._scale = scale
        self._frozen = frozen
        for listener in tuple(self._listeners):
            listener()
