"""The fault presets `flaky`, `degraded` and `overloaded` (interfaces.md), in process."""

from __future__ import annotations

import statistics
from typing import Any

import httpx
import pytest

from mock_server._config import ConfigError, MockConfig, parse_config
from mock_server._fault_rules import PRESETS, preset
from mock_server._faults import RequestInfo
from mock_server.app import create_app
from mock_server.cli import build_config
from tests.fixtures.mock import AUTH, FakeRealTime, TestClient, with_settings

START_PATH = "/trigger/start/demo/nightly-report/DEV"


def status_codes(client: TestClient, workflow_id: str, count: int) -> list[int | None]:
    """`count` status requests of one run: their codes, None where the connection was reset."""
    codes: list[int | None] = []
    for _ in range(count):
        try:
            codes.append(
                client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).status_code
            )
        except httpx.ReadError:
            codes.append(None)
    return codes


def test_flaky_faults_10_to_15_percent_of_e3_and_resets_about_1_percent(
    mock_config: MockConfig,
) -> None:
    """Under `flaky`, 10-15% of 2,000 status answers are 5xx and about 1% are resets."""
    app = create_app(with_settings(mock_config, scenario="flaky"), real_time=FakeRealTime())
    with TestClient(app) as client:
        start = client.post(START_PATH, headers=AUTH, json={})
        assert start.status_code == 200  # E2 is untouched
        codes = status_codes(client, start.json()["workflow_id"], 2000)
    server_errors = sum(1 for code in codes if code is not None and code >= 500)
    resets = codes.count(None)
    assert 0.10 <= server_errors / len(codes) <= 0.15
    assert 0.003 <= resets / len(codes) <= 0.02


def test_flaky_is_deterministic_for_a_seed(mock_config: MockConfig) -> None:
    """The same seed and request sequence give the same faults."""

    def run() -> list[int | None]:
        app = create_app(with_settings(mock_config, scenario="flaky"), real_time=FakeRealTime())
        with TestClient(app) as client:
            workflow_id = client.post(START_PATH, headers=AUTH, json={}).json()["workflow_id"]
            return status_codes(client, workflow_id, 200)

    assert run() == run()


def test_degraded_adds_capped_lognormal_latency_and_2_percent_errors() -> None:
    """`degraded` draws latency with a median near 0.8 s, never above its cap, on every endpoint."""
    chosen = preset("degraded")
    assert chosen is not None
    latency_rule, error_rule = chosen.rules
    assert latency_rule.match.endpoint is None
    assert error_rule.match.endpoint is None
    assert error_rule.probability == pytest.approx(0.02)
    config = parse_config(
        {"mock": {"scenario": "degraded"}, "workspaces": [{"id": "w", "api_keys": ["k"]}]}
    )
    app = create_app(config)
    info = RequestInfo("POST", "E1", "w", trigger_id="t")
    delays = [app.state.faults.decide(info, 0.0)[0] for _ in range(2000)]
    assert 0.7 <= statistics.median(delays) <= 0.9
    assert latency_rule.latency is not None
    assert max(delays) <= latency_rule.latency.max_s == 5.0


def test_overloaded_limits_status_rate_and_concurrent_runs(mock_config: MockConfig) -> None:
    """`overloaded`: the 21st status request within a real second is 429 with whole seconds."""
    real = FakeRealTime()
    app = create_app(with_settings(mock_config, scenario="overloaded"), real_time=real)
    assert app.state.capacity.max_background_runs == 50
    with TestClient(app) as client:
        workflow_id = client.post(START_PATH, headers=AUTH, json={}).json()["workflow_id"]
        responses = [
            client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH) for _ in range(21)
        ]
        assert [r.status_code for r in responses].count(429) == 1
        assert responses[-1].headers["retry-after"].isdigit()
        real.advance(1.0)
        assert client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).status_code == 200


def test_explicit_limits_win_over_the_preset(mock_config: MockConfig) -> None:
    """`[mock] max_background_runs` set by the user overrides the preset's 50."""
    config = with_settings(mock_config, scenario="overloaded", max_background_runs=3)
    assert create_app(config).state.capacity.max_background_runs == 3


def test_scenario_from_config_file_and_cli_flag(tmp_path: Any) -> None:
    """`[mock] scenario` in TOML and `--scenario` both switch the preset's rules on."""
    path = tmp_path / "mock.toml"
    path.write_text('[mock]\nscenario = "flaky"\n[[workspaces]]\nid = "w"\napi_keys = ["k"]\n')
    from_file = create_app(build_config(path))
    assert [rule.id for rule in from_file.state.faults.rules()] == [
        rule.id for rule in PRESETS["flaky"].rules
    ]
    from_flag = create_app(build_config(None, scenario="degraded"))
    assert [rule.kind for rule in from_flag.state.faults.rules()] == ["latency", "error"]


def test_unknown_scenario_is_a_config_error() -> None:
    """An unknown scenario name is refused, naming the key."""
    with pytest.raises(ConfigError, match=r"mock\.scenario"):
        parse_config(
            {"mock": {"scenario": "chaos"}, "workspaces": [{"id": "w", "api_keys": ["k"]}]}
        )
