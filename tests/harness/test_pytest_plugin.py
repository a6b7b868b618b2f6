"""The pytest11 plugin, exercised with pytester: options, markers and fixtures."""

from __future__ import annotations

import subprocess
import sys

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


@pytest.fixture
def real_target(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester dir whose harness.toml names an unreachable non-production target `dev`."""
    monkeypatch.setenv("PLUGIN_TEST_KEY", "plugin-secret-key")
    pytester.makefile(".toml", harness=_REAL_TARGETS.format(production="false"))
    return pytester


def test_options_and_markers_are_registered(pytester: pytest.Pytester) -> None:
    """`--target`, `--targets` and the two markers are listed by pytest."""
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--target=NAME" in help_text
    assert "--targets=FILE" in help_text
    markers = pytester.runpytest("--markers").stdout.str()
    assert "@pytest.mark.mock_only" in markers
    assert "@pytest.mark.starts_runs" in markers


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
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_mock_only_tests_are_skipped_on_a_real_target(real_target: pytest.Pytester) -> None:
    """`mock_only` skips with the stated reason when --target names a real endpoint."""
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
    result = real_target.runpytest("--target", "dev", "-rs")
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


def test_starts_runs_tests_are_skipped_on_a_production_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`starts_runs` skips on a target marked production = true."""
    monkeypatch.setenv("PLUGIN_TEST_KEY", "plugin-secret-key")
    targets = pytester.makefile(".toml", prod=_REAL_TARGETS.format(production="true"))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.starts_runs
        def test_starts():
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest("--target", "dev", "--targets", str(targets), "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*production target*"])


def test_unknown_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """An unknown --target stops pytest with a usage error naming the known targets."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--target", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown target 'nope'; known targets: mock" in result.stderr.str()


def test_missing_key_variable_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A target whose key variable is unset stops pytest naming the variable, not a key."""
    pytester.makefile(".toml", harness=_REAL_TARGETS.format(production="false"))
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--target", "dev")
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


def test_async_client_and_suite_context_work_on_the_mock(pytester: pytest.Pytester) -> None:
    """`async_trigger_client` runs flows under asyncio.run; `suite_context` runs a case."""
    pytester.makepyfile(
        """
        import asyncio

        from harness.suite import CASES, execute_case

        def test_async(async_trigger_client):
            observation = asyncio.run(async_trigger_client.run_sync())
            assert observation.envelope.status == "completed"

        def test_case(suite_context):
            result = execute_case(suite_context, CASES["auth.wrong_key.E3"])
            assert result.outcome == "passed", result.message
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


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
