"""Stateful mock of Phinite's workspace trigger API.

The public surface: build the app (`create_app`) from a config (`load_config`, `parse_config`,
`demo_config`) on a virtual clock (`VirtualClock`) and a store (`TriggerStore`), and serve it
(`serve_in_thread`, or `bind_socket` + `make_server` + `base_url` in the foreground); how it
answers the open questions is its `Dialect` (`[mock.dialect]`, `parse_dialect`). The clock's
documented maxima (`VirtualClock.MAX_TIME_SCALE`, `.MAX_ADVANCE_S`, `.MAX_TIMESTAMP`) are public,
so callers check their flags against the same numbers.
"""

from __future__ import annotations

from ._clock import VirtualClock
from ._config import (
    ApiKey,
    ConfigError,
    CronSpec,
    Dialect,
    Duration,
    MockConfig,
    MockSettings,
    OutcomeRates,
    TriggerConfig,
    WorkspaceConfig,
    demo_config,
    load_config,
    parse_config,
    parse_dialect,
)
from ._serve import base_url, bind_socket, make_server, serve_in_thread
from .app import MockApp, create_app
from .store import TriggerStore

__all__ = [
    "ApiKey",
    "ConfigError",
    "CronSpec",
    "Dialect",
    "Duration",
    "MockApp",
    "MockConfig",
    "MockSettings",
    "OutcomeRates",
    "TriggerConfig",
    "TriggerStore",
    "VirtualClock",
    "WorkspaceConfig",
    "base_url",
    "bind_socket",
    "create_app",
    "demo_config",
    "load_config",
    "make_server",
    "parse_config",
    "parse_dialect",
    "serve_in_thread",
]
