"""The pytest plugin (entry point `pytest11: trigger_harness`): target options, fixtures, markers.

    pytest tests/contract --target NAME [--targets FILE]

Options: `--target` (default `mock`, the embedded mock) and `--targets` (a `harness.toml`;
otherwise `$TRIGGER_HARNESS_TARGETS` or `./harness.toml`). Keys are read from the environment
here, at the plugin's edge, and nowhere deeper.

Fixtures: `trigger_target` and `trigger_session` (session-scoped: one embedded mock, or one
HTTP client, per test session), `trigger_client`, `async_trigger_client`, `suite_context`
(the contract suite's context on the selected target) and `mock_api` (a fresh in-process mock
per test: `.http`, `.admin`, `.app`, `.client()`).

Markers: `mock_only` skips a test, saying why, unless the target is the embedded mock;
`starts_runs` marks a test that starts runs and skips it on a production target.

Only public pytest API is used, and the harness is imported inside the hooks and fixtures, so
loading the plugin costs nothing when its fixtures are not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness._async_client import AsyncTriggerClient
    from harness._client import TriggerClient
    from harness._embedded import Session
    from harness._targets import Target
    from harness.suite import SuiteContext

__all__ = [
    "async_trigger_client",
    "mock_api",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_setup",
    "suite_context",
    "trigger_client",
    "trigger_session",
    "trigger_target",
]

MOCK_ONLY_REASON = "needs the mock's admin API (virtual clock); skipped on real targets"
PRODUCTION_REASON = "starts runs; skipped on a production target"
_TARGET_KEY = pytest.StashKey["Target"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--target` and `--targets`."""
    group = parser.getgroup("trigger-harness", "trigger API contract suite")
    group.addoption(
        "--target",
        dest="trigger_harness_target",
        default="mock",
        metavar="NAME",
        help="target to check (a [targets.NAME] of the targets file); default: mock, the "
        "embedded mock",
    )
    group.addoption(
        "--targets",
        dest="trigger_harness_targets",
        default=None,
        metavar="FILE",
        help="targets file; default: $TRIGGER_HARNESS_TARGETS, else ./harness.toml",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; check an explicitly chosen target at once (a usage error)."""
    config.addinivalue_line("markers", f"mock_only: {MOCK_ONLY_REASON}")
    config.addinivalue_line("markers", f"starts_runs: {PRODUCTION_REASON}")
    chosen = config.getoption("trigger_harness_target") != "mock"
    if chosen or config.getoption("trigger_harness_targets") is not None:
        _selected_target(config)


def _selected_target(config: pytest.Config) -> Target:
    """The `--target`, loaded once per session with its secrets read from the environment."""
    if _TARGET_KEY in config.stash:
        return config.stash[_TARGET_KEY]
    from harness._exceptions import HarnessError  # noqa: PLC0415 - cheap plugin import
    from harness._targets import load_targets, select_target  # noqa: PLC0415 - likewise

    name: str = config.getoption("trigger_harness_target")
    path_option: str | None = config.getoption("trigger_harness_targets")
    cwd = config.invocation_params.dir
    try:
        targets = load_targets(
            Path(path_option) if path_option else None, environ=os.environ, cwd=cwd
        )
        target = select_target(targets, name, environ=os.environ)
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_TARGET_KEY] = target
    return target


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip `mock_only` tests off the embedded mock and `starts_runs` tests on production."""
    mock_only = item.get_closest_marker("mock_only") is not None
    starts_runs = item.get_closest_marker("starts_runs") is not None
    if not (mock_only or starts_runs):
        return
    target = _selected_target(item.config)
    if mock_only and not target.embedded:
        pytest.skip(MOCK_ONLY_REASON)
    if starts_runs and not target.may_start_runs(allow_production=False):
        pytest.skip(PRODUCTION_REASON)


@pytest.fixture(scope="session")
def trigger_target(pytestconfig: pytest.Config) -> Target:
    """The selected target (`--target`, `--targets`), its key read from the environment."""
    return _selected_target(pytestconfig)


@pytest.fixture(scope="session")
def trigger_session(trigger_target: Target) -> Iterator[Session]:
    """One session on the target for the whole test run (the embedded mock runs in process).

    Before the first test uses it, the preflight asks whether `base_url` is the trigger API and
    the key is accepted; if not, the run stops with exit 3 and the reason (never the key).
    """
    from harness._embedded import open_session  # noqa: PLC0415 - cheap plugin import
    from harness._exceptions import TargetUnavailable  # noqa: PLC0415 - likewise
    from harness._preflight import preflight  # noqa: PLC0415 - likewise

    with open_session(trigger_target) as session:
        try:
            preflight(session.client(), sleep=session.sleep)
        except TargetUnavailable as exc:
            pytest.exit(f"trigger-harness: {exc}", returncode=exc.exit_code)
        yield session


@pytest.fixture
def trigger_client(trigger_session: Session) -> TriggerClient:
    """A `TriggerClient` on the selected target (virtual-time clock and sleep on the mock)."""
    return trigger_session.client()


@pytest.fixture
def async_trigger_client(trigger_session: Session) -> Iterator[AsyncTriggerClient]:
    """An `AsyncTriggerClient` on the selected target; drive it with `asyncio.run(...)`."""
    import httpx  # noqa: PLC0415 - cheap plugin import

    from harness._async_client import AsyncTriggerClient  # noqa: PLC0415 - likewise
    from harness._embedded import (  # noqa: PLC0415 - likewise
        in_process_async_client,
        scaled_async_sleep,
    )

    if trigger_session.app is not None:
        http = in_process_async_client(trigger_session.app, base_url=trigger_session.base_url)
    else:
        http = httpx.AsyncClient(timeout=trigger_session.target.timeout_s)
    sleep = scaled_async_sleep(trigger_session.time_scale)

    yield AsyncTriggerClient(
        trigger_session.target, http=http, clock=trigger_session.clock, sleep=sleep
    )
    # Connections made inside a test's own event loop cannot outlive it; nothing to release.
    with contextlib.suppress(RuntimeError):
        asyncio.run(http.aclose())


@pytest.fixture
def suite_context(trigger_session: Session) -> SuiteContext:
    """The contract suite's context on the selected target (fresh note sink per test)."""
    from harness.suite import suite_context as make_context  # noqa: PLC0415 - cheap import

    return make_context(trigger_session)


@pytest.fixture
def mock_api() -> Iterator[Session]:
    """A fresh in-process mock (demo world, fast virtual clock) with its admin API, per test."""
    from harness._embedded import open_session  # noqa: PLC0415 - cheap plugin import
    from harness._targets import mock_target  # noqa: PLC0415 - likewise

    with open_session(mock_target()) as session:
        yield session
