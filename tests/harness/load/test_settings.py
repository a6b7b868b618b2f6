"""FlowSettings: the one flag contract between the harness and the locustfiles.

"Parsed as Locust would" means a `configargparse` parser (Locust's parser class) declaring the
options exactly as `scenarios/_harness_user.py` does; `tests/scenarios/test_flow_settings.py`
does the same through Locust's own parser in a subprocess.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import configargparse
import pytest

from harness._exceptions import UsageError
from harness._polling import PollStrategy
from harness._targets import Secret, Target, mock_target
from harness.load import (
    FLOW_OPTIONS,
    FlowSettings,
    LoadSettings,
    Thresholds,
    latency_limits,
    parse_candidates,
)
from harness.load._settings import threshold_fields

SECRET_FIELDS = {"host", "api_key", "jira_secret", "admin_token"}


def parse_as_locust(arguments: Sequence[str]) -> Any:
    """The namespace Locust's parser gives for `arguments` (no environment variables read)."""
    parser = configargparse.ArgumentParser()
    for option in FLOW_OPTIONS:
        option.add_to(parser)
    return parser.parse_args(list(arguments), env_vars={})


def round_trip(flow: FlowSettings, environ: Mapping[str, str] | None = None) -> FlowSettings:
    """`flow` written by the harness and read back by a locustfile."""
    parsed = parse_as_locust(flow.to_arguments())
    return FlowSettings.from_options(parsed, host=flow.host, environ=flow.to_environ(environ or {}))


def take(strategy: PollStrategy, n: int, seed: int) -> list[float]:
    return list(itertools.islice(strategy.delays(random.Random(seed)), n))


def real_target() -> Target:
    return Target(
        name="dev", base_url="https://example.test/api/v1/ai", workspace_id="ws",
        environment="UAT", api_key=Secret("sk-live-123456"), api_key_env="DEV_KEY",
        background_trigger="nightly", jira_secret=Secret("jira-secret-999"),
    )  # fmt: skip


def test_every_setting_but_host_and_secrets_is_a_locust_option() -> None:
    """The option table is made from the fields: one option per field, secrets never one."""
    names = [option.name for option in FLOW_OPTIONS]
    fields = {field.name for field in dataclasses.fields(FlowSettings)}
    assert set(names) == fields - SECRET_FIELDS
    assert len(names) == len(set(names))
    assert {option.flag for option in FLOW_OPTIONS} >= {
        "--workspace", "--api-key-env", "--poll-strategy", "--poll-interval", "--poll-jitter",
        "--poll-cap", "--pacing", "--mock-admin", "--flow-csv", "--max-run-s",
    }  # fmt: skip


def test_secrets_travel_in_the_environment_never_in_arguments() -> None:
    """The key and Jira secret go into the subprocess environment; arguments name variables."""
    flow = FlowSettings.for_target(
        real_target(), host="https://example.test/api/v1/ai", poll_strategy="fixed", pacing=0.5,
        mock_admin=False,
    )  # fmt: skip
    env = flow.to_environ({"PATH": "/bin"})
    assert env == {
        "PATH": "/bin",
        "DEV_KEY": "sk-live-123456",
        "TRIGGER_HARNESS_JIRA_SECRET": "jira-secret-999",
    }
    joined = " ".join(flow.to_arguments())
    assert "sk-live-123456" not in joined
    assert "jira-secret-999" not in joined
    assert "--api-key-env DEV_KEY" in joined
    assert "--background-trigger nightly" in joined
    assert "--poll-interval 5" in joined
    assert "--mock-admin" not in joined


@pytest.mark.parametrize(
    "flow",
    [
        FlowSettings(host="http://127.0.0.1:9", api_key=Secret("k"), jira_secret=Secret("j")),
        FlowSettings.for_target(real_target(), host="https://example.test/api/v1/ai"),
        FlowSettings.for_target(
            mock_target(), host="http://127.0.0.1:9", poll_strategy="exponential",
            poll_interval=0.1 + 0.2, poll_jitter=0.25, poll_cap=30.0, pacing=0.125,
            mock_admin=True, burst_size=3, flow_csv="/tmp/flows.csv", max_flows_per_user=7,
            admin_token=Secret("admin-t"),
        ),
    ],
)  # fmt: skip
def test_settings_survive_the_trip_to_locust_unchanged(flow: FlowSettings) -> None:
    """Written by the harness and parsed as Locust would, the settings come back equal."""
    assert round_trip(flow) == flow


