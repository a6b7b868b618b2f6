"""Cron end to end over HTTP only: schedules set through the admin API, ticks fired by clock moves.

Each test drives an in-process mock (frozen virtual clock) through `/__admin` and E1-E3 alone:
it sets a schedule, moves the clock, lists the runs the move fired and polls each through E3.

What cronsim does around DST (Europe/Berlin, asserted below): a fixed local time that does not
exist on the spring-forward day ("30 2 * * *" on 2026-03-29) fires once, when the gap ends
(03:00 CEST = 01:00 UTC); a fixed local time that occurs twice on the fall-back day (02:30 on
2026-10-25) fires once, at its first occurrence (02:30 CEST = 00:30 UTC); an hourly schedule
fires every real hour on both days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from harness._admin_client import MockAdmin
from harness._exceptions import ApiError
from mock_server._config import (
    ApiKey,
    CronSpec,
    Duration,
    MockConfig,
    MockSettings,
    TriggerConfig,
    WorkspaceConfig,
)
from mock_server.app import create_app
from tests.fixtures.mock import FakeRealTime

HOUR = 3600
DAY = 24 * HOUR
AUTH = {"Authorization": "Bearer k"}
START = datetime(2026, 6, 10, 0, 10, tzinfo=UTC)
VARIABLES = {"report": "daily", "nested": {"n": [1, 2]}}
TRIGGERS = (
    TriggerConfig(
        id="report", environments=("UAT", "PROD"), duration=Duration(dist="fixed", s=120)
    ),
    TriggerConfig(id="slow", duration=Duration(dist="fixed", s=50 * 60)),
    TriggerConfig(
        id="configured",
        duration=Duration(dist="fixed", s=60),
        cron=CronSpec(schedule="0 6 * * *", message="from the file", user_variables={"f": 1}),
    ),
)
FINAL = ("completed", "failed")

MakeClient = Callable[[datetime], TestClient]


def world(start: datetime) -> MockConfig:
    """Workspace `w` (key `k`) with three triggers; runs kept 30 days, clock starting at `start`."""
    settings = MockSettings(start=start, seed=3, retention_s=30 * DAY)
    workspace = WorkspaceConfig(id="w", api_keys=(ApiKey(key="k"),), triggers=TRIGGERS)
    return MockConfig(mock=settings, workspaces=(workspace,))


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """A factory of in-process clients over `world(start)`, their virtual clocks frozen."""
    clients: list[TestClient] = []

    def make(start: datetime = START) -> TestClient:
        client = TestClient(create_app(world(start), real_time=FakeRealTime()))
        client.__enter__()
        clients.append(client)
        assert client.post("/__admin/clock", json={"frozen": True}).json()["frozen"] is True
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """A client over the world starting at 2026-06-10T00:10:00Z."""
    return make_client(START)


def iso(moment: datetime) -> str:
    """The admin API's rendering of a UTC instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ticks(first: datetime, step: timedelta, count: int) -> list[str]:
    """`count` instants `step` apart from `first`, rendered like the admin API."""
    return [iso(first + i * step) for i in range(count)]


def put_cron(client: TestClient, trigger: str = "report", **spec: Any) -> httpx.Response:
    """PUT a schedule for `trigger` in workspace `w`."""
    response: httpx.Response = client.put(f"/__admin/triggers/w/{trigger}/cron", json=spec)
    return response


def advance(client: TestClient, seconds: float) -> None:
    """Move the virtual clock forward by `seconds`."""
    assert client.post("/__admin/clock", json={"advance_s": seconds}).status_code == 200


def runs(client: TestClient, trigger: str = "report", source: str = "cron") -> list[dict[str, Any]]:
    """The runs of `trigger` with this source, in start order."""
    params = {"workspace_id": "w", "trigger_id": trigger, "source": source}
    found: list[dict[str, Any]] = client.get("/__admin/runs", params=params).json()["runs"]
    return found


def started(client: TestClient, trigger: str = "report") -> list[str]:
    """When each cron run of `trigger` started."""
    return [run["started_at"] for run in runs(client, trigger)]


