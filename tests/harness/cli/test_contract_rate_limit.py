"""`contract` on a rate-limited target (issue 14, A8): a 429 is re-sent after its `Retry-After`,
and one still answered after the bounded retries makes the case inconclusive ("could not
tell"), never failed or errored; a run with inconclusive cases and no failure exits 4.

Before: 10 FAILED + 6 ERROR against an app answering 429 before its auth check (a 429 to a
wrong key was "Unauthenticated request not refused"), and `RateLimited` errors on the mock's
own rate limit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness._embedded import DEFAULT_TIME_SCALE, embedded_mock
from harness.cli import main
from harness.cli._edge import Edge
from mock_server import create_app, demo_config, serve_in_thread

KEY, JIRA_SECRET = "limited-key-3c1e", "limited-jira-secret-9a0b"
FAST_WORLD: dict[str, Any] = {
    "mock": {},
    "workspaces": [
        {
            "id": "demo",
            "api_keys": [KEY],
            "triggers": [
                {"id": "quick-answer", "duration": {"dist": "fixed", "s": 2}},
                {"id": "nightly-report", "duration": {"dist": "fixed", "s": 5}},
                {
                    "id": "jira-triage",
                    "duration": {"dist": "fixed", "s": 3},
                    "jira_secret": JIRA_SECRET,
                },
            ],
        }
    ],
}
SELECTED = ["auth.wrong_key", "sync.happy_path.E1", "background.lifecycle.E2E3", "jira.signed.E4"]
_RETRY_AFTER_S = b"1"


class FirstSightLimited:
    """An ASGI app, independent of the mock's own limits: the first request on each method and
    API path answers 429 with `Retry-After: 1` before any check of its key; the same request
    sent again reaches the wrapped app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: set[tuple[str, str]] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer 429 on first sight of an API request line, else pass it on."""
        line = (scope.get("method", ""), scope.get("path", ""))
        if scope["type"] != "http" or not line[1].startswith("/trigger/") or line in self.seen:
            await self.app(scope, receive, send)
            return
        self.seen.add(line)
        headers = [(b"retry-after", _RETRY_AFTER_S), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"detail": "slow down"}'})


def _invoke(tmp_path: Path, args: list[str], environ: dict[str, str]) -> tuple[int, str]:
    lines: list[str] = []
    edge = Edge(environ=environ, cwd=tmp_path, echo=lines.append)
    result = CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    return result.exit_code, "\n".join(lines) + result.output


def _select(cases: list[str]) -> list[str]:
    return [arg for case in cases for arg in ("--select", case)]


@pytest.fixture
def limited_url() -> Iterator[tuple[str, FirstSightLimited]]:
    """A fast mock world behind `FirstSightLimited`, served on 127.0.0.1."""
    app = FirstSightLimited(embedded_mock(FAST_WORLD, time_scale=DEFAULT_TIME_SCALE).app)
    with serve_in_thread(app) as url:
        yield url, app


def test_429_before_auth_is_retried_and_no_case_fails(
    tmp_path: Path, limited_url: tuple[str, FirstSightLimited]
) -> None:
    """Every first request is answered 429 (wrong keys too); re-sent after Retry-After, each
    case judges the real answer: exit 0, nothing failed, errored or inconclusive."""
    url, app = limited_url
    (tmp_path / "harness.toml").write_text(
        f"""
[targets.limited]
base_url = "{url}"
workspace_id = "demo"
environment = "DEV"
api_key_env = "LIMITED_KEY"
sync_trigger = "quick-answer"
background_trigger = "nightly-report"
jira_trigger = "jira-triage"
jira_secret_env = "LIMITED_JIRA"
poll_interval_s = 0.1
max_run_s = 60
"""
    )
    environ = {"LIMITED_KEY": KEY, "LIMITED_JIRA": JIRA_SECRET}
    code, output = _invoke(
        tmp_path, ["contract", "--target", "limited", *_select(SELECTED)], environ
    )
    assert "contract: 6 passed, 0 failed, 0 inconclusive, 0 errors, 0 skipped" in output, output
    assert code == 0, output
    assert len(app.seen) >= len(SELECTED) + 2, app.seen  # each case met at least one 429


@pytest.fixture
def exhausted_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--target mock` serves the demo world with a rate limit whose clock never moves: after
    its one token, every API request of the workspace is answered 429 for good."""
    world = demo_config(seed=7)
    settings = dataclasses.replace(world.mock, rate_limit_per_s=1.0, time_scale=DEFAULT_TIME_SCALE)
    app = create_app(dataclasses.replace(world, mock=settings), real_time=lambda: 0.0)
    monkeypatch.setattr("harness._embedded.embedded_app", lambda *args, **kwargs: app)


@pytest.mark.usefixtures("exhausted_mock")
def test_a_429_after_the_bounded_retries_is_inconclusive_and_exits_4(tmp_path: Path) -> None:
    """The mock's own rate limit never lets E1 through: the case could not tell (A8), it is
    neither failed nor an error, the summary counts it apart and the run exits 4."""
    code, output = _invoke(
        tmp_path, ["contract", "--target", "mock", *_select(["auth.wrong_key", "sync"])], {}
    )
    assert "contract: 3 passed, 0 failed, 1 inconclusive, 0 errors, 0 skipped" in output, output
    assert "INCONCLUSIVE sync.happy_path.E1: could not tell: rate limited (HTTP 429, A8)" in output
    assert code == 4, output
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert results["verdict"] == "could not judge"
    (suite,) = results["suites"]
    assert (suite["failed"], suite["error"], suite["inconclusive"]) == (0, 0, 1)
    junit = (tmp_path / "reports" / "latest" / "junit.xml").read_text()
    assert 'failures="0"' in junit
    assert 'errors="0"' in junit
