"""The mock's virtual clock: virtual POSIX seconds running `time_scale` times faster than real.

Virtual time is `anchor_virtual + (real() - anchor_real) * time_scale`; every jump, scale change or
freeze moves the anchor to the current instant, so `now()` stays continuous across scale and freeze
changes. The real-time source is injected (default `time.monotonic`), so tests drive the clock with
a fake one and never sleep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._config import MockSettings

__all__ = ["VirtualClock", "format_iso"]


def format_iso(timestamp: float) -> str:
    """Format virtual POSIX seconds as ISO 8601 UTC with a `Z` suffix (milliseconds kept).

    Args:
        timestamp: POSIX seconds (UTC).
    """
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_scale(scale: float) -> float:
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"time_scale must be a finite number > 0, got {scale!r}")
    return float(scale)


class VirtualClock:
    """Virtual time for the mock: scalable, freezable, settable, with listeners for every move."""

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
            time_scale: virtual seconds per real second, > 0.
            real_time: the real monotonic time source, in seconds.

        Raises:
            ValueError: `time_scale` is not a finite number > 0.
        """
        self._start = float(start)
        self._initial_scale = _check_scale(time_scale)
        self._real_time = real_time
        self._scale = self._initial_scale
        self._frozen = False
        self._anchor_virtual = self._start
        self._anchor_real = real_time()
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def from_settings(
        cls,
        settings: MockSettings,
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
        """Virtual POSIX seconds (UTC)."""
        if self._frozen:
            return self._anchor_virtual
        return self._anchor_virtual + (self._real_time() - self._anchor_real) * self._scale

    def now_datetime(self) -> datetime:
        """Virtual now as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` (>= 0) of virtual time.

        Args:
            seconds: how far to jump, in virtual seconds.

        Raises:
            ValueError: `seconds` is negative or not finite.
        """
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"advance_s must be a finite number >= 0, got {seconds!r}")
        self._move(self.now() + seconds, self._scale, self._frozen)

    def set_now(self, when: float) -> None:
        """Jump to virtual time `when` (forward or backward).

        Args:
            when: virtual POSIX seconds (UTC), finite.

        Raises:
            ValueError: `when` is not a finite number.
        """
        if not (isinstance(when, int | float) and math.isfinite(when)):
            raise ValueError(f"now must be a finite timestamp, got {when!r}")
        self._move(float(when), self._scale, self._frozen)

    def set_time_scale(self, scale: float) -> None:
        """Change the speed of virtual time without a jump.

        Args:
            scale: virtual seconds per real second, > 0.

        Raises:
            ValueError: `scale` is not a finite number > 0.
        """
        self._move(self.now(), _check_scale(scale), self._frozen)

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
