"""Fault rules: validation, matching, seeding and each kind of fault, in process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from mock_server._config import ConfigError, MockConfig, parse_config
from mock_server._fault_rules import FaultRule, parse_fault_rule
from mock_server._faults import FaultSet, RequestInfo
from mock_server._validate import Where
from mock_server.app import MockApp, create_app
from tests.fixtures.mock import AUTH, TestClient

STATUS_PATH = "/trigger/status/demo/{}"
START_PATH = "/trigger/start/demo/quick-answer/DEV"


def add_rule(client: TestClient, rule: dict[str, Any]) -> dict[str, Any]:
    """Post a fault rule and return the stored rule."""
    response = client.post("/__admin/faults", json=rule)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def start_run(client: TestClient) -> str:
    """Start a background run of quick-answer and return its id."""
    response = client.post(START_PATH, headers=AUTH, json={})
    assert response.status_code == 200
    workflow_id: str = response.json()["workflow_id"]
    return workflow_id


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "boom"}, "rule: kind: must be one of latency"),
        ({"kind": "error", "params": {"status": 418}}, "rule: params.status: must be one of 500"),
        ({"kind": "error"}, "rule: params.status: is required"),
        ({"kind": "reset", "match": {"endpoint": "E9"}}, "rule: match.endpoint: must be one of"),
        ({"kind": "reset", "probability": 1.5}, "rule: probability: must be a probability"),
        ({"kind": "reset", "first_n": 0}, "rule: first_n: must be >= 1"),
        ({"kind": "latency", "params": {"dist": "lognormal", "median_s": 1}}, "params.sigma"),
        ({"kind": "reset", "window": {"from": "yesterday"}}, "rule: window.from: must be"),
        ({"kind": "reset", "window": {"from": 10, "to": 5}}, "rule: window.to: must be after"),
        ({"kind": "reset", "params": {"status": 500}}, "rule: params.status: unknown key"),
        ({"kind": "reset", "color": "red"}, "rule: color: unknown key"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    mock_client: TestClient, rule: dict[str, Any], message: str
) -> None:
    """An invalid rule gets 422 whose detail names the bad field."""
    response = mock_client.post("/__admin/faults", json=rule)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_rules_are_listed_with_ids_and_cleared(mock_client: TestClient) -> None:
    """Posted rules get ids, are listed in order with their params, and DELETE removes them."""
    first = add_rule(mock_client, {"kind": "error", "params": {"status": 503}})
    second = add_rule(mock_client, {"id": "mine", "kind": "hang", "match": {"endpoint": "E1"}})
    assert first["id"] == "rule-1"
    assert first["params"] == {"status": 503, "stage": "before"}
    listed = mock_client.get("/__admin/faults").json()["faults"]
    assert [rule["id"] for rule in listed] == ["rule-1", "mine"]
    assert second["match"] == {"endpoint": "E1"}
    duplicate = mock_client.post("/__admin/faults", json={"id": "mine", "kind": "reset"})
    assert duplicate.status_code == 422
    assert mock_client.delete("/__admin/faults").json() == {"removed": 2}
    assert mock_client.get("/__admin/faults").json() == {"faults": []}


def test_error_rule_answers_the_vendor_500_body(mock_client: TestClient) -> None:
    """A 500 rule answers `Process query failed: ...` and the journal marks the fault."""
    workflow_id = start_run(mock_client)
    add_rule(mock_client, {"id": "e3", "kind": "error", "params": {"status": 500}})
    response = mock_client.get(STATUS_PATH.format(workflow_id), headers=AUTH)
    assert response.status_code == 500
    assert response.json()["detail"].startswith("Process query failed: ")
    rows = mock_client.get("/__admin/requests", params={"faulted": "true"}).json()["requests"]
    assert [(row["endpoint"], row["fault"], row["status_code"]) for row in rows] == [
        ("E3", "e3:error", 500)
    ]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors(mock_client: TestClient, status: int) -> None:
    """502/503/504 rules answer that code with a JSON detail."""
    add_rule(mock_client, {"kind": "error", "params": {"status": status}})
    response = mock_client.post(START_PATH, headers=AUTH, json={})
    assert response.status_code == status
    assert response.json()["detail"]


def test_error_before_starts_no_run_but_after_does(mock_client: TestClient) -> None:
    """An error before the handler starts no run; with stage `after` the run does start."""
    add_rule(mock_client, {"kind": "error", "first_n": 1, "params": {"status": 502}})
    assert mock_client.post(START_PATH, headers=AUTH, json={}).status_code == 502
    assert mock_client.get("/__admin/runs").json()["runs"] == []
    mock_client.delete("/__admin/faults")
    rule = {"kind": "error", "first_n": 1, "params": {"status": 504, "stage": "after"}}
    add_rule(mock_client, rule)
    assert mock_client.post(START_PATH, headers=AUTH, json={}).status_code == 504
    assert len(mock_client.get("/__admin/runs").json()["runs"]) == 1


def test_reset_and_empty_reply_raise_transport_errors_in_process(mock_client: TestClient) -> None:
    """In process, a reset raises httpx.ReadError and an empty reply RemoteProtocolError."""
    workflow_id = start_run(mock_client)
    add_rule(mock_client, {"kind": "reset", "first_n": 1})
    with pytest.raises(httpx.ReadError):
        mock_client.get(STATUS_PATH.format(workflow_id), headers=AUTH)
    add_rule(mock_client, {"kind": "empty_reply", "first_n": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        mock_client.get(STATUS_PATH.format(workflow_id), headers=AUTH)
    assert mock_client.get(STATUS_PATH.format(workflow_id), headers=AUTH).status_code == 200
    rows = mock_client.get("/__admin/runs/" + workflow_id + "/timeline").json()["requests"]
    assert [row["status_code"] for row in rows] == [200, None, None, 200]


def test_hang_times_out_in_process(mock_client: TestClient) -> None:
    """A hang answers nothing; in process it ends as httpx.ReadTimeout after `max_s`."""
    add_rule(mock_client, {"kind": "hang", "params": {"max_s": 0.01}})
    with pytest.raises(httpx.ReadTimeout):
        mock_client.post(START_PATH, headers=AUTH, json={})


def test_dribble_delivers_the_whole_body_and_is_journalled(mock_client: TestClient) -> None:
    """A dribbled answer arrives complete as the normal envelope; its journal row names the rule."""
    rule = add_rule(mock_client, {"kind": "dribble", "params": {"chunk_bytes": 7, "interval_s": 0}})
    response = mock_client.post(START_PATH, headers=AUTH, json={})
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    workflow_id = response.json()["workflow_id"]
    rows = mock_client.get("/__admin/requests", params={"workflow_id": workflow_id}).json()
    assert [(row["endpoint"], row["status_code"], row["fault"]) for row in rows["requests"]] == [
        ("E2", 200, f"{rule['id']}:dribble")
    ]


def test_dribble_sends_the_body_in_chunks_of_the_rule_size(mock_app: MockApp) -> None:
    """Behind any client, a dribbled answer leaves the app as `chunk_bytes`-sized body parts."""
    rule = {"kind": "dribble", "params": {"chunk_bytes": 7, "interval_s": 0}}
    mock_app.state.faults.add(parse_fault_rule(rule, Where("rule")))
    sent: list[Message] = []
    asyncio.run(mock_app(_post_scope(START_PATH), _json_body(b"{}"), _collect(sent)))
    assert [message["type"] for message in sent[:1]] == ["http.response.start"]
    parts = [message for message in sent if message["type"] == "http.response.body"]
    assert len(parts) > 2
    assert {len(part["body"]) for part in parts[:-1]} == {7}
    assert 0 < len(parts[-1]["body"]) <= 7
    assert [part["more_body"] for part in parts] == [True] * (len(parts) - 1) + [False]
    assert json.loads(b"".join(part["body"] for part in parts))["status"] == "pending"


def _post_scope(path: str) -> Scope:
    """An HTTP scope for a JSON POST with the demo key, as a server would build it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer demo-key"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def _json_body(body: bytes) -> Receive:
    """An ASGI receive handing over `body` once."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _collect(sent: list[Message]) -> Send:
    """An ASGI send appending every message to `sent`."""

    async def send(message: Message) -> None:
        sent.append(message)

    return send


def test_latency_delays_the_answer_in_real_seconds(mock_config: MockConfig) -> None:
    """A fixed latency rule delays the answer by at least its seconds (journal latency)."""
    with TestClient(create_app(mock_config)) as client:
        add_rule(client, {"kind": "latency", "params": {"dist": "fixed", "s": 0.05}})
        assert client.post(START_PATH, headers=AUTH, json={}).status_code == 200
        (row,) = client.get("/__admin/requests").json()["requests"]
    assert row["latency_s"] >= 0.05
    assert row["fault"] is None


def test_match_scopes_by_method_endpoint_workspace_and_trigger(mock_client: TestClient) -> None:
    """A rule scoped to one trigger's E3 leaves other runs and endpoints alone."""
    quick = start_run(mock_client)
    other = mock_client.post("/trigger/start/demo/nightly-report/DEV", headers=AUTH, json={})
    nightly = other.json()["workflow_id"]
    match = {
        "method": "GET",
        "endpoint": "E3",
        "workspace_id": "demo",
        "trigger_id": "nightly-report",
    }
    add_rule(mock_client, {"kind": "error", "match": match, "params": {"status": 503}})
    assert mock_client.get(STATUS_PATH.format(quick), headers=AUTH).status_code == 200
    assert mock_client.get(STATUS_PATH.format(nightly), headers=AUTH).status_code == 503
    assert mock_client.post(START_PATH, headers=AUTH, json={}).status_code == 200


