"""TriggerStore: auth, trigger checks, run lifecycle from the clock, retention, Jira, admin."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import replace
from typing import Any

import pytest

from mock_server._clock import VirtualClock
from mock_server._config import (
    ApiKey,
    Duration,
    MockConfig,
    MockSettings,
    Outcome,
    TriggerConfig,
    WorkspaceConfig,
    demo_config,
)
from mock_server._store import (
    JiraNotEnabled,
    KeyScope,
    NoBuild,
    NotWaitingForInput,
    RunRecord,
    Source,
    TriggerNotFound,
    TriggerPaused,
    TriggerStore,
    WorkflowNotFound,
)

T0 = 1_781_050_200.0  # 2026-06-10T00:10:00Z
ENVELOPE_KEYS = {"workflow_id", "response", "status", "logs", "requires_input", "error"}


class FakeRealTime:
    """A real-time source the test moves by hand."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def make_store(config: MockConfig | None = None) -> TriggerStore:
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


def start(store: TriggerStore, trigger: str, env: str = "DEV", **kw: Any) -> RunRecord:
    workspace = kw.pop("workspace_id", "demo")
    return store.start_run(
        workspace_id=workspace,
        trigger_id=trigger,
        environment=env,
        message=kw.pop("message", "go"),
        user_variables=kw.pop("user_variables", {"ticket": "T-1"}),
        **kw,
    )


def status(store: TriggerStore, run: RunRecord) -> str:
    return str(store.envelope(run)["status"])


def test_key_scope_accepts_workspace_keys_only() -> None:
    """A key opens only its own workspace, with its environment limits (A15)."""
    store = make_store()
    assert store.key_scope("demo", "demo-key") == KeyScope("demo", None)
    assert store.key_scope("demo", "demo-dev-key") == KeyScope("demo", frozenset({"DEV"}))
    assert store.key_scope("sandbox", "demo-key") is None
    assert store.key_scope("demo", "wrong") is None
    assert store.key_scope("demo", None) is None
    assert store.key_scope("nowhere", "demo-key") is None
    assert store.key_scope("demo", "démo-kéy\udcff") is None


def test_check_trigger_errors_in_order() -> None:
    """Unknown trigger is 404, no build 409, paused 409, with the documented details."""
    store = make_store()
    with pytest.raises(TriggerNotFound) as missing:
        store.check_trigger("demo", "nope", "DEV")
    assert (missing.value.status_code, missing.value.detail) == (404, "Trigger not found")
    with pytest.raises(TriggerNotFound):
        store.check_trigger("ghost", "quick-answer", "DEV")
    with pytest.raises(NoBuild) as no_build:
        store.check_trigger("demo", "uat-only", "DEV")
    assert no_build.value.status_code == 409
    assert no_build.value.detail == "No build is deployed to environment DEV"
    with pytest.raises(TriggerPaused) as paused:
        store.check_trigger("demo", "paused-trigger", "DEV")
    assert (paused.value.status_code, paused.value.detail) == (409, "Trigger is paused")
    assert store.check_trigger("demo", "uat-only", "UAT").id == "uat-only"


def test_new_run_is_pending_with_an_empty_envelope() -> None:
    """A run just started is pending with `{}` response, no logs and no error (E2)."""
    store = make_store()
    run = start(store, "quick-answer")
    uuid.UUID(run.workflow_id, version=4)
    envelope = store.envelope(run)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope == {
        "workflow_id": run.workflow_id,
        "response": {},
        "status": "pending",
        "logs": [],
        "requires_input": False,
        "error": None,
    }
    assert run.source is Source.API


def test_completed_run_is_final_and_stable() -> None:
    """After its duration a run is completed with its variables, and later polls agree."""
    store = make_store()
    run = start(store, "quick-answer", user_variables={"ticket": "T-9"})
    store.clock.advance(8)
    first = store.envelope(run)
    assert first["status"] == "completed"
    assert first["response"]["workflow_id"] == run.workflow_id
    assert first["response"]["ticket"] == "T-9"
    assert first["error"] is None
    assert first["logs"][-1]["message"] == "Graph execution completed"
    store.clock.advance(3600)
    later = store.envelope(run)
    assert (later["status"], later["response"]) == ("completed", first["response"])
    assert store.ended_at(run) == pytest.approx(run.started_at + 2, abs=6)


