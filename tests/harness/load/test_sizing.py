"""Polling sizing: candidates, measurement maths and the recommendation."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness._polling import FixedJitteredStrategy
from harness.load import (
    ADMIN_END,
    LOG_END,
    MACHINE_CLOCK,
    Candidate,
    ClockMap,
    DelayArtefact,
    DelayBounds,
    DelayResolution,
    FlowSample,
    Measurement,
    RunEnd,
    exact_end,
    expected_fixed,
    measure,
    parse_candidates,
    parse_duration_dist,
    recommend,
    sample_of,
    sizing_results,
)
from tests.harness.factories import history, poll

EXACT = DelayResolution(end_source=ADMIN_END, clock=ClockMap(source="the mock's own clock"))
LOGS = DelayResolution(end_source=LOG_END, clock=MACHINE_CLOCK)
FIXED_5 = Candidate(strategy="fixed", interval_s=5)
FIXED_10 = Candidate(strategy="fixed", interval_s=10)


def test_parse_candidates_reads_bare_and_named_intervals() -> None:
    """Bare numbers take the default strategy; `name:seconds` names its own."""
    candidates = parse_candidates("5, exponential:2,fixed_jittered:10", default_strategy="fixed")
    assert [c.label for c in candidates] == ["fixed 5s", "exponential 2s", "fixed_jittered 10s"]
    assert candidates[2].jitter == 10

    assert candidates[2].build() == FixedJitteredStrategy(10.0, 10.0)


@pytest.mark.parametrize("text", ["", "0", "abc", "wobbly:5", "fixed:-1"])
def test_parse_candidates_rejects_bad_values(text: str) -> None:
    """A bad candidate names the --intervals flag."""
    with pytest.raises(UsageError, match="--intervals"):
        parse_candidates(text)


def test_parse_duration_dist_builds_mock_duration_tables() -> None:
    """Distributions use the mock config's keys; `fixed:30` is short for `fixed:s=30`."""
    assert parse_duration_dist("fixed:30") == {"dist": "fixed", "s": 30.0}
    assert parse_duration_dist("uniform:min_s=5,max_s=9") == {
        "dist": "uniform",
        "min_s": 5.0,
        "max_s": 9.0,
    }
    with pytest.raises(UsageError, match="takes median_s, sigma, max_s"):
        parse_duration_dist("lognormal:mean_s=3")
    with pytest.raises(UsageError, match="unknown distribution"):
        parse_duration_dist("gamma:k=2")


def _exact(delay_s: float) -> DelayBounds:
    return DelayBounds(lower_s=delay_s, upper_s=delay_s)


def _sample(
    polls: int, in_flight_s: float, delay: float | DelayBounds | DelayArtefact
) -> FlowSample:
    bounds = _exact(delay) if isinstance(delay, float | int) else delay
    return FlowSample(polls=polls, in_flight_s=in_flight_s, delay=bounds)


def _measure(candidate: Candidate, samples: list[FlowSample | None], flows: int) -> Measurement:
    return measure(candidate, samples, flows, resolution=EXACT)


def test_measure_scales_the_per_flow_rate_to_flows_in_flight() -> None:
    """Status rate is flows x polls / flow-seconds in flight; delays give mean and p95."""
    samples = [_sample(4, 20.0, 1.0), _sample(6, 30.0, 3.0), None]
    measured = _measure(FIXED_5, samples, flows=100)
    assert measured.status_rps == pytest.approx(100 * 10 / 50)
    assert measured.mean_delay_s == pytest.approx(2.0)
    assert measured.p95_delay_s == 3.0
    assert measured.lost == 1
    assert measured.polls_per_flow == 5


def test_measure_gives_bounds_of_the_statistics_and_counts_artefacts() -> None:
    """Mean and p95 lie between their values on the lower and upper bounds; artefacts apart."""
    artefact = DelayArtefact(reason="clocks differ", raw_s=-6761.0)
    samples = [
        _sample(2, 10.0, DelayBounds(lower_s=0.0, upper_s=1.0)),
        _sample(2, 10.0, DelayBounds(lower_s=1.0, upper_s=2.0)),
        _sample(2, 10.0, artefact),
    ]
    measured = measure(FIXED_5, samples, 3, resolution=LOGS)
    assert (measured.mean_delay.lower_s, measured.mean_delay.upper_s) == (0.5, 1.5)
    assert (measured.p95_delay.lower_s, measured.p95_delay.upper_s) == (1.0, 2.0)
    assert measured.artefacts == 1
    assert measured.artefact == "clocks differ"
    assert not measured.measured


def test_recommend_picks_the_cheapest_candidate_within_budget() -> None:
    """The recommendation is the lowest status rate whose p95 delay meets the budget."""
    cheap_slow = _measure(FIXED_10, [_sample(2, 20, 9.0)], 10)
    dear_fast = _measure(FIXED_5, [_sample(4, 20, 4.0)], 10)
    best, text = recommend([dear_fast, cheap_slow], max_delay_s=10)
    assert best is cheap_slow
    assert text.startswith("fixed 10s: the cheapest schedule within the p95 delay budget")
    assert "1.00 status requests/s for 10 flows in flight" in text
    assert "exact" in text
    assert "the next best, fixed 5s, costs 1.00 status requests/s more (+100%)" in text
    best, text = recommend([dear_fast, cheap_slow], max_delay_s=5)
    assert best is dear_fast
    assert "the only schedule within the budget" in text