def test_window_uses_virtual_time_offsets(mock_client: TestClient) -> None:
    """A window of offsets applies only while the virtual clock is inside it."""
    workflow_id = start_run(mock_client)
    window = {"from": 60, "to": 120}
    add_rule(mock_client, {"kind": "error", "window": window, "params": {"status": 500}})
    path = STATUS_PATH.format(workflow_id)
    assert mock_client.get(path, headers=AUTH).status_code == 200
    mock_client.post("/__admin/clock", json={"advance_s": 60})
    assert mock_client.get(path, headers=AUTH).status_code == 500
    mock_client.post("/__admin/clock", json={"advance_s": 60})
    assert mock_client.get(path, headers=AUTH).status_code == 200


def test_first_n_limits_the_faulted_requests(mock_client: TestClient) -> None:
    """`first_n` faults exactly the first N matching requests."""
    workflow_id = start_run(mock_client)
    add_rule(mock_client, {"kind": "error", "first_n": 2, "params": {"status": 500}})
    codes = [
        mock_client.get(STATUS_PATH.format(workflow_id), headers=AUTH).status_code for _ in range(4)
    ]
    assert codes == [500, 500, 200, 200]


def test_same_seed_same_faults() -> None:
    """Two fault sets with one seed fault the same requests; another seed differs."""
    rule = parse_fault_rule(
        {"id": "r", "kind": "error", "probability": 0.3, "params": {"status": 500}}, Where("rule")
    )
    info = RequestInfo("GET", "E3", "demo", workflow_id="w")

    def pattern(seed: int) -> list[bool]:
        faults = FaultSet((rule,), seed=seed, clock_start=0.0, trigger_of=lambda _: None)
        return [faults.decide(info, 0.0)[1] is not None for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 30 < sum(pattern(1)) < 90


def test_faults_from_the_config_file_and_reset(mock_config: MockConfig) -> None:
    """`[[faults]]` rules are in force at start and come back on reset after a DELETE."""
    document = {
        "mock": {"start": "2026-06-10T00:10:00Z"},
        "workspaces": [
            {"id": "demo", "api_keys": ["demo-key"], "triggers": [{"id": "quick-answer"}]}
        ],
        "faults": [
            {"id": "cfg", "kind": "error", "match": {"endpoint": "E2"}, "params": {"status": 502}}
        ],
    }
    config = parse_config(document)
    assert config.faults == (
        FaultRule(id="cfg", kind="error", match=config.faults[0].match, status=502),
    )
    with TestClient(create_app(config)) as client:
        assert client.post(START_PATH, headers=AUTH, json={}).status_code == 502
        client.delete("/__admin/faults")
        assert client.post(START_PATH, headers=AUTH, json={}).status_code == 200
        client.post("/__admin/reset")
        assert client.post(START_PATH, headers=AUTH, json={}).status_code == 502


def test_config_fault_errors_name_the_key() -> None:
    """A bad `[[faults]]` entry is a ConfigError naming `faults[i].<key>`."""
    document = {
        "workspaces": [{"id": "demo", "api_keys": ["k"]}],
        "faults": [{"kind": "error", "params": {"status": 404}}],
    }
    with pytest.raises(ConfigError, match=r"faults\[0\]\.params\.status"):
        parse_config(document, source="mock.toml")


def test_metrics_count_faults_by_rule_and_kind(mock_client: TestClient) -> None:
    """The metrics page counts injected faults by rule id and kind."""
    add_rule(mock_client, {"id": "boom", "kind": "error", "first_n": 2, "params": {"status": 500}})
    for _ in range(3):
        mock_client.post(START_PATH, headers=AUTH, json={})
    text = mock_client.get("/__admin/metrics").text
    assert 'mock_faults_injected_total{rule="boom",kind="error"} 2' in text
