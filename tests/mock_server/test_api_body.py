"""E1/E2 request bodies (A7): optional fields, extra fields, size, content type and validation."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.fixtures.mock import AUTH

E2 = "/trigger/start/demo/quick-answer/DEV"
JSON = {**AUTH, "Content-Type": "application/json"}


def post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST raw bytes to E2."""
    return client.post(E2, content=body, headers=headers or JSON)


def test_empty_body_uses_defaults(mock_client: TestClient) -> None:
    """A7: no body at all starts a run with message "" and no user variables."""
    response = mock_client.post(E2, headers=AUTH)
    assert response.status_code == 200
    (run,) = mock_client.get("/__admin/runs").json()["runs"]
    assert (run["message"], run["user_variables"]) == ("", {})


def test_missing_fields_and_extra_fields(mock_client: TestClient) -> None:
    """A7: both fields are optional and unknown fields are ignored."""
    response = mock_client.post(E2, headers=AUTH, json={"unexpected": [1, 2], "message": "m"})
    assert response.status_code == 200
    (run,) = mock_client.get("/__admin/runs").json()["runs"]
    assert (run["message"], run["user_variables"]) == ("m", {})


def test_user_variables_not_an_object_is_the_documented_422(mock_client: TestClient) -> None:
    """The documented 422: dict_type on ["body", "user_variables"] echoing the input."""
    response = mock_client.post(E2, headers=AUTH, json={"user_variables": "..."})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "dict_type",
                "loc": ["body", "user_variables"],
                "msg": "Input should be a valid dictionary",
                "input": "...",
            }
        ]
    }


def test_every_field_error_is_listed(mock_client: TestClient) -> None:
    """Like pydantic, a wrong message and wrong user_variables give two issues in one 422."""
    response = mock_client.post(E2, headers=AUTH, json={"message": 5, "user_variables": [1]})
    assert response.status_code == 422
    issues = response.json()["detail"]
    assert [(i["type"], i["loc"], i["input"]) for i in issues] == [
        ("string_type", ["body", "message"], 5),
        ("dict_type", ["body", "user_variables"], [1]),
    ]


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_body_that_is_not_an_object_is_422(mock_client: TestClient, body: bytes) -> None:
    """A7: valid JSON that is not an object is model_attributes_type on ["body"]."""
    response = post(mock_client, body)
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert (issue["type"], issue["loc"]) == ("model_attributes_type", ["body"])


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"\xff\xfe{}", b'{"message": "\\ud800"}', b"NaN", b'{"a": 1e999}'],
)
def test_invalid_json_is_json_invalid(mock_client: TestClient, body: bytes) -> None:
    """A7: broken JSON, invalid UTF-8, lone surrogates, NaN and infinities are json_invalid."""
    response = post(mock_client, body)
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["type"] == "json_invalid"
    assert issue["loc"][0] == "body"


def test_non_json_content_type_is_422(mock_client: TestClient) -> None:
    """A7: a body sent as text/plain is refused like FastAPI does (model_attributes_type)."""
    response = post(mock_client, b'{"message": "x"}', {**AUTH, "Content-Type": "text/plain"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"],
)
def test_json_content_types_are_accepted(mock_client: TestClient, content_type: str) -> None:
    """A7: application/json (with parameters) and */*+json types are JSON."""
    response = post(mock_client, b'{"message": "x"}', {**AUTH, "Content-Type": content_type})
    assert response.status_code == 200


def test_body_over_one_mib_is_413(mock_client: TestClient) -> None:
    """A7: a body over 1 MiB answers 413 with the limit in the detail."""
    body = b'{"message": "' + b"a" * 1_048_576 + b'"}'
    response = post(mock_client, body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds 1048576 bytes"}


def test_streamed_body_over_the_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    """A7: a chunked body without Content-Length is cut off at the configured limit."""
    client = make_client(max_body_bytes=100)

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(20):
            yield b"a" * 10
        yield b'"}'

    response = client.post(E2, content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body exceeds 100 bytes"}


def test_body_at_the_limit_is_accepted(make_client: Callable[..., TestClient]) -> None:
    """A7: a body of exactly max_body_bytes is not refused."""
    body = b'{"message": "' + b"a" * 85 + b'"}'
    assert len(body) == 100
    response = make_client(max_body_bytes=100).post(E2, content=body, headers=JSON)
    assert response.status_code == 200


def test_huge_offending_value_is_echoed_short(mock_client: TestClient) -> None:
    """A 422 for a huge wrong value keeps its body small (the input is truncated)."""
    response = mock_client.post(E2, headers=AUTH, json={"user_variables": "x" * 500_000})
    assert response.status_code == 422
    assert len(response.content) < 2_000


def test_odd_but_valid_values_start_runs(mock_client: TestClient) -> None:
    """Huge numbers, deep nesting and odd unicode in user_variables are accepted."""
    body = {
        "message": "\u0000\u202e\U0001f600",
        "user_variables": {"big": 10**30, "deep": [[[[{"a": None}]]]], "e": "\ufeff"},
    }
    response = mock_client.post(E2, headers=AUTH, json=body)
    assert response.status_code == 200


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=64)
    | st.dictionaries(st.sampled_from(["message", "user_variables", "x"]), JSON_VALUES).map(
        lambda value: repr(value).encode()
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/x+json"]),
)
def test_no_client_body_gets_a_5xx(
    make_client: Callable[..., TestClient], body: bytes, content_type: str
) -> None:
    """Invariant 7: whatever bytes and content type are sent, E1/E2 answer below 500."""
    client = make_client(time_scale=1e6)
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    for path in (E2, "/trigger/demo/approval-flow/DEV"):
        response = client.post(path, content=body, headers=headers)
        assert response.status_code < 500
        assert "detail" in response.json() or response.json()["status"] != "pending"


def test_a_body_of_small_objects_is_kept_as_compact_json(mock_client: TestClient) -> None:
    """A 256 KiB body of `{}`s keeps about its own size (not one Python object per `{}`), and
    the completed run still answers every variable."""
    count = (256 * 1024 - 40) // 3
    body = ('{"user_variables": {"a": [' + ",".join(["{}"] * count) + "]}}").encode()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        started = mock_client.post(
            "/trigger/start/demo/quick-answer/DEV",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        workflow_id = started.json()["workflow_id"]
        del started
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2 * len(body)  # the objects alone would take about 24 times the body
    mock_client.post("/__admin/clock", json={"advance_s": 10})
    final = mock_client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).json()
    assert final["response"]["a"] == [{}] * count