def test_an_unset_trigger_stays_unset_across_the_trip() -> None:
    """A target without a sync trigger sends `--sync-trigger ""`, read back as None."""
    flow = FlowSettings.for_target(real_target(), host="https://example.test")
    arguments = flow.to_arguments()
    assert arguments[arguments.index("--sync-trigger") + 1] == ""
    assert round_trip(flow).sync_trigger is None
    assert round_trip(flow).target().sync_trigger is None


def test_locust_defaults_are_the_demo_world() -> None:
    """With no options and no variables, a locustfile aims at the demo workspace and its key."""
    flow = FlowSettings.from_options(parse_as_locust([]), host="http://127.0.0.1:9/", environ={})
    target = flow.target()
    demo = mock_target()
    assert (target.workspace_id, target.api_key, target.jira_secret) == (
        demo.workspace_id, demo.api_key, demo.jira_secret,
    )  # fmt: skip
    assert target.base_url == "http://127.0.0.1:9"
    assert (target.sync_trigger, target.background_trigger) == ("quick-answer", "nightly-report")
    assert flow.admin_token is None


def test_fixed_jittered_5_is_the_same_schedule_in_load_and_size_polling() -> None:
    """`load --poll-strategy fixed_jittered --poll-interval 5` and `size-polling --intervals
    fixed_jittered:5` poll on the same delays: a first poll jittered over one interval."""
    settings = LoadSettings(scenario="background", poll_strategy="fixed_jittered", poll_interval=5)
    written = settings.flow_for(mock_target(), host="http://127.0.0.1:9", mock_admin=True)
    load_schedule = round_trip(written).strategy()
    [candidate] = parse_candidates("fixed_jittered:5")
    for seed in (1, 7, 11):
        delays = take(load_schedule, 4, seed)
        assert delays == take(candidate.build(), 4, seed)
        assert 5.0 < delays[0] <= 10.0
        assert delays[1:] == [5.0, 5.0, 5.0]


def test_poll_jitter_overrides_the_default_spread() -> None:
    """`--poll-jitter` set on `load` reaches the Locust user's strategy."""
    settings = LoadSettings(
        scenario="background", poll_strategy="fixed_jittered", poll_interval=5, poll_jitter=0
    )
    written = settings.flow_for(mock_target(), host="http://127.0.0.1:9", mock_admin=True)
    assert take(round_trip(written).strategy(), 3, seed=3) == [5.0, 5.0, 5.0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pacing", 0, "--pacing: must be a finite number > 0, got 0"),
        ("time_scale", -1.0, "--time-scale: must be a finite number > 0, got -1.0"),
        ("poll_interval", float("nan"), "--poll-interval: the interval must be a finite number >="),
        ("max_run_s", "5", "--max-run-s: must be a number, got '5'"),
        ("environment", "QA", "--environment: must be DEV, UAT or PROD, got 'QA'"),
        ("poll_strategy", "random", "--poll-strategy: unknown strategy 'random'"),
        ("poll_jitter", -1.0, "--poll-jitter: must be a finite number >= 0, got -1.0"),
        ("poll_cap", 0.0, "--poll-cap: must be a finite number > 0, got 0.0"),
        ("max_flows_per_user", 0, "--max-flows-per-user: must be a whole number >= 1, got 0"),
        ("burst_size", 2.5, "--burst-size: must be a whole number >= 1, got 2.5"),
        ("workspace", " ", "--workspace: must be a non-empty string, got ' '"),
        ("sync_trigger", "", "--sync-trigger: must be a non-empty string, got ''"),
    ],
)
def test_bad_settings_are_refused_naming_the_flag_and_value(
    field: str, value: object, message: str
) -> None:
    """Each invalid setting is a usage error whose message names the flag and the value."""
    with pytest.raises(UsageError, match="^" + re.escape(message)):
        FlowSettings(**{field: value})  # type: ignore[arg-type]


