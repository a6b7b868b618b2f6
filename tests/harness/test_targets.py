"""Targets: validation, the targets file, secrets from the environment, the production guard."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness import (
    ConfigError,
    ProductionGuardError,
    Secret,
    Target,
    guard_production,
    load_targets,
    mock_target,
    select_target,
)
from harness._targets import shown_variable

DEV_TABLE = """
[targets.dev]
base_url = "https://app.phinite.ai/api/v1/ai"
workspace_id = "ws-123"
environment = "DEV"
api_key_env = "PHINITE_DEV_API_KEY"
sync_trigger = "quick-answer"
jira_trigger = "jira-triage"
jira_secret_env = "PHINITE_DEV_JIRA_SECRET"
max_run_s = 2700
poll_interval_s = 5
production = false

[targets.prod]
base_url = "https://ai-core.phinite.ai"
workspace_id = "ws-9"
environment = "PROD"
api_key_env = "PHINITE_PROD_API_KEY"
production = true
"""


def write(tmp_path: Path, text: str, name: str = "harness.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_target(**changes: object) -> Target:
    fields: dict[str, object] = {
        "name": "dev",
        "base_url": "https://example.test",
        "workspace_id": "ws",
        "environment": "DEV",
    }
    fields.update(changes)
    return Target(**fields)  # type: ignore[arg-type]


def test_secret_hides_its_value_in_repr_and_str() -> None:
    """A Secret shows `[REDACTED]` in repr and str and reveals the value only on request."""
    secret = Secret("s3cr3t-value")
    assert repr(secret) == "[REDACTED]"
    assert str(secret) == "[REDACTED]"
    assert f"{secret}" == "[REDACTED]"
    assert secret.reveal() == "s3cr3t-value"


def test_target_repr_never_shows_keys() -> None:
    """repr of a target holding a key and a Jira secret contains neither value."""
    target = mock_target()
    text = repr(target)
    assert "demo-key" not in text
    assert "demo-jira-secret" not in text
    assert "[REDACTED]" in text


def test_mock_target_is_the_demo_world() -> None:
    """The built-in mock target is embedded and points at the demo workspace and triggers."""
    target = mock_target()
    assert target.embedded
    assert target.base_url == "http://testserver"
    assert (target.workspace_id, target.environment) == ("demo", "DEV")
    assert target.api_key is not None
    assert target.api_key.reveal() == "demo-key"
    assert (target.sync_trigger, target.background_trigger, target.jira_trigger) == (
        "quick-answer",
        "nightly-report",
        "jira-triage",
    )
    assert target.jira_secret is not None
    assert target.jira_secret.reveal() == "demo-jira-secret"
    assert (target.max_run_s, target.poll_interval_s) == (2700, 5)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"environment": "dev"}, "targets.dev.environment: must be DEV, UAT or PROD, got 'dev'"),
        ({"base_url": "ftp://host"}, "targets.dev.base_url: must be an http(s) URL"),
        ({"base_url": "https://u:p@host"}, "targets.dev.base_url: must not carry credentials"),
        ({"workspace_id": ""}, "targets.dev.workspace_id: must be a non-empty string"),
        ({"max_run_s": 0}, "targets.dev.max_run_s: must be a finite number > 0, got 0"),
        ({"timeout_s": float("nan")}, "targets.dev.timeout_s: must be a finite number > 0"),
        ({"poll_interval_s": True}, "targets.dev.poll_interval_s: must be a number"),
        ({"production": "yes"}, "targets.dev.production: must be true or false, got a string"),
        ({"sync_trigger": ""}, "targets.dev.sync_trigger: must be a non-empty string"),
        ({"poll_interval_s": 10, "max_run_s": 5}, "targets.dev.poll_interval_s: must not exceed"),
    ],
)
def test_target_validation_names_field_and_value(changes: dict[str, object], expected: str) -> None:
    """An invalid field value raises ConfigError naming the target, the field and the value."""
    with pytest.raises(ConfigError) as info:
        make_target(**changes)
    assert str(info.value).startswith(expected)


def test_without_any_file_only_mock_exists(tmp_path: Path) -> None:
    """With no path, no variable and no harness.toml, only the mock target is loaded."""
    assert list(load_targets(None, environ={}, cwd=tmp_path)) == ["mock"]


def test_harness_toml_in_cwd_is_read(tmp_path: Path) -> None:
    """harness.toml in the working directory adds its targets beside mock."""
    write(tmp_path, DEV_TABLE)
    targets = load_targets(None, environ={}, cwd=tmp_path)
    assert sorted(targets) == ["dev", "mock", "prod"]
    dev = targets["dev"]
    assert dev.base_url == "https://app.phinite.ai/api/v1/ai"
    assert dev.api_key is None
    assert dev.api_key_env == "PHINITE_DEV_API_KEY"
    assert targets["prod"].production


def test_env_var_file_wins_over_cwd_and_path_wins_over_env(tmp_path: Path) -> None:
    """An explicit path beats $TRIGGER_HARNESS_TARGETS, which beats cwd/harness.toml."""
    write(tmp_path, DEV_TABLE)
    env_file = write(tmp_path, DEV_TABLE.replace("targets.dev]", "targets.from-env]"), "env.toml")
    given = write(tmp_path, DEV_TABLE.replace("targets.dev]", "targets.given]"), "given.toml")
    environ = {"TRIGGER_HARNESS_TARGETS": str(env_file)}
    assert "from-env" in load_targets(None, environ=environ, cwd=tmp_path)
    assert "given" in load_targets(Path("given.toml"), environ=environ, cwd=tmp_path)
    assert "given" in load_targets(given, environ=environ, cwd=tmp_path)


def test_missing_env_var_file_names_the_variable(tmp_path: Path) -> None:
    """$TRIGGER_HARNESS_TARGETS naming a missing file raises ConfigError naming the variable."""
    with pytest.raises(ConfigError, match=r"TRIGGER_HARNESS_TARGETS.*nope\.toml"):
        load_targets(None, environ={"TRIGGER_HARNESS_TARGETS": "nope.toml"}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[targets.dev\n", r"invalid TOML"),
        ("[other]\nx = 1\n", r"unknown top-level key 'other'"),
        ("targets = 3\n", r"targets: must be a table"),
    ],
)
def test_unreadable_targets_file_names_the_file(tmp_path: Path, text: str, expected: str) -> None:
    """A file that is not a targets file at all fails at load, naming the file."""
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(ConfigError, match=expected) as info:
        load_targets(path, environ={}, cwd=tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("[targets.mock]\nbase_url='http://x'\n", "mock", r"targets\.mock: the built-in mock"),
        (DEV_TABLE + "colour = 'blue'\n", "prod", r"targets\.prod\.colour: unknown key"),
        (
            DEV_TABLE + "api_key = 'leak'\n",
            "prod",
            r"targets\.prod\.api_key: secrets are never written",
        ),
        (
            DEV_TABLE.replace('workspace_id = "ws-9"\n', ""),
            "prod",
            r"targets\.prod\.workspace_id: missing",
        ),
        (
            DEV_TABLE.replace("max_run_s = 2700", "max_run_s = '45m'"),
            "dev",
            r"dev\.max_run_s: must be a n",
        ),
        (
            DEV_TABLE.replace("production = true", "production = 1"),
            "prod",
            r"prod\.production: must be true",
        ),
        (
            DEV_TABLE.replace('"DEV"', '"dev"'),
            "dev",
            r"targets\.dev\.environment: must be DEV, UAT or PROD",
        ),
        ("[targets]\ndev = 3\n", "dev", r"targets\.dev: must be a \[targets\.dev\] table"),
    ],
)
def test_a_bad_target_fails_only_when_selected(
    tmp_path: Path, text: str, name: str, expected: str
) -> None:
    """A bad target table fails its selection, naming the file and key; others stay usable."""
    path = write(tmp_path, text, "bad.toml")
    targets = load_targets(path, environ={}, cwd=tmp_path)
    assert "mock" in targets
    with pytest.raises(ConfigError, match=expected) as info:
        select_target(targets, name, environ={})
    assert str(path) in str(info.value)
    assert "leak" not in str(info.value)
    assert any(repr(name) in line for line in targets.warnings("another"))


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    """A given path that cannot be read raises ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_targets(tmp_path / "missing.toml", environ={}, cwd=tmp_path)


