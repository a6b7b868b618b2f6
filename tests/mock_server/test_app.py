"""The app as a whole: routing answers, the 500 guard, content types and state injection."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server._clock import VirtualClock
from mock_server._config import MockConfig
from mock_server.app import create_app
from mock_server.store import TriggerStore
from tests.fixtures.mock import AUTH, START, FakeRealTime


class BrokenStore(TriggerStore):
    """A store whose every run start and status read fails unexpectedly."""

    def start_run(self, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    def status_answer(self, *args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        "/trigger",
        "/trigger/demo/quick-answer",
        "/api/v1/ai/nope",
        "/trigger/start/demo/quick-answer/DEV/extra",
        "/__admin/faults/nope",
        "/__admin/nope",
    ],
)
def test_unknown_paths_are_json_404(mock_client: TestClient, path: str) -> None:
    """Unknown paths answer 404 `{"detail": "Not Found"}` as JSON."""
    response = mock_client.post(path, headers=AUTH)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/trigger/start/demo/quick-answer/DEV"),
        ("PUT", "/trigger/demo/quick-answer/DEV"),
        ("DELETE", "/api/v1/ai/trigger/jira/start/demo/jira-triage/DEV"),
        ("POST", "/openapi.json"),
        ("GET", "/__admin/reset"),
    ],
)
def test_wrong_methods_are_json_405(mock_client: TestClient, method: str, path: str) -> None:
    """A known path with the wrong method answers 405 `Method Not Allowed` as JSON."""
    response = mock_client.request(method, path, headers=AUTH)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["content-type"] == "application/json"


def test_wrong_method_on_the_status_path_is_405(mock_client: TestClient) -> None:
    """The E3 fast path only takes GET; DELETE on it still gets the JSON 405."""
    response = mock_client.delete("/trigger/status/demo/some-id", headers=AUTH)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_trailing_slash_is_not_redirected(mock_client: TestClient) -> None:
    """A trailing slash is an unknown path (404), never a redirect that could replay a POST."""
    response = mock_client.post(
        "/trigger/start/demo/quick-answer/DEV/", headers=AUTH, follow_redirects=False
    )
    assert response.status_code == 404


def broken_client(config: MockConfig) -> TestClient:
    """A client of an app over `BrokenStore`."""
    clock = VirtualClock(start=START.timestamp(), real_time=FakeRealTime())
    return TestClient(create_app(config, clock=clock, store=BrokenStore(config, clock)))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/trigger/start/demo/quick-answer/DEV", "RuntimeError"),
        ("/api/v1/ai/trigger/status/demo/some-id", "KeyError"),
    ],
)
def test_unexpected_errors_are_a_json_500(mock_config: MockConfig, path: str, name: str) -> None:
    """An exception inside a handler answers 500 `Process query failed: <type>`."""
    with broken_client(mock_config) as client:
        method = "GET" if "/status/" in path else "POST"
        response = client.request(method, path, headers=AUTH)
        assert response.status_code == 500
        assert response.json() == {"detail": f"Process query failed: {name}"}
        assert response.headers["content-type"] == "application/json"
        counts = client.get("/__admin/requests/count", params={"path_prefix": path}).json()
        assert counts == {"count": 1}


def test_bad_input_never_reaches_the_500_guard(mock_client: TestClient) -> None:
    """A battery of wrong requests all get 4xx answers with a detail, not the guard's 500."""
    requests = [
        (
            "POST",
            "/trigger/start/demo/quick-answer/DEV",
            b"{",
            {"Content-Type": "application/json"},
        ),
        ("POST", "/trigger/demo/quick-answer/dev", b"[]", {}),
        ("POST", "/trigger/start/demo/%00/DEV", b"", {}),
        ("GET", "/trigger/status/demo/%F0%9F%98%80", b"", {}),
        ("GET", "/trigger/status/demo/" + "x" * 5000, b"", {}),
        ("POST", "/trigger/jira/start/demo/jira-triage/DEV", b"\x00", {"X-Hub-Signature": "x"}),
        ("POST", "/trigger/start/demo/quick-answer/DEV", b'{"message": null}', {}),
    ]
    for method, path, body, headers in requests:
        response = mock_client.request(method, path, content=body, headers={**AUTH, **headers})
        assert 400 <= response.status_code < 500, (path, response.text)
        assert "detail" in response.json()
    assert 'code="500"' not in mock_client.get("/__admin/metrics").text


def test_apps_do_not_share_state(mock_config: MockConfig) -> None:
    """Two apps built by create_app keep separate runs (state is injected, not global)."""
    with TestClient(create_app(mock_config)) as first, TestClient(create_app(mock_config)) as other:
        envelope = first.post("/trigger/start/demo/quick-answer/DEV", headers=AUTH).json()
        path = f"/trigger/status/demo/{envelope['workflow_id']}"
        assert first.get(path, headers=AUTH).status_code == 200
        assert other.get(path, headers=AUTH).status_code == 404


def test_clock_starts_at_wall_time_without_a_configured_start(mock_config: MockConfig) -> None:
    """Without `[mock] start` the virtual clock starts at the injected wall time."""
    config = MockConfig(mock=mock_config.mock.__class__(), workspaces=mock_config.workspaces)
    app = create_app(config, wall_time=lambda: 1_800_000_000.0, real_time=FakeRealTime())
    with TestClient(app) as client:
        assert client.get("/__admin/clock").json()["now"].startswith("2027-01-15T08:00:00")


def test_clock_starts_at_the_configured_start(mock_client: TestClient) -> None:
    """With `[mock] start` the virtual clock reads that instant while real time stands still."""
    assert mock_client.get("/__admin/clock").json()["now"].startswith("2026-06-10T00:10:00")


def test_head_on_status_answers_like_get_without_a_body(mock_client: TestClient) -> None:
    """A HEAD on E3 goes through routing yet gets the same codes as GET, and is journalled."""
    created = mock_client.post("/trigger/start/demo/quick-answer/DEV", headers=AUTH).json()
    path = f"/trigger/status/demo/{created['workflow_id']}"
    assert mock_client.head(path, headers=AUTH).status_code == 200
    assert mock_client.head(path).status_code == 401
    assert mock_client.head("/trigger/status/demo/unknown", headers=AUTH).status_code == 404
    journal = mock_client.get(
        "/__admin/requests", params={"method": "HEAD", "workflow_id": created["workflow_id"]}
    ).json()["requests"]
    assert [entry["status_code"] for entry in journal] == [200, 401]
