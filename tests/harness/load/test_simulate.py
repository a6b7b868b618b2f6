"""The sizing models: the duration parser, the closed form and the discrete-event simulation."""

from __future__ import annotations

import random

import pytest

from harness._exceptions import UsageError
from harness._polling import FixedStrategy, fixed
from harness.load import (
    Candidate,
    DurationDist,
    EmpiricalDurations,
    closed_form,
    parse_duration,
    simulate,
)

LOGNORMAL = parse_duration("lognormal:median_s=20,sigma=0.6")
UNIFORM = parse_duration("uniform:min_s=20,max_s=120")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gamma:k=2", "unknown distribution 'gamma'"),
        ("lognormal:mean_s=3", "lognormal takes median_s, sigma, max_s"),
        ("lognormal:median_s=20", "lognormal needs sigma"),
        ("lognormal:median_s=abc,sigma=1", "is not key=number"),
        ("lognormal:median_s=-5,sigma=1", "median_s must be a finite number > 0"),
        ("lognormal:median_s=5,sigma=-1", "sigma must be a finite number >= 0"),
        ("exponential:mean_s=nan", "mean_s must be a finite number > 0"),
        ("uniform:min_s=9,max_s=1", "uniform needs min_s <= max_s"),
        ("fixed:", "fixed needs s"),
        ("fixed:0", "s must be a finite number > 0"),
    ],
)
def test_parse_duration_refuses_bad_text_naming_the_flag(text: str, message: str) -> None:
    """Each malformed distribution is a usage error that names --duration-dist and the fault."""
    with pytest.raises(UsageError, match="--duration-dist") as raised:
        parse_duration(text)
    assert message in str(raised.value)


def test_parse_duration_reads_the_mock_config_syntax() -> None:
    """The flag's syntax is the mock's `duration` table; bare `fixed:30` means s=30."""
    assert parse_duration("fixed:30").table() == {"dist": "fixed", "s": 30.0}
    assert parse_duration("fixed:s=30") == parse_duration("fixed:30")
    dist = parse_duration("lognormal:sigma=0.5,median_s=180,max_s=900")
    assert dist.table() == {"dist": "lognormal", "median_s": 180.0, "sigma": 0.5, "max_s": 900.0}
    assert dist.describe() == "lognormal:median_s=180,sigma=0.5,max_s=900"


@pytest.mark.parametrize("durations", [LOGNORMAL, UNIFORM], ids=["lognormal", "uniform"])
@pytest.mark.parametrize("interval", [2.0, 5.0, 15.0])
def test_closed_form_agrees_with_the_simulation(durations: DurationDist, interval: float) -> None:
    """For a fixed interval the exact closed form and 20 000 seeded simulated flows agree:
    polls per flow and mean delay within 2 %, p95 within 3 %, R = C/T exactly."""
    strategy = fixed(interval)
    computed = closed_form(strategy, durations, 50, deadline_s=600)
    simulated = simulate(
        strategy,
        durations,
        flows=50,
        deadline_s=2700,
        runs=20_000,
        seed=3,
    )
    assert computed is not None
    assert computed.status_rps == simulated.status_rps == pytest.approx(50 / interval)
    assert simulated.polls_per_flow == pytest.approx(computed.polls_per_flow, rel=0.02)
    assert simulated.mean_delay_s == pytest.approx(computed.mean_delay_s, rel=0.02)
    assert simulated.p95_delay_s == pytest.approx(computed.p95_delay_s, rel=0.03)
    assert simulated.max_delay_s <= computed.max_delay_s == pytest.approx(interval)
    assert computed.mean_delay_s == pytest.approx(interval / 2, rel=0.05)


def test_closed_form_is_exact_for_a_fixed_duration() -> None:
    """D = 12 s polled every 5 s: noticed by the third poll at 15 s, 3 s late, every time."""
    figures = closed_form(fixed(5), parse_duration("fixed:12"), 10, deadline_s=600)
    assert figures is not None
    assert figures.polls_per_flow == pytest.approx(3.0)
    assert figures.mean_delay_s == pytest.approx(3.0)
    assert figures.p95_delay_s == pytest.approx(3.0, abs=1e-9)
    assert figures.max_delay_s == pytest.approx(3.0, abs=1e-9)
    assert figures.status_rps == pytest.approx(2.0)


def test_only_a_fixed_interval_has_a_closed_form() -> None:
    """Jittered, exponential and Retry-After schedules say `no closed form` (None); the
    Retry-After candidate's base is fixed, so it has one."""
    for strategy in ("fixed_jittered", "exponential"):
        built = Candidate(strategy=strategy, interval_s=5).build()
        assert closed_form(built, UNIFORM, 10, deadline_s=600) is None
    honouring = Candidate(strategy="retry_after", interval_s=5).build()
    assert isinstance(honouring, FixedStrategy)
    assert closed_form(honouring, UNIFORM, 10, deadline_s=600) is not None


