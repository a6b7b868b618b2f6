"""The plugin's production guard holds for the whole session, before the first request.

A counting ASGI app (the demo mock behind a wrapper that records every request) is served on
127.0.0.1 and named by two targets: `prod` (environment PROD, so production by default) and
`dev`. The same inner test module, which reaches the target through every plugin fixture, the
`starts_runs` marker and every contract case, sends no request at all to `prod` and POSTs to
`dev`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import create_app, serve_in_thread
from mock_server._config import demo_config

pytest_plugins = ["pytester"]

_TARGETS = """
[targets.prod]
base_url = "{url}"
workspace_id = "demo"
environment = "PROD"
api_key_env = "PLUGIN_PROD_KEY"
sync_trigger = "quick-answer"
background_trigger = "nightly-report"
jira_trigger = "jira-triage"
jira_secret_env = "PLUGIN_PROD_JIRA"

[targets.dev]
base_url = "{url}"
workspace_id = "demo"
environment = "DEV"
api_key_env = "PLUGIN_PROD_KEY"
background_trigger = "nightly-report"
"""
_EVERY_WAY_IN = """
import asyncio

import httpx
import pytest

from harness.suite import CASES, execute_case


def test_client(trigger_client):
    trigger_client.start()


def test_session(trigger_session):
    trigger_session.client().start()


def test_async_client(async_trigger_client):
    asyncio.run(async_trigger_client.start())


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(case_id, suite_context):
    execute_case(suite_context, CASES[case_id])


@pytest.mark.starts_runs
def test_marked(trigger_target):
    url = f"{trigger_target.base_url}/trigger/start/demo/nightly-report/DEV"
    headers = {"Authorization": f"Bearer {trigger_target.api_key.reveal()}"}
    httpx.post(url, headers=headers, json={}, timeout=10)


def test_target_only(trigger_target):
    assert trigger_target.is_production
"""


class CountingApp:
    """An ASGI app that records `(method, path)` of every HTTP request, then passes it on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture
def counted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingApp]:
    """The demo mock (fast clock) behind a counter, served; harness.toml names it twice."""
    config = demo_config()
    config = dataclasses.replace(config, mock=dataclasses.replace(config.mock, time_scale=1000.0))
    app = CountingApp(create_app(config))
    monkeypatch.setenv("PLUGIN_PROD_KEY", "demo-key")
    monkeypatch.setenv("PLUGIN_PROD_JIRA", "demo-jira-secret")
    monkeypatch.delenv("TRIGGER_HARNESS_TARGET", raising=False)
    monkeypatch.delenv("TRIGGER_HARNESS_TARGETS", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(_EVERY_WAY_IN)
    with serve_in_thread(app) as url:
        pytester.makefile(".toml", harness=_TARGETS.format(url=url))
        yield app


def test_no_request_reaches_a_production_target(
    pytester: pytest.Pytester, counted: CountingApp
) -> None:
    """On `prod` every test that could reach the target is skipped: zero requests of any kind."""
    result = pytester.runpytest("--trigger-target", "prod", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1, result.stdout.str()
    assert outcomes.get("skipped", 0) > 4
    assert "failed" not in outcomes
    result.stdout.fnmatch_lines(["*may start runs on a production target*"])
    assert counted.requests == []


def test_allow_production_lifts_the_guard(pytester: pytest.Pytester, counted: CountingApp) -> None:
    """`--trigger-allow-production` runs them (so the guard above is what kept requests out)."""
    result = pytester.runpytest(
        "--trigger-target", "prod", "--trigger-allow-production", "-k", "client or marked"
    )
    result.assert_outcomes(passed=3, deselected=result.parseoutcomes()["deselected"])
    starts = sorted(path for method, path in counted.requests if method == "POST")
    assert starts == [
        "/trigger/start/demo/nightly-report/DEV",
        "/trigger/start/demo/nightly-report/PROD",
        "/trigger/start/demo/nightly-report/PROD",
    ]


def test_a_non_production_target_gets_its_posts(
    pytester: pytest.Pytester, counted: CountingApp
) -> None:
    """The same module on `dev` reaches the target: the counter sees its POSTs."""
    result = pytester.runpytest("--trigger-target", "dev", "-k", "session or marked")
    result.assert_outcomes(passed=2, deselected=result.parseoutcomes()["deselected"])
    assert [r for r in counted.requests if r[0] == "POST"] == [
        ("POST", "/trigger/start/demo/nightly-report/DEV")
    ] * 2
