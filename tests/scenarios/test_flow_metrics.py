"""Flow metrics without Locust: records, events, the raw CSV and the run-end cache."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from harness import StopReason
from harness.load import ClockMap, exact_end, log_end
from mock_server import create_app, parse_config, serve_in_thread
from scenarios._metrics import (
    ERROR_CHARS,
    FLOW_REQUEST_TYPE,
    EndTimes,
    FlowCsv,
    detect_mock_clock,
    fire_flow_events,
    flow_record,
    mock_clock,
    real_clock,
)
from tests.harness.factories import history, poll

IDENTITY = ClockMap(source="test clock", offset_s=1000.0, scale=10.0)


class FakeEvents:
    """Collects what `events.request.fire` receives."""

    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []
        self.request = SimpleNamespace(fire=lambda **kwargs: self.fired.append(kwargs))


def _record(**overrides: Any) -> Any:
    run = history(poll(5.0), poll(10.0, status=None, status_code=429), poll(15.0, "completed"))
    values: dict[str, Any] = {
        "scenario": "background",
        "flow": "background",
        "history": run,
        "clock_map": IDENTITY,
        "end": exact_end(1012.0),
        "finished_at": 20.0,
    }
    values.update(overrides)
    return flow_record(**values)


def test_flow_record_measures_delay_polls_and_429s_in_target_and_real_time() -> None:
    """A record holds end-to-end time, detection delay, polls and 429s, in both time units."""
    record = _record()
    assert record.e2e_target_s == 20.0
    assert record.e2e_real_s == 2.0
    assert record.detection_delay_low_target_s == pytest.approx(15.05 - 12.0)
    assert record.detection_delay_high_target_s == pytest.approx(15.05 - 12.0)
    assert record.detection_delay_high_real_s == pytest.approx(0.305)
    assert (record.detection, record.detection_source) == ("exact", "admin")
    assert record.polls == 3
    assert record.rate_limited == 1
    assert record.final_status == "completed"
    assert record.started_epoch_s == 1000.0


def test_flow_record_without_an_end_time_has_no_delay() -> None:
    """Without the run's end the delay is empty and its source says none."""
    record = _record(end=None)
    assert record.detection_delay_high_target_s is None
    assert (record.detection, record.detection_source) == ("unknown", "none")


def test_flow_record_of_clocks_that_differ_is_an_artefact_never_a_negative_delay() -> None:
    """Virtual log times read on this machine's clock: no delay, an artefact saying why."""
    run = history(poll(5.0), poll(15.0, "completed"))  # log time 2026-06-10, clock near 0
    record = _record(history=run, clock_map=ClockMap(source="machine"), end=log_end(run))
    assert record.detection == "artefact"
    assert record.detection_delay_low_target_s is None
    assert "after the answer showing it final arrived" in record.detection_note
    events = FakeEvents()
    fire_flow_events(SimpleNamespace(events=events), record, None)
    names = [event["name"] for event in events.fired]
    assert "background: detection delay artefacts (count)" in names
    assert not any("detection delay lower bound" in name for name in names)


def test_an_unknown_target_clock_gives_unknown_delays() -> None:
    """A time scale other than 1 without the mock's clock: the delay is unknown, and says why."""
    _, clock_map = real_clock(50.0)
    assert not clock_map.known
    run = history(poll(5.0), poll(15.0, "completed"))
    record = _record(history=run, clock_map=clock_map, end=log_end(run))
    assert record.detection == "unknown"
    assert "--mock-admin" in record.detection_note
    _, machine = real_clock(1.0)
    assert machine.known


def test_flow_events_are_fired_as_flow_requests() -> None:
    """Each metric is a FLOW request event; the end-to-end one carries the flow's failure."""
    events = FakeEvents()
    failure = RuntimeError("timed out")
    fire_flow_events(SimpleNamespace(events=events), _record(), failure)
    names = [event["name"] for event in events.fired]
    assert names == [
        "background: end-to-end (target ms)",
        "background: detection delay lower bound (target ms)",
        "background: detection delay upper bound (target ms)",
        "background: polls per flow (count)",
        "background: 429s per flow (count)",
    ]
    assert {event["request_type"] for event in events.fired} == {FLOW_REQUEST_TYPE}
    assert events.fired[0]["exception"] is failure
    assert events.fired[0]["response_time"] == 20000.0
    assert events.fired[4]["response_time"] == 1.0


def test_an_inconclusive_flow_is_counted_apart_and_is_no_locust_failure() -> None:
    """A flow that told nothing fires an `inconclusive (count)` event without a failure, and
    no end-to-end one."""
    events = FakeEvents()
    failure = RuntimeError("inconclusive: connection lost")
    fire_flow_events(SimpleNamespace(events=events), _record(), failure)
    names = [event["name"] for event in events.fired]
    assert names[0] == "background: inconclusive (count)"
    assert "background: end-to-end (target ms)" not in names
    assert all(event["exception"] is None for event in events.fired)


def test_a_rate_limited_flow_is_recorded_inconclusive_not_lost() -> None:
    """Following stopped by 429s (A8) leaves the run's end unknown: its record's status is
    `inconclusive`, which the flow fail ratio counts neither way; a deadline is `timed_out`."""
    limited = history(poll(5.0, status=None, status_code=429), stop_reason=StopReason.RATE_LIMITED)
    assert _record(history=limited).final_status == "inconclusive"
    late = history(poll(5.0), stop_reason=StopReason.DEADLINE, deadline_s=10.0)
    assert _record(history=late).final_status == "timed_out"