def status(client: TestClient, workflow_id: str) -> dict[str, Any]:
    """E3 for a run of workspace `w`."""
    response = client.get(f"/trigger/status/w/{workflow_id}", headers=AUTH)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def assert_final_through_e3(
    client: TestClient, fired: list[dict[str, Any]], variables: dict[str, Any]
) -> None:
    """After a further advance each fired run is final through E3, completed ones with variables."""
    advance(client, HOUR)
    for run in fired:
        envelope = status(client, run["workflow_id"])
        assert envelope["status"] in FINAL
        if envelope["status"] == "completed":
            assert {key: envelope["response"][key] for key in variables} == variables


def test_hourly_schedule_fires_24_runs_in_a_day(client: TestClient) -> None:
    """'0 * * * *' fires 24 runs in 24 h, one per hour, with source cron, message and variables."""
    spec: dict[str, Any] = {
        "schedule": "0 * * * *",
        "message": "hourly",
        "user_variables": VARIABLES,
    }
    assert put_cron(client, environment="PROD", **spec).status_code == 200
    advance(client, DAY)
    fired = runs(client)
    first = datetime(2026, 6, 10, 1, tzinfo=UTC)
    assert [run["started_at"] for run in fired] == ticks(first, timedelta(hours=1), 24)
    assert {run["source"] for run in fired} == {"cron"}
    assert {run["environment"] for run in fired} == {"PROD"}
    assert {run["message"] for run in fired} == {"hourly"}
    assert all(run["user_variables"] == VARIABLES for run in fired)
    assert_final_through_e3(client, fired, VARIABLES)


def test_quarter_hourly_schedule_fires_96_runs_in_a_day(client: TestClient) -> None:
    """'*/15 * * * *' fires 96 runs in 24 h, 15 minutes apart, in the first environment."""
    assert put_cron(client, schedule="*/15 * * * *").status_code == 200
    advance(client, DAY)
    fired = runs(client)
    first = datetime(2026, 6, 10, 0, 15, tzinfo=UTC)
    assert [run["started_at"] for run in fired] == ticks(first, timedelta(minutes=15), 96)
    assert {run["environment"] for run in fired} == {"UAT"}
    assert {(run["message"], str(run["user_variables"])) for run in fired} == {("", "{}")}
    assert_final_through_e3(client, fired, {})


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            datetime(2026, 3, 28, tzinfo=UTC),
            ["2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z", "2026-03-30T07:00:00.000Z"],
        ),
        (
            datetime(2026, 10, 24, tzinfo=UTC),
            ["2026-10-24T07:00:00.000Z", "2026-10-25T08:00:00.000Z", "2026-10-26T08:00:00.000Z"],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_daily_berlin_schedule_keeps_local_nine_across_dst(
    make_client: MakeClient, start: datetime, expected: list[str]
) -> None:
    """'0 9 * * *' in Europe/Berlin fires at 09:00 local each day: the UTC instant moves by DST."""
    client = make_client(start)
    assert put_cron(client, schedule="0 9 * * *", timezone="Europe/Berlin").status_code == 200
    advance(client, 3 * DAY)
    assert started(client) == expected
    assert_final_through_e3(client, runs(client), {})


@pytest.mark.parametrize(
    ("start", "schedule", "expected"),
    [
        (datetime(2026, 3, 29, tzinfo=UTC), "30 2 * * *", ["2026-03-29T01:00:00.000Z"]),
        (datetime(2026, 10, 25, tzinfo=UTC), "30 2 * * *", ["2026-10-25T00:30:00.000Z"]),
        (
            datetime(2026, 10, 24, 23, tzinfo=UTC),
            "30 * * * *",
            ticks(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), timedelta(hours=1), 4),
        ),
    ],
    ids=["gap-fires-when-it-ends", "repeat-fires-first-only", "hourly-fires-every-real-hour"],
)
def test_schedule_in_a_dst_gap_or_overlap_follows_cronsim(
    make_client: MakeClient, start: datetime, schedule: str, expected: list[str]
) -> None:
    """Around Berlin's DST changes the ticks are cronsim's (module docstring), each fired once."""
    client = make_client(start)
    assert put_cron(client, schedule=schedule, timezone="Europe/Berlin").status_code == 200
    advance(client, 4 * HOUR)
    assert started(client) == expected


