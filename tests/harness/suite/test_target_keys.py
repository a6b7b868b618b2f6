"""Which contract cases a real target skips, and the key or reason each skip names."""

from __future__ import annotations

from unittest.mock import MagicMock

from harness import Secret, Target
from harness.suite import ADMIN_SKIP, SuiteContext, select_cases

_BARE = Target(
    name="dev",
    base_url="http://127.0.0.1:9",
    workspace_id="demo",
    environment="DEV",
    api_key=Secret("k"),
    sync_trigger="quick-answer",
    background_trigger="nightly-report",
)
_FULL = Target(
    name="dev",
    base_url="http://127.0.0.1:9",
    workspace_id="demo",
    environment="DEV",
    api_key=Secret("k"),
    sync_trigger="quick-answer",
    background_trigger="nightly-report",
    jira_trigger="jira-triage",
    jira_secret=Secret("j"),
    failing_trigger="flaky-enrichment",
    input_trigger="approval-flow",
    slow_sync_trigger="slow-sync",
    other_workspace_id="sandbox",
    other_api_key=Secret("o"),
)


def _skips(target: Target) -> dict[str, str]:
    ctx = SuiteContext(target=target, client=MagicMock())
    reasons = {case.id: ctx.skip_reason(case) for case in select_cases()}
    return {case_id: reason for case_id, reason in reasons.items() if reason is not None}


def test_with_every_key_only_admin_cases_are_skipped_each_with_its_reason() -> None:
    skips = _skips(_FULL)
    assert set(skips) == {"mock.background_limit.E2E3", "mock.retention.E3", "mock.cron_24h"}
    for reason in skips.values():
        assert reason.startswith(f"{ADMIN_SKIP}: ")
        assert len(reason) > len(ADMIN_SKIP) + 10


def test_without_the_keys_each_skip_names_the_key_that_enables_it() -> None:
    skips = _skips(_BARE)
    assert "set failing_trigger in the targets file" in skips["mock.failed_runs.E2E3"]
    assert "set input_trigger" in skips["mock.waiting_for_input.E1"]
    assert "set slow_sync_trigger" in skips["mock.sync_limit.E1"]
    assert "other_api_key_env" in skips["isolation.foreign_run.E3"]
