"""Clients that go away: mid-body or while E1 waits, recorded as disconnects, never as 500s."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from mock_server import MockApp
from mock_server._admin import prometheus_text
from tests.fixtures.mock import AUTH

E1 = "/trigger/demo/quick-answer/DEV"
E2 = "/trigger/start/demo/quick-answer/DEV"


def _scope(path: str, body_length: int) -> dict[str, Any]:
    headers = [(k.lower().encode(), v.encode()) for k, v in AUTH.items()]
    headers += [(b"content-type", b"application/json")]
    headers += [(b"content-length", str(body_length).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: MockApp, path: str, chunks: list[bytes], *, complete: bool) -> list[Any]:
    """Send `chunks` of a body (the last one final when `complete`), then disconnect."""
    events: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if complete:
        events[-1]["more_body"] = False
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if events:
            return events.pop(0)
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(_scope(path, 1000), receive, send)
    return sent


def _journal(app: MockApp) -> list[dict[str, Any]]:
    return app.state.journal.query()


def test_a_client_closing_mid_body_is_a_disconnect_not_a_500(
    mock_app: MockApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Half a body then a disconnect: nothing answered, journaled and counted as a disconnect."""
    with caplog.at_level(logging.WARNING, logger="mock_server"):
        sent = asyncio.run(_call(mock_app, E2, [b'{"message": "hal'], complete=False))
    assert sent == []
    assert caplog.records == []
    (entry,) = _journal(mock_app)
    assert (entry["status_code"], entry["client_disconnected"]) == (None, True)
    assert mock_app.state.disconnects == {"E2": 1}
    assert all(code != 500 for _, code in mock_app.state.request_counts)
    assert mock_app.state.store.list_runs() == []


def test_an_e1_caller_going_away_while_it_waits_is_a_disconnect(mock_app: MockApp) -> None:
    """E1 stops waiting when its client goes away; the run it started goes on."""
    sent = asyncio.run(_call(mock_app, E1, [b"{}"], complete=True))
    assert sent == []
    (entry,) = _journal(mock_app)
    assert (entry["endpoint"], entry["status_code"]) == ("E1", None)
    assert entry["client_disconnected"] is True
    assert entry["workflow_id"] is not None
    assert [run["workflow_id"] for run in mock_app.state.store.list_runs()] == [
        entry["workflow_id"]
    ]
    assert mock_app.state.disconnects == {"E1": 1}


def test_disconnects_are_on_the_metrics_page(mock_app: MockApp) -> None:
    """`mock_client_disconnects_total` counts them by endpoint."""
    asyncio.run(_call(mock_app, E2, [b"{"], complete=False))
    asyncio.run(_call(mock_app, E2, [b"{"], complete=False))
    text = prometheus_text(mock_app.state)
    assert 'mock_client_disconnects_total{endpoint="E2"} 2' in text
    assert 'code="500"' not in text


def test_e1_waiters_answer_503_when_the_server_shuts_down(mock_app: MockApp) -> None:
    """`begin_shutdown` makes a waiting E1 answer 503 at once instead of holding shutdown."""

    async def scenario() -> list[Any]:
        sent: list[Any] = []
        body_events = [{"type": "http.request", "body": b"{}", "more_body": False}]
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if body_events:
                return body_events.pop(0)
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        call = asyncio.ensure_future(mock_app(_scope(E1, 2), receive, send))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not call.done()
        mock_app.state.begin_shutdown()
        await asyncio.wait_for(call, 5)
        return sent

    sent = asyncio.run(scenario())
    assert sent[0]["status"] == 503
    assert b"shutting down" in sent[1]["body"]