def test_failed_run_has_error_and_empty_response() -> None:
    """A run drawn to fail ends `failed` with `{}` and a non-empty error."""
    store = make_store(world(TriggerConfig(id="bad", outcome=Outcome(failed=1.0))))
    run = start(store, "bad", workspace_id="w")
    store.clock.advance(5)
    envelope = store.envelope(run)
    assert (envelope["status"], envelope["response"]) == ("failed", {})
    assert envelope["error"]
    assert envelope["logs"][-1]["status"] == "failed"


def test_waiting_run_resumes_after_input_and_never_waits_twice() -> None:
    """approval-flow pauses with requires_input, resumes on input and then ends final."""
    store = make_store()
    run = start(store, "approval-flow")
    with pytest.raises(NotWaitingForInput):
        store.provide_input(run.workflow_id, "too early")
    store.clock.advance(10)
    waiting = store.envelope(run)
    assert (waiting["status"], waiting["requires_input"], waiting["response"]) == (
        "waiting_for_input",
        True,
        {},
    )
    store.clock.advance(1000)
    assert status(store, run) == "waiting_for_input"
    assert store.ended_at(run) is None
    store.provide_input(run.workflow_id, "approved")
    resumed = store.envelope(run)
    assert (resumed["status"], resumed["requires_input"]) == ("pending", False)
    store.clock.advance(10)
    final = store.envelope(run)
    assert final["status"] == "completed"
    assert final["response"]["agent_output"] == "Continued after input: approved"
    with pytest.raises(NotWaitingForInput) as info:
        store.provide_input(run.workflow_id, "again")
    assert info.value.status_code == 409


def test_provide_input_to_unknown_run() -> None:
    """Input for an unknown id is WorkflowNotFound (404)."""
    store = make_store()
    with pytest.raises(WorkflowNotFound) as info:
        store.provide_input("no-such-run", "x")
    assert (info.value.status_code, info.value.detail) == (404, "Workflow not found")


def test_background_limit_fails_a_long_run_at_the_limit() -> None:
    """long-batch (3000 s) is pending until 2700 s, then failed naming the limit (A2)."""
    store = make_store()
    run = start(store, "long-batch")
    store.clock.advance(2699)
    assert status(store, run) == "pending"
    store.clock.advance(1)
    envelope = store.envelope(run)
    assert envelope["status"] == "failed"
    assert "2700 s" in envelope["error"]
    assert "2700 s" in envelope["logs"][-1]["message"]
    assert store.ended_at(run) == T0 + 2700


def test_waiting_time_does_not_count_towards_the_background_limit() -> None:
    """A resumed run may end after started_at + limit: only running time counts (A10)."""
    trigger = TriggerConfig(
        id="approve",
        duration=Duration(dist="fixed", s=2000),
        outcome=Outcome(waiting_for_input=1.0),
    )
    store = make_store(world(trigger))
    run = start(store, "approve", workspace_id="w")
    store.clock.advance(5000)
    store.provide_input(run.workflow_id, "go on")
    store.clock.advance(699)
    assert status(store, run) == "pending"
    store.clock.advance(1)
    envelope = store.envelope(run)
    assert envelope["status"] == "failed"
    assert "2700 s" in envelope["error"]


def test_retention_expires_final_runs() -> None:
    """A final run is visible until retention_s after its end, then gone, and purged (A9)."""
    store = make_store(world(TriggerConfig(id="slow", duration=Duration(dist="fixed", s=200))))
    run = start(store, "slow", workspace_id="w")
    store.clock.advance(200 + 86_400 - 1)
    store.catch_up()
    assert store.status_envelope("w", run.workflow_id) is not None
    store.clock.advance(1)
    assert store.status_envelope("w", run.workflow_id) is None
    assert store.run_record(run.workflow_id) is None
    assert store.list_runs() == []
    store.catch_up()
    assert store.run_record(run.workflow_id) is None
    assert store.metrics()["runs_stored"] == 0
    assert store.metrics()["runs_purged_total"] == 1
    with pytest.raises(WorkflowNotFound):
        store.provide_input(run.workflow_id, "late")