def test_select_reads_keys_from_the_injected_environment(tmp_path: Path) -> None:
    """Selecting a target fills api_key and jira_secret from the variables it names."""
    targets = load_targets(write(tmp_path, DEV_TABLE), environ={}, cwd=tmp_path)
    environ = {"PHINITE_DEV_API_KEY": "key-abc", "PHINITE_DEV_JIRA_SECRET": "jira-xyz"}
    dev = select_target(targets, "dev", environ=environ)
    assert dev.api_key is not None
    assert dev.api_key.reveal() == "key-abc"
    assert dev.jira_secret is not None
    assert dev.jira_secret.reveal() == "jira-xyz"
    assert dataclasses.replace(dev, api_key=None, jira_secret=None) == targets["dev"]


def test_missing_key_variable_fails_only_the_selected_target(tmp_path: Path) -> None:
    """A target whose key variable is unset fails at selection, naming the variable; others work.

    A missing Jira secret does not fail it: E4 work is skipped with the reason instead.
    """
    targets = load_targets(write(tmp_path, DEV_TABLE), environ={}, cwd=tmp_path)
    environ = {"PHINITE_DEV_API_KEY": "key-abc", "PHINITE_DEV_JIRA_SECRET": "  "}
    dev = select_target(targets, "dev", environ=environ)
    assert dev.jira_secret is None
    assert dev.jira_unavailable is not None
    assert "PHINITE_DEV_JIRA_SECRET is not set or empty" in dev.jira_unavailable
    prod = select_target(targets, "prod", environ={"PHINITE_PROD_API_KEY": "pk"})
    assert prod.api_key == Secret("pk")
    with pytest.raises(ConfigError, match=r"PHINITE_PROD_API_KEY") as info:
        select_target(targets, "prod", environ={})
    assert "pk" not in str(info.value)


