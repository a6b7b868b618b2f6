"""The load stage's settings and the scenarios a target can run."""

from __future__ import annotations

import dataclasses

import pytest

from harness._exceptions import UsageError
from harness._targets import mock_target
from harness.load import SCENARIOS, LoadSettings, require_triggers


def test_load_settings_refuse_an_unknown_scenario_or_mock_speed() -> None:
    """A scenario that does not exist, or a mock time scale <= 0, is refused by flag."""
    with pytest.raises(UsageError, match="--scenario: unknown scenario 'nope'"):
        LoadSettings(scenario="nope")
    with pytest.raises(UsageError, match="--time-scale: must be a finite number > 0"):
        LoadSettings(scenario="sync", time_scale=0)


def test_the_flows_follow_the_load_settings() -> None:
    """Polling and pacing come from the load settings; the interval defaults to the target's."""
    target = dataclasses.replace(mock_target(), poll_interval_s=8.0)
    flow = LoadSettings(scenario="background", pacing=0.5).flow_for(
        target, host="http://127.0.0.1:9", mock_admin=True
    )
    assert (flow.poll_interval, flow.pacing, flow.mock_admin) == (8.0, 0.5, True)
    assert flow.host == "http://127.0.0.1:9"
    custom = LoadSettings(scenario="background", poll_strategy="exponential", poll_interval=2,
                          poll_cap=20).flow_for(target, host=None, mock_admin=False)  # fmt: skip
    assert (custom.poll_strategy, custom.poll_interval, custom.poll_cap) == ("exponential", 2, 20)
    with pytest.raises(UsageError, match="--pacing"):
        LoadSettings(scenario="sync", pacing=0).flow_for(target, host=None, mock_admin=False)


def test_the_mock_target_can_run_every_scenario() -> None:
    """The embedded mock sets every trigger and the Jira secret."""
    for scenario in SCENARIOS:
        require_triggers(mock_target(), scenario)


def test_a_jira_scenario_needs_the_jira_secret() -> None:
    """A Jira scenario on a target without a Jira secret is refused, naming the key."""
    target = dataclasses.replace(mock_target(), jira_secret=None)
    with pytest.raises(UsageError, match="--scenario jira-burst: target has no Jira secret"):
        require_triggers(target, "jira-burst")
    require_triggers(target, "background")
    unset = dataclasses.replace(target, jira_unavailable="PHINITE_JIRA is not set or empty")
    with pytest.raises(UsageError, match="--scenario mixed: PHINITE_JIRA is not set"):
        require_triggers(unset, "mixed")
    require_triggers(unset, "sync")
