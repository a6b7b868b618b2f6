"""The pytest11 plugin, exercised with pytester: options, ini keys, markers and fixtures.

The async fixtures under each runner are in `test_pytest_plugin_async.py`, the production
guard in `test_pytest_plugin_production.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_REAL_TARGETS = """
[targets.dev]
base_url = "http://127.0.0.1:9/api/v1/ai"
workspace_id = "ws-1"
environment = "DEV"
api_key_env = "PLUGIN_TEST_KEY"
production = {production}
"""
_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
"""Every inner run's ini: pytest-asyncio (a dev dependency) asks for its loop scope."""
_PROJECT_CONFTEST = Path(__file__).parents[1] / "conftest.py"


@pytest.fixture(autouse=True)
def quiet_ini(pytester: pytest.Pytester) -> None:
    """Each inner run has an ini file, so pytest-asyncio's loop-scope notice stays quiet."""
    pytester.makeini(_INI)


@pytest.fixture
def real_target(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester dir whose harness.toml names an unreachable non-production target `dev`."""
    monkeypatch.setenv("PLUGIN_TEST_KEY", "plugin-secret-key")
    pytester.makefile(".toml", harness=_REAL_TARGETS.format(production="false"))
    return pytester


_NAME_TEST = """
def test_name(trigger_target):
    print("target is", trigger_target.name)
"""


def test_namespaced_options_and_markers_are_registered(pytester: pytest.Pytester) -> None:
    """`--trigger-target`, `--trigger-targets`, the ini keys and the markers; no bare --target."""
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--trigger-target=NAME" in help_text
    assert "--trigger-targets=FILE" in help_text
    assert "--trigger-allow-production" in help_text
    assert "trigger_target (string)" in help_text
    assert "trigger_targets (string)" in help_text
    assert "--target=" not in help_text
    assert "--targets=" not in help_text
    markers = pytester.runpytest("--markers").stdout.str()
    assert "@pytest.mark.mock_only" in markers
    assert "@pytest.mark.starts_runs" in markers


def test_a_user_conftest_with_its_own_target_option_coexists(real_target: pytest.Pytester) -> None:
    """A project's own `--target` is its own; the plugin's target comes from --trigger-target."""
    real_target.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--target", default="staging")
        """
    )
    real_target.makepyfile(
        """
        def test_both(pytestconfig, trigger_target):
            assert pytestconfig.getoption("target") == "qa-box"
            assert trigger_target.name == "dev"
        """
    )
    result = real_target.runpytest("--target", "qa-box", "--trigger-target", "dev")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "env", "ini", "expected"),
    [
        ((), None, None, "mock"),
        ((), None, "dev", "dev"),
        ((), "dev", "other", "dev"),
        (("--trigger-target", "mock"), "dev", "dev", "mock"),
    ],
    ids=["default", "ini", "env-over-ini", "option-over-env"],
)
def test_target_name_comes_from_option_then_env_then_ini(
    real_target: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    env: str | None,
    ini: str | None,
    expected: str,
) -> None:
    """pytest-base-url's order: the option, then $TRIGGER_HARNESS_TARGET, then the ini key."""
    if env is not None:
        monkeypatch.setenv("TRIGGER_HARNESS_TARGET", env)
    else:
        monkeypatch.delenv("TRIGGER_HARNESS_TARGET", raising=False)
    if ini is not None:
        real_target.makeini(f"{_INI}trigger_target = {ini}\n")
    real_target.makepyfile(_NAME_TEST)
    result = real_target.runpytest("-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*target is {expected}*"])


def test_targets_file_from_ini_is_relative_to_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`trigger_targets` in the ini names a file next to it, whatever the working directory."""
    monkeypatch.setenv("PLUGIN_TEST_KEY", "plugin-secret-key")
    monkeypatch.delenv("TRIGGER_HARNESS_TARGETS", raising=False)
    config_dir = pytester.mkdir("config")
    (config_dir / "targets.toml").write_text(_REAL_TARGETS.format(production="false"))
    pytester.makeini(f"{_INI}trigger_target = dev\ntrigger_targets = config/targets.toml\n")
    pytester.makepyfile(_NAME_TEST)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*target is dev*"])


def test_targets_file_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$TRIGGER_HARNESS_TARGETS names the file (and wins over the ini key)."""
    monkeypatch.setenv("PLUGIN_TEST_KEY", "plugin-secret-key")
    targets = pytester.makefile(".toml", elsewhere=_REAL_TARGETS.format(production="false"))
    monkeypatch.setenv("TRIGGER_HARNESS_TARGETS", str(targets))
    pytester.makeini(f"{_INI}trigger_targets = missing.toml\n")
    pytester.makepyfile(_NAME_TEST)
    result = pytester.runpytest("-s", "--trigger-target", "dev")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*target is dev*"])