def test_key_with_control_characters_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """A key variable holding a newline is refused, and the message does not contain the key."""
    targets = load_targets(write(tmp_path, DEV_TABLE), environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="control characters") as info:
        select_target(targets, "prod", environ={"PHINITE_PROD_API_KEY": "abc\ndef"})
    assert "abc" not in str(info.value)


def test_unknown_target_lists_known_names() -> None:
    """Selecting an unknown name raises ConfigError listing the known targets."""
    targets = {"mock": mock_target(), "dev": make_target()}
    with pytest.raises(ConfigError, match=r"unknown target 'stage'; known targets: dev, mock"):
        select_target(targets, "stage", environ={})


def test_mock_selection_needs_no_environment() -> None:
    """The mock target is selected without any variable and keeps its built-in key."""
    assert select_target({"mock": mock_target()}, "mock", environ={}) == mock_target()


def test_production_guard() -> None:
    """A production target is refused unless allowed, and the error names the target."""
    prod = make_target(name="live", production=True)
    with pytest.raises(ProductionGuardError, match="'live'"):
        guard_production(prod, allow_production=False)
    guard_production(prod, allow_production=True)
    guard_production(make_target(), allow_production=False)


SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "table",
    [
        f'base_url = "http://127.0.0.1:9/?api_key={SECRET}"',
        f'base_url = "http://127.0.0.1:9/x#{SECRET}"',
        f'base_url = "ftp://u:{SECRET}@h/"',
        f'base_url = "http://u:{SECRET}@/x"',
        f'base_url = ["http://127.0.0.1:9/{SECRET}"]',
        f'base_url = "http://127.0.0.1:9"\napi_key_env = "{SECRET}"',
        f'base_url = "http://127.0.0.1:9"\nworkspace_id = "{SECRET}"\nenvironment = "{SECRET}"',
    ],
)
def test_no_configuration_message_holds_a_secret(tmp_path: Path, table: str) -> None:
    """issue 14: seven targets files that put a key where it does not belong; no message shows it.

    The secret may sit in a URL's query, fragment or userinfo, in a list, where a variable name
    belongs, or in a plain field equal to the key the target's variable holds.
    """
    defaults = {
        "base_url": '"http://127.0.0.1:9"',
        "workspace_id": '"ws"',
        "environment": '"DEV"',
        "api_key_env": '"KEY_VAR"',
    }
    given = {line.split(" = ")[0] for line in table.splitlines()}
    rest = "".join(f"{key} = {value}\n" for key, value in defaults.items() if key not in given)
    path = write(tmp_path, f"[targets.t]\n{table}\n{rest}", "leaky.toml")
    targets = load_targets(path, environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError) as info:
        select_target(targets, "t", environ={"KEY_VAR": SECRET})
    assert SECRET not in str(info.value)
    assert "targets.t" in str(info.value)
    assert all(SECRET not in line for line in targets.warnings("mock"))


