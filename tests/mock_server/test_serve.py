"""The mock over real sockets (serve_in_thread): the documented curl commands and E1 blocking."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server import create_app, serve_in_thread
from mock_server._config import MockConfig

pytestmark = pytest.mark.socket

KEY = {"Authorization": "Bearer demo-key", "Content-Type": "application/json"}
BODY = {"message": "start the task", "user_variables": {"key1": "value1", "key2": "value2"}}


@pytest.fixture
def base_url(mock_config: MockConfig) -> Iterator[str]:
    """The base URL of the demo mock served on an ephemeral loopback port."""
    with serve_in_thread(create_app(mock_config)) as url:
        yield url


def test_serve_in_thread_binds_loopback_ephemeral_port(base_url: str) -> None:
    """serve_in_thread yields http://127.0.0.1:<free port> and the server answers there."""
    assert base_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{base_url}/__admin/health").json() == {"status": "ok"}


@pytest.mark.parametrize("prefix", ["", "/api/v1/ai"])
def test_documented_background_commands(base_url: str, prefix: str) -> None:
    """The docs' E2 then E3 curl commands get pending, then the run's envelope, over HTTP."""
    with httpx.Client(base_url=base_url + prefix) as client:
        started = client.post("/trigger/start/demo/quick-answer/DEV", headers=KEY, json=BODY)
        assert started.status_code == 200
        envelope = started.json()
        assert (envelope["status"], envelope["response"], envelope["logs"]) == ("pending", {}, [])
        polled = client.get(f"/trigger/status/demo/{envelope['workflow_id']}", headers=KEY)
        assert polled.status_code == 200
        assert polled.headers["content-type"] == "application/json"
        assert polled.json()["workflow_id"] == envelope["workflow_id"]
        client.post(f"{base_url}/__admin/clock", json={"advance_s": 30})
        final = client.get(f"/trigger/status/demo/{envelope['workflow_id']}", headers=KEY).json()
        assert final["status"] == "completed"
        assert final["response"]["key1"] == "value1"


def test_documented_errors_over_http(base_url: str) -> None:
    """The documented 401 and 422 bodies arrive over a real connection."""
    with httpx.Client(base_url=base_url) as client:
        refused = client.post(
            "/trigger/demo/quick-answer/DEV", headers={"Authorization": "Bearer nope"}, json=BODY
        )
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Invalid authentication credentials"}
        assert refused.headers["www-authenticate"] == "Bearer"
        invalid = client.post(
            "/trigger/start/demo/quick-answer/DEV",
            headers=KEY,
            json={"user_variables": "..."},
        )
        assert invalid.status_code == 422
        assert invalid.json()["detail"][0]["type"] == "dict_type"


def test_frozen_e1_over_http_is_released_by_an_admin_advance(base_url: str) -> None:
    """Over real sockets, a frozen clock holds E1 until an admin advance lets the flow end."""
    httpx.post(f"{base_url}/__admin/clock", json={"frozen": True})
    answers: list[httpx.Response] = []

    def call() -> None:
        answers.append(
            httpx.post(f"{base_url}/trigger/demo/quick-answer/DEV", headers=KEY, timeout=10)
        )

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not httpx.get(f"{base_url}/__admin/runs").json()["runs"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert caller.is_alive()
    httpx.post(f"{base_url}/__admin/clock", json={"advance_s": 10})
    caller.join(5)
    assert not caller.is_alive()
    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "completed"