def test_the_projects_short_options_map_to_the_plugins(real_target: pytest.Pytester) -> None:
    """This repository's conftest: `--target`/`--targets` set the plugin's target and file."""
    conftest = _PROJECT_CONFTEST.read_text().replace('pytest_plugins = ["tests.fixtures.mock"]', "")
    real_target.makeconftest(conftest)
    targets = real_target.path / "harness.toml"
    real_target.makepyfile(_NAME_TEST)
    result = real_target.runpytest("-s", "--target", "dev", "--targets", str(targets))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*target is dev*"])
    clash = real_target.runpytest("--target", "dev", "--trigger-target", "mock")
    assert clash.ret == pytest.ExitCode.USAGE_ERROR
    assert "--target 'dev' and --trigger-target 'mock' disagree" in clash.stderr.str()


def test_default_target_is_the_embedded_mock(pytester: pytest.Pytester) -> None:
    """Without options the target is `mock` and trigger_client runs flows on it."""
    pytester.makepyfile(
        """
        def test_sync(trigger_target, trigger_client):
            assert trigger_target.name == "mock"
            observation = trigger_client.run_sync(user_variables={"k": 1})
            assert observation.envelope.status == "completed"
            assert observation.envelope.response["k"] == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_mock_only_tests_are_skipped_on_a_real_target(real_target: pytest.Pytester) -> None:
    """`mock_only` skips with the stated reason when --trigger-target names a real endpoint."""
    real_target.makepyfile(
        """
        import pytest

        @pytest.mark.mock_only
        def test_needs_mock():
            raise AssertionError("must not run")

        def test_plain(trigger_target):
            assert trigger_target.name == "dev"
            assert trigger_target.api_key.reveal() == "plugin-secret-key"
        """
    )
    result = real_target.runpytest("--trigger-target", "dev", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*needs the mock's admin API (virtual clock)*"])
    assert "plugin-secret-key" not in result.stdout.str()


def test_mock_only_tests_run_on_the_mock(pytester: pytest.Pytester) -> None:
    """`mock_only` tests run on the default target."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mock_only
        def test_needs_mock(trigger_session):
            assert trigger_session.admin.health() == {"status": "ok"}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_unknown_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """An unknown target stops pytest with a usage error naming the option and known targets."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--trigger-target", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--trigger-target: unknown target 'nope'; known targets: mock" in result.stderr.str()


def test_unknown_target_from_the_environment_names_the_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message names where the bad name came from: here $TRIGGER_HARNESS_TARGET."""
    monkeypatch.setenv("TRIGGER_HARNESS_TARGET", "nope")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "$TRIGGER_HARNESS_TARGET: unknown target 'nope'" in result.stderr.str()


def test_missing_key_variable_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A target whose key variable is unset stops pytest naming the variable, not a key."""
    pytester.makefile(".toml", harness=_REAL_TARGETS.format(production="false"))
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--trigger-target", "dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "PLUGIN_TEST_KEY is not set" in result.stderr.str()


def test_mock_api_is_a_fresh_mock_per_test(pytester: pytest.Pytester) -> None:
    """Each test's `mock_api` starts empty, whatever the previous test did."""
    pytester.makepyfile(
        """
        def test_first(mock_api):
            mock_api.client().start()
            assert len(mock_api.admin.runs()) == 1

        def test_second(mock_api):
            assert mock_api.admin.runs() == []
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_suite_context_runs_a_case_on_the_mock(pytester: pytest.Pytester) -> None:
    """`suite_context` runs a contract case through `execute_case`."""
    pytester.makepyfile(
        """
        from harness.suite import CASES, execute_case

        def test_case(suite_context):
            result = execute_case(suite_context, CASES["auth.wrong_key.E3"])
            assert result.outcome == "passed", result.message
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_plugin_import_is_cheap() -> None:
    """Loading the plugin imports neither the mock nor the suite."""
    code = (
        "import sys, harness.pytest_plugin; "
        "print(sorted(m for m in ('mock_server', 'harness.suite', 'starlette') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
