"""`trigger-mock serve`: config errors, flag overrides, and the first line of a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mock_server import create_app
from mock_server.cli import ADMIN_TOKEN_ENV, admin_token_from, build_config, main


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in process; returns exit code, stdout and stderr."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_bad_config_value_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A bad value in the config file gives one stderr line naming key and value, exit 2."""
    config = tmp_path / "mock.toml"
    config.write_text('[mock]\ntime_scale = -3\n[[workspaces]]\nid = "a"\napi_keys = ["k"]\n')
    code, out, err = invoke("serve", "--config", str(config), "--port", "0")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "time_scale" in err
    assert "-3" in err
    assert "Traceback" not in err


def test_unparsable_config_is_exit_2(tmp_path: Path) -> None:
    """A config file that is not TOML is a one-line error with exit 2."""
    config = tmp_path / "mock.toml"
    config.write_text("[mock\n")
    code, _, err = invoke("serve", "--config", str(config))
    assert code == 2
    assert len(err.strip().splitlines()) == 1


def test_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    """A config path that does not exist is a one-line error naming it, exit 2."""
    code, _, err = invoke("serve", "--config", str(tmp_path / "absent.toml"))
    assert code == 2
    assert "absent.toml" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [["--time-scale", "0"], ["--port", "70000"], ["--scenario", "chaotic"], ["--seed", "x"]],
)
def test_bad_flags_are_exit_2(args: list[str]) -> None:
    """Invalid flag values are usage errors (exit 2) naming the flag."""
    code, _, err = invoke("serve", *args)
    assert code == 2
    assert args[0] in err


def test_flags_override_the_config() -> None:
    """--time-scale, --seed, --admin-token and --scenario replace the `[mock]` values."""
    config = build_config(None, time_scale=60.0, seed=3, admin_token="tok", scenario="flaky")
    assert (config.mock.time_scale, config.mock.seed) == (60.0, 3)
    assert (config.mock.admin_token, config.mock.scenario) == ("tok", "flaky")
    assert build_config(None).mock.time_scale == 1.0


def test_config_file_is_loaded(tmp_path: Path) -> None:
    """A valid config file is the world served, and flags still override it."""
    config = tmp_path / "mock.toml"
    config.write_text(
        '[mock]\nseed = 9\n[[workspaces]]\nid = "acme"\napi_keys = ["acme-key-1"]\n'
        '[[workspaces.triggers]]\nid = "summarise"\n'
    )
    loaded = build_config(config, time_scale=2.0)
    assert [workspace.id for workspace in loaded.workspaces] == ["acme"]
    assert (loaded.mock.seed, loaded.mock.time_scale) == (9, 2.0)


@pytest.mark.socket
def test_serve_port_0_prints_the_url_first_and_serves() -> None:
    """`python -m mock_server serve --port 0` prints `serving <url>` first, then answers there."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--admin-token", "adm1n"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("serving http://127.0.0.1:")
        url = first.removeprefix("serving ")
        assert not url.endswith(":0")
        response = httpx.post(
            f"{url}/trigger/start/demo/quick-answer/DEV",
            headers={"Authorization": "Bearer demo-key"},
            timeout=10,
        )
        assert response.status_code == 200
        admin = httpx.get(f"{url}/__admin/health", timeout=10)
        assert admin.status_code == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "adm1n" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "environ", "named"),
    [
        (["--admin-token", ""], {}, "--admin-token: must not be empty"),
        (["--admin-token", "two words"], {}, "--admin-token: must be visible ASCII"),
        ([], {"TRIGGER_MOCK_ADMIN_TOKEN": ""}, "$TRIGGER_MOCK_ADMIN_TOKEN: must not be empty"),
        ([], {"TRIGGER_MOCK_ADMIN_TOKEN": "jeton\u00e9"}, "$TRIGGER_MOCK_ADMIN_TOKEN: must be"),
    ],
)
def test_an_empty_or_malformed_admin_token_is_refused(
    args: list[str], environ: dict[str, str], named: str
) -> None:
    """An empty or non-ASCII admin token, by flag or variable, is exit 2 naming the source only."""
    result = CliRunner().invoke(main, ["serve", "--port", "0", *args], env=environ)
    assert result.exit_code == 2
    assert named in result.stderr
    assert "jeton" not in result.stderr
    assert "two words" not in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_admin_token_in_a_config_is_refused(tmp_path: Path) -> None:
    """The config file refuses an empty admin_token the same way (exit 2, key named)."""
    config = tmp_path / "mock.toml"
    config.write_text('[mock]\nadmin_token = ""\n[[workspaces]]\nid = "a"\napi_keys = ["k"]\n')
    code, _, err = invoke("serve", "--config", str(config), "--port", "0")
    assert code == 2
    assert "mock.admin_token: must not be empty" in err


def test_admin_token_comes_from_the_flag_then_the_environment() -> None:
    """--admin-token wins over $TRIGGER_MOCK_ADMIN_TOKEN; without either, None (the config's)."""
    environ = {ADMIN_TOKEN_ENV: "from-env"}
    assert admin_token_from("from-flag", environ) == "from-flag"
    assert admin_token_from(None, environ) == "from-env"
    assert admin_token_from(None, {}) is None


def test_create_app_refuses_an_empty_admin_token() -> None:
    """A library caller cannot open the admin API by passing an empty token."""
    with pytest.raises(ValueError, match="must not be empty"):
        create_app(admin_token="")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--time-scale", "nan"], "--time-scale"),
        (["--time-scale", "1e9"], "--time-scale"),
        (["--time-scale", "inf"], "--time-scale"),
        (["--seed", "1" + "0" * 30], "--seed"),
    ],
)
def test_out_of_range_flag_values_are_exit_2_without_a_traceback(
    args: list[str], named: str
) -> None:
    """NaN, a scale past 1e6 and a seed past 64 bits are usage errors naming the flag."""
    result = CliRunner().invoke(main, ["serve", "--port", "0", *args])
    assert result.exit_code == 2
    assert named in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("journal_limit = 10000000000000000000", "mock.journal_limit: must be <= 10000000"),
        ("time_scale = 1e308", "mock.time_scale: must be <= 1e+06"),
        ("retention_s = 1e300", "mock.retention_s: must be <= 1e+09"),
        ("seed = 100000000000000000000000", "mock.seed: must be <="),
        ('start = "9999-12-31T00:00:00Z"', "mock.start: must be between"),
    ],
)
def test_out_of_range_config_values_are_exit_2(tmp_path: Path, line: str, named: str) -> None:
    """Config values past their documented maxima are one line naming key and bound, exit 2."""
    config = tmp_path / "mock.toml"
    config.write_text(f'[mock]\n{line}\n[[workspaces]]\nid = "a"\napi_keys = ["k"]\n')
    code, _, err = invoke("serve", "--config", str(config), "--port", "0")
    assert code == 2
    assert named in err
    assert len(err.strip().splitlines()) == 1
