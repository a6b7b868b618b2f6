"""JSON without loss: request bodies parsed by the stdlib, answers rendered without orjson's limits.

Regression tests for integers beyond 64 bits (orjson read them as floats and could not write
them), nesting deeper than orjson writes, and the strict refusals the stdlib parser keeps.
"""

from __future__ import annotations

import json

import orjson
import pytest
from starlette.testclient import TestClient

from mock_server._errors import render_json
from tests.fixtures.mock import AUTH

E2 = "/trigger/start/demo/quick-answer/DEV"
JSON = {**AUTH, "Content-Type": "application/json"}
BIG = 123456789012345678901234567890


def start_and_finish(client: TestClient, body: bytes) -> dict[str, object]:
    """Start a run on E2 with `body`, move the clock past its end, return E3's answer."""
    started = client.post(E2, content=body, headers=JSON)
    assert started.status_code == 200, started.text
    workflow_id = started.json()["workflow_id"]
    client.post("/__admin/clock", json={"advance_s": 3600})
    answer = client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH)
    assert answer.status_code == 200
    body_json: dict[str, object] = json.loads(answer.content)
    return body_json


def test_big_integers_come_back_exactly(mock_client: TestClient) -> None:
    """User variables beyond 64 bits come back in the completed response as the same integers."""
    variables = {"big": BIG, "neg": -(2**200), "nested": {"list": [2**64, 1]}}
    body = json.dumps({"message": "", "user_variables": variables}).encode()
    answer = start_and_finish(mock_client, body)
    response = answer["response"]
    assert isinstance(response, dict)
    assert answer["status"] == "completed"
    assert {key: response[key] for key in variables} == variables


def test_nesting_deeper_than_orjson_writes_round_trips(mock_client: TestClient) -> None:
    """A user variable nested 300 deep (orjson writes at most 255) is kept and returned."""
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    body = json.dumps({"user_variables": {"deep": deep}}).encode()
    response = start_and_finish(mock_client, body)["response"]
    assert isinstance(response, dict)
    assert response["deep"] == deep


def test_wrong_type_echo_keeps_big_integers(mock_client: TestClient) -> None:
    """A 422 echoes an offending value holding a big integer exactly, not as a float."""
    body = json.dumps({"message": [BIG]}).encode()
    answer = mock_client.post(E2, content=body, headers=JSON)
    assert answer.status_code == 422
    assert json.loads(answer.content)["detail"][0]["input"] == [BIG]


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_variables": {"x": NaN}}',
        b'{"user_variables": {"x": Infinity}}',
        b'{"user_variables": {"x": -Infinity}}',
        b'{"user_variables": {"x": 1e400}}',
        b'{"message": "\\udc00"}',
        b'{"message": "\xff"}',
        b"[" * 600 + b"]" * 600,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"x": ' + b"9" * 5000 + b"}",
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "float-overflow",
        "lone-surrogate",
        "invalid-utf8",
        "nesting-600",
        "nesting-100k",
        "5000-digits",
    ],
)
def test_strict_refusals_are_json_invalid(mock_client: TestClient, body: bytes) -> None:
    """What a strict JSON parser refuses is a 422 json_invalid, never a 5xx, and starts no run."""
    answer = mock_client.post(E2, content=body, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["type"] == "json_invalid"
    assert mock_client.get("/__admin/runs").json()["runs"] == []


def test_render_json_matches_orjson_on_the_hot_path() -> None:
    """Content orjson can write is rendered byte for byte as orjson writes it."""
    content = {"workflow_id": "w", "response": {"é": [1, 2.5, None, True]}, "logs": []}
    assert render_json(content) == orjson.dumps(content)


def test_render_json_falls_back_without_loss() -> None:
    """Big integers and lone surrogates, which orjson refuses, render as JSON that reads back."""
    content = {"big": -(2**100), "text": "\ud800", "name": "é"}
    assert json.loads(render_json(content)) == content