def test_a_key_pasted_as_the_target_table_is_never_shown(tmp_path: Path) -> None:
    """`[targets] t = "<key>"`: the error says a table was expected, without the value."""
    targets = load_targets(
        write(tmp_path, f'[targets]\nt = "{SECRET}"\n'), environ={}, cwd=tmp_path
    )
    with pytest.raises(ConfigError, match="got a string") as info:
        select_target(targets, "t", environ={})
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("key", ["\u2026paste your key here\u2026", "caf\u00e9-key", " padded "])
def test_a_key_no_header_can_carry_is_a_usage_error_naming_the_variable(
    tmp_path: Path, key: str
) -> None:
    """issue 14: a non-ASCII key was a UnicodeEncodeError traceback; now exit 2, variable named."""
    targets = load_targets(write(tmp_path, DEV_TABLE), environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="PHINITE_PROD_API_KEY holds characters") as info:
        select_target(targets, "prod", environ={"PHINITE_PROD_API_KEY": key})
    assert info.value.exit_code == 2
    assert key.strip() not in str(info.value)


@pytest.mark.parametrize(
    ("changes", "production"),
    [
        ({"environment": "PROD"}, True),
        ({"environment": "PROD", "production": False}, False),
        ({"environment": "DEV"}, False),
        ({"environment": "DEV", "production": True}, True),
    ],
)
def test_prod_environment_is_production_unless_said_otherwise(
    changes: dict[str, object], production: bool
) -> None:
    """issue 14: `environment = "PROD"` without `production = false` is production."""
    target = make_target(**changes)
    assert target.production is production
    assert target.may_start_runs(allow_production=False) is not production
    assert target.may_start_runs(allow_production=True)


def test_prod_environment_in_a_file_is_production(tmp_path: Path) -> None:
    """A file's PROD target with no `production` key is refused by the guard."""
    text = DEV_TABLE.replace("production = true\n", "")
    targets = load_targets(write(tmp_path, text), environ={}, cwd=tmp_path)
    prod = select_target(targets, "prod", environ={"PHINITE_PROD_API_KEY": "pk"})
    with pytest.raises(ProductionGuardError):
        guard_production(prod, allow_production=False)


FULL_TABLE = """
[targets.full]
base_url = "http://127.0.0.1:9"
workspace_id = "demo"
environment = "DEV"
api_key_env = "FULL_KEY"
failing_trigger = "flaky-enrichment"
input_trigger = "approval-flow"
slow_sync_trigger = "slow-sync"
other_workspace_id = "sandbox"
other_api_key_env = "FULL_OTHER_KEY"
"""


def test_optional_trigger_keys_and_second_workspace_are_read(tmp_path: Path) -> None:
    """The coverage keys load; the second workspace's key is read from its variable."""
    path = tmp_path / "harness.toml"
    path.write_text(FULL_TABLE, encoding="utf-8")
    environ = {"FULL_KEY": "k-1", "FULL_OTHER_KEY": "other-secret"}
    target = select_target(load_targets(path, environ={}, cwd=tmp_path), "full", environ=environ)
    assert (target.failing_trigger, target.input_trigger, target.slow_sync_trigger) == (
        "flaky-enrichment",
        "approval-flow",
        "slow-sync",
    )
    assert target.other_api_key == Secret("other-secret")
    assert target.other_workspace_skip_reason is None
    assert "other-secret" in target.secret_values()
    assert "other-secret" not in repr(target)


def test_unset_second_key_only_skips_its_case(tmp_path: Path) -> None:
    path = tmp_path / "harness.toml"
    path.write_text(FULL_TABLE, encoding="utf-8")
    target = select_target(
        load_targets(path, environ={}, cwd=tmp_path), "full", environ={"FULL_KEY": "k"}
    )
    reason = target.other_workspace_skip_reason
    assert reason is not None
    assert "FULL_OTHER_KEY" in reason


@pytest.mark.parametrize(
    ("drop", "problem"),
    [
        ("other_api_key_env", "other_api_key_env: must be set"),
        ("other_workspace_id", "other_workspace_id: must be set"),
    ],
)
def test_second_workspace_needs_both_keys(tmp_path: Path, drop: str, problem: str) -> None:
    path = tmp_path / "harness.toml"
    lines = [line for line in FULL_TABLE.splitlines() if not line.startswith(drop)]
    path.write_text("\n".join(lines), encoding="utf-8")
    targets = load_targets(path, environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=problem):
        select_target(targets, "full", environ={"FULL_KEY": "k"})


