"""Cron ticks fired lazily by catch_up: order, timezones and DST, pause, overlap, misfires."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mock_server._clock import VirtualClock
from mock_server._config import (
    ApiKey,
    ConfigError,
    CronSpec,
    Duration,
    MockConfig,
    MockSettings,
    OutcomeRates,
    TriggerConfig,
    WorkspaceConfig,
    demo_config,
)
from mock_server.store import Source, TriggerNotFound, TriggerStore

T0 = 1_781_050_200.0  # 2026-06-10T00:10:00Z
HOUR = 3600.0


def make_store(config: MockConfig, start: float = T0) -> TriggerStore:
    return TriggerStore(config, VirtualClock(start=start, real_time=lambda: 0.0))


def world(*triggers: TriggerConfig) -> MockConfig:
    workspace = WorkspaceConfig(id="w", api_keys=(ApiKey(key="k"),), triggers=triggers)
    settings = MockSettings(seed=5, retention_s=30 * 24 * HOUR)
    return MockConfig(mock=settings, workspaces=(workspace,))


def cron_runs(store: TriggerStore) -> list[dict[str, object]]:
    return store.list_runs(source="cron")


def test_a_day_fires_24_hourly_runs_in_order() -> None:
    """Advancing 24 h fires hourly-health 24 times, in order, each at its own hour."""
    store = make_store(demo_config())
    store.clock.advance(24 * HOUR)
    store.catch_up()
    runs = cron_runs(store)
    assert len(runs) == 24
    expected = [f"2026-06-10T{h:02d}:00:00.000Z" for h in range(1, 24)] + [
        "2026-06-11T00:00:00.000Z"
    ]
    assert [run["started_at"] for run in runs] == expected
    assert {run["trigger_id"] for run in runs} == {"hourly-health"}
    assert {run["environment"] for run in runs} == {"DEV"}
    assert {run["message"] for run in runs} == {"scheduled health check"}
    assert {run["status"] for run in runs} == {"completed"}
    assert store.metrics()["cron_ticks_fired_total"] == 24


def test_catch_up_is_idempotent_and_nothing_fires_before_a_tick() -> None:
    """A second catch_up fires nothing more, and no tick fires before its time."""
    store = make_store(demo_config())
    store.clock.advance(50 * 60 - 1)
    store.catch_up()
    assert cron_runs(store) == []
    store.clock.advance(1)
    store.catch_up()
    store.catch_up()
    assert len(cron_runs(store)) == 1


def test_three_day_jump_fires_72_ticks_once_each() -> None:
    """A clock jump of 3 days fires every one of the 72 ticks once, and every run ends."""
    hourly = CronSpec(schedule="0 * * * *")
    store = make_store(
        world(TriggerConfig(id="h", duration=Duration(dist="fixed", s=30), cron=hourly))
    )
    store.clock.advance(72 * HOUR)
    store.catch_up()
    runs = cron_runs(store)
    assert len(runs) == 72
    assert len({run["started_at"] for run in runs}) == 72
    assert runs == sorted(runs, key=lambda run: str(run["started_at"]))
    assert all(run["status"] in ("completed", "failed") for run in runs)


def test_daily_berlin_schedule_follows_dst() -> None:
    """A daily 09:00 Europe/Berlin schedule fires at 08:00 UTC before and 07:00 UTC after DST."""
    trigger = TriggerConfig(
        id="daily", cron=CronSpec(schedule="0 9 * * *", timezone="Europe/Berlin")
    )
    start = datetime(2026, 3, 27, 12, 0, tzinfo=UTC).timestamp()
    store = make_store(world(trigger), start=start)
    store.clock.advance(4 * 24 * HOUR)
    store.catch_up()
    started = [run["started_at"] for run in cron_runs(store)]
    assert started == [
        "2026-03-28T08:00:00.000Z",
        "2026-03-29T07:00:00.000Z",
        "2026-03-30T07:00:00.000Z",
        "2026-03-31T07:00:00.000Z",
    ]
    berlin = ZoneInfo("Europe/Berlin")
    for stamp in started:
        local = datetime.fromisoformat(str(stamp)).astimezone(berlin)
        assert (local.hour, local.minute) == (9, 0)


def test_first_tick_is_strictly_after_start() -> None:
    """A clock starting exactly on a tick does not fire that tick."""
    trigger = TriggerConfig(id="h", cron=CronSpec(schedule="0 * * * *"))
    on_the_hour = datetime(2026, 6, 10, 1, 0, tzinfo=UTC).timestamp()
    store = make_store(world(trigger), start=on_the_hour)
    store.catch_up()
    assert cron_runs(store) == []
    store.clock.advance(HOUR)
    store.catch_up()
    assert [run["started_at"] for run in cron_runs(store)] == ["2026-06-10T02:00:00.000Z"]


def test_paused_trigger_fires_nothing_and_missed_ticks_are_not_replayed() -> None:
    """Ticks while paused are skipped, and unpausing does not fire them later."""
    store = make_store(demo_config())
    store.triggers.set_paused("demo", "hourly-health", True)
    store.clock.advance(5 * HOUR)
    store.catch_up()
    assert cron_runs(store) == []
    store.triggers.set_paused("demo", "hourly-health", False)
    store.catch_up()
    assert cron_runs(store) == []
    store.clock.advance(HOUR)
    store.catch_up()
    assert [run["started_at"] for run in cron_runs(store)] == ["2026-06-10T06:00:00.000Z"]


def test_ticks_before_a_pause_still_fire() -> None:
    """Pausing after a jump still fires the ticks that came due before the pause."""
    store = make_store(demo_config())
    store.clock.advance(2 * HOUR)
    store.triggers.set_paused("demo", "hourly-health", True)
    assert len(cron_runs(store)) == 2


def test_overlap_skip_skips_ticks_while_the_previous_run_goes_on() -> None:
    """With overlap=skip a 25 min run makes the next two 10-minute ticks be skipped."""
    trigger = TriggerConfig(
        id="slow",
        duration=Duration(dist="fixed", s=25 * 60),
        cron=CronSpec(schedule="*/10 * * * *", overlap="skip"),
    )
    store = make_store(world(trigger))
    store.clock.advance(HOUR)
    store.catch_up()
    started = [run["started_at"] for run in cron_runs(store)]
    assert started == ["2026-06-10T00:20:00.000Z", "2026-06-10T00:50:00.000Z"]
    assert store.metrics()["cron_ticks_skipped_overlap_total"] == 4


def test_overlap_allow_runs_concurrently() -> None:
    """With overlap=allow every tick fires even while earlier runs go on."""
    trigger = TriggerConfig(
        id="slow",
        duration=Duration(dist="fixed", s=25 * 60),
        cron=CronSpec(schedule="*/10 * * * *"),
    )
    store = make_store(world(trigger))
    store.clock.advance(HOUR)
    store.catch_up()
    assert len(cron_runs(store)) == 6


def test_run_ending_exactly_at_a_tick_does_not_overlap() -> None:
    """A previous run ending at the very tick instant does not block that tick (A13)."""
    trigger = TriggerConfig(
        id="exact",
        duration=Duration(dist="fixed", s=HOUR),
        cron=CronSpec(schedule="0 * * * *", overlap="skip"),
    )
    store = make_store(world(trigger))
    store.clock.advance(3 * HOUR)
    store.catch_up()
    assert len(cron_runs(store)) == 3


def test_cron_runs_use_source_cron_and_reach_final_status() -> None:
    """Cron runs carry source cron, the cron's variables, and end final."""
    trigger = TriggerConfig(
        id="vars",
        environments=("UAT", "PROD"),
        duration=Duration(dist="fixed", s=60),
        cron=CronSpec(schedule="*/30 * * * *", user_variables={"kind": "tick"}),
    )
    store = make_store(world(trigger))
    store.clock.advance(2 * HOUR)
    store.catch_up()
    runs = cron_runs(store)
    assert len(runs) == 4
    assert all(run["source"] == Source.CRON for run in runs)
    assert all(run["environment"] == "UAT" for run in runs)
    assert all(run["user_variables"] == {"kind": "tick"} for run in runs)
    assert all(run["status"] == "completed" for run in runs)