def test_status_envelope_hides_other_workspaces_and_environments() -> None:
    """E3 finds a run only in its own workspace and for keys allowed its environment (A3, A15)."""
    store = make_store()
    run = start(store, "quick-answer", env="PROD")
    assert store.status_envelope("demo", run.workflow_id) is not None
    assert store.status_envelope("sandbox", run.workflow_id) is None
    assert store.status_envelope("demo", run.workflow_id, frozenset({"DEV"})) is None
    assert store.status_envelope("demo", run.workflow_id, frozenset({"PROD"})) is not None
    assert store.status_envelope("demo", "unknown-id") is None


def test_sync_answer_time_and_timeout() -> None:
    """E1 answers at the end, at the pause, or at the sync limit, whichever comes first."""
    store = make_store()
    quick = start(store, "quick-answer")
    waiting = start(store, "approval-flow")
    slow = start(store, "slow-sync")
    assert store.sync_answer_time(quick) == quick.end_at
    assert T0 + 2 <= quick.end_at <= T0 + 8
    assert store.sync_answer_time(waiting) == T0 + 10
    assert store.sync_answer_time(slow) == T0 + 150
    store.clock.advance(149)
    assert not store.sync_timed_out(slow)
    store.clock.advance(1)
    assert store.sync_timed_out(slow)
    assert not store.sync_timed_out(quick)
    assert not store.sync_timed_out(waiting)


def test_same_seed_same_runs() -> None:
    """Two stores with the same seed give the same ids, durations and outcomes in order."""

    def trace() -> list[tuple[str, float | None, str]]:
        store = make_store()
        runs = [start(store, name) for name in ("flaky-enrichment", "quick-answer") * 10]
        store.clock.advance(100)
        return [(r.workflow_id, store.ended_at(r), status(store, r)) for r in runs]

    first = trace()
    assert first == trace()
    assert len({wid for wid, _, _ in first}) == 20


def test_reset_returns_to_config_and_replays_the_same_ids() -> None:
    """reset() clears runs, restores pause flags, the clock and the RNG."""
    store = make_store()
    first = start(store, "quick-answer").workflow_id
    store.set_paused("demo", "quick-answer", True)
    store.clock.advance(500)
    store.reset()
    assert store.clock.now() == T0
    assert store.list_runs() == []
    assert start(store, "quick-answer").workflow_id == first


def test_set_paused_blocks_and_unblocks_starts() -> None:
    """A paused trigger refuses runs and run-now; unpausing allows them again."""
    store = make_store()
    store.set_paused("demo", "quick-answer", True)
    with pytest.raises(TriggerPaused):
        start(store, "quick-answer")
    with pytest.raises(TriggerPaused):
        store.run_now("demo", "quick-answer")
    store.set_paused("demo", "paused-trigger", False)
    assert start(store, "paused-trigger").trigger_id == "paused-trigger"
    with pytest.raises(TriggerNotFound):
        store.set_paused("demo", "nope", True)


def test_run_now_uses_the_cron_environment_and_message() -> None:
    """run-now starts a manual run with the cron's environment, message and variables."""
    store = make_store()
    run = store.run_now("demo", "hourly-health")
    assert (run.source, run.environment, run.message, run.started_at) == (
        Source.MANUAL,
        "DEV",
        "scheduled health check",
        T0,
    )
    other = store.run_now("demo", "uat-only")
    assert (other.environment, other.message, other.user_variables) == ("UAT", "", {})
    with pytest.raises(TriggerNotFound):
        store.run_now("demo", "nope")


