"""Detection delay with its resolution: bounds that hold the truth, artefacts never reported."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from typing import Any

import pytest

from harness._models import Endpoint, RunHistory
from harness.load import (
    LOG_TIME_RESOLUTION_S,
    MACHINE_CLOCK,
    ClockMap,
    DelayArtefact,
    DelayBounds,
    DelayResolution,
    admin_root,
    clock_reading,
    detection_delay,
    exact_end,
    log_end,
    pick_clock,
)
from tests.harness.factories import LOG_ENTRY, body, exchange, history, observation

EPOCH = 1_781_050_205.0
"""2026-06-10 00:10:05 UTC: the flows below run around it."""


def _log_time(epoch: float) -> str:
    """A log entry time as trigger-api.md writes it: whole seconds, no zone."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _poll(at: float, latency: float, status: str, logged_at: float | None = None) -> Any:
    logs = [] if logged_at is None else [{**LOG_ENTRY, "time": _log_time(logged_at)}]
    payload = body(status, logs=logs)
    return observation(exchange(Endpoint.STATUS, 200, payload, started_at=at, elapsed_s=latency))


def _followed(ended: float, interval: float, rng: random.Random) -> RunHistory:
    """A run started at EPOCH, ending at `ended`, polled every `interval` with random
    latency; each answer is produced at a random instant between its sending and arrival."""
    start = observation(
        exchange(Endpoint.START, 200, body("pending"), started_at=EPOCH, elapsed_s=0.05)
    )
    polls = []
    at = EPOCH + 0.05 + interval
    for _ in range(1000):
        latency = rng.uniform(0.01, 0.3)
        produced = at + rng.uniform(0.0, latency)
        final = produced >= ended
        polls.append(
            _poll(at, latency, "completed" if final else "pending", ended if final else None)
        )
        if final:
            break
        at += interval
    return history(*polls, start=start)


def _truth(run: RunHistory, ended: float) -> float:
    final = next(p for p in run.polls if p.envelope is not None and p.envelope.is_final)
    return final.at + final.exchange.elapsed_s - ended


def test_one_second_polling_gives_bounds_that_hold_the_truth_and_are_possible() -> None:
    """A 1 s interval with whole-second log times: every flow's bounds hold its true delay,
    the mean's bounds hold the true mean, and no figure exceeds interval + latency."""
    rng = random.Random(13)
    interval, flows = 1.0, 200
    runs = []
    for _ in range(flows):
        ended = EPOCH + rng.uniform(2.0, 30.0)
        runs.append((_followed(ended, interval, rng), ended))
    delays = [detection_delay(run, log_end(run), MACHINE_CLOCK) for run, _ in runs]
    truths = [_truth(run, ended) for run, ended in runs]
    for delay, truth in zip(delays, truths, strict=True):
        assert isinstance(delay, DelayBounds)
        assert delay.lower_s <= truth <= delay.upper_s
        assert delay.lower_s >= 0
        assert delay.upper_s <= interval + 0.3 + 0.05
    lower = statistics.fmean(d.lower_s for d in delays if isinstance(d, DelayBounds))
    upper = statistics.fmean(d.upper_s for d in delays if isinstance(d, DelayBounds))
    assert lower <= statistics.fmean(truths) <= upper <= interval + LOG_TIME_RESOLUTION_S
    naive = statistics.fmean(
        run.polls[-1].at + run.polls[-1].exchange.elapsed_s - int(ended) for run, ended in runs
    )
    assert naive > interval  # the figure the issue saw (1.40 s for 1 s): impossible


def test_an_exact_end_gives_an_exact_delay() -> None:
    """With the run's end known exactly (the mock's admin API) the bounds meet."""
    run = history(_poll(EPOCH + 5, 0.05, "pending"), _poll(EPOCH + 10, 0.05, "completed", EPOCH))
    delay = detection_delay(run, exact_end(EPOCH + 7.5), MACHINE_CLOCK)
    assert delay == DelayBounds(lower_s=pytest.approx(2.55), upper_s=pytest.approx(2.55))
    assert isinstance(delay, DelayBounds)
    assert delay.text() == "2.55 s"


def test_log_times_ahead_of_the_client_clock_are_an_artefact_never_a_negative_delay() -> None:
    """A time-scaled mock's virtual log times read with this machine's clock: an artefact."""
    virtual_end = EPOCH + 6800.0
    run = history(
        _poll(EPOCH + 5, 0.05, "pending"), _poll(EPOCH + 10, 0.05, "completed", virtual_end)
    )
    delay = detection_delay(run, log_end(run), MACHINE_CLOCK)
    assert isinstance(delay, DelayArtefact)
    assert delay.raw_s < 0
    assert "after the answer showing it final arrived" in delay.reason