def test_weekday_schedule_fires_monday_to_friday(make_client: MakeClient) -> None:
    """'0 9 * * 1-5' over a week from a Saturday fires on the five weekdays only."""
    client = make_client(datetime(2026, 6, 6, tzinfo=UTC))
    assert put_cron(client, schedule="0 9 * * 1-5", message="standup").status_code == 200
    advance(client, 7 * DAY)
    first = datetime(2026, 6, 8, 9, tzinfo=UTC)
    assert started(client) == ticks(first, timedelta(days=1), 5)
    assert {datetime.fromisoformat(s).strftime("%a") for s in started(client)} == {
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
    }
    assert_final_through_e3(client, runs(client), {})


def test_pause_fires_nothing_refuses_e1_e2_and_resume_does_not_backfill(
    client: TestClient,
) -> None:
    """Paused: no tick fires and E1/E2 answer 409; resumed: the next tick fires, none replayed."""
    put_cron(client, schedule="0 * * * *")
    advance(client, 2 * HOUR)
    assert len(runs(client)) == 2
    paused = client.post("/__admin/triggers/w/report/pause").json()
    assert paused == {"workspace_id": "w", "trigger_id": "report", "paused": True}
    assert client.get("/__admin/triggers/w/report/cron").json()["paused"] is True
    for path in ("/trigger/w/report/UAT", "/trigger/start/w/report/UAT"):
        response = client.post(path, json={"message": "x"}, headers=AUTH)
        assert response.status_code == 409
        assert response.json() == {"detail": "Trigger is paused"}
    advance(client, 3 * HOUR)
    assert len(runs(client)) == 2
    assert client.post("/__admin/triggers/w/report/resume").json()["paused"] is False
    assert len(runs(client)) == 2
    advance(client, HOUR)
    assert started(client)[2:] == ["2026-06-10T06:00:00.000Z"]
    assert len(runs(client, source="api")) == 0


def test_run_now_starts_one_manual_run_with_the_cron_defaults(client: TestClient) -> None:
    """run-now starts one background run at once, source manual, with the cron's message."""
    put_cron(client, schedule="0 * * * *", message="now", user_variables={"a": 1})
    response = client.post("/__admin/triggers/w/report/run-now")
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["status"] == "pending"
    (manual,) = runs(client, source="manual")
    assert manual["workflow_id"] == envelope["workflow_id"]
    assert (manual["started_at"], manual["message"]) == (iso(START), "now")
    assert manual["user_variables"] == {"a": 1}
    assert runs(client) == []
    assert_final_through_e3(client, [manual], {"a": 1})
    client.post("/__admin/triggers/w/report/pause")
    assert client.post("/__admin/triggers/w/report/run-now").status_code == 409
    assert len(runs(client, source="manual")) == 1


@pytest.mark.parametrize(
    ("overlap", "expected"),
    [
        ("skip", ["2026-06-10T00:20:00.000Z", "2026-06-10T01:20:00.000Z"]),
        ("allow", ticks(datetime(2026, 6, 10, 0, 20, tzinfo=UTC), timedelta(minutes=20), 6)),
    ],
)
def test_overlap_policy_with_a_run_outlasting_the_interval(
    client: TestClient, overlap: str, expected: list[str]
) -> None:
    """A 50 min run on a 20 min schedule: skip drops the ticks it covers, allow fires them all."""
    put_cron(client, "slow", schedule="*/20 * * * *", overlap=overlap)
    advance(client, 2 * HOUR)
    assert started(client, "slow") == expected
    metrics = client.get("/__admin/metrics").text
    skipped = 4 if overlap == "skip" else 0
    assert f"mock_cron_ticks_skipped_overlap_total {skipped}" in metrics
    assert_final_through_e3(client, runs(client, "slow"), {})


def test_three_day_jump_fires_every_tick_once_in_order(client: TestClient) -> None:
    """One 72 h clock jump fires each of the 72 hourly ticks once, in order, at its own time."""
    put_cron(client, schedule="0 * * * *")
    advance(client, 3 * DAY)
    first = datetime(2026, 6, 10, 1, tzinfo=UTC)
    assert started(client) == ticks(first, timedelta(hours=1), 72)
    advance(client, 0)
    assert len(runs(client)) == 72
    assert started(client, "configured") == [
        "2026-06-10T06:00:00.000Z",
        "2026-06-11T06:00:00.000Z",
        "2026-06-12T06:00:00.000Z",
    ]
    assert_final_through_e3(client, runs(client), {})