def test_simulation_follows_the_real_exponential_schedule() -> None:
    """The candidate's own strategy object: 2, 4, 8, 16, 32, 60 s waits notice a 100 s run
    at the sixth poll, 122 s after the start, 22 s late."""
    strategy = Candidate(strategy="exponential", interval_s=2).build()
    figures = simulate(strategy, parse_duration("fixed:100"), flows=10, deadline_s=2700, runs=50)
    assert figures.polls_per_flow == 6
    assert figures.mean_delay_s == pytest.approx(22.0)
    assert figures.max_delay_s == pytest.approx(22.0)
    assert figures.status_rps == pytest.approx(10 * 6 / 122)
    assert figures.lost == 0


def test_simulation_follows_the_jittered_first_poll() -> None:
    """fixed_jittered 10 s: the first poll lands in [10, 20] s, the rest every 10 s, so a 1 s
    run is noticed 9-19 s late by one poll; the draws are seeded."""
    strategy = Candidate(strategy="fixed_jittered", interval_s=10).build()
    figures = simulate(strategy, parse_duration("fixed:1"), flows=1, deadline_s=2700, seed=5)
    assert figures.polls_per_flow == 1
    assert 9 <= figures.mean_delay_s <= 19
    assert figures.mean_delay_s == pytest.approx(14.0, abs=0.5)
    again = simulate(strategy, parse_duration("fixed:1"), flows=1, deadline_s=2700, seed=5)
    assert again == figures


def test_simulation_loses_runs_that_outlast_the_deadline() -> None:
    """A run longer than the deadline is lost and counts in no other figure."""
    figures = simulate(fixed(5), parse_duration("fixed:100"), flows=1, deadline_s=30, runs=10)
    assert figures.lost == 1.0
    assert figures.polls_per_flow == 0


def test_empirical_durations_drive_both_models() -> None:
    """Measured durations are resampled by the simulation and summed by the closed form."""
    durations = EmpiricalDurations((12.0, 12.0, 12.0))
    assert durations.draw(random.Random(1)) == 12.0
    assert durations.survival(11.9) == 1.0
    assert durations.survival(12.0) == 0.0
    computed = closed_form(fixed(5), durations, 1, deadline_s=600)
    assert computed is not None
    assert computed.polls_per_flow == pytest.approx(3.0)
    simulated = simulate(fixed(5), durations, flows=1, deadline_s=60, runs=20)
    assert simulated.mean_delay_s == pytest.approx(computed.mean_delay_s)
    with pytest.raises(ValueError, match="at least one"):
        EmpiricalDurations(())


@pytest.mark.parametrize("text", ["uniform:min_s=20,max_s=20", "lognormal:median_s=20,sigma=0"])
def test_a_distribution_with_no_spread_is_a_fixed_duration(text: str) -> None:
    """The mock's config accepts min_s = max_s and sigma 0: both models treat them exactly
    as `fixed:20` (no scipy distribution with zero scale)."""
    given = closed_form(fixed(5), parse_duration(text), 10, deadline_s=600)
    assert given == closed_form(fixed(5), parse_duration("fixed:20"), 10, deadline_s=600)
    assert simulate(fixed(5), parse_duration(text), flows=10, deadline_s=600, runs=5) == (
        simulate(fixed(5), parse_duration("fixed:20"), flows=10, deadline_s=600, runs=5)
    )


def test_the_closed_form_stops_at_the_deadline() -> None:
    """Runs beyond the deadline are lost: a duration of 1e9 s (the flag's bound) is all lost
    without summing a term per poll up to 1e9 s; a partly cut one keeps the runs within it."""
    cut = closed_form(fixed(5), parse_duration("fixed:1e9"), 10, deadline_s=600)
    assert cut is not None
    assert cut.lost == 1.0
    partly = closed_form(fixed(5), parse_duration("uniform:min_s=10,max_s=1e9"), 1, deadline_s=20)
    assert partly is not None
    assert partly.lost == pytest.approx(1 - 10 / (1e9 - 10))
    assert partly.polls_per_flow == pytest.approx(3.5)
    assert partly.mean_delay_s == pytest.approx(2.5, abs=1e-6)


@pytest.mark.parametrize("text", ["fixed:30,s=40", "uniform:min_s=1,max_s=5,min_s=2"])
def test_a_key_given_twice_is_refused(text: str) -> None:
    """A duplicate key is not silently overwritten: a usage error naming the flag."""
    with pytest.raises(UsageError, match=r"--duration-dist: .* given twice"):
        parse_duration(text)