def test_an_end_before_an_unfinished_answer_is_an_artefact() -> None:
    """A delay beyond the poll interval plus the resolution is an artefact too."""
    run = history(
        _poll(EPOCH + 5, 0.05, "pending"), _poll(EPOCH + 10, 0.05, "completed", EPOCH - 60)
    )
    delay = detection_delay(run, log_end(run), MACHINE_CLOCK)
    assert isinstance(delay, DelayArtefact)
    assert "still showed it unfinished" in delay.reason


def test_clock_uncertainty_widens_the_bounds() -> None:
    """An end known exactly on a clock read to +/- 0.2 s gives bounds 0.4 s wide."""
    run = history(_poll(EPOCH + 5, 0.0, "pending"), _poll(EPOCH + 10, 0.0, "completed", EPOCH))
    clock = ClockMap(source="a mock's clock", uncertainty_s=0.2)
    delay = detection_delay(run, exact_end(EPOCH + 8.0), clock)
    assert delay == DelayBounds(lower_s=pytest.approx(1.8), upper_s=pytest.approx(2.2))


def test_an_unknown_clock_or_end_gives_no_delay() -> None:
    """Without the target's clock, the run's end or a polled final answer, nothing is said."""
    run = history(_poll(EPOCH + 5, 0.05, "pending"), _poll(EPOCH + 10, 0.05, "completed", EPOCH))
    unknown = ClockMap(source="unknown", scale=50.0, known=False)
    assert detection_delay(run, log_end(run), unknown) is None
    assert detection_delay(run, None, MACHINE_CLOCK) is None
    assert detection_delay(history(_poll(EPOCH, 0.05, "pending")), None, MACHINE_CLOCK) is None


def test_resolution_says_exact_only_for_exact_ends_on_an_exact_clock() -> None:
    """The resolution sentence says `exact` on the embedded mock and names log times elsewhere."""
    exact = DelayResolution(end_source="admin", clock=ClockMap(source="the mock's own clock"))
    assert exact.exact
    assert exact.describe().startswith("exact: ")
    logs = DelayResolution(end_source="logs", clock=MACHINE_CLOCK).describe()
    assert "whole seconds" in logs
    assert "send and receive" in logs
    scaled = DelayResolution(
        end_source="admin", clock=ClockMap(source="the mock's clock", uncertainty_s=0.01)
    )
    assert not scaled.exact
    assert "+/-0.010 s" in scaled.describe()


@pytest.mark.parametrize(
    "answer",
    [None, [], {"now": "yesterday", "time_scale": 1}, {"now": "2026-06-10T00:10:05Z"},
     {"now": "2026-06-10T00:10:05Z", "time_scale": 0}, {"detail": "Not Found"},
     {"now": "2026-06-10T00:10:05Z", "time_scale": True}],
)  # fmt: skip
def test_clock_reading_refuses_what_is_not_a_mock_clock(answer: object) -> None:
    """Only an `/__admin/clock` answer with a time and a positive scale is a clock reading."""
    assert clock_reading(answer) is None


def test_pick_clock_keeps_the_shortest_round_trip_and_runs_at_the_mock_s_scale() -> None:
    """Of several readings the tightest is kept; the client clock runs time_scale fast."""
    now = [100.0]
    reading = {"now": "2026-06-10T00:10:05Z", "time_scale": 50, "frozen": False}
    samples = [(reading, 10.0, 10.2), (reading, 11.0, 11.02), (reading, 12.0, 12.1)]
    found = pick_clock(samples, monotonic=lambda: now[0])
    assert found is not None
    clock, clock_map = found
    assert clock_map.uncertainty_s == pytest.approx(0.01 * 50)
    assert clock_map.scale == 50
    assert clock() == pytest.approx(EPOCH + (100.0 - 11.01) * 50)
    assert pick_clock([(reading, 0, 1), ({"detail": "x"}, 1, 2)], monotonic=lambda: 0) is None


def test_admin_root_is_at_the_origin_whatever_the_prefix() -> None:
    """The mock's admin API is at its root, also for a base URL with the gateway prefix."""
    assert admin_root("http://127.0.0.1:8080/api/v1/ai") == "http://127.0.0.1:8080/__admin"
    assert admin_root("http://127.0.0.1:8080") == "http://127.0.0.1:8080/__admin"