def test_get_cron_shows_spec_pause_flag_and_next_tick(client: TestClient) -> None:
    """GET .../cron shows the file's schedule, the pause flag and the next tick time."""
    body = client.get("/__admin/triggers/w/configured/cron").json()
    assert body == {
        "workspace_id": "w",
        "trigger_id": "configured",
        "cron": {
            "schedule": "0 6 * * *",
            "timezone": "UTC",
            "overlap": "allow",
            "environment": None,
            "message": "from the file",
            "user_variables": {"f": 1},
        },
        "paused": False,
        "next_tick": "2026-06-10T06:00:00.000Z",
    }
    advance(client, 6 * HOUR)
    assert client.get("/__admin/triggers/w/configured/cron").json()["next_tick"] == (
        "2026-06-11T06:00:00.000Z"
    )
    empty = client.get("/__admin/triggers/w/report/cron").json()
    assert (empty["cron"], empty["next_tick"]) == (None, None)


def test_put_replaces_and_delete_removes_a_schedule(client: TestClient) -> None:
    """A second PUT replaces the schedule; DELETE stops further ticks and answers cron null."""
    body = put_cron(client, schedule="0 * * * *", timezone="Asia/Kolkata").json()
    assert body["next_tick"] == "2026-06-10T00:30:00.000Z"
    advance(client, HOUR)
    put_cron(client, schedule="0 12 * * *")
    advance(client, 12 * HOUR)
    assert started(client) == ["2026-06-10T00:30:00.000Z", "2026-06-10T12:00:00.000Z"]
    removed = client.delete("/__admin/triggers/w/report/cron")
    assert removed.status_code == 200
    assert (removed.json()["cron"], removed.json()["next_tick"]) == (None, None)
    advance(client, 2 * DAY)
    assert len(runs(client)) == 2
    assert client.delete("/__admin/triggers/w/report/cron").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "schedule"),
        ({"schedule": "every hour"}, "schedule"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"schedule": 5}, "schedule"),
        ({"schedule": "0 * * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule": "0 * * * *", "overlap": "queue"}, "overlap"),
        ({"schedule": "0 * * * *", "environment": "DEV"}, "environment"),
        ({"schedule": "0 * * * *", "message": 3}, "message"),
        ({"schedule": "0 * * * *", "user_variables": [1]}, "user_variables"),
        ({"schedule": "0 * * * *", "every": "hour"}, "every"),
    ],
)
def test_invalid_cron_body_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    """A PUT whose spec is invalid answers 422 naming the field, and leaves no schedule."""
    response = put_cron(client, **body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert client.get("/__admin/triggers/w/report/cron").json()["cron"] is None


def test_cron_body_not_an_object_and_unknown_trigger(client: TestClient) -> None:
    """A body that is not a JSON object is 422; an unknown trigger is 404 on every method."""
    response = client.put("/__admin/triggers/w/report/cron", content=b"[1]")
    assert response.status_code == 422
    for method in ("GET", "PUT", "DELETE"):
        missing = client.request(
            method, "/__admin/triggers/w/nope/cron", json={"schedule": "0 * * * *"}
        )
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Trigger not found"}


def test_mock_admin_drives_the_cron_api(client: TestClient) -> None:
    """MockAdmin's set_cron, cron, pause, resume and remove_cron go through the admin routes."""
    admin = MockAdmin(client, base_url=str(client.base_url))
    body = admin.set_cron("w", "report", "0 * * * *", environment="PROD", message="m")
    assert body["cron"]["environment"] == "PROD"
    assert admin.cron("w", "report")["next_tick"] == "2026-06-10T01:00:00.000Z"
    assert admin.pause("w", "report")["paused"] is True
    admin.advance(2 * HOUR)
    assert admin.runs(trigger_id="report", source="cron") == []
    assert admin.resume("w", "report")["paused"] is False
    admin.advance(HOUR)
    assert [run["message"] for run in admin.runs(trigger_id="report", source="cron")] == ["m"]
    assert admin.remove_cron("w", "report")["cron"] is None
    with pytest.raises(ApiError, match="422") as refused:
        admin.set_cron("w", "report", "0 * * * *", overlap="queue")
    assert refused.value.status_code == 422
