"""Sessions: one ready `httpx.Client`, clock, sleep and admin client for a target.

For the embedded target (`mock`) a session builds the mock's demo world with a fast virtual
clock and serves it in process (`starlette.testclient.TestClient`) or on an ephemeral
127.0.0.1 port in a thread. The session's clock is then virtual time (`monotonic * scale`) and
its sleep a real sleep of `s / scale`, so polling every 5 virtual seconds costs 50 ms. For any
other target the session is a plain `httpx.Client` on real time, with a `MockAdmin` only when
the caller says the target is a mock with admin access (`admin_url`).

`embedded_mock` builds a mock over any config mapping (the demo world by default) and hands
out its virtual clock: read it, or freeze it and step it (`set_now`), as polling sizing does.
`scaled_sleep` / `scaled_async_sleep` are the one real sleep of `s / scale` every caller on
virtual time uses.

This module is the harness's only door to `mock_server`, imported (through its package) inside
the functions that need it: the harness does not depend on the mock otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import httpx

from ._admin_client import MockAdmin
from ._client import TriggerClient
from ._exceptions import ConfigError, UsageError
from ._targets import Target
from ._types import AsyncSleep, Clock, Sleep

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mock_server import MockConfig


__all__ = [
    "DEFAULT_TIME_SCALE",
    "MOCK_LOG_WINDOW",
    "EmbeddedMock",
    "Session",
    "embedded_app",
    "embedded_mock",
    "in_process_async_client",
    "in_process_client",
    "open_session",
    "scaled_async_sleep",
    "scaled_sleep",
]

DEFAULT_TIME_SCALE: Final = 100.0
MOCK_LOG_WINDOW: Final = 5
"""The mock's default log window (A11); checked on every envelope of a mock target."""
_ADMIN_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A target made reachable: its HTTP client, clock, sleep and (for a mock) admin client.

    `target` is the effective target (for a served embedded mock, its `base_url` is the real
    socket's). `app` is the in-process ASGI app, None when the target is reached over a socket.
    `time_scale` is 1 for real targets.
    """

    target: Target
    http: httpx.Client
    base_url: str
    admin: MockAdmin | None
    clock: Clock
    sleep: Sleep
    time_scale: float = 1.0
    app: ASGIApp | None = None

    def client(self, **options: Any) -> TriggerClient:
        """A `TriggerClient` wired to this session's HTTP client, clock and sleep.

        Args:
            options: further `TriggerClient` keyword arguments (event_hooks, retry, rng...).
        """
        options.setdefault("clock", self.clock)
        options.setdefault("sleep", self.sleep)
        return TriggerClient(self.target, http=self.http, **options)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedMock:
    """An embedded mock's ASGI app and a handle on its virtual clock.

    `clock` reads the mock's virtual time (epoch seconds). `set_now` moves it; while `frozen`
    that is the only way it moves, so a caller can step time from one wake-up to the next.
    """

    app: ASGIApp
    clock: Clock
    set_now: Callable[[float], None]
    time_scale: float
    frozen: bool = False


def embedded_mock(
    config: Mapping[str, Any] | None = None,
    *,
    time_scale: float = DEFAULT_TIME_SCALE,
    frozen: bool = False,
    admin_token: str | None = None,
    seed: int = 7,
    source: str = "mock config",
) -> EmbeddedMock:
    """A mock serving `config` (the demo world when None) on its own virtual clock.

    Args:
        config: a mock config as a mapping (`[mock]`, `[[workspaces]]`, as in its TOML file);
            its `time_scale` is replaced by `time_scale`.
        time_scale: virtual seconds per real second.
        frozen: start with the clock stopped (it then moves only through `set_now`).
        admin_token: the admin API's bearer token, None for an open admin API.
        seed: the demo world's seed (a given config carries its own).
        source: names the config in error messages (a flag such as `--duration-dist`).
    """
    from mock_server import VirtualClock, create_app  # noqa: PLC0415 - the mock at the edge

    if not 0 < time_scale <= VirtualClock.MAX_TIME_SCALE:
        raise UsageError(
            f"--time-scale: must be a number > 0 and <= {VirtualClock.MAX_TIME_SCALE:g}, "
            f"got {time_scale!r}"
        )
    world = _world(config, time_scale=time_scale, seed=seed, source=source)
    clock = VirtualClock.from_settings(world.mock)
    if frozen:
        clock.set_frozen(True)
    return EmbeddedMock(
        app=create_app(world, clock=clock, admin_token=admin_token),
        clock=clock.now,
        set_now=clock.set_now,
        time_scale=time_scale,
        frozen=frozen,
    )


def _world(
    config: Mapping[str, Any] | None, *, time_scale: float, seed: int, source: str
) -> MockConfig:
    from mock_server import demo_config, parse_config  # noqa: PLC0415 - the mock at the edge

    if config is None:
        world = demo_config(seed=seed)
    else:
        try:
            world = parse_config(config, source=source)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return dataclasses.replace(world, mock=dataclasses.replace(world.mock, time_scale=time_scale))


def embedded_app(
    time_scale: float = DEFAULT_TIME_SCALE,
    *,
    config: Mapping[str, Any] | None = None,
    admin_token: str | None = None,
    seed: int = 7,
) -> ASGIApp:
    """The mock's demo world (or `config`) as an ASGI app whose virtual clock runs `time_scale`
    times fast.

    Args:
        time_scale: virtual seconds per real second.
        config: a mock config mapping; the demo world when None.
        admin_token: the admin API's bearer token, None for an open admin API.
        seed: the demo world's seed.
    """
    return embedded_mock(config, time_scale=time_scale, admin_token=admin_token, seed=seed).app


def in_process_client(app: ASGIApp) -> httpx.Client:
    """An (unentered) in-process `TestClient` of `app`, without starlette's httpx notice."""
    from starlette.exceptions import StarletteDeprecationWarning  # noqa: PLC0415 - edge only

    with warnings.catch_warnings():
        # starlette prefers the httpx2 fork for TestClient; the harness is built on httpx.
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient  # noqa: PLC0415 - warning filtered

    return TestClient(app, base_url="http://testserver")


def in_process_async_client(
    app: ASGIApp, *, base_url: str = "http://testserver"
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that sends every request to `app` in process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def scaled_sleep(time_scale: float) -> Sleep:
    """A sleep of `seconds` virtual seconds: a real sleep of `seconds / time_scale`.

    Args:
        time_scale: virtual seconds per real second (1 on real time).
    """

    def sleep(seconds: float) -> None:
        time.sleep(max(seconds, 0.0) / time_scale)

    return sleep


def scaled_async_sleep(time_scale: float) -> AsyncSleep:
    """The asyncio twin of `scaled_sleep`: awaits `seconds / time_scale` real seconds.

    Args:
        time_scale: virtual seconds per real second (1 on real time).
    """

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / time_scale)

    return sleep


def _scaled_clock(scale: float) -> Clock:
    def clock() -> float:
        return time.monotonic() * scale

    return clock


@contextmanager
def open_session(
    target: Target,
    *,
    in_process: bool = True,
    time_scale: float = DEFAULT_TIME_SCALE,
    admin_token: str | None = None,
    admin_url: str | None = None,
    app: ASGIApp | None = None,
) -> Iterator[Session]:
    """Open a session on `target`; closes its clients (and stops a served mock) on exit.

    Args:
        target: a selected target (secrets read); `target.embedded` means the built-in mock.
        in_process: embedded only: True serves through `TestClient`, False on 127.0.0.1.
        time_scale: embedded only: virtual seconds per real second of the mock and the session.
        admin_token: the mock's admin token (embedded: the one it is started with).
        admin_url: non-embedded only: the root of a mock's admin API, when it has one.
        app: embedded only: the ASGI app to serve instead of `embedded_app(time_scale)`
            (tests wrap the mock with it).
    """
    if not time_scale > 0:
        raise UsageError(f"Invalid time_scale={time_scale!r} <= 0")
    if target.embedded:
        served = app if app is not None else embedded_app(time_scale, admin_token=admin_token)
        with _embedded_session(target, served, in_process, time_scale, admin_token) as session:
            yield session
        return
    if app is not None:
        raise UsageError(f"app: only the embedded target serves an app, not {target.name!r}")
    with httpx.Client(timeout=target.timeout_s) as http:
        admin = None
        if admin_url is not None:
            admin = MockAdmin(http, base_url=admin_url, token=admin_token)
        yield Session(
            target=target,
            http=http,
            base_url=target.base_url,
            admin=admin,
            clock=time.monotonic,
            sleep=time.sleep,
        )


@contextmanager
def _embedded_session(
    target: Target, app: ASGIApp, in_process: bool, scale: float, admin_token: str | None
) -> Iterator[Session]:
    clock, sleep = _scaled_clock(scale), scaled_sleep(scale)
    with ExitStack() as stack:
        if in_process:
            http = stack.enter_context(in_process_client(app))
            base_url = str(http.base_url).rstrip("/")
        else:
            from mock_server import serve_in_thread  # noqa: PLC0415 - the mock at the edge

            base_url = stack.enter_context(serve_in_thread(app))
            http = stack.enter_context(httpx.Client(timeout=_ADMIN_TIMEOUT_S))
        yield Session(
            target=dataclasses.replace(target, base_url=base_url),
            http=http,
            base_url=base_url,
            admin=MockAdmin(http, base_url=base_url, token=admin_token),
            clock=clock,
            sleep=sleep,
            time_scale=scale,
            app=app if in_process else None,
        )
