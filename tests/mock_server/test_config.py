"""Config loading: every key validated, errors naming the key path and value, the demo world."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mock_server._config import (
    ApiKey,
    ConfigError,
    CronSpec,
    Duration,
    MockConfig,
    OutcomeRates,
    check_cron,
    demo_config,
    load_config,
    parse_config,
)

GOOD_TOML = """
[mock]
time_scale = 2.5
start = "2026-06-10T00:10:00Z"
scenario = "flaky"
journal_limit = 100
sync_limit_s = 120
sync_timeout_policy = "failed"
background_limit_s = 2700
retention_s = 3600
log_window = 4
seed = 11
max_body_bytes = 2048
rate_limit_per_s = 20
admin_token = "admin-secret"

[[workspaces]]
id = "acme"
api_keys = ["acme-key-1", { key = "acme-dev", environments = ["DEV"] }]

[[workspaces.triggers]]
id = "summarise"
environments = ["DEV", "UAT"]
duration = { dist = "lognormal", median_s = 20, sigma = 0.6, max_s = 600 }
outcome = { failed = 0.1, waiting_for_input = 0.2 }
paused = false
jira_secret = "jira-secret"

[workspaces.triggers.cron]
schedule = "0 9 * * 1-5"
timezone = "Europe/Berlin"
overlap = "skip"
environment = "UAT"
message = "hi"
user_variables = { a = 1 }

