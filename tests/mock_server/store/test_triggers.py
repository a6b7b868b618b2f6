"""Triggers: the A4 checks in order, and pause flags that block starts and run-now."""

from __future__ import annotations

import pytest

from mock_server._config import TriggerConfig
from mock_server.store import NoBuild, TriggerNotFound, TriggerPaused
from tests.mock_server.store._support import make_store, start, world


def test_check_trigger_errors_in_order() -> None:
    """Unknown trigger is 404, no build 409, paused 409, with the documented details."""
    store = make_store()
    with pytest.raises(TriggerNotFound) as missing:
        store.triggers.check("demo", "nope", "DEV")
    assert (missing.value.status_code, missing.value.detail) == (404, "Trigger not found")
    with pytest.raises(TriggerNotFound):
        store.triggers.check("ghost", "quick-answer", "DEV")
    with pytest.raises(NoBuild) as no_build:
        store.triggers.check("demo", "uat-only", "DEV")
    assert no_build.value.status_code == 409
    assert no_build.value.detail == "No build is deployed to environment DEV"
    with pytest.raises(TriggerPaused) as paused:
        store.triggers.check("demo", "paused-trigger", "DEV")
    assert (paused.value.status_code, paused.value.detail) == (409, "Trigger is paused")
    assert store.triggers.check("demo", "uat-only", "UAT").id == "uat-only"


def test_set_paused_blocks_and_unblocks_starts() -> None:
    """A paused trigger refuses runs and run-now; unpausing allows them again."""
    store = make_store()
    store.triggers.set_paused("demo", "quick-answer", True)
    with pytest.raises(TriggerPaused):
        start(store, "quick-answer")
    with pytest.raises(TriggerPaused):
        store.run_now("demo", "quick-answer")
    store.triggers.set_paused("demo", "paused-trigger", False)
    assert start(store, "paused-trigger").trigger_id == "paused-trigger"
    with pytest.raises(TriggerNotFound):
        store.triggers.set_paused("demo", "nope", True)


def test_environment_must_have_a_build_for_the_key_world() -> None:
    """A world's trigger limited to UAT refuses DEV starts with the environment named."""
    store = make_store(world(TriggerConfig(id="u", environments=("UAT",))))
    with pytest.raises(NoBuild, match="environment DEV"):
        start(store, "u", workspace_id="w")
    run = start(store, "u", env="UAT", workspace_id="w")
    assert run.environment == "UAT"


def test_cron_status_shows_the_schedule_pause_and_next_tick() -> None:
    """The admin view of a trigger: its cron, pause flag and next tick (None without cron)."""
    store = make_store()
    hourly = store.triggers.cron_status("demo", "hourly-health")
    assert hourly.cron is not None
    assert hourly.cron.schedule == "0 * * * *"
    assert (hourly.paused, hourly.next_tick) == (False, 1_781_053_200.0)  # 01:00Z
    assert store.triggers.cron_status("demo", "paused-trigger").paused
    plain = store.triggers.cron_status("demo", "quick-answer")
    assert (plain.cron, plain.next_tick) == (None, None)
    with pytest.raises(TriggerNotFound):
        store.triggers.cron_status("demo", "nope")
