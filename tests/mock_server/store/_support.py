"""Builders shared by the store tests: a store on a still clock, a small world, a run starter."""

from __future__ import annotations

from typing import Any

from mock_server._clock import VirtualClock
from mock_server._config import (
    ApiKey,
    MockConfig,
    MockSettings,
    TriggerConfig,
    WorkspaceConfig,
    demo_config,
)
from mock_server.store import Run, TriggerStore

T0 = 1_781_050_200.0  # 2026-06-10T00:10:00Z
ENVELOPE_KEYS = {"workflow_id", "response", "status", "logs", "requires_input", "error"}


class FakeRealTime:
    """A real-time source the test moves by hand."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def make_store(config: MockConfig | None = None) -> TriggerStore:
    """A store over `config` (default: the demo world) whose clock reads T0 until advanced."""
    clock = VirtualClock(start=T0, real_time=FakeRealTime())
    return TriggerStore(config or demo_config(), clock)


def world(*triggers: TriggerConfig, **settings: Any) -> MockConfig:
    """A one-workspace world `w` (key `k`, plus `k-dev` limited to DEV) with these triggers."""
    workspace = WorkspaceConfig(
        id="w",
        api_keys=(ApiKey(key="k"), ApiKey(key="k-dev", environments=("DEV",))),
        triggers=triggers,
    )
    return MockConfig(mock=MockSettings(seed=3, **settings), workspaces=(workspace,))


def start(store: TriggerStore, trigger: str, env: str = "DEV", **kw: Any) -> Run:
    """Start a run of `trigger` (workspace `demo` unless `workspace_id` is given)."""
    workspace = kw.pop("workspace_id", "demo")
    return store.start_run(
        workspace_id=workspace,
        trigger_id=trigger,
        environment=env,
        message=kw.pop("message", "go"),
        user_variables=kw.pop("user_variables", {"ticket": "T-1"}),
        **kw,
    )


def status(store: TriggerStore, run: Run) -> str:
    """The run's status at the store's now, as E1-E3 would show it."""
    return str(store.envelope(run)["status"])


def ended_at(store: TriggerStore, run: Run) -> float | None:
    """When the run became final (virtual seconds), None while it is not final."""
    return run.end_at if store.clock.now() >= run.end_at else None