[[workspaces.triggers]]
id = "plain"
"""


def base() -> dict[str, Any]:
    """A minimal valid config mapping to break one key at a time."""
    return {
        "workspaces": [
            {
                "id": "acme",
                "api_keys": ["k1"],
                "triggers": [{"id": "t0"}, {"id": "t1", "duration": {"dist": "fixed", "s": 3}}],
            }
        ]
    }


def error_of(data: dict[str, Any]) -> str:
    """The message of the ConfigError `data` raises."""
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="config.toml")
    return str(info.value)


def test_full_file_loads_every_key(tmp_path: Path) -> None:
    """A file using every documented key loads into the matching frozen values."""
    path = tmp_path / "config.toml"
    path.write_text(GOOD_TOML)
    config = load_config(path)
    settings = config.mock
    assert settings.time_scale == 2.5
    assert settings.start == datetime(2026, 6, 10, 0, 10, tzinfo=UTC)
    assert (settings.scenario, settings.sync_timeout_policy, settings.log_window) == (
        "flaky",
        "failed",
        4,
    )
    assert (settings.max_body_bytes, settings.rate_limit_per_s, settings.admin_token) == (
        2048,
        20.0,
        "admin-secret",
    )
    workspace = config.workspaces[0]
    assert workspace.api_keys == (
        ApiKey(key="acme-key-1"),
        ApiKey(key="acme-dev", environments=("DEV",)),
    )
    trigger = workspace.triggers[0]
    assert trigger.environments == ("DEV", "UAT")
    assert trigger.duration == Duration(dist="lognormal", median_s=20, sigma=0.6, max_s=600)
    assert trigger.outcome == OutcomeRates(failed=0.1, waiting_for_input=0.2)
    assert trigger.cron == CronSpec(
        schedule="0 9 * * 1-5",
        timezone="Europe/Berlin",
        overlap="skip",
        environment="UAT",
        message="hi",
        user_variables={"a": 1},
    )
    assert trigger.jira_secret == "jira-secret"
    assert workspace.triggers[1].duration == Duration(dist="fixed", s=5.0)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("workspaces", 0, "triggers", 1, "duration"),
            {"dist": "lognormal", "median_s": -3, "sigma": 1},
            "config.toml: workspaces[0].triggers[1].duration.median_s: must be > 0, got -3",
        ),
        (
            ("workspaces", 0, "triggers", 1, "duration"),
            {"dist": "uniform", "min_s": 9, "max_s": 2},
            "duration.max_s: must be >= min_s (9), got 2",
        ),
        (
            ("workspaces", 0, "triggers", 1, "duration"),
            {"dist": "fixed", "s": 3, "sigma": 1},
            "duration.sigma: unknown key",
        ),
        (
            ("workspaces", 0, "triggers", 1, "duration"),
            {"dist": "gamma"},
            'duration.dist: must be one of fixed, uniform, lognormal, exponential, got "gamma"',
        ),
        (
            ("workspaces", 0, "triggers", 1, "duration"),
            {"dist": "exponential"},
            "duration.mean_s: is required",
        ),
        (
            ("workspaces", 0, "triggers", 0, "outcome"),
            {"failed": 1.5},
            "outcome.failed: must be a probability in [0, 1], got 1.5",
        ),
        (
            ("workspaces", 0, "triggers", 0, "outcome"),
            {"failed": 0.6, "waiting_for_input": 0.6},
            "outcome: failed + waiting_for_input must be <= 1, got 1.2",
        ),
        (
            ("workspaces", 0, "triggers", 0, "environments"),
            ["DEV", "dev"],
            'environments[1]: must be one of DEV, UAT, PROD, got "dev"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "cron"),
            {"schedule": "0 * * *"},
            'cron.schedule: must have 5 fields, got "0 * * *"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "cron"),
            {"schedule": "61 * * * *"},
            'cron.schedule: Bad minute, got "61 * * * *"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "cron"),
            {"schedule": "0 * * * *", "timezone": "Mars/Olympus"},
            'cron.timezone: unknown timezone, got "Mars/Olympus"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "cron"),
            {"schedule": "0 * * * *", "overlap": "queue"},
            'cron.overlap: must be one of allow, skip, got "queue"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "paused"),
            "yes",
            'triggers[0].paused: must be true or false, got "yes"',
        ),
        (
            ("workspaces", 0, "triggers", 0, "colour"),
            "red",
            "workspaces[0].triggers[0].colour: unknown key",
        ),
        (
            ("workspaces", 0, "triggers", 0, "id"),
            "a/b",
            'triggers[0].id: must use only letters, digits and . _ ~ -, got "a/b"',
        ),
        (("mock", "time_scale"), 0, "config.toml: mock.time_scale: must be > 0, got 0"),
        (("mock", "log_window"), 0, "mock.log_window: must be >= 1, got 0"),
        (("mock", "journal_limit"), 2.5, "mock.journal_limit: must be an integer, got 2.5"),
        (("mock", "scenario"), "chaos", "mock.scenario: must be one of flaky, degraded"),
        (("mock", "sync_timeout_policy"), "retry", "mock.sync_timeout_policy: must be one of"),
        (("mock", "retention_s"), float("inf"), "mock.retention_s: must be a finite number"),
        (("mock", "start"), "2026-06-10T00:10:00", "mock.start: must include a timezone"),
        (("mock", "start"), "yesterday", "mock.start: must be an ISO 8601 UTC time"),
        (("mock", "seed"), True, "mock.seed: must be an integer, got true"),
        (("mock", "verbose"), True, "config.toml: mock.verbose: unknown key"),
    ],
)
def test_bad_value_is_named_with_its_path_and_value(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    """Each invalid value raises ConfigError naming the dotted key path and the value."""
    data = base()
    target: Any = data
    for step in path[:-1]:
        if isinstance(target, dict) and step not in target:
            target[step] = {}
        target = target[step]
    target[path[-1]] = value
    assert expected in error_of(data)


def test_cron_environment_must_be_one_of_the_triggers() -> None:
    """A cron environment outside the trigger's environments is refused."""
    data = base()
    trigger = data["workspaces"][0]["triggers"][0]
    trigger["environments"] = ["DEV"]
    trigger["cron"] = {"schedule": "0 * * * *", "environment": "PROD"}
    assert "cron.environment: must be one of the trigger's environments (DEV)" in error_of(data)


def test_duplicates_are_refused() -> None:
    """Workspace ids, trigger ids within a workspace and keys anywhere must be unique."""
    data = base()
    data["workspaces"][0]["triggers"][1]["id"] = "t0"
    assert "workspaces[0].triggers[1].id: duplicate trigger id" in error_of(data)
    data = base()
    data["workspaces"].append(copy.deepcopy(data["workspaces"][0]))
    assert "workspaces[1].id: duplicate workspace id" in error_of(data)
    data["workspaces"][1]["id"] = "other"
    message = error_of(data)
    assert "workspaces[1].api_keys[0]: duplicate API key" in message
    assert "k1" not in message


