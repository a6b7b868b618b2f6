"""The virtual clock: scale, freeze, jumps, delays, reset and listeners, on a fake real clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mock_server._clock import (
    MAX_ADVANCE_S,
    MAX_TIME_SCALE,
    MAX_TIMESTAMP,
    VirtualClock,
    format_iso,
)
from mock_server._config import MockSettings

START = 1_781_050_200.0  # 2026-06-10T00:10:00Z


class FakeRealTime:
    """A real-time source the test moves by hand."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def real() -> FakeRealTime:
    return FakeRealTime()


def test_now_runs_at_time_scale(real: FakeRealTime) -> None:
    """Virtual time moves `time_scale` seconds per real second from `start`."""
    clock = VirtualClock(start=START, time_scale=60, real_time=real)
    assert clock.now() == START
    real.value += 2
    assert clock.now() == START + 120


def test_now_datetime_is_aware_utc(real: FakeRealTime) -> None:
    """`now_datetime` is the same instant as an aware UTC datetime."""
    clock = VirtualClock(start=START, real_time=real)
    assert clock.now_datetime() == datetime(2026, 6, 10, 0, 10, tzinfo=UTC)


def test_advance_jumps_forward_and_refuses_negative(real: FakeRealTime) -> None:
    """`advance` adds virtual seconds at once and rejects a negative amount."""
    clock = VirtualClock(start=START, real_time=real)
    clock.advance(3600)
    assert clock.now() == START + 3600
    with pytest.raises(ValueError, match="advance_s"):
        clock.advance(-1)


def test_set_now_moves_backward_and_keeps_running(real: FakeRealTime) -> None:
    """`set_now` may go back in time and the clock keeps running from there."""
    clock = VirtualClock(start=START, time_scale=2, real_time=real)
    clock.set_now(START - 50)
    real.value += 5
    assert clock.now() == START - 40


def test_scale_change_keeps_now_continuous(real: FakeRealTime) -> None:
    """Changing the scale does not jump: only later real time runs at the new speed."""
    clock = VirtualClock(start=START, time_scale=1, real_time=real)
    real.value += 10
    clock.set_time_scale(10)
    assert clock.now() == START + 10
    real.value += 1
    assert clock.now() == START + 20
    with pytest.raises(ValueError, match="time_scale"):
        clock.set_time_scale(0)


def test_frozen_clock_stands_still_and_resumes_continuously(real: FakeRealTime) -> None:
    """A frozen clock does not move with real time and resumes from where it stopped."""
    clock = VirtualClock(start=START, real_time=real)
    real.value += 5
    clock.set_frozen(True)
    real.value += 100
    assert clock.now() == START + 5
    assert clock.frozen
    clock.advance(10)
    assert clock.now() == START + 15
    clock.set_frozen(False)
    real.value += 1
    assert clock.now() == START + 16


def test_real_delay_until(real: FakeRealTime) -> None:
    """Delays are virtual distance over scale, 0 when past, None when frozen."""
    clock = VirtualClock(start=START, time_scale=4, real_time=real)
    assert clock.real_delay_until(START + 8) == 2
    assert clock.real_delay_until(START - 8) == 0
    clock.set_frozen(True)
    assert clock.real_delay_until(START + 8) is None


def test_reset_restores_start_scale_and_running(real: FakeRealTime) -> None:
    """`reset` returns to the start time and initial scale, unfrozen."""
    clock = VirtualClock(start=START, time_scale=3, real_time=real)
    clock.advance(500)
    clock.set_time_scale(9)
    clock.set_frozen(True)
    clock.reset()
    assert (clock.now(), clock.time_scale, clock.frozen) == (START, 3, False)


def test_listeners_are_called_after_every_move(real: FakeRealTime) -> None:
    """Subscribers hear every jump, scale change, freeze change and reset, after the change."""
    clock = VirtualClock(start=START, real_time=real)
    seen: list[float] = []
    clock.subscribe(lambda: seen.append(clock.now()))
    clock.advance(1)
    clock.set_now(START + 10)
    clock.set_time_scale(2)
    clock.set_frozen(True)
    clock.reset()
    assert seen == [START + 1, START + 10, START + 10, START + 10, START]


def test_from_settings_uses_configured_start_or_wall_time(real: FakeRealTime) -> None:
    """A configured start wins; without one the clock starts at the injected wall time."""
    settings = MockSettings(start=datetime(2026, 6, 10, 0, 10, tzinfo=UTC), time_scale=5)
    clock = VirtualClock.from_settings(settings, wall_time=lambda: 1.0, real_time=real)
    assert (clock.now(), clock.time_scale) == (START, 5)
    clock = VirtualClock.from_settings(MockSettings(), wall_time=lambda: 42.0, real_time=real)
    assert clock.start == 42.0


def test_format_iso_uses_z_suffix() -> None:
    """ISO timestamps are UTC with a `Z` suffix."""
    assert format_iso(START) == "2026-06-10T00:10:00.000Z"


@pytest.mark.parametrize(
    ("move", "named"),
    [
        (lambda clock: clock.advance(1e12), "<= 3.16224e+07"),
        (lambda clock: clock.advance(10**400), "<= 3.16224e+07"),
        (lambda clock: clock.advance(float("nan")), "advance_s"),
        (lambda clock: clock.set_time_scale(1e308), "<= 1e+06"),
        (lambda clock: clock.set_time_scale(float("nan")), "time_scale"),
        (lambda clock: clock.set_now(-62_135_596_800.0), "between 1970-01-01"),
        (lambda clock: clock.set_now(1e15), "9000-01-01"),
        (lambda clock: clock.set_now(START + 400 * 86_400), "ahead of the clock"),
    ],
)
def test_moves_past_the_documented_maxima_are_refused(
    real: FakeRealTime, move: Callable[[VirtualClock], None], named: str
) -> None:
    """Jumps, scales and instants beyond the maxima raise a ValueError naming the bound."""
    clock = VirtualClock(start=START, real_time=real)
    with pytest.raises(ValueError, match=re.escape(named)):
        move(clock)
    assert (clock.now(), clock.time_scale) == (START, 1.0)


def test_the_largest_allowed_moves_are_accepted(real: FakeRealTime) -> None:
    """A jump of exactly MAX_ADVANCE_S and the scale MAX_TIME_SCALE are allowed."""
    clock = VirtualClock(start=START, real_time=real)
    clock.advance(MAX_ADVANCE_S)
    clock.set_time_scale(MAX_TIME_SCALE)
    assert (clock.now(), clock.time_scale) == (START + MAX_ADVANCE_S, MAX_TIME_SCALE)


def test_a_fast_clock_stops_at_the_latest_time(real: FakeRealTime) -> None:
    """A clock running into MAX_TIMESTAMP stays there and still formats as a date."""
    clock = VirtualClock(start=MAX_TIMESTAMP - 10, time_scale=MAX_TIME_SCALE, real_time=real)
    real.value += 1e9
    assert clock.now() == MAX_TIMESTAMP
    assert format_iso(clock.now()) == "9000-01-01T00:00:00.000Z"
    with pytest.raises(ValueError, match="latest time"):
        clock.advance(1)


def test_a_start_or_scale_out_of_range_is_refused(real: FakeRealTime) -> None:
    """The constructor checks the same ranges as the moves."""
    with pytest.raises(ValueError, match="time_scale"):
        VirtualClock(start=START, time_scale=1e9, real_time=real)
    with pytest.raises(ValueError, match="start"):
        VirtualClock(start=1e13, real_time=real)
