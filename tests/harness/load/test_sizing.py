"""Polling sizing: candidates, measurement maths and the recommendation."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness._polling import FixedJitteredStrategy
from harness.load import (
    Candidate,
    FlowSample,
    expected_fixed,
    measure,
    parse_candidates,
    parse_duration_dist,
    recommend,
    sample_of,
    sizing_results,
)
from tests.harness.factories import history, poll

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


def test_measure_scales_the_per_flow_rate_to_flows_in_flight() -> None:
    """Status rate is flows x polls / flow-seconds in flight; delays give mean and p95."""
    samples = [
        FlowSample(polls=4, in_flight_s=20.0, delay_s=1.0),
        FlowSample(polls=6, in_flight_s=30.0, delay_s=3.0),
        None,
    ]
    measured = measure(FIXED_5, samples, flows=100)
    assert measured.status_rps == pytest.approx(100 * 10 / 50)
    assert measured.mean_delay_s == pytest.approx(2.0)
    assert measured.p95_delay_s == 3.0
    assert measured.lost == 1
    assert measured.polls_per_flow == 5


def test_recommend_picks_the_cheapest_candidate_within_budget() -> None:
    """The recommendation is the lowest status rate whose p95 delay meets the budget."""
    cheap_slow = measure(FIXED_10, [FlowSample(polls=2, in_flight_s=20, delay_s=9)], 10)
    dear_fast = measure(FIXED_5, [FlowSample(polls=4, in_flight_s=20, delay_s=4)], 10)
    best, text = recommend([dear_fast, cheap_slow], max_delay_s=10)
    assert best is cheap_slow
    assert text.startswith("fixed 10s: 1.00 status requests/s for 10 flows in flight")
    best, _ = recommend([dear_fast, cheap_slow], max_delay_s=5)
    assert best is dear_fast


def test_recommend_says_when_nothing_meets_the_budget() -> None:
    """Without a candidate within budget there is no recommendation, and the text says so."""
    slow = measure(FIXED_10, [FlowSample(polls=2, in_flight_s=20, delay_s=9)], 10)
    best, text = recommend([slow], max_delay_s=1, stat="mean")
    assert best is None
    assert text == "no candidate meets a mean delay of 1 s; the smallest mean delay was 9.00 s"


def test_recommend_skips_candidates_that_lost_flows() -> None:
    """A candidate that lost a flow (never saw it final) is not recommended."""
    lossy = measure(FIXED_10, [FlowSample(polls=2, in_flight_s=20, delay_s=1), None], 10)
    assert recommend([lossy], max_delay_s=10)[0] is None


def test_sizing_results_tag_rows_with_their_strategy() -> None:
    """One SizingResult whose rows carry their strategy (grouped, by interval) and mark the pick."""
    exp = Candidate(strategy="exponential", interval_s=2)
    one = [FlowSample(polls=2, in_flight_s=20, delay_s=1)]
    best = measure(FIXED_10, one, 1)
    (result,) = sizing_results(
        [best, measure(exp, one, 1), measure(FIXED_5, one, 1)],
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


def test_sample_of_measures_to_the_first_final_answer() -> None:
    """A flow's delay runs from the run's end to the arrival of the first final answer."""
    run = history(poll(5.0), poll(10.0, "completed"), poll(15.0, "completed"))
    sample = sample_of(run, ended_at=7.5)
    assert sample == FlowSample(
        polls=3, in_flight_s=pytest.approx(10.05), delay_s=pytest.approx(2.55)
    )
    assert sample_of(history(poll(5.0)), ended_at=1.0) is None


def test_expected_fixed_is_half_the_interval_and_n_over_t() -> None:
    """The analytic expectation of a fixed interval: mean delay T/2 and N/T requests/s."""
    assert expected_fixed(8.0, 40) == (4.0, 5.0)
