"""Sessions: the embedded mock in process or on a socket, and plain real targets."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from harness import Secret, Target, TargetUnavailable, UsageError
from harness._admin_client import MockAdmin
from harness._embedded import embedded_app, open_session
from harness._targets import mock_target
from harness.report import CaseFinished, Event, SuiteStarted
from harness.suite import run_contract, suite_context


def _remote() -> Target:
    return Target(
        name="remote",
        base_url="http://127.0.0.1:9/api/v1/ai",
        workspace_id="ws-1",
        environment="DEV",
        api_key=Secret("remote-key"),
    )


def test_in_process_session_serves_the_demo_world_with_admin() -> None:
    """The embedded in-process session runs E1 on the demo world and exposes the admin API."""
    with open_session(mock_target()) as session:
        assert session.app is not None
        assert session.target.base_url == session.base_url == "http://testserver"
        observation = session.client().run_sync(user_variables={"k": "v"})
        assert observation.envelope is not None
        assert observation.envelope.status == "completed"
        assert session.admin is not None
        assert session.admin.clock()["time_scale"] == 100.0


def test_embedded_clock_is_virtual_time_and_sleep_is_scaled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session clock is monotonic × scale; sleeping s virtual seconds sleeps s/scale real."""
    slept: list[float] = []
    with open_session(mock_target(), time_scale=50.0) as session:
        before = time.monotonic()
        now = session.clock()
        after = time.monotonic()
        monkeypatch.setattr(time, "sleep", slept.append)
        session.sleep(5.0)
        session.sleep(-1.0)
    assert before * 50 <= now <= after * 50
    assert slept == [0.1, 0.0]
    assert session.time_scale == 50.0


def test_admin_token_is_sent_by_the_session_admin_and_required() -> None:
    """With an admin token the session's MockAdmin works and a call without it gets 401."""
    with open_session(mock_target(), admin_token="adm1n-token") as session:
        assert session.admin is not None
        assert session.admin.health() == {"status": "ok"}
        assert session.http.get("/__admin/health").status_code == 401


def test_app_override_is_served_in_place_of_the_demo_world() -> None:
    """A given app (e.g. a wrapped mock) is what the session serves."""
    app = embedded_app(10.0)
    with open_session(mock_target(), app=app) as session:
        assert session.app is app
        assert session.admin is not None
        assert session.admin.clock()["time_scale"] == 10.0


@pytest.mark.socket
def test_served_session_listens_on_loopback_and_stops_on_exit() -> None:
    """`in_process=False` serves the mock on 127.0.0.1 for the session only."""
    with open_session(mock_target(), in_process=False) as session:
        assert session.base_url.startswith("http://127.0.0.1:")
        assert session.target.base_url == session.base_url
        assert session.app is None
        observation = session.client().start()
        assert observation.envelope is not None
        assert observation.envelope.status == "pending"
        url = session.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/__admin/health", timeout=2)


def test_real_target_session_is_plain_httpx_on_real_time() -> None:
    """A real target gets an httpx.Client, real clock and sleep, and no admin client."""
    with open_session(_remote()) as session:
        assert type(session.http) is httpx.Client
        assert session.admin is None
        assert session.app is None
        assert session.clock is time.monotonic
        assert session.time_scale == 1.0
        assert session.http.timeout.read == 30.0


def test_real_target_with_admin_url_gets_a_mock_admin() -> None:
    """A served mock named by `admin_url` gets a MockAdmin over the session's client."""
    with open_session(_remote(), admin_url="http://127.0.0.1:9") as session:
        assert isinstance(session.admin, MockAdmin)


def test_bad_session_options_are_usage_errors() -> None:
    """A non-positive time scale, or an app for a real target, is refused naming the option."""
    with pytest.raises(UsageError, match="time_scale"), open_session(mock_target(), time_scale=0):
        pass
    with pytest.raises(UsageError, match="app"), open_session(_remote(), app=embedded_app()):
        pass


def test_suite_context_is_exact_on_the_embedded_mock_only() -> None:
    """The embedded mock's context checks the log window and mock defaults; a real one does not."""
    with open_session(mock_target()) as session:
        ctx = suite_context(session)
        assert (ctx.exact, ctx.log_window, ctx.admin) == (True, 5, session.admin)
    with open_session(_remote()) as session:
        ctx = suite_context(session, allow_production=True)
        assert (ctx.exact, ctx.log_window, ctx.admin) == (False, None, None)
        assert ctx.allow_production


def test_importing_the_session_module_does_not_import_the_mock() -> None:
    """`harness._embedded` imports mock_server only when an embedded session opens."""
    code = "import sys, harness._embedded, harness.suite; print('mock_server' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_run_contract_runs_the_selected_cases_on_the_embedded_mock() -> None:
    """`run_contract` opens the session and runs the suite, emitting its events."""
    events: list[Event] = []
    outcome = run_contract(mock_target(), emit=events.append, select=["unknown"])
    assert outcome.ok
    assert [c.case_id for c in outcome.cases] == [
        "unknown.trigger.E1",
        "unknown.trigger.E2",
        "unknown.workflow.E3",
    ]
    assert isinstance(events[0], SuiteStarted)


@pytest.mark.socket
def test_run_contract_on_an_unreachable_target_raises_target_unavailable() -> None:
    """Nothing listening on the target's port: TargetUnavailable (exit 3), no case run."""
    events: list[Event] = []
    with pytest.raises(TargetUnavailable) as raised:
        run_contract(_remote(), emit=events.append)
    assert raised.value.exit_code == 3
    assert not any(isinstance(event, CaseFinished) for event in events)
