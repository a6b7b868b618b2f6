"""Keys and Jira secrets a client cannot send are refused by the mock's config (issue 14).

A key with a non-ASCII character served but could never authenticate (curl got 401), while the
same admin token was refused: now every secret is checked at load, exit 2, position named,
value never shown. The mock's rule mirrors the harness's (`mock_server/_validate.py`
`HEADER_SAFE`, `harness/_targets.py` `_HEADER_SAFE`): a test checks that the two agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness import ConfigError as HarnessConfigError
from harness import Target
from harness._targets import resolve_secrets
from mock_server._config import ConfigError, parse_config
from mock_server.cli import main

_CHARACTERS = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
)
"""ASCII (controls, space, DEL too) as often as the rest of Unicode."""
BAD_KEYS = ["\u00c4PIKEY-0123456789", "caf\u00e9-key", "tab\tkey", " padded", "two words", ""]


def _config(keys: list[Any], jira_secret: str = "jira-secret") -> dict[str, Any]:
    trigger = {"id": "jira", "jira_secret": jira_secret}
    return {"workspaces": [{"id": "w", "api_keys": keys, "triggers": [trigger]}]}


@pytest.mark.parametrize("bad", BAD_KEYS)
@pytest.mark.parametrize("shape", ["plain", "table"])
def test_a_key_no_client_can_send_is_refused_by_position(bad: str, shape: str) -> None:
    key = bad if shape == "plain" else {"key": bad}
    with pytest.raises(ConfigError) as info:
        parse_config(_config(["good-key", key]), source="mock.toml")
    where = "workspaces[0].api_keys[1]" + ("" if shape == "plain" else ".key")
    assert str(info.value).startswith(f"mock.toml: {where}: must ")
    assert not bad or bad.strip() not in str(info.value)


@pytest.mark.parametrize("bad", [key for key in BAD_KEYS if key != "two words"])
def test_a_jira_secret_no_client_can_hold_is_refused_by_position(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(["k"], jira_secret=bad), source="mock.toml")
    assert str(info.value).startswith("mock.toml: workspaces[0].triggers[0].jira_secret: must ")
    assert not bad or bad.strip() not in str(info.value)


def test_a_jira_secret_with_inner_spaces_is_kept() -> None:
    """A Jira secret is never a bearer token: single inner spaces are fine (harness too)."""
    config = parse_config(_config(["k"], jira_secret="two words"))
    assert config.workspaces[0].triggers[0].jira_secret == "two words"


def test_serve_refuses_a_non_ascii_key_with_exit_2(tmp_path: Path) -> None:
    """The reported case: `api_keys = ["ÄPIKEY…"]` was served; now exit 2, one line."""
    path = tmp_path / "mock.toml"
    path.write_text('[[workspaces]]\nid = "a"\napi_keys = ["\u00c4PIKEY-0123"]\n', "utf-8")
    result = CliRunner().invoke(main, ["serve", "--config", str(path), "--port", "0"])
    assert result.exit_code == 2
    assert "workspaces[0].api_keys[0]" in result.stderr
    assert "PIKEY-0123" not in result.stderr
    assert "Traceback" not in result.stderr


def _harness_accepts(secret: str) -> bool:
    target = Target(
        name="t",
        base_url="http://127.0.0.1:9",
        workspace_id="w",
        environment="DEV",
        api_key_env="KEY",
        jira_trigger="jira",
        jira_secret_env="JIRA",
    )
    try:
        resolved = resolve_secrets(target, environ={"KEY": "k", "JIRA": secret})
    except HarnessConfigError:
        return False
    return resolved.jira_secret is not None


def _mock_accepts(secret: str) -> bool:
    try:
        parse_config(_config(["k"], jira_secret=secret))
    except ConfigError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(_CHARACTERS, max_size=12))
@example("two words")
@example("two  spaces")
@example(" lead")
@example("trail ")
@example("\u00e9")
@example("\x7f")
@example("~!")
def test_the_mock_and_the_harness_accept_the_same_secrets(secret: str) -> None:
    """The two copies of the header-safe rule agree (the mock cannot import the harness)."""
    assert _mock_accepts(secret) is _harness_accepts(secret)


@settings(max_examples=300, deadline=None)
@given(st.text(_CHARACTERS, max_size=12))
def test_every_mock_key_is_one_the_harness_can_send(key: str) -> None:
    """An API key the mock accepts is one the harness accepts too (the mock's rule is the
    harness's without spaces, since a space ends a bearer token)."""
    try:
        parse_config(_config([key]))
    except ConfigError:
        return
    assert _harness_accepts(key)
    assert " " not in key
