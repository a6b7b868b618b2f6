"""The dialect as configuration: `[mock.dialect]` validation (errors name the key, exit 2 from
`trigger-mock serve --config`) and the admin API (`/__admin/dialect`) round trip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from mock_server import ConfigError, Dialect, load_config, parse_config, parse_dialect
from mock_server.cli import main
from tests.fixtures.mock import AUTH

WORKSPACES = [{"id": "a", "api_keys": ["k"]}]


def test_the_defaults_are_todays_answers() -> None:
    """An empty table is `Dialect()`, and `Dialect()` writes the documented defaults."""
    assert parse_dialect({}) == Dialect()
    defaults = Dialect().to_json()
    assert defaults["e2_status"] == defaults["e4_status"] == 200
    assert defaults["lowercase_environments"] == "refuse"
    assert (defaults["extra_fields"], defaults["empty_body"]) == ("ignore", "accept")
    assert defaults["workflow_not_found_detail"] == "Workflow not found"
    assert (defaults["jira_auth_status"], defaults["idempotency"]) == (401, "none")
    assert (defaults["content_type"], defaults["compression"]) == ("application/json", "never")
    assert (defaults["workflow_id_format"], defaults["latency"]) == ("uuid4", {})


def test_a_full_table_loads_from_toml(tmp_path: Path) -> None:
    """Every key of `[mock.dialect]` in a TOML file, read back through `to_json`."""
    path = tmp_path / "mock.toml"
    path.write_text(
        """
[mock.dialect]
e2_status = 202
e4_status = 202
lowercase_environments = "accept"
extra_fields = "refuse"
missing_message = "refuse"
missing_user_variables = "refuse"
empty_body = "refuse"
workflow_not_found_detail = "Not Found"
trigger_not_found_detail = "Not Found"
paused_status = 423
no_build_status = 404
jira_auth_status = 403
idempotency = "key"
content_type = "application/json; charset=utf-8"
compression = "gzip"
compression_min_bytes = 500
workflow_id_format = "prefixed"
workflow_id_prefix = "run-"
extra_envelope_fields = { trace = "x", when = 2026-06-10T00:00:00Z }

[mock.dialect.latency]
e1 = { dist = "uniform", min_s = 0.01, max_s = 0.1 }
e3 = { dist = "lognormal", median_s = 0.05, sigma = 0.4, max_s = 2.0 }