def test_add_and_remove_cron() -> None:
    """set_cron schedules from now; remove_cron stops further ticks; bad specs are refused."""
    store = make_store(world(TriggerConfig(id="t")))
    store.clock.advance(30 * 60)
    store.triggers.set_cron("w", "t", CronSpec(schedule="0 * * * *"))
    store.clock.advance(HOUR)
    store.catch_up()
    assert [run["started_at"] for run in cron_runs(store)] == ["2026-06-10T01:00:00.000Z"]
    store.triggers.remove_cron("w", "t")
    store.clock.advance(5 * HOUR)
    store.catch_up()
    assert len(cron_runs(store)) == 1
    with pytest.raises(ConfigError, match="schedule"):
        store.triggers.set_cron("w", "t", CronSpec(schedule="every hour"))
    with pytest.raises(ConfigError, match="environment"):
        store.triggers.set_cron("w", "t", CronSpec(schedule="* * * * *", environment="XX"))
    with pytest.raises(TriggerNotFound):
        store.triggers.set_cron("w", "nope", CronSpec(schedule="* * * * *"))


def test_old_cron_runs_past_retention_are_not_kept() -> None:
    """After a 3-day jump only the cron runs still within retention stay stored."""
    store = make_store(demo_config())
    store.clock.advance(72 * HOUR)
    store.catch_up()
    assert store.metrics()["runs_started_cron_total"] == 72
    kept = cron_runs(store)
    assert 24 <= len(kept) <= 25
    assert store.metrics()["runs_stored"] == len(kept)


