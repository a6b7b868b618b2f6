"""The pytest plugin (entry point `pytest11: trigger_harness`): target options, fixtures, markers.

    pytest --trigger-target NAME [--trigger-targets FILE] [--trigger-allow-production]

Options are namespaced, so a project's own `--target` keeps working next to them. Each is also
read, pytest-base-url style, from an environment variable and an ini key; the first one set
wins:

    target:  --trigger-target NAME,  $TRIGGER_HARNESS_TARGET,  ini trigger_target; else mock
    targets: --trigger-targets FILE, $TRIGGER_HARNESS_TARGETS, ini trigger_targets;
             else ./harness.toml

An ini `trigger_targets` path is relative to the ini file. Keys are read from the environment
here, at the plugin's edge, and nowhere deeper.

Fixtures: `trigger_target` and `trigger_session` (session-scoped: one embedded mock, or one
HTTP client, per test session), `trigger_client`, `async_trigger_client`, `suite_context`
(the contract suite's context on the selected target) and `mock_api` (a fresh in-process mock
per test: `.http`, `.admin`, `.app`, `.client()`). Every fixture is a plain (sync) pytest
fixture, so `async_trigger_client` serves async tests under pytest-asyncio (strict or auto
mode) and under anyio alike.

Markers: `mock_only` skips a test, saying why, unless the target is the embedded mock;
`starts_runs` marks a test that starts runs by its own means.

Production guard (interfaces.md): once, after collection and before the first request, the
plugin asks `Target.may_start_runs` (with `--trigger-allow-production`). When it says no,
every test that could reach the target's trigger API (a `starts_runs` test, and any test using
`trigger_session` or a fixture built on it: `trigger_client`, `async_trigger_client`,
`suite_context`, ...) is skipped, and `trigger_session` itself refuses to open, so no request
at all (E1/E2/E4 POSTs included) reaches a production target.

Failure reports are display-safe: a failure's text (a `ContractViolation`'s message, an
assertion on a target's answer, in any phase) can hold the target's control or bidi characters,
so when it does the report's text is replaced by its `display_safe` form (newlines and tabs
kept) before pytest shows or stores it. Reports without such characters are left as pytest made
them.

Only public pytest API is used, and the harness is imported inside the hooks and fixtures, so
loading the plugin costs nothing when its fixtures are not used.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

if TYPE_CHECKING:
    from harness._async_client import AsyncTriggerClient
    from harness._client import TriggerClient
    from harness._embedded import Session
    from harness._targets import Target
    from harness.suite import SuiteContext

__all__ = [
    "MOCK_ONLY_REASON",
    "PRODUCTION_REASON",
    "TARGET_ENV_VAR",
    "async_trigger_client",
    "mock_api",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "suite_context",
    "trigger_client",
    "trigger_session",
    "trigger_target",
]

MOCK_ONLY_REASON: Final = "needs the mock's admin API (virtual clock); skipped on real targets"
PRODUCTION_REASON: Final = (
    "may start runs on a production target; skipped for the whole session "
    "(pass --trigger-allow-production)"
)
_STARTS_RUNS_DOC: Final = "the test starts runs on the target; skipped on a production target"
TARGET_ENV_VAR: Final = "TRIGGER_HARNESS_TARGET"
"""The environment variable naming the target when `--trigger-target` is not given."""
_SESSION_FIXTURE: Final = "trigger_session"
"""Every fixture that can send a request to the target is built on this one."""
_TARGET_KEY = pytest.StashKey["Target"]()
_GUARD_KEY = pytest.StashKey[bool]()


@dataclass(frozen=True, slots=True)
class _Choice:
    """A setting's value and where it came from (named in messages), e.g. `--trigger-target`."""

    value: str | None
    source: str


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--trigger-target`, `--trigger-targets`, `--trigger-allow-production` and ini keys."""
    group = parser.getgroup("trigger-harness", "trigger API contract suite")
    group.addoption(
        "--trigger-target",
        dest="trigger_harness_target",
        default=None,
        metavar="NAME",
        help=f"target to check (a [targets.NAME] of the targets file); default: ${TARGET_ENV_VAR}, "
        "else ini trigger_target, else mock (the embedded mock)",
    )
    group.addoption(
        "--trigger-targets",
        dest="trigger_harness_targets",
        default=None,
        metavar="FILE",
        help="targets file; default: $TRIGGER_HARNESS_TARGETS, else ini trigger_targets, "
        "else ./harness.toml",
    )
    group.addoption(
        "--trigger-allow-production",
        dest="trigger_harness_allow_production",
        action="store_true",
        default=False,
        help="run tests that may start runs on a production target too",
    )
    parser.addini("trigger_target", "trigger-harness target name (default: mock)", default="")
    parser.addini(
        "trigger_targets", "trigger-harness targets file, relative to the ini file", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; check an explicitly chosen target at once (a usage error)."""
    config.addinivalue_line("markers", f"mock_only: {MOCK_ONLY_REASON}")
    config.addinivalue_line("markers", f"starts_runs: {_STARTS_RUNS_DOC}")
    if _target_name(config).value is not None or _targets_file(config) is not None:
        _selected_target(config)


def _target_name(config: pytest.Config) -> _Choice:
    """The target's name: `--trigger-target`, `$TRIGGER_HARNESS_TARGET`, ini; None: `mock`."""
    option: str | None = config.getoption("trigger_harness_target")
    if option is not None:
        return _Choice(option, "--trigger-target")
    if os.environ.get(TARGET_ENV_VAR):
        return _Choice(os.environ[TARGET_ENV_VAR], f"${TARGET_ENV_VAR}")
    ini = str(config.getini("trigger_target"))
    return _Choice(ini or None, "ini trigger_target")


def _targets_file(config: pytest.Config) -> str | None:
    """The targets file: `--trigger-targets`, ini (relative to the ini file); None: look on.

    None leaves `load_targets` to read `$TRIGGER_HARNESS_TARGETS`, then `./harness.toml`;
    the ini key counts only when that variable is unset.
    """
    from harness._targets import TARGETS_ENV_VAR  # noqa: PLC0415 - cheap plugin import

    option: str | None = config.getoption("trigger_harness_targets")
    if option is not None:
        return option
    ini = str(config.getini("trigger_targets"))
    if not ini or os.environ.get(TARGETS_ENV_VAR):
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return str(base / ini)


def _selected_target(config: pytest.Config) -> Target:
    """The chosen target, loaded once per session with its secrets read from the environment."""
    if _TARGET_KEY in config.stash:
        return config.stash[_TARGET_KEY]
    from harness._exceptions import HarnessError  # noqa: PLC0415 - cheap plugin import
    from harness._targets import (  # noqa: PLC0415 - likewise
        MOCK_TARGET_NAME,
        load_targets,
        select_target,
    )

    name = _target_name(config)
    path = _targets_file(config)
    try:
        targets = load_targets(
            Path(path) if path else None, environ=os.environ, cwd=config.invocation_params.dir
        )
        target = select_target(targets, name.value or MOCK_TARGET_NAME, environ=os.environ)
    except HarnessError as exc:
        message = str(exc)
        if message.startswith("--target:"):
            message = name.source + message.removeprefix("--target")
        raise pytest.UsageError(f"trigger-harness: {message}") from None
    config.stash[_TARGET_KEY] = target
    return target


def _may_start_runs(config: pytest.Config) -> bool:
    """`Target.may_start_runs` for the session's target, asked once and kept."""
    if _GUARD_KEY not in config.stash:
        allow: bool = config.getoption("trigger_harness_allow_production")
        config.stash[_GUARD_KEY] = _selected_target(config).may_start_runs(allow_production=allow)
    return config.stash[_GUARD_KEY]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before the first test: on production, skip every test that could reach the target."""
    if not any(_reaches_target(item) for item in items) or _may_start_runs(config):
        return
    skip = pytest.mark.skip(reason=PRODUCTION_REASON)
    for item in items:
        if _reaches_target(item):
            item.add_marker(skip)


def _reaches_target(item: pytest.Item) -> bool:
    """A `starts_runs` test, or one using `trigger_session` (directly or through a fixture)."""
    fixtures: tuple[str, ...] = tuple(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("starts_runs") is not None or _SESSION_FIXTURE in fixtures


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip `mock_only` tests off the embedded mock."""
    mock_only = item.get_closest_marker("mock_only") is not None
    if mock_only and not _selected_target(item.config).embedded:
        pytest.skip(MOCK_ONLY_REASON)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Make a failed report's text display-safe when a control or bidi character is in it.

    The one place every failure passes (setup, call, teardown; a `ContractViolation`, an
    `AssertionError`, any exception): the rendered failure (`str(report.longrepr)`, plain text)
    is replaced by its `display_safe(..., multiline=True)` form only when that differs.
    """
    from harness._display import display_safe  # noqa: PLC0415 - cheap plugin import

    report = yield
    if report.failed and report.longrepr is not None:
        text = str(report.longrepr)
        safe = display_safe(text, multiline=True)
        if safe != text:
            report.longrepr = safe
    return report


@pytest.fixture(scope="session")
def trigger_target(pytestconfig: pytest.Config) -> Target:
    """The selected target (`--trigger-target`, ...), its key read from the environment."""
    return _selected_target(pytestconfig)


@pytest.fixture(scope="session")
def trigger_session(pytestconfig: pytest.Config, trigger_target: Target) -> Iterator[Session]:
    """One session on the target for the whole test run (the embedded mock runs in process).

    On a production target (without `--trigger-allow-production`) it skips before any request.
    Before the first test uses it, the preflight asks whether `base_url` is the trigger API and
    the key is accepted; if not, the run stops with exit 3 and the reason (never the key).
    """
    from harness._embedded import open_session  # noqa: PLC0415 - cheap plugin import
    from harness._exceptions import TargetUnavailable  # noqa: PLC0415 - likewise
    from harness._preflight import preflight  # noqa: PLC0415 - likewise

    if not _may_start_runs(pytestconfig):
        pytest.skip(PRODUCTION_REASON)
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
def async_trigger_client(trigger_session: Session) -> AsyncTriggerClient:
    """An `AsyncTriggerClient` on the selected target, for any event loop.

    Await it in an async test (pytest-asyncio in strict or auto mode, anyio on asyncio) or
    drive it with `asyncio.run(...)`. Its HTTP client keeps no idle connection (in process on
    the mock; `max_keepalive_connections=0` otherwise), so nothing outlives the loop a test
    ran it in and there is nothing to close afterwards.
    """
    import httpx  # noqa: PLC0415 - cheap plugin import

    from harness._async_client import AsyncTriggerClient  # noqa: PLC0415 - likewise
    from harness._embedded import (  # noqa: PLC0415 - likewise
        in_process_async_client,
        scaled_async_sleep,
    )

    if trigger_session.app is not None:
        http = in_process_async_client(trigger_session.app, base_url=trigger_session.base_url)
    else:
        http = httpx.AsyncClient(
            timeout=trigger_session.target.timeout_s,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
    return AsyncTriggerClient(
        trigger_session.target,
        http=http,
        clock=trigger_session.clock,
        sleep=scaled_async_sleep(trigger_session.time_scale),
    )


@pytest.fixture
def suite_context(pytestconfig: pytest.Config, trigger_session: Session) -> SuiteContext:
    """The contract suite's context on the selected target (fresh note sink per test)."""
    from harness.suite import suite_context as make_context  # noqa: PLC0415 - cheap import

    allow: bool = pytestconfig.getoption("trigger_harness_allow_production")
    return make_context(trigger_session, allow_production=allow)


@pytest.fixture
def mock_api() -> Iterator[Session]:
    """A fresh in-process mock (demo world, fast virtual clock) with its admin API, per test."""
    from harness._embedded import open_session  # noqa: PLC0415 - cheap plugin import
    from harness._targets import mock_target  # noqa: PLC0415 - likewise

    with open_session(mock_target()) as session:
        yield session