[[workspaces]]
id = "a"
api_keys = ["k"]
"""
    )
    written = load_config(path).mock.dialect.to_json()
    assert written["e2_status"] == 202
    assert written["extra_envelope_fields"] == {"trace": "x", "when": "2026-06-10T00:00:00+00:00"}
    assert written["latency"] == {
        "e1": {"dist": "uniform", "min_s": 0.01, "max_s": 0.1},
        "e3": {"dist": "lognormal", "median_s": 0.05, "sigma": 0.4, "max_s": 2.0},
    }
    assert parse_dialect(written).to_json() == written  # what it writes, it reads


@pytest.mark.parametrize(
    ("dialect", "named"),
    [
        ({"e2_status": 201}, "mock.dialect.e2_status: must be one of 200, 202, got 201"),
        ({"e4_status": "202"}, "mock.dialect.e4_status: must be one of 200, 202"),
        ({"jira_auth_status": True}, "mock.dialect.jira_auth_status"),
        ({"lowercase_environments": "yes"}, "mock.dialect.lowercase_environments"),
        ({"extra_fields": "strict"}, "mock.dialect.extra_fields"),
        ({"paused_status": 500}, "mock.dialect.paused_status"),
        ({"content_type": "text/json"}, "mock.dialect.content_type"),
        ({"compression": "br"}, "mock.dialect.compression"),
        ({"compression_min_bytes": -1}, "mock.dialect.compression_min_bytes: must be >= 0"),
        ({"workflow_id_format": "ulid"}, "mock.dialect.workflow_id_format"),
        ({"workflow_id_prefix": "a/b"}, "mock.dialect.workflow_id_prefix"),
        ({"workflow_id_prefix": "x" * 33}, "mock.dialect.workflow_id_prefix"),
        ({"workflow_not_found_detail": ""}, "mock.dialect.workflow_not_found_detail"),
        ({"trigger_not_found_detail": "a\nb"}, "mock.dialect.trigger_not_found_detail"),
        ({"extra_envelope_fields": {"status": 1}}, "mock.dialect.extra_envelope_fields.status"),
        ({"extra_envelope_fields": {"x": float("nan")}}, "mock.dialect.extra_envelope_fields"),
        ({"extra_envelope_fields": {"x": "y" * 5000}}, "at most 4096 bytes"),
        ({"latency": {"e5": {"dist": "fixed", "s": 1}}}, "mock.dialect.latency.e5: unknown"),
        ({"latency": {"e3": {"dist": "fixed", "s": 4000}}}, "mock.dialect.latency.e3.s"),
        ({"latency": {"e3": {"dist": "pareto"}}}, "mock.dialect.latency.e3.dist"),
        ({"idempotency": "header"}, "mock.dialect.idempotency"),
        ({"colour": "red"}, "mock.dialect.colour: unknown key"),
        ("strict", "mock.dialect: must be a table"),
    ],
)
def test_bad_values_name_the_key(dialect: Any, named: str) -> None:
    with pytest.raises(ConfigError, match=r"^cfg: ") as caught:
        parse_config({"mock": {"dialect": dialect}, "workspaces": WORKSPACES}, source="cfg")
    assert named in str(caught.value)


def test_serve_exits_2_on_a_bad_dialect(tmp_path: Path) -> None:
    """`trigger-mock serve --config` with a bad dialect value: one stderr line, exit 2."""
    config = tmp_path / "mock.toml"
    config.write_text(
        '[mock.dialect]\ne2_status = 201\n[[workspaces]]\nid = "a"\napi_keys = ["k"]\n'
    )
    result = CliRunner().invoke(main, ["serve", "--config", str(config), "--port", "0"])
    assert result.exit_code == 2
    assert "mock.dialect.e2_status" in result.stderr
    assert "Traceback" not in result.stderr


# --- admin API -----------------------------------------------------------------------------


def test_admin_round_trip(mock_client: TestClient) -> None:
    """GET shows the defaults; POST merges, answers the whole dialect and takes effect; DELETE
    and reset go back to the config's."""
    assert mock_client.get("/__admin/dialect").json() == Dialect().to_json()
    changed = mock_client.post("/__admin/dialect", json={"e2_status": 202, "compression": "gzip"})
    assert changed.status_code == 200
    assert changed.json() == {**Dialect().to_json(), "e2_status": 202, "compression": "gzip"}
    assert mock_client.get("/__admin/dialect").json() == changed.json()
    started = mock_client.post("/trigger/start/demo/quick-answer/DEV", headers=AUTH, json={})
    assert started.status_code == 202
    more = mock_client.post(
        "/__admin/dialect", json={"latency": {"e3": {"dist": "fixed", "s": 0.01}}}
    )
    assert (more.json()["e2_status"], more.json()["latency"]) == (
        202,
        {"e3": {"dist": "fixed", "s": 0.01}},
    )
    assert mock_client.delete("/__admin/dialect").json() == Dialect().to_json()
    mock_client.post("/__admin/dialect", json={"e2_status": 202})
    assert mock_client.post("/__admin/reset").status_code == 200
    assert mock_client.get("/__admin/dialect").json()["e2_status"] == 200


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"compression": "gzip", "e2_status": 201}, "e2_status"),
        ({"e2_status": 202, "colour": "red"}, "colour"),
        ({"e2_status": 202, "latency": {"e3": {"dist": "fixed"}}}, "latency.e3.s"),
        ([1, 2], "JSON object"),
    ],
)
def test_a_bad_admin_change_changes_nothing(mock_client: TestClient, body: Any, named: str) -> None:
    answer = mock_client.post("/__admin/dialect", json=body)
    assert answer.status_code == 422
    assert named in answer.json()["detail"]
    assert mock_client.get("/__admin/dialect").json() == Dialect().to_json()


def test_the_config_dialect_is_what_delete_restores(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(dialect=parse_dialect({"e2_status": 202}))
    client.post("/__admin/dialect", json={"e2_status": 200, "e4_status": 202})
    restored = client.delete("/__admin/dialect").json()
    assert (restored["e2_status"], restored["e4_status"]) == (202, 200)


def test_the_admin_dialect_needs_the_admin_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(admin_token="admin-secret-1")
    assert client.get("/__admin/dialect").status_code == 401
    assert client.post("/__admin/dialect", json={"e2_status": 202}).status_code == 401
    auth = {"Authorization": "Bearer admin-secret-1"}
    assert client.get("/__admin/dialect", headers=auth).json()["e2_status"] == 200