def test_reset_restores_the_schedule() -> None:
    """reset() drops cron runs and fires the same ticks again after the same jump."""
    store = make_store(demo_config())
    store.clock.advance(3 * HOUR)
    store.catch_up()
    first = cron_runs(store)
    store.reset()
    assert cron_runs(store) == []
    store.clock.advance(3 * HOUR)
    store.catch_up()
    assert cron_runs(store) == first


def test_overlap_skip_counts_a_waiting_run_as_running() -> None:
    """A previous cron run waiting for input blocks skip-overlap ticks until it ends."""
    trigger = TriggerConfig(
        id="approve",
        duration=Duration(dist="fixed", s=60),
        outcome=OutcomeRates(waiting_for_input=1.0),
        cron=CronSpec(schedule="0 * * * *", overlap="skip"),
    )
    store = make_store(world(trigger))
    store.clock.advance(3 * HOUR)
    store.catch_up()
    runs = cron_runs(store)
    assert [(run["started_at"], run["status"]) for run in runs] == [
        ("2026-06-10T01:00:00.000Z", "waiting_for_input")
    ]
    store.provide_input(str(runs[0]["workflow_id"]), "ok")
    store.clock.advance(HOUR)
    store.catch_up()
    assert len(cron_runs(store)) == 2


def test_a_new_schedule_replaces_the_old_ticks() -> None:
    """Setting a schedule again drops the old one's pending ticks: only the new one fires."""
    store = make_store(world(TriggerConfig(id="t")))
    store.triggers.set_cron("w", "t", CronSpec(schedule="0 * * * *"))
    store.triggers.set_cron("w", "t", CronSpec(schedule="30 * * * *"))
    store.clock.advance(2 * HOUR)
    store.catch_up()
    assert [run["started_at"] for run in cron_runs(store)] == [
        "2026-06-10T00:30:00.000Z",
        "2026-06-10T01:30:00.000Z",
    ]
