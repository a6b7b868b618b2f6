"""Scenarios and shapes: locustfiles by name, Locust's timespans and users over time."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness.load import PROJECT_ROOT, SCENARIOS, parse_timespan, scenario_file, shape_at


def test_scenario_files_exist_for_every_scenario() -> None:
    """Every scenario name maps to its locustfile, dashes becoming underscores."""
    for name in SCENARIOS:
        path = scenario_file(name, PROJECT_ROOT)
        assert path.name == name.replace("-", "_") + ".py"
    with pytest.raises(UsageError, match="unknown scenario 'nope'"):
        scenario_file("nope", PROJECT_ROOT)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("60s", 60.0), ("2m", 120.0), ("1h30m", 5400.0)]
)
def test_parse_timespan_reads_locust_syntax(text: str, seconds: float) -> None:
    """Durations use Locust's -t syntax."""
    assert parse_timespan(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0s", "5x", "-3"])
def test_parse_timespan_rejects_bad_values(text: str) -> None:
    """A bad --duration names the flag."""
    with pytest.raises(UsageError, match="--duration"):
        parse_timespan(text)


def test_constant_shape_holds_users_until_the_end() -> None:
    """The constant shape runs -u users at -r until the duration, then ends the test."""
    assert shape_at("constant", 0, users=10, spawn_rate=2, duration_s=30) == (10, 2)
    assert shape_at("constant", 30, users=10, spawn_rate=2, duration_s=30) is None


def test_ramp_shape_grows_linearly() -> None:
    """The ramp shape climbs from 1 user to -u over the duration."""
    counts = [shape_at("ramp", t, users=10, spawn_rate=1, duration_s=100) for t in (0, 50, 99)]
    assert [c[0] for c in counts if c] == [1, 5, 10]


def test_step_shape_has_four_levels() -> None:
    """The step shape holds a quarter, half, three quarters and all of -u in turn."""
    levels = [shape_at("step", t, users=8, spawn_rate=1, duration_s=40) for t in (0, 10, 20, 35)]
    assert [level[0] for level in levels if level] == [2, 4, 6, 8]


def test_spike_shape_peaks_in_the_middle_fifth() -> None:
    """The spike shape runs a fifth of -u, -u between 40% and 60%, then a fifth again."""
    values = [shape_at("spike", t, users=10, spawn_rate=1, duration_s=100) for t in (10, 50, 70)]
    assert [value[0] for value in values if value] == [2, 10, 2]


def test_soak_shape_reaches_peak_in_a_tenth() -> None:
    """The soak shape holds -u with a spawn rate that reaches it within a tenth of the run."""
    assert shape_at("soak", 0, users=100, spawn_rate=1, duration_s=1000) == (100, 1.0)
    assert shape_at("soak", 0, users=100, spawn_rate=1, duration_s=100) == (100, 10.0)
    with pytest.raises(UsageError, match="--shape"):
        shape_at("zigzag", 0, users=1, spawn_rate=1, duration_s=10)


def test_shape_without_duration_ends_after_a_minute() -> None:
    """Without -t a shape runs for 60 s."""
    assert shape_at("ramp", 59, users=4, spawn_rate=1, duration_s=None) is not None
    assert shape_at("ramp", 60, users=4, spawn_rate=1, duration_s=None) is None