def test_second_key_variable_is_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "harness.toml"
    path.write_text(
        FULL_TABLE.replace('"FULL_OTHER_KEY"', '"sk-live-not-a-name!"'), encoding="utf-8"
    )
    targets = load_targets(path, environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError) as raised:
        select_target(targets, "full", environ={"FULL_KEY": "k"})
    assert "sk-live" not in str(raised.value)


HEX_KEY = "a3f9c2e87b5d4e1f9a0b6c7d8e9f0a1b"
"""A pasted key that is also a valid variable name (32 lower-case hex digits)."""
PASTED_NAMES = [HEX_KEY, HEX_KEY.upper(), "JBSWY3DPEHPK3PXP", "dev_key", "K" * 65]


@pytest.mark.parametrize("env_field", ["api_key_env", "jira_secret_env", "other_api_key_env"])
@pytest.mark.parametrize("pasted", PASTED_NAMES)
def test_a_pasted_key_that_is_a_valid_name_is_never_echoed(
    tmp_path: Path, env_field: str, pasted: str
) -> None:
    """issue 14: a key pasted into any `*_env` key that happens to be a variable name was
    printed (`environment variable a3f9... is not set or empty`); now the message says the
    variable named by that key is not set, without its name, in errors and skip reasons."""
    variables = {
        "api_key_env": "FULL_KEY",
        "jira_secret_env": "FULL_JIRA",
        "other_api_key_env": "FULL_OTHER_KEY",
    }
    table = f'{FULL_TABLE}jira_trigger = "jira-triage"\njira_secret_env = "FULL_JIRA"\n'
    table = table.replace(f'"{variables[env_field]}"', f'"{pasted}"')
    targets = load_targets(write(tmp_path, table), environ={}, cwd=tmp_path)
    environ = {"FULL_KEY": "k-123", "FULL_JIRA": "j-123", "FULL_OTHER_KEY": "o-123"}
    if env_field == "api_key_env":
        with pytest.raises(ConfigError) as info:
            select_target(targets, "full", environ=environ)
        assert info.value.exit_code == 2
        said = str(info.value)
    else:
        target = select_target(targets, "full", environ=environ)
        said = f"{target.jira_unavailable} {target.other_unavailable}"
    assert pasted not in said
    assert pasted.lower() not in said.lower()
    assert f"targets.full.{env_field}: the environment variable named here" in said
    assert "not shown" in said


def test_a_pasted_header_unsafe_value_under_a_valid_name_is_never_echoed(tmp_path: Path) -> None:
    """The header-unsafe message follows the same rule as the unset one."""
    table = FULL_TABLE.replace('"FULL_KEY"', f'"{HEX_KEY}"')
    targets = load_targets(write(tmp_path, table), environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="holds characters") as info:
        select_target(targets, "full", environ={HEX_KEY: "caf\u00e9"})
    assert HEX_KEY not in str(info.value)


@pytest.mark.parametrize(
    ("variable", "shown"),
    [
        ("PHINITE_DEV_API_KEY", True),
        ("TRIGGER_HARNESS_API_KEY_V2", True),
        ("OAUTH2TOKEN", True),
        ("_PRIVATE", True),
        ("K" * 64, True),
        ("K" * 65, False),
        (HEX_KEY, False),
        (HEX_KEY.upper(), False),
        ("PREFIX_" + HEX_KEY.upper(), False),
        ("dev_key", False),
    ],
)
def test_only_conventional_variable_names_are_shown(variable: str, shown: bool) -> None:
    """`shown_variable`: upper case, digits and `_`, at most 64 characters, no key-like word."""
    assert (shown_variable(variable) == variable) is shown
    assert shown_variable(variable) in (variable, None)


def test_warnings_never_echo_a_pasted_key(tmp_path: Path) -> None:
    """Targets.warnings: another target's pasted key is not in the warning about it."""
    text = DEV_TABLE.replace('"PHINITE_PROD_API_KEY"', '"sk-live-0123456789abcdef"')
    targets = load_targets(write(tmp_path, text), environ={}, cwd=tmp_path)
    warnings = targets.warnings("dev")
    assert len(warnings) == 1
    assert "prod" in warnings[0]
    assert "sk-live" not in warnings[0]