def test_jira_signature() -> None:
    """Only `sha256=<hex>` of the body under the trigger's secret verifies (A12)."""
    store = make_store()
    body = b'{"issue": {"key": "J-1"}}'
    digest = hmac.new(b"demo-jira-secret", body, hashlib.sha256).hexdigest()
    assert store.verify_jira_signature("demo", "jira-triage", body, f"sha256={digest}")
    assert store.verify_jira_signature("demo", "jira-triage", body, f"sha256={digest.upper()}")
    assert not store.verify_jira_signature("demo", "jira-triage", body + b" ", f"sha256={digest}")
    assert not store.verify_jira_signature("demo", "jira-triage", body, digest)
    assert not store.verify_jira_signature("demo", "jira-triage", body, None)
    assert not store.verify_jira_signature("demo", "jira-triage", body, "sha256=zz\u00e9")
    with pytest.raises(JiraNotEnabled) as info:
        store.verify_jira_signature("demo", "quick-answer", body, f"sha256={digest}")
    assert (info.value.status_code, info.value.detail) == (404, "Trigger not found")
    with pytest.raises(TriggerNotFound):
        store.verify_jira_signature("demo", "nope", body, None)


def test_list_runs_filters_and_summarises() -> None:
    """The admin listing filters by workspace, trigger, status and source, in start order."""
    store = make_store()
    a = start(store, "quick-answer")
    store.clock.advance(1)
    b = start(store, "long-batch", source=Source.JIRA)
    store.clock.advance(1)
    c = start(store, "quick-answer", workspace_id="sandbox")
    store.clock.advance(10)
    rows = store.list_runs()
    assert [row["workflow_id"] for row in rows] == [a.workflow_id, b.workflow_id, c.workflow_id]
    assert rows[0]["started_at"] == "2026-06-10T00:10:00.000Z"
    assert rows[0]["ended_at"] is not None
    assert rows[1]["ended_at"] is None
    assert set(rows[0]) == {
        "workflow_id",
        "workspace_id",
        "trigger_id",
        "environment",
        "source",
        "status",
        "started_at",
        "ended_at",
        "message",
        "user_variables",
    }
    assert [r["workflow_id"] for r in store.list_runs(workspace_id="sandbox")] == [c.workflow_id]
    assert [r["workflow_id"] for r in store.list_runs(status="pending")] == [b.workflow_id]
    assert [r["workflow_id"] for r in store.list_runs(source="jira")] == [b.workflow_id]
    assert len(store.list_runs(trigger_id="quick-answer")) == 2


def test_metrics_count_starts_and_statuses() -> None:
    """Metrics count runs started by source and stored runs by status."""
    store = make_store()
    start(store, "quick-answer")
    start(store, "long-batch")
    store.run_now("demo", "quick-answer")
    store.clock.advance(10)
    metrics = store.metrics()
    assert metrics["runs_started_api_total"] == 2
    assert metrics["runs_started_manual_total"] == 1
    assert metrics["runs_stored"] == 3
    assert metrics["runs_pending"] == 1
    assert metrics["runs_completed"] == 2


def test_run_records_are_slotted() -> None:
    """Run records have no per-instance __dict__ (memory: ~0.5 KB per stored run)."""
    store = make_store()
    run = start(store, "quick-answer")
    assert not hasattr(run, "__dict__")


def test_environment_must_have_a_build_for_the_key_world() -> None:
    """A world's trigger limited to UAT refuses DEV starts with the environment named."""
    store = make_store(world(TriggerConfig(id="u", environments=("UAT",))))
    with pytest.raises(NoBuild, match="environment DEV"):
        start(store, "u", workspace_id="w")
    run = start(store, "u", env="UAT", workspace_id="w")
    assert run.environment == "UAT"


def test_log_window_setting_limits_entries() -> None:
    """The envelope shows at most `log_window` entries (A11)."""
    trigger = TriggerConfig(id="t", duration=Duration(dist="fixed", s=100))
    store = make_store(replace(world(trigger), mock=MockSettings(log_window=2)))
    run = start(store, "t", workspace_id="w")
    store.clock.advance(100)
    logs = store.envelope(run)["logs"]
    assert len(logs) == 2
    assert logs[-1]["status"] == "success"