def test_recommend_judges_bounds_on_their_upper_end_and_states_the_resolution() -> None:
    """A delay known only within bounds meets the budget only if its upper bound does."""
    bounded = measure(
        FIXED_5, [_sample(4, 20, DelayBounds(lower_s=2.0, upper_s=3.0))], 10, resolution=LOGS
    )
    assert recommend([bounded], max_delay_s=2.5)[0] is None
    best, text = recommend([bounded], max_delay_s=3.0)
    assert best is bounded
    assert "p95 delay 2.00-3.00 s" in text
    assert "whole seconds" in text


def test_recommend_never_rests_on_a_measurement_artefact() -> None:
    """A candidate with an artefact is not recommended; with nothing measured the text says so."""
    artefact = DelayArtefact(reason="the run's end lies 6761.00 s after ...", raw_s=-6761.0)
    spoiled = measure(FIXED_5, [_sample(4, 20, artefact)], 10, resolution=LOGS)
    best, text = recommend([spoiled], max_delay_s=10)
    assert best is None
    assert text.startswith("no recommendation: detection delays could not be measured")
    assert "6761.00 s" in text
    clean = _measure(FIXED_10, [_sample(2, 20, 20.0)], 10)
    best, text = recommend([spoiled, clean], max_delay_s=10)
    assert best is None
    assert "the smallest p95 delay was 20.00 s" in text
    assert "1 flows' figures were measurement artefacts" in text


def test_recommend_says_when_nothing_meets_the_budget() -> None:
    """Without a candidate within budget there is no recommendation, and the text says so."""
    slow = _measure(FIXED_10, [_sample(2, 20, 9.0)], 10)
    best, text = recommend([slow], max_delay_s=1, stat="mean")
    assert best is None
    assert text == "no candidate meets a mean delay of 1 s; the smallest mean delay was 9.00 s"


def test_recommend_skips_candidates_that_lost_flows() -> None:
    """A candidate that lost a flow (never saw it final) is not recommended."""
    lossy = _measure(FIXED_10, [_sample(2, 20, 1.0), None], 10)
    assert recommend([lossy], max_delay_s=10)[0] is None


def test_sizing_results_tag_rows_with_their_strategy() -> None:
    """One SizingResult whose rows carry their strategy (grouped, by interval) and mark the pick."""
    exp = Candidate(strategy="exponential", interval_s=2)
    one: list[FlowSample | None] = [_sample(2, 20, 1.0)]
    best = _measure(FIXED_10, one, 1)
    (result,) = sizing_results(
        [best, _measure(exp, one, 1), _measure(FIXED_5, one, 1)],
        "pick",
        best=best,
        max_delay_s=10,
    )
    assert [(row.strategy, row.interval_s) for row in result.rows] == [
        ("fixed", 5),
        ("fixed", 10),
        ("exponential", 2),
    ]
    assert [row.recommended for row in result.rows] == [False, True, False]
    assert (result.recommendation, result.max_delay_s) == ("pick", 10)
    assert result.delay_resolution.startswith("exact")


def test_sizing_rows_carry_both_bounds() -> None:
    """A row holds the delay's upper bound as its figure and the lower bound beside it."""
    bounded = measure(
        FIXED_5, [_sample(4, 20, DelayBounds(lower_s=0.4, upper_s=1.4))], 1, resolution=LOGS
    )
    (result,) = sizing_results([bounded], "none")
    (row,) = result.rows
    assert (row.mean_delay_low_s, row.mean_delay_s) == (0.4, 1.4)
    assert row.delay_text("mean") == "0.40-1.40"
    assert "whole seconds" in result.delay_resolution


def test_sample_of_measures_to_the_first_final_answer() -> None:
    """A flow's delay runs from the run's end to the arrival of the first final answer."""
    run = history(poll(5.0), poll(10.0, "completed"), poll(15.0, "completed"))
    sample = sample_of(run, exact_end(7.5), MACHINE_CLOCK)
    assert sample is not None
    assert (sample.polls, sample.in_flight_s) == (3, pytest.approx(10.05))
    assert sample.delay == DelayBounds(lower_s=pytest.approx(2.55), upper_s=pytest.approx(2.55))
    assert sample_of(history(poll(5.0)), exact_end(1.0), MACHINE_CLOCK) is None


def test_expected_fixed_is_half_the_interval_and_n_over_t() -> None:
    """The analytic expectation of a fixed interval: mean delay T/2 and N/T requests/s."""
    assert expected_fixed(8.0, 40) == (4.0, 5.0)


def test_a_flows_duration_runs_from_the_start_answer_to_the_runs_end() -> None:
    """The models' duration is the run's end (exact from the admin API, else the midpoint of
    its bounds) minus the start answer's arrival: never the detection time."""
    run = history(poll(5.0), poll(10.0, "completed"))
    exact = sample_of(run, exact_end(7.5), MACHINE_CLOCK)
    assert exact is not None
    assert exact.duration_s == pytest.approx(7.5 - 0.05)
    logged = RunEnd(earliest=7.0, latest=8.0, source=LOG_END)
    bounded = sample_of(run, logged, MACHINE_CLOCK)
    assert bounded is not None
    assert bounded.duration_s == pytest.approx(7.5 - 0.05)
