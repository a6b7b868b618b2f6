"""The fuzz tests run against `--target NAME` (default: the embedded mock) through the plugin.

`--target` / `--targets` are this repository's short forms of the plugin's `--trigger-target` /
`--trigger-targets`, declared once in `tests/conftest.py`. On a production target every test
here is skipped before the first request (the plugin's session-wide guard).

`fuzz_context` is the one fixture: a `FuzzContext` over the plugin's session on the target.
"""

from __future__ import annotations

import pytest

from harness._embedded import MOCK_LOG_WINDOW, Session
from harness.fuzz import FuzzContext, FuzzMeter


@pytest.fixture
def fuzz_context(trigger_session: Session) -> FuzzContext:
    """A fuzz context on the selected target (the mock's admin API when it is the mock)."""
    return FuzzContext(
        target=trigger_session.target,
        client=trigger_session.client(),
        http=trigger_session.http,
        meter=FuzzMeter(),
        admin=trigger_session.admin,
        exact=trigger_session.target.embedded,
        log_window=MOCK_LOG_WINDOW if trigger_session.admin is not None else None,
        sleep=trigger_session.sleep,
    )
