"""Server limits over real sockets: head size, head and body read times, connections, shutdown."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server import MockApp, create_app, serve_in_thread
from mock_server._config import MockConfig
from mock_server._limits import ServerLimits

pytestmark = pytest.mark.socket

LIMITS = ServerLimits(
    max_connections=8,
    max_head_bytes=4096,
    head_timeout_s=0.5,
    body_timeout_s=0.5,
    sweep_interval_s=0.1,
)
KEY = b"Authorization: Bearer demo-key\r\n"


@pytest.fixture
def app(mock_config: MockConfig) -> MockApp:
    """The demo mock on the real clock."""
    return create_app(mock_config)


@pytest.fixture
def url(app: MockApp) -> Iterator[str]:
    """The mock served with small limits on an ephemeral loopback port."""
    with serve_in_thread(app, limits=LIMITS) as base:
        yield base


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (10 s at most)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _send_ignoring_reset(sock: socket.socket, data: bytes) -> None:
    """Send `data`; the server may refuse and close while it is still being sent."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def test_a_huge_header_is_431_and_the_mock_keeps_serving(url: str) -> None:
    """A 10 MB header is refused 431 as soon as the head passes the limit; others still served."""
    with _connect(url) as sock:
        head = b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Big: "
        _send_ignoring_reset(sock, head + b"a" * (10 * 1024 * 1024) + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert httpx.get(f"{url}/__admin/health").status_code == 200


def test_a_url_over_the_head_limit_is_414(url: str) -> None:
    """A 64 KB path is refused 414 before the app (and its journal) sees it."""
    with _connect(url) as sock:
        _send_ignoring_reset(sock, b"GET /trigger/status/demo/" + b"x" * 65536 + b" HTTP/1.1\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 414 ")
    assert httpx.get(f"{url}/__admin/requests").json()["requests"] == []


def test_a_slow_head_is_408_and_closed(url: str) -> None:
    """A head still incomplete after head_timeout_s gets 408 and the connection is closed."""
    with _connect(url) as sock:
        sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_an_idle_connection_is_closed(url: str) -> None:
    """A connection that never sends a byte is closed after head_timeout_s."""
    with _connect(url) as sock:
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_slow_body_is_closed_and_journaled_as_a_disconnect(url: str) -> None:
    """A body still incomplete after body_timeout_s: connection closed, a disconnect, no 500."""
    with _connect(url) as sock:
        sock.sendall(
            b"POST /trigger/start/demo/quick-answer/DEV HTTP/1.1\r\nHost: x\r\n"
            + KEY
            + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mess'
        )
        answer = _read_all(sock)
    assert answer == b""
    entries: list[dict[str, object]] = []
    deadline = time.monotonic() + 5
    while not entries and time.monotonic() < deadline:
        entries = httpx.get(f"{url}/__admin/requests").json()["requests"]
    assert [(e["status_code"], e["client_disconnected"]) for e in entries] == [(None, True)]
    metrics = httpx.get(f"{url}/__admin/metrics").text
    assert 'mock_client_disconnects_total{endpoint="E2"} 1' in metrics
    assert 'code="500"' not in metrics


def test_connections_past_the_cap_are_closed_at_once(url: str) -> None:
    """Past max_connections a new connection gets 503 and is closed; idle ones time out."""
    idle = [_connect(url) for _ in range(LIMITS.max_connections)]
    try:
        time.sleep(0.05)  # let the server accept them (not a timed assertion)
        with _connect(url) as extra:
            assert _read_all(extra).startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in idle:
            sock.close()
    assert httpx.get(f"{url}/__admin/health").status_code == 200


def _e1_in_thread(url: str, answers: list[httpx.Response]) -> threading.Thread:
    def call() -> None:
        answers.append(
            httpx.post(
                f"{url}/trigger/demo/quick-answer/DEV",
                headers={"Authorization": "Bearer demo-key"},
                timeout=30,
            )
        )

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while not httpx.get(f"{url}/__admin/runs").json()["runs"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return caller


def test_shutdown_answers_a_waiting_e1_with_503(app: MockApp) -> None:
    """Leaving serve_in_thread with an E1 in flight answers it 503 instead of waiting for it."""
    answers: list[httpx.Response] = []
    with serve_in_thread(app, limits=LIMITS) as base:
        httpx.post(f"{base}/__admin/clock", json={"frozen": True})
        caller = _e1_in_thread(base, answers)
    caller.join(15)
    assert not caller.is_alive()
    assert answers[0].status_code == 503
    assert answers[0].json() == {"detail": "The mock is shutting down"}


def test_sigterm_ends_trigger_mock_serve_with_an_e1_in_flight() -> None:
    """SIGTERM to `trigger-mock serve` with a frozen E1: the E1 gets 503, then the process ends
    by the signal after its graceful shutdown (uvicorn re-raises it: a shell sees 143)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip().removeprefix("serving ")
        httpx.post(f"{base}/__admin/clock", json={"frozen": True})
        answers: list[httpx.Response] = []
        caller = _e1_in_thread(base, answers)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        caller.join(15)
    finally:
        if process.poll() is None:
            process.kill()
        _, err = process.communicate(timeout=10)
    assert code == -signal.SIGTERM
    assert answers[0].status_code == 503
    assert "Traceback" not in err


def test_refused_heads_do_not_flood_the_log(url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Oversized heads are refused without a log line each (a flood would flood the log)."""
    uvicorn_log = logging.getLogger("uvicorn.error")  # uvicorn's loggers do not propagate
    uvicorn_log.addHandler(caplog.handler)
    try:
        for _ in range(5):
            with _connect(url) as sock:
                _send_ignoring_reset(sock, b"GET /" + b"x" * 65536)
                assert _read_all(sock).startswith(b"HTTP/1.1 414 ")
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"] == []
