"""The admin API under /__admin: token, health, reset, clock, runs, input, triggers, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server import MockApp
from tests.fixtures.mock import AUTH

E2 = "/trigger/start/demo/quick-answer/DEV"


def start(client: TestClient, trigger: str = "quick-answer") -> str:
    """Start a DEV background run and return its workflow_id."""
    response = client.post(f"/trigger/start/demo/{trigger}/DEV", headers=AUTH)
    assert response.status_code == 200
    workflow_id: str = response.json()["workflow_id"]
    return workflow_id


def clock_post(client: TestClient, body: Any) -> Any:
    """POST /__admin/clock and return the response."""
    return client.post("/__admin/clock", json=body)


def test_health(mock_client: TestClient) -> None:
    """GET /__admin/health answers {"status": "ok"}."""
    assert mock_client.get("/__admin/health").json() == {"status": "ok"}


def test_admin_token_is_required_when_set(make_client: Callable[..., TestClient]) -> None:
    """With an admin token, admin calls without the right bearer token are 401; with it, 200."""
    client = make_client(admin_token="s3cret")
    assert client.get("/__admin/health").status_code == 401
    wrong = client.get("/__admin/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "s3cret" not in wrong.text
    assert client.post("/__admin/reset", headers=AUTH).status_code == 401
    ok = client.get("/__admin/health", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_admin_is_open_without_a_token(mock_client: TestClient) -> None:
    """Without a configured token every admin call is allowed."""
    assert mock_client.get("/__admin/runs").status_code == 200


def test_clock_get(mock_client: TestClient) -> None:
    """GET /__admin/clock shows now (ISO 8601), time_scale and frozen."""
    assert mock_client.get("/__admin/clock").json() == {
        "now": "2026-06-10T00:10:00.000Z",
        "time_scale": 1.0,
        "frozen": False,
    }


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ({"advance_s": 90}, "now", "2026-06-10T00:11:30.000Z"),
        ({"now": "2026-07-01T12:00:00Z"}, "now", "2026-07-01T12:00:00.000Z"),
        ({"now": "2026-07-01T14:00:00+02:00"}, "now", "2026-07-01T12:00:00.000Z"),
        ({"time_scale": 60}, "time_scale", 60.0),
        ({"frozen": True}, "frozen", True),
    ],
)
def test_clock_post_applies_one_change(
    mock_client: TestClient, body: dict[str, Any], field: str, value: Any
) -> None:
    """Each clock key does what it says and the answer shows the new clock."""
    response = clock_post(mock_client, body)
    assert response.status_code == 200
    assert response.json()[field] == value
    assert mock_client.get("/__admin/clock").json()[field] == value


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"advance_s": -1}, "advance_s"),
        ({"advance_s": "10"}, "advance_s"),
        ({"advance_s": True}, "advance_s"),
        ({"now": "yesterday"}, "now"),
        ({"now": 5}, "now"),
        ({"time_scale": 0}, "time_scale"),
        ({"time_scale": -2}, "time_scale"),
        ({"frozen": "yes"}, "frozen"),
        ({"speed": 2}, "speed"),
        ({"advance_s": 1, "frozen": True}, "exactly one"),
        ({}, "exactly one"),
        ([1], "JSON object"),
    ],
)
def test_bad_clock_bodies_are_422(mock_client: TestClient, body: Any, named: str) -> None:
    """A bad clock body answers 422 with a detail naming the key, and the clock is unchanged."""
    response = clock_post(mock_client, body)
    assert response.status_code == 422
    assert named in response.json()["detail"]
    assert mock_client.get("/__admin/clock").json()["now"] == "2026-06-10T00:10:00.000Z"


def test_clock_jump_fires_every_cron_tick_it_passes(mock_client: TestClient) -> None:
    """A13: advancing 3 h fires hourly-health at each hour, each run starting at its tick."""
    clock_post(mock_client, {"advance_s": 3 * 3600})
    runs = mock_client.get("/__admin/runs", params={"source": "cron"}).json()["runs"]
    assert [run["started_at"] for run in runs] == [
        "2026-06-10T01:00:00.000Z",
        "2026-06-10T02:00:00.000Z",
        "2026-06-10T03:00:00.000Z",
    ]
    assert {run["trigger_id"] for run in runs} == {"hourly-health"}


def test_paused_trigger_skips_cron_ticks(mock_client: TestClient) -> None:
    """Pausing a cron trigger stops its ticks; resuming lets the next ones fire."""
    paused = mock_client.post("/__admin/triggers/demo/hourly-health/pause")
    assert paused.json() == {"workspace_id": "demo", "trigger_id": "hourly-health", "paused": True}
    clock_post(mock_client, {"advance_s": 3600})
    assert mock_client.get("/__admin/runs", params={"source": "cron"}).json()["runs"] == []
    mock_client.post("/__admin/triggers/demo/hourly-health/resume")
    clock_post(mock_client, {"advance_s": 3600})
    assert len(mock_client.get("/__admin/runs", params={"source": "cron"}).json()["runs"]) == 1


def test_pause_makes_api_starts_409(mock_client: TestClient) -> None:
    """A paused trigger answers E2 with 409 until resumed."""
    mock_client.post("/__admin/triggers/demo/quick-answer/pause")
    assert mock_client.post(E2, headers=AUTH).status_code == 409
    mock_client.post("/__admin/triggers/demo/quick-answer/resume")
    assert mock_client.post(E2, headers=AUTH).status_code == 200


def test_pause_unknown_trigger_is_404(mock_client: TestClient) -> None:
    """Pausing a trigger that does not exist answers 404."""
    assert mock_client.post("/__admin/triggers/demo/nope/pause").status_code == 404


def test_run_now_starts_a_manual_run(mock_client: TestClient) -> None:
    """run-now fires a pending run with source manual."""
    response = mock_client.post("/__admin/triggers/demo/hourly-health/run-now")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    (run,) = mock_client.get("/__admin/runs", params={"source": "manual"}).json()["runs"]
    assert run["workflow_id"] == response.json()["workflow_id"]


@pytest.mark.parametrize(("trigger", "code"), [("nope", 404), ("paused-trigger", 409)])
def test_run_now_errors(mock_client: TestClient, trigger: str, code: int) -> None:
    """run-now on an unknown trigger is 404 and on a paused one 409."""
    response = mock_client.post(f"/__admin/triggers/demo/{trigger}/run-now")
    assert response.status_code == code
    assert "detail" in response.json()


def test_runs_filters(mock_client: TestClient) -> None:
    """GET /__admin/runs filters by workspace, trigger, status and source."""
    quick = start(mock_client)
    slow = start(mock_client, "slow-sync")
    clock_post(mock_client, {"advance_s": 60})

    def ids(**params: str) -> list[str]:
        runs = mock_client.get("/__admin/runs", params=params).json()["runs"]
        return [run["workflow_id"] for run in runs]

    assert ids() == [quick, slow]
    assert ids(trigger_id="slow-sync") == [slow]
    assert ids(status="completed") == [quick]
    assert ids(status="pending") == [slow]
    assert ids(source="api") == [quick, slow]
    assert ids(source="cron") == []
    assert ids(workspace_id="sandbox") == []


@pytest.mark.parametrize("params", [{"status": "done"}, {"source": "ui"}])
def test_runs_unknown_filter_values_are_422(
    mock_client: TestClient, params: dict[str, str]
) -> None:
    """Unknown status or source values answer 422 naming the value."""
    response = mock_client.get("/__admin/runs", params=params)
    assert response.status_code == 422
    assert next(iter(params.values())) in response.json()["detail"]


def test_input_errors(mock_client: TestClient) -> None:
    """Input for an unknown run is 404, for a run not waiting 409, with a bad message 422."""
    assert mock_client.post("/__admin/runs/nope/input", json={"message": "x"}).status_code == 404
    running = start(mock_client)
    response = mock_client.post(f"/__admin/runs/{running}/input", json={"message": "x"})
    assert response.status_code == 409
    response = mock_client.post(f"/__admin/runs/{running}/input", json={"message": 3})
    assert response.status_code == 422


def test_requests_journal_and_count(mock_client: TestClient) -> None:
    """The journal lists API requests with filters and counts; admin calls are not in it."""
    workflow_id = start(mock_client)
    mock_client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH)
    mock_client.get("/api/v1/ai/trigger/status/demo/unknown", headers=AUTH)
    entries = mock_client.get("/__admin/requests").json()["requests"]
    assert [(e["method"], e["status_code"]) for e in entries] == [
        ("POST", 200),
        ("GET", 200),
        ("GET", 404),
    ]
    assert {e["workflow_id"] for e in entries[:2]} == {workflow_id}
    assert entries[0]["workspace_id"] == "demo"
    by_id = mock_client.get("/__admin/requests/count", params={"workflow_id": workflow_id})
    assert by_id.json() == {"count": 2}
    gets = mock_client.get("/__admin/requests/count", params={"method": "get"})
    assert gets.json() == {"count": 2}
    prefixed = mock_client.get("/__admin/requests", params={"path_prefix": "/api/v1/ai"})
    assert len(prefixed.json()["requests"]) == 1
    newest = mock_client.get("/__admin/requests", params={"limit": "1"}).json()["requests"]
    assert newest == entries[-1:]
    assert mock_client.get("/__admin/requests", params={"limit": "x"}).status_code == 422


def test_reset_forgets_runs_journal_and_clock(mock_client: TestClient) -> None:
    """POST /__admin/reset empties runs and journal and puts the clock back at its start."""
    start(mock_client)
    clock_post(mock_client, {"advance_s": 500})
    clock_post(mock_client, {"frozen": True})
    response = mock_client.post("/__admin/reset")
    assert response.status_code == 200
    assert mock_client.get("/__admin/runs").json() == {"runs": []}
    assert mock_client.get("/__admin/requests/count").json() == {"count": 0}
    clock = mock_client.get("/__admin/clock").json()
    assert clock == {"now": "2026-06-10T00:10:00.000Z", "time_scale": 1.0, "frozen": False}


def test_metrics_are_prometheus_text(mock_client: TestClient) -> None:
    """The metrics page counts requests by endpoint and code, runs by source, and the clock."""
    start(mock_client)
    mock_client.get("/trigger/status/demo/unknown", headers=AUTH)
    mock_client.post("/__admin/triggers/demo/quick-answer/run-now")
    response = mock_client.get("/__admin/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'mock_requests_total{endpoint="E2",code="200"} 1' in text
    assert 'mock_requests_total{endpoint="E3",code="404"} 1' in text
    assert "mock_clock_time_scale 1" in text
    assert "mock_clock_frozen 0" in text
    assert "# TYPE mock_requests_total counter" in text
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(len(line.rsplit(" ", 1)) == 2 for line in samples)
    assert any("runs_started" in line and "api" in line and line.endswith(" 1") for line in samples)
    assert any("manual" in line and line.endswith(" 1") for line in samples)


@pytest.mark.parametrize(
    ("body", "maximum"),
    [
        ({"advance_s": 1e12}, "advance_s must be a number >= 0 and <= 3.16224e+07"),
        ({"advance_s": 10**30}, "<= 3.16224e+07"),
        ({"time_scale": 1e308}, "time_scale must be a number > 0 and <= 1e+06"),
        ({"now": "9999-12-31T23:59:59Z"}, "9000-01-01T00:00:00.000Z"),
        ({"now": "0001-01-01T00:00:00+14:00"}, "between 1970-01-01"),
        ({"now": "2027-12-01T00:00:00Z"}, "ahead of the clock"),
    ],
)
def test_clock_moves_past_the_maxima_are_422_and_the_mock_keeps_serving(
    mock_client: TestClient, body: dict[str, Any], maximum: str
) -> None:
    """A clock move past a documented maximum is 422 naming it; nothing moved, E2/E3 still work."""
    response = clock_post(mock_client, body)
    assert response.status_code == 422
    assert maximum in response.json()["detail"]
    assert mock_client.get("/__admin/clock").json() == {
        "now": "2026-06-10T00:10:00.000Z",
        "time_scale": 1.0,
        "frozen": False,
    }
    workflow_id = start(mock_client)
    assert mock_client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).status_code == 200


def test_a_long_catch_up_yields_to_other_requests(mock_app: MockApp) -> None:
    """A week's jump past an every-minute schedule fires in steps: other requests are answered
    while it runs, and every tick has fired when the clock call answers."""
    metrics = asyncio.run(_jump_while_asking_health(mock_app))
    fired = [line for line in metrics.splitlines() if line.startswith("mock_cron_ticks_fired")]
    assert fired == [f"mock_cron_ticks_fired_total {7 * 1440 + 7 * 24}"]


async def _jump_while_asking_health(mock_app: MockApp) -> str:
    transport = httpx.ASGITransport(app=mock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        put = await client.put(
            "/__admin/triggers/demo/quick-answer/cron", json={"schedule": "* * * * *"}
        )
        assert put.status_code == 200
        jump = asyncio.ensure_future(client.post("/__admin/clock", json={"advance_s": 7 * 86_400}))
        await asyncio.sleep(0)
        health = await client.get("/__admin/health")
        assert health.status_code == 200
        assert not jump.done()
        assert (await jump).status_code == 200
        return (await client.get("/__admin/metrics")).text


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        (
            {
                "kind": "error",
                "params": {"status": 500},
                "window": {"from": "0001-01-01T00:00:00Z"},
            },
            "rule: window.from: must be between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z",
        ),
        (
            {"kind": "error", "params": {"status": 500}, "window": {"to": 1e300}},
            "rule: window.to: must be <= 1e+09",
        ),
        (
            {"kind": "latency", "params": {"dist": "lognormal", "median_s": 1, "sigma": 1e308}},
            "rule: params.sigma: must be <= 10",
        ),
        (
            {"kind": "latency", "params": {"dist": "fixed", "s": 1e9}},
            "rule: params.s: must be <= 3600",
        ),
        ({"kind": "hang", "params": {"max_s": 1e12}}, "rule: params.max_s: must be <= 3600"),
        ({"kind": "error", "id": "x" * 10_000, "params": {"status": 500}}, "at most 64"),
        (
            {"kind": "error", "match": {"workspace_id": "w" * 100}, "params": {"status": 500}},
            "rule: match.workspace_id: must be at most 64 characters",
        ),
        (
            {"kind": "dribble", "params": {"chunk_bytes": 10**12}},
            "rule: params.chunk_bytes: must be <= 1048576",
        ),
    ],
)
def test_fault_rules_past_the_maxima_are_refused_before_they_are_stored(
    mock_client: TestClient, rule: dict[str, Any], named: str
) -> None:
    """A rule outside the documented bounds is 422 naming the key, and nothing is in force."""
    response = mock_client.post("/__admin/faults", json=rule)
    assert response.status_code == 422
    assert named in response.json()["detail"]
    assert mock_client.get("/__admin/faults").json() == {"faults": []}
    assert mock_client.get("/trigger/status/demo/none", headers=AUTH).status_code == 404


def test_cron_variables_deeper_than_the_api_allows_are_refused(mock_client: TestClient) -> None:
    """Cron user_variables nested 1,000 deep are 422 (the API's depth limit); runs still list."""
    deep = '{"a":' * 999 + "{}" + "}" * 999
    spec = '{"schedule": "* * * * *", "user_variables": ' + deep + "}"
    response = mock_client.put("/__admin/triggers/demo/quick-answer/cron", content=spec)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Body must be a JSON object: ")
    assert mock_client.get("/__admin/triggers/demo/quick-answer/cron").json()["cron"] is None
    clock_post(mock_client, {"advance_s": 120})
    assert mock_client.get("/__admin/runs").status_code == 200


def test_cron_variables_at_the_depth_limit_are_kept_and_listed(mock_client: TestClient) -> None:
    """Cron user_variables at the API's depth limit start runs that list and answer E3."""
    spec = {"schedule": "* * * * *", "user_variables": {"v": _nested(500)}}
    assert mock_client.put("/__admin/triggers/demo/quick-answer/cron", json=spec).status_code == 200
    clock_post(mock_client, {"advance_s": 60})
    listed = mock_client.get("/__admin/runs", params={"source": "cron"})
    assert listed.status_code == 200
    (run,) = [r for r in listed.json()["runs"] if r["trigger_id"] == "quick-answer"]
    assert run["user_variables"] == {"v": _nested(500)}


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/__admin/requests?limit=%C2%B2", "limit"),
        ("/__admin/requests?limit=%D9%A3", "limit"),
        ("/__admin/requests?limit=-1", "limit"),
        ("/__admin/requests?limit=" + "9" * 5000, "limit"),
        ("/__admin/requests?status_code=%C2%B2", "status_code"),
        ("/__admin/requests/count?status_code=%EF%BC%95", "status_code"),
    ],
)
def test_integer_query_parameters_are_ascii_digits_only(
    mock_client: TestClient, path: str, named: str
) -> None:
    """`²`, Arabic-Indic or full-width digits, signs and 5,000 digits are 422, never 500."""
    response = mock_client.get(path)
    assert response.status_code == 422
    assert f"Invalid {named}=" in response.json()["detail"]
    assert "ASCII digits" in response.json()["detail"]


def test_admin_bodies_have_the_api_size_limit(make_client: Callable[..., TestClient]) -> None:
    """An admin body over max_body_bytes is 413 and changes nothing."""
    client = make_client(max_body_bytes=1024)
    rule = {"kind": "error", "params": {"status": 500}, "id": "x", "pad": "y" * 2000}
    assert client.post("/__admin/faults", json=rule).status_code == 413
    assert client.get("/__admin/faults").json() == {"faults": []}


@pytest.mark.parametrize("body", [b'{"advance_s": NaN}', b'{"advance_s": 1e400}', b"[" * 600])
def test_admin_bodies_are_parsed_like_the_api(mock_client: TestClient, body: bytes) -> None:
    """NaN, numbers beyond the float range and deep nesting are 422 before the clock moves."""
    response = mock_client.post("/__admin/clock", content=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Body must be a JSON object")
    assert mock_client.get("/__admin/clock").json()["now"] == "2026-06-10T00:10:00.000Z"
