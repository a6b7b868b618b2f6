"""The mock's dialect over the API: each trait's non-default answer (and today's, for contrast).

Each test builds the demo world with a `[mock.dialect]` (`parse_dialect`) and asks the API the
question the trait answers: E2/E4 codes (A6), environment case (A5), body strictness (A7), 404
texts (A3, A4), A4's refusal codes, the Jira refusal (A12), idempotency keys (A14), charset,
gzip, the workflow id format, extra envelope fields and per-endpoint latency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import parse_dialect
from mock_server._dialect import ActiveDialect, IdCodec
from tests.fixtures.mock import AUTH, jira_signature

MakeClient = Callable[..., TestClient]
START = "/trigger/start/demo/quick-answer/DEV"
BODY = {"message": "hi", "user_variables": {"k": "v"}}


def dialect_client(make_client: MakeClient, **keys: Any) -> TestClient:
    """An in-process client of the demo world under the dialect `keys`, its clock 1000 times
    fast (so E1 answers in milliseconds)."""
    return make_client(dialect=parse_dialect(keys), time_scale=1000.0)


def start(client: TestClient, path: str = START, **options: Any) -> Any:
    options.setdefault("json", BODY)
    return client.post(path, headers={**AUTH, **options.pop("headers", {})}, **options)


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/__admin/clock", json={"advance_s": seconds}).status_code == 200


def post_jira(client: TestClient, body: bytes, signature: str, env: str = "DEV") -> Any:
    headers = {"Content-Type": "application/json", "X-Hub-Signature": signature}
    return client.post(f"/trigger/jira/start/demo/jira-triage/{env}", content=body, headers=headers)


# --- A6: start codes ---------------------------------------------------------------------------


def test_e2_and_e4_answer_202_when_the_dialect_says_so(make_client: MakeClient) -> None:
    client = dialect_client(make_client, e2_status=202, e4_status=202)
    assert start(client).status_code == 202
    body = b'{"issue": {"key": "QA-1"}}'
    assert post_jira(client, body, jira_signature(body)).status_code == 202
    assert start(client, "/trigger/demo/quick-answer/DEV").status_code == 200  # E1 unchanged


def test_e2_answers_200_by_default(make_client: MakeClient) -> None:
    assert start(dialect_client(make_client)).status_code == 200


# --- A5: environment case ----------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "Dev", "dEV"])
def test_any_case_environment_is_accepted_as_upper_case(make_client: MakeClient, env: str) -> None:
    client = dialect_client(make_client, lowercase_environments="accept")
    answer = start(client, f"/trigger/start/demo/quick-answer/{env}")
    assert answer.status_code == 200, answer.text
    runs = client.get("/__admin/runs").json()["runs"]
    assert [run["environment"] for run in runs] == ["DEV"]
    body = b"{}"
    assert post_jira(client, body, jira_signature(body), env=env).status_code == 200


def test_lower_case_is_refused_by_default_and_unknown_environments_always(
    make_client: MakeClient,
) -> None:
    plain = dialect_client(make_client)
    assert start(plain, "/trigger/start/demo/quick-answer/dev").status_code == 422
    lenient = dialect_client(make_client, lowercase_environments="accept")
    answer = start(lenient, "/trigger/start/demo/quick-answer/devx")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "environment"]


def test_a_key_limited_to_dev_is_checked_after_the_case_is_folded(make_client: MakeClient) -> None:
    client = dialect_client(make_client, lowercase_environments="accept")
    dev_key = {"Authorization": "Bearer demo-dev-key"}
    assert start(client, "/trigger/start/demo/quick-answer/dev", headers=dev_key).status_code == 200
    assert start(client, "/trigger/start/demo/quick-answer/uat", headers=dev_key).status_code == 401


# --- A7: body strictness -----------------------------------------------------------------------


def test_extra_fields_are_refused_one_issue_each(make_client: MakeClient) -> None:
    client = dialect_client(make_client, extra_fields="refuse")
    answer = start(client, json={**BODY, "priority": 1, "tag": "x"})
    assert answer.status_code == 422
    issues = answer.json()["detail"]
    assert [(i["type"], i["loc"]) for i in issues] == [
        ("extra_forbidden", ["body", "priority"]),
        ("extra_forbidden", ["body", "tag"]),
    ]
    assert start(client).status_code == 200


def test_extra_fields_are_ignored_by_default(make_client: MakeClient) -> None:
    assert start(dialect_client(make_client), json={**BODY, "priority": 1}).status_code == 200


@pytest.mark.parametrize(
    ("key", "body", "loc"),
    [
        ("missing_message", {"user_variables": {}}, ["body", "message"]),
        ("missing_user_variables", {"message": ""}, ["body", "user_variables"]),
    ],
)
def test_a_missing_field_is_refused(
    make_client: MakeClient, key: str, body: dict[str, Any], loc: list[str]
) -> None:
    client = dialect_client(make_client, **{key: "refuse"})
    answer = start(client, json=body)
    assert answer.status_code == 422
    assert [(i["type"], i["loc"]) for i in answer.json()["detail"]] == [("missing", loc)]
    assert start(dialect_client(make_client), json=body).status_code == 200


def test_an_empty_body_is_refused(make_client: MakeClient) -> None:
    client = dialect_client(make_client, empty_body="refuse")
    answer = start(client, json=None, content=b"")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body"]
    assert start(dialect_client(make_client), json=None, content=b"").status_code == 200


def test_an_accepted_empty_body_still_needs_a_message_when_one_is_required(
    make_client: MakeClient,
) -> None:
    client = dialect_client(make_client, missing_message="refuse")
    answer = start(client, json=None, content=b"")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "message"]


# --- A3, A4: 404 texts and refusal codes -------------------------------------------------------


def test_404_texts_follow_the_dialect(make_client: MakeClient) -> None:
    client = dialect_client(
        make_client, workflow_not_found_detail="Not Found", trigger_not_found_detail="No such"
    )
    unknown = client.get("/trigger/status/demo/0d4f7a4e-0000-4000-8000-000000000000", headers=AUTH)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    answer = start(client, "/trigger/start/demo/no-such-trigger/DEV")
    assert (answer.status_code, answer.json()) == (404, {"detail": "No such"})
    body = b"{}"
    no_jira = client.post(
        "/trigger/jira/start/demo/quick-answer/DEV",
        content=body,
        headers={"X-Hub-Signature": jira_signature(body)},
    )
    assert (no_jira.status_code, no_jira.json()) == (404, {"detail": "No such"})


def test_paused_and_no_build_codes_follow_the_dialect(make_client: MakeClient) -> None:
    client = dialect_client(make_client, paused_status=423, no_build_status=404)
    assert start(client, "/trigger/start/demo/paused-trigger/DEV").status_code == 423
    assert start(client, "/trigger/start/demo/uat-only/DEV").status_code == 404
    plain = dialect_client(make_client)
    assert start(plain, "/trigger/start/demo/paused-trigger/DEV").status_code == 409


# --- A12: the Jira refusal ---------------------------------------------------------------------


def test_a_bad_jira_signature_is_403_with_the_auth_body(make_client: MakeClient) -> None:
    client = dialect_client(make_client, jira_auth_status=403)
    answer = post_jira(client, b"{}", "sha256=" + "0" * 64)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Invalid authentication credentials"}
    assert "www-authenticate" not in answer.headers
    plain = post_jira(dialect_client(make_client), b"{}", "sha256=" + "0" * 64)
    assert (plain.status_code, plain.headers["www-authenticate"]) == (401, "Bearer")


# --- A14: idempotency keys ---------------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_run(make_client: MakeClient) -> None:
    client = dialect_client(make_client, idempotency="key", e2_status=202)
    key = {"Idempotency-Key": "order-17"}
    first = start(client, headers=key)
    again = start(client, headers=key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["workflow_id"] == again.json()["workflow_id"]
    assert len(client.get("/__admin/runs").json()["runs"]) == 1
    reused = start(client, headers=key, json={"message": "other"})
    assert reused.status_code == 422
    assert start(client, headers={"Idempotency-Key": "order-18"}).json() != first.json()
    assert len(client.get("/__admin/runs").json()["runs"]) == 2


def test_idempotency_keys_are_ignored_by_default(make_client: MakeClient) -> None:
    client = dialect_client(make_client)
    key = {"Idempotency-Key": "order-17"}
    assert start(client, headers=key).json() != start(client, headers=key).json()


def test_a_forgotten_run_frees_its_idempotency_key(make_client: MakeClient) -> None:
    client = dialect_client(make_client, idempotency="key")
    key = {"Idempotency-Key": "k"}
    first = start(client, headers=key).json()["workflow_id"]
    advance(client, 200_000)  # past the run's end plus 24 h of retention
    assert start(client, headers=key).json()["workflow_id"] != first


# --- wire: content type, compression -----------------------------------------------------------


def test_the_charset_is_added_to_every_api_answer(make_client: MakeClient) -> None:
    client = dialect_client(make_client, content_type="application/json; charset=utf-8")
    started = start(client)
    polled = client.get(f"/trigger/status/demo/{started.json()['workflow_id']}", headers=AUTH)
    refused = client.get("/trigger/status/demo/x")
    for answer in (started, polled, refused):
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert client.get("/__admin/health").headers["content-type"] == "application/json"


def test_gzip_when_the_client_accepts_it(make_client: MakeClient) -> None:
    client = dialect_client(make_client, compression="gzip", compression_min_bytes=100)
    workflow_id = start(client).json()["workflow_id"]
    path = f"/trigger/status/demo/{workflow_id}"
    raw = client.get(path, headers={**AUTH, "Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert json.loads(raw.content)["workflow_id"] == workflow_id  # httpx decoded it
    plain = client.get(path, headers={**AUTH, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    small = client.get(path, headers={"Accept-Encoding": "gzip"})  # 401: 48 bytes < 100
    assert (small.status_code, "content-encoding" in small.headers) == (401, False)


def test_no_compression_by_default(make_client: MakeClient) -> None:
    answer = start(dialect_client(make_client), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-type"] == "application/json"


# --- workflow ids, extra envelope fields -------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "pattern"),
    [
        ({"workflow_id_format": "hex"}, r"[0-9a-f]{32}"),
        ({"workflow_id_format": "prefixed", "workflow_id_prefix": "run-"}, r"run-[0-9a-f]{32}"),
        ({}, r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
    ],
)
def test_the_workflow_id_format_holds_everywhere(
    make_client: MakeClient, keys: dict[str, str], pattern: str
) -> None:
    client = dialect_client(make_client, **keys)
    workflow_id = start(client).json()["workflow_id"]
    assert re.fullmatch(pattern, workflow_id)
    advance(client, 60)
    polled = client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).json()
    assert polled["workflow_id"] == polled["response"]["workflow_id"] == workflow_id
    assert [run["workflow_id"] for run in client.get("/__admin/runs").json()["runs"]] == [
        workflow_id
    ]
    synced = start(client, "/trigger/demo/quick-answer/DEV").json()
    assert re.fullmatch(pattern, synced["workflow_id"])
    assert synced["response"]["workflow_id"] == synced["workflow_id"]


def test_a_uuid_is_unknown_under_the_hex_format(make_client: MakeClient) -> None:
    client = dialect_client(make_client, workflow_id_format="hex")
    hex_id = start(client).json()["workflow_id"]
    uuid_text = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
    assert client.get(f"/trigger/status/demo/{uuid_text}", headers=AUTH).status_code == 404
    assert client.get(f"/trigger/status/demo/{hex_id.upper()}", headers=AUTH).status_code == 404


def test_admin_input_takes_the_wire_id(make_client: MakeClient) -> None:
    client = dialect_client(make_client, workflow_id_format="prefixed", workflow_id_prefix="wf_")
    workflow_id = start(client, "/trigger/start/demo/approval-flow/DEV").json()["workflow_id"]
    advance(client, 11)
    answer = client.post(f"/__admin/runs/{workflow_id}/input", json={"message": "ok"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["workflow_id"] == workflow_id
    timeline = client.get(f"/__admin/runs/{workflow_id}/timeline").json()
    assert timeline["run"]["trigger_id"] == "approval-flow"


def test_extra_envelope_fields_are_on_every_envelope(make_client: MakeClient) -> None:
    extra = {"trace_id": "t-1", "meta": {"v": [1, 2]}}
    client = dialect_client(make_client, extra_envelope_fields=extra)
    started = start(client).json()
    assert {k: started[k] for k in extra} == extra
    path = f"/trigger/status/demo/{started['workflow_id']}"
    advance(client, 60)
    for _ in range(2):  # the second read comes from the cache of final envelopes
        polled = client.get(path, headers=AUTH).json()
        assert polled["status"] == "completed"
        assert {k: polled[k] for k in extra} == extra
    synced = start(client, "/trigger/demo/quick-answer/DEV").json()
    assert {k: synced[k] for k in extra} == extra
    assert "trace_id" not in client.get("/trigger/status/demo/x", headers=AUTH).json()


# --- latency -----------------------------------------------------------------------------------


def test_latency_is_drawn_per_endpoint_in_real_seconds() -> None:
    dialect = ActiveDialect(
        parse_dialect({"latency": {"e3": {"dist": "fixed", "s": 0.25}}}), seed=1
    )
    assert [dialect.delay_s(endpoint) for endpoint in ("E1", "E2", "E3", "E4")] == [
        0.0,
        0.0,
        0.25,
        0.0,
    ]


def test_latency_delays_the_endpoint_answer(make_client: MakeClient) -> None:
    client = dialect_client(make_client, latency={"e3": {"dist": "fixed", "s": 0.05}})
    workflow_id = start(client).json()["workflow_id"]
    assert client.get(f"/trigger/status/demo/{workflow_id}", headers=AUTH).status_code == 200
    entries = client.get("/__admin/requests").json()["requests"]
    latency = {entry["endpoint"]: entry["latency_s"] for entry in entries}
    assert latency["E3"] >= 0.045  # at least the added delay (no upper bound asserted)


def test_the_id_codec_round_trips() -> None:
    codec = IdCodec("prefixed", "x.")
    store_id = "0d4f7a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
    assert codec.encode(store_id) == "x.0d4f7a4e1b2c4d3e8f90a1b2c3d4e5f6"
    assert codec.decode(codec.encode(store_id)) == store_id
    assert codec.decode("y.0d4f7a4e1b2c4d3e8f90a1b2c3d4e5f6") is None
    assert codec.decode("x.0d4f") is None