def test_exponential_jitter_is_a_fraction() -> None:
    """An exponential strategy refuses a jitter above 1 (a fraction, not seconds)."""
    with pytest.raises(UsageError, match=r"^--poll-jitter: exponential takes a fraction 0-1"):
        FlowSettings(poll_strategy="exponential", poll_jitter=2.0)
    assert FlowSettings(poll_strategy="fixed_jittered", poll_jitter=2.0).poll_jitter == 2.0


def test_a_bad_value_on_the_locust_command_line_is_refused_by_flag() -> None:
    """Values a locustfile is started with are validated as the harness's are."""
    parsed = parse_as_locust(["--pacing", "0"])
    with pytest.raises(UsageError, match=r"^--pacing: must be a finite number > 0, got 0\.0$"):
        FlowSettings.from_options(parsed, host="http://127.0.0.1:9", environ={})


def test_a_real_workspace_needs_its_key_variable_set() -> None:
    """Outside the demo workspace an unset key variable is a usage error naming it."""
    parsed = parse_as_locust(["--workspace", "ws", "--api-key-env", "WS_KEY"])
    with pytest.raises(UsageError, match="environment variable WS_KEY is not set"):
        FlowSettings.from_options(parsed, host="http://127.0.0.1:9", environ={})


def test_a_key_pasted_into_api_key_env_is_never_echoed() -> None:
    """issue 14: a pasted key that is a valid variable name is not shown (`shown_variable`)."""
    pasted = "a3f9c2e87b5d4e1f9a0b6c7d8e9f0a1b"
    parsed = parse_as_locust(["--workspace", "ws", "--api-key-env", pasted])
    with pytest.raises(UsageError, match=r"--api-key-env names .* is not set") as info:
        FlowSettings.from_options(parsed, host="http://127.0.0.1:9", environ={})
    assert pasted not in str(info.value)


def test_the_target_needs_a_host_and_keeps_its_interval_within_the_deadline() -> None:
    """Without --host there is no target; the target's interval never exceeds --max-run-s."""
    with pytest.raises(UsageError, match="--host is required"):
        FlowSettings().target()
    target = FlowSettings(host="http://127.0.0.1:9", poll_interval=30, max_run_s=10).target()
    assert (target.poll_interval_s, target.max_run_s) == (10, 10)


def test_settings_for_a_target_take_its_interval_unless_given() -> None:
    """The poll interval and deadline default to the target's; a given interval wins."""
    target = dataclasses.replace(mock_target(), poll_interval_s=7.0, max_run_s=100.0)
    assert FlowSettings.for_target(target, host=None).poll_interval == 7.0
    assert FlowSettings.for_target(target, host=None, poll_interval=2.0).poll_interval == 2.0
    assert FlowSettings.for_target(target, host=None).max_run_s == 100.0


def test_stop_thresholds_cross_to_locust_unchanged() -> None:
    """`--stop-on-threshold` and every threshold, incl. per-endpoint latency limits, survive
    the trip; the master reads them back without any secret."""
    thresholds = Thresholds(
        max_fail_ratio=0.05, max_flow_fail_ratio=0.1,
        latency=latency_limits(95, ["500", "E3=200"]) + latency_limits(99, ["E1=1234567.5"]),
        min_rps=2.5, max_violations=3,
    )  # fmt: skip
    flow = dataclasses.replace(
        FlowSettings(host="http://127.0.0.1:9", api_key=Secret("k"), jira_secret=Secret("j")),
        stop_on_threshold=True,
        **threshold_fields(thresholds),
    )
    assert round_trip(flow) == flow
    parsed = parse_as_locust(flow.to_arguments())
    assert FlowSettings.stop_thresholds_of(parsed) == thresholds
    assert dataclasses.replace(flow, stop_on_threshold=False).stop_thresholds() is None


def test_a_bad_stop_threshold_is_refused_naming_its_flag() -> None:
    with pytest.raises(UsageError, match="--max-p95-ms"):
        FlowSettings(stop_on_threshold=True, max_p95_ms=("E9=5",))