def test_secrets_never_appear_in_messages() -> None:
    """Errors about keys and secrets name the key path but never the secret value."""
    data = base()
    data["workspaces"][0]["api_keys"] = [{"key": "sekrit-value", "environments": "DEV"}]
    message = error_of(data)
    assert "api_keys[0].environments" in message
    data["workspaces"][0]["api_keys"] = [{"key": "sekrit-value", "scope": 1}]
    message = error_of(data)
    assert "api_keys[0].scope: unknown key" in message
    assert "sekrit" not in message


def test_required_keys_and_shapes() -> None:
    """Missing workspaces, ids and keys, and wrong shapes, are errors naming the key."""
    assert "config.toml: workspaces: must be a non-empty array" in error_of({})
    assert "workspaces[0].api_keys: is required" in error_of({"workspaces": [{"id": "a"}]})
    assert "workspaces[0].api_keys: must be a non-empty array" in error_of(
        {"workspaces": [{"id": "a", "api_keys": []}]}
    )
    assert "workspaces[0].triggers[0].id: is required" in error_of(
        {"workspaces": [{"id": "a", "api_keys": ["k"], "triggers": [{}]}]}
    )


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error becomes a ConfigError naming the file and the line."""
    path = tmp_path / "bad.toml"
    path.write_text("[mock]\ntime_scale = \n")
    with pytest.raises(ConfigError, match=r"bad\.toml: TOML syntax error: .*line 2"):
        load_config(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing file is a ConfigError naming the file."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the file"):
        load_config(missing)


def test_toml_datetimes_in_cron_variables_become_strings(tmp_path: Path) -> None:
    """TOML date values in cron user_variables are turned into ISO strings (JSON-safe)."""
    path = tmp_path / "c.toml"
    path.write_text(
        '[[workspaces]]\nid = "a"\napi_keys = ["k"]\n[[workspaces.triggers]]\nid = "t"\n'
        'cron = { schedule = "* * * * *", user_variables = { day = 2026-06-10 } }\n'
    )
    cron = load_config(path).workspaces[0].triggers[0].cron
    assert cron is not None
    assert cron.user_variables == {"day": "2026-06-10"}


def test_native_toml_datetime_start_is_accepted() -> None:
    """`start` may also be a TOML offset datetime; it is converted to UTC."""
    data = base()
    data["mock"] = {"start": datetime.fromisoformat("2026-06-10T02:10:00+02:00")}
    assert parse_config(data).mock.start == datetime(2026, 6, 10, 0, 10, tzinfo=UTC)


def test_check_cron_refuses_a_schedule_that_never_fires() -> None:
    """A schedule with no possible date (31 February) is refused."""
    with pytest.raises(ConfigError, match=r"cron\.schedule"):
        check_cron(CronSpec(schedule="0 0 31 2 *"), ("DEV",))


def test_demo_world() -> None:
    """The demo world has the documented workspaces, keys and triggers with seed 7."""
    config = demo_config()
    assert isinstance(config, MockConfig)
    assert config.mock.seed == 7
    demo, sandbox = config.workspaces
    assert demo.id == "demo"
    assert sandbox.id == "sandbox"
    assert [k.key for k in demo.api_keys] == ["demo-key", "demo-dev-key"]
    assert demo.api_keys[1].environments == ("DEV",)
    triggers = {t.id: t for t in demo.triggers}
    assert set(triggers) == {
        "quick-answer",
        "nightly-report",
        "flaky-enrichment",
        "approval-flow",
        "slow-sync",
        "long-batch",
        "jira-triage",
        "hourly-health",
        "uat-only",
        "paused-trigger",
    }
    assert triggers["slow-sync"].duration.s == 200
    assert triggers["long-batch"].duration.s == 3000
    assert triggers["approval-flow"].outcome.waiting_for_input == 1.0
    assert triggers["flaky-enrichment"].outcome.failed == 0.2
    assert triggers["jira-triage"].jira_secret == "demo-jira-secret"
    assert triggers["uat-only"].environments == ("UAT",)
    assert triggers["paused-trigger"].paused
    cron = triggers["hourly-health"].cron
    assert cron is not None
    assert (cron.schedule, cron.environment, cron.message) == (
        "0 * * * *",
        "DEV",
        "scheduled health check",
    )
    assert [t.id for t in sandbox.triggers] == ["quick-answer"]
    for trigger in triggers.values():
        if trigger.cron is not None:
            check_cron(trigger.cron, trigger.environments)