def test_a_run_that_ended_failed_is_counted_and_is_no_locust_failure() -> None:
    """A run that ended `failed` (the API behaving): its end-to-end time and an
    `ended failed (count)` event, neither a failure; the record keeps the run's error."""
    run = history(poll(5.0), poll(15.0, "failed", error="boom"))
    record = _record(history=run, error="run ended failed: boom")
    assert (record.final_status, record.error) == ("failed", "run ended failed: boom")
    events = FakeEvents()
    fire_flow_events(SimpleNamespace(events=events), record, RuntimeError(record.error))
    names = [event["name"] for event in events.fired]
    assert names[:2] == ["background: end-to-end (target ms)", "background: ended failed (count)"]
    assert all(event["exception"] is None for event in events.fired)


def test_a_violation_on_a_failed_run_stays_a_locust_failure() -> None:
    """A contract violation is a failure even when the run ended `failed`."""
    run = history(poll(5.0), poll(15.0, "failed", error="boom"))
    failure = RuntimeError("contract violation: Something broke")
    events = FakeEvents()
    fire_flow_events(SimpleNamespace(events=events), _record(history=run), failure)
    assert events.fired[0]["exception"] is failure
    assert events.fired[1]["name"] == "background: ended failed (count)"


def test_a_record_error_is_bounded() -> None:
    """The flow record's error text is cut to `ERROR_CHARS` characters."""
    assert len(_record(error="x" * (ERROR_CHARS + 50)).error) == ERROR_CHARS


def test_flow_csv_writes_a_header_once_and_one_row_per_flow(tmp_path: Path) -> None:
    """The raw CSV has one header and one row per flow, empty cells for unknown values."""
    sink = FlowCsv(tmp_path / "out" / "flows.csv")
    sink.write(_record())
    sink.write(_record(end=None))
    sink.close()
    with (tmp_path / "out" / "flows.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    assert rows[0]["detection_source"] == "admin"
    assert rows[1]["detection_delay_high_target_s"] == ""


def test_end_times_share_one_listing_and_refresh_for_unknown_runs() -> None:
    """One admin listing serves every run it holds; an unknown run triggers a bounded refresh."""
    listings = [
        [{"workflow_id": "a", "ended_at": "2026-06-10T00:10:05Z"}, {"workflow_id": "b"}],
        [{"workflow_id": "b", "ended_at": "2026-06-10T00:10:09+00:00"}],
    ]
    calls: list[int] = []

    def fetch() -> list[dict[str, Any]]:
        calls.append(1)
        return listings[min(len(calls), len(listings)) - 1]

    slept: list[float] = []
    now = [0.0]
    ends = EndTimes(fetch, min_interval_s=1.0, monotonic=lambda: now[0], sleep=slept.append)
    assert ends.lookup("a") == 1781050205.0
    assert ends.lookup("a") == 1781050205.0
    assert len(calls) == 1
    assert ends.lookup("b") == 1781050209.0
    assert len(calls) == 2
    assert slept == [1.0]
    assert ends.lookup("never") is None
    assert len(calls) == 5


class FakeAdmin:
    """Answers `clock()` like the mock's admin API."""

    def __init__(self, reading: dict[str, Any]) -> None:
        self.reading = reading

    def clock(self) -> dict[str, Any]:
        return self.reading


def test_mock_clock_starts_at_the_mock_s_virtual_time_and_speed() -> None:
    """The client clock reads the mock's virtual now and runs at its scale (1 when frozen)."""
    reading = {"now": "2026-06-10T00:10:05Z", "time_scale": 50.0, "frozen": False}
    clock, clock_map = mock_clock(FakeAdmin(reading))  # type: ignore[arg-type]
    assert clock_map.offset_s == 0.0
    assert clock_map.scale == 50.0
    assert 1781050205.0 - 1.0 <= clock() < 1781050205.0 + 50.0
    _, frozen = mock_clock(FakeAdmin({**reading, "frozen": True}))  # type: ignore[arg-type]
    assert frozen.scale == 1.0


@pytest.mark.socket
def test_a_time_scaled_mock_is_detected_without_mock_admin() -> None:
    """Plain Locust on a `--time-scale 50` mock without --mock-admin finds its clock; with the
    admin API closed to it, its clock is unknown and says which token to give (no delay is
    computed from it, never a negative one); another host (no admin API) is no mock."""
    world = parse_config(
        {"mock": {"time_scale": 50}, "workspaces": [{"id": "ws", "api_keys": ["ws-key"]}]}
    )
    with serve_in_thread(create_app(world)) as url, httpx.Client(timeout=10) as http:
        found = detect_mock_clock(http, url + "/api/v1/ai")
        assert found is not None
        assert found[1].scale == 50.0
        assert found[1].known
    closed = create_app(world, admin_token="closed")
    with serve_in_thread(closed) as url, httpx.Client(timeout=10) as http:
        refused = detect_mock_clock(http, url)
        assert refused is not None
        assert not refused[1].known
        assert "TRIGGER_MOCK_ADMIN_TOKEN" in refused[1].source
        opened = detect_mock_clock(http, url, token="closed")
        assert opened is not None
        assert opened[1].known
        assert opened[1].scale == 50.0
    with serve_in_thread(_no_admin_api) as url, httpx.Client(timeout=10) as http:
        assert detect_mock_clock(http, url) is None


async def _no_admin_api(scope: Any, receive: Any, send: Any) -> None:
    """A host that answers 404 everywhere (no admin API)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
