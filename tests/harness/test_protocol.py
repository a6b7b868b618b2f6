"""Sans-IO protocol: URLs, bodies, headers, envelope parsing, classification and redaction."""

from __future__ import annotations

import dataclasses
import email.utils
import json
from typing import Any

import httpx
import pytest

from harness import (
    ApiError,
    AuthRejected,
    Endpoint,
    EnvelopeError,
    Exchange,
    MalformedResponse,
    RateLimited,
    Secret,
    ServerError,
    Target,
    UsageError,
    mock_target,
    parse_envelope,
    redact_headers,
)
from harness._headers import parse_retry_after
from harness._protocol import (
    SYNC_SLACK_S,
    Verdict,
    build_jira,
    build_raw,
    build_start,
    build_status,
    build_sync,
    endpoint_of_path,
    interpret,
    make_exchange,
)
from harness._redact import Redactor

GATEWAY = "https://app.phinite.ai/api/v1/ai"
DIRECT = "https://ai-core.phinite.ai"


def target(base_url: str = GATEWAY, **changes: Any) -> Target:
    return dataclasses.replace(
        mock_target(), base_url=base_url, name="t", embedded=False, **changes
    )


def envelope_dict(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workflow_id": "wf-1",
        "response": {},
        "status": "pending",
        "logs": [
            {
                "time": "2026-06-10 00:10:00",
                "level": "info",
                "node_id": "flow",
                "message": "started",
                "status": "running",
                "user_logs_type": "",
            }
        ],
        "requires_input": False,
        "error": None,
    }
    body.update(changes)
    return body


def exchange(
    status: int | None, body: bytes = b"", headers: dict[str, str] | None = None
) -> Exchange:
    spec = build_status(mock_target(), "wf-1")
    return make_exchange(
        spec,
        Redactor(),
        started_at=0.0,
        elapsed_s=0.1,
        status_code=status,
        response_headers=(headers or {}).items(),
        response_body=body,
        error=None if status is not None else "reset",
    )


@pytest.mark.parametrize("base", [GATEWAY, GATEWAY + "/", DIRECT, DIRECT + "/"])
def test_urls_for_both_prefixes(base: str) -> None:
    """E1-E4 URLs append /trigger/... to either prefix style, with or without a trailing slash."""
    stem = base.rstrip("/")
    t = target(base)
    assert build_sync(t).url == f"{stem}/trigger/demo/quick-answer/DEV"
    assert build_start(t).url == f"{stem}/trigger/start/demo/nightly-report/DEV"
    assert build_status(t, "wf-9").url == f"{stem}/trigger/status/demo/wf-9"
    jira = build_jira(t, b"{}", signature="sha256=00")
    assert jira.url == f"{stem}/trigger/jira/start/demo/jira-triage/DEV"


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("x?y#z", "x%3Fy%23z"),
        ("é v", "%C3%A9%20v"),
    ],
)
def test_path_ids_are_percent_encoded(raw: str, encoded: str) -> None:
    """An id containing '/', '?', '#', dots or spaces stays one path segment."""
    assert build_status(target(), raw).url == f"{GATEWAY}/trigger/status/demo/{encoded}"
    assert build_start(target(), raw).url == f"{GATEWAY}/trigger/start/demo/{encoded}/DEV"


def test_empty_id_is_a_usage_error() -> None:
    """An empty workflow id is refused, naming the argument."""
    with pytest.raises(UsageError, match="workflow_id"):
        build_status(target(), "")


def test_missing_default_trigger_is_a_usage_error() -> None:
    """Without a trigger id and without the target's default, the error names the setting."""
    with pytest.raises(UsageError, match="sync_trigger"):
        build_sync(target(sync_trigger=None))


def test_run_body_headers_and_overrides() -> None:
    """E1/E2 send JSON message and user_variables with the bearer key; overrides are honoured."""
    spec = build_start(
        target(), "other", message="hi", user_variables={"k": [1]}, environment="UAT"
    )
    assert spec.url.endswith("/trigger/start/demo/other/UAT")
    assert spec.endpoint is Endpoint.START
    assert json.loads(spec.body) == {"message": "hi", "user_variables": {"k": [1]}}
    assert spec.wire_headers()["Authorization"] == "Bearer demo-key"
    assert spec.wire_headers()["Content-Type"] == "application/json"
    assert build_start(target()).body == b'{"message":"","user_variables":{}}'


def test_sync_timeout_is_limit_plus_slack() -> None:
    """E1's timeout is the target's sync limit plus slack; the others use timeout_s."""
    t = target(sync_limit_s=120.0, timeout_s=7.0)
    assert build_sync(t).timeout_s == 120.0 + SYNC_SLACK_S
    assert build_status(t, "w").timeout_s == 7.0


def test_bad_user_variables_are_refused() -> None:
    """user_variables that is not a mapping is a usage error naming it."""
    with pytest.raises(UsageError, match="user_variables"):
        build_sync(target(), user_variables=["a"])  # type: ignore[arg-type]


def test_jira_request_carries_signature_not_bearer() -> None:
    """E4 sends the given X-Hub-Signature and the raw body, and no bearer key."""
    spec = build_jira(target(), b'{"issue": 1}', signature="sha256=ab")
    headers = spec.wire_headers()
    assert headers["X-Hub-Signature"] == "sha256=ab"
    assert "Authorization" not in headers
    assert spec.body == b'{"issue": 1}'
    assert "X-Hub-Signature" not in build_jira(target(), b"{}", signature=None).wire_headers()


def test_raw_requests_control_auth() -> None:
    """Raw requests send the key, no key, or an exact Authorization value, on any path or URL."""
    t = target(DIRECT + "/")
    assert build_raw(t, "get", "/trigger/x").url == f"{DIRECT}/trigger/x"
    assert build_raw(t, "GET", "trigger/x").wire_headers()["Authorization"] == "Bearer demo-key"
    assert "Authorization" not in build_raw(t, "GET", "/x", auth=False).wire_headers()
    assert build_raw(t, "GET", "/x", auth="Basic zz").wire_headers()["Authorization"] == "Basic zz"
    other = build_raw(t, "PATCH", "http://127.0.0.1:1/trigger/status/other/w", content=b"\x00")
    assert (other.method, other.url, other.body) == (
        "PATCH",
        "http://127.0.0.1:1/trigger/status/other/w",
        b"\x00",
    )
    explicit = build_raw(t, "GET", "/x", headers={"authorization": "Bearer wrong"})
    assert explicit.wire_headers() == {"authorization": "Bearer wrong"}


def test_request_spec_repr_and_redacted_copy_hide_secrets() -> None:
    """A RequestSpec's repr and its redacted copy never contain the key or the signature."""
    spec = build_jira(target(), b"body demo-jira-secret", signature="sha256=feed")
    for text in (repr(spec), repr(spec.redacted(Redactor(target().secret_values())))):
        assert "demo-key" not in text
        assert "sha256=feed" not in text
    redacted = spec.redacted(Redactor(target().secret_values()))
    assert redacted.headers["X-Hub-Signature"] == "sha256=[REDACTED]"
    assert redacted.body == b"body [REDACTED]"
    assert redacted.secret_headers == {}


def test_parse_valid_envelope() -> None:
    """A well-formed envelope parses into typed fields and log entries."""
    env = parse_envelope(envelope_dict(status="failed", error="boom"))
    assert (env.workflow_id, env.status, env.error, env.requires_input) == (
        "wf-1",
        "failed",
        "boom",
        False,
    )
    assert env.logs[0].node_id == "flow"
    assert env.is_final


@pytest.mark.parametrize(
    ("obj", "field", "problem"),
    [
        ([], "body", "expected a JSON object, got list"),
        ({k: v for k, v in envelope_dict().items() if k != "status"}, "status", "missing field"),
        (envelope_dict(workflow_id=5), "workflow_id", "expected str, got int"),
        (envelope_dict(response=[]), "response", "expected dict, got list"),
        (envelope_dict(logs={}), "logs", "expected list, got dict"),
        (envelope_dict(logs=[3]), "logs[0]", "expected object, got int"),
        (envelope_dict(logs=[{"time": "t"}]), "logs[0].level", "missing field"),
        (envelope_dict(requires_input="no"), "requires_input", "expected bool, got str"),
        (envelope_dict(requires_input=None), "requires_input", "expected bool, got null"),
        (envelope_dict(error=1), "error", "expected str or null, got int"),
        (envelope_dict(workflow_id=True), "workflow_id", "expected str, got bool"),
    ],
)
def test_envelope_errors_name_the_field(obj: object, field: str, problem: str) -> None:
    """Each malformed envelope raises EnvelopeError naming the offending field and the problem."""
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(obj)
    assert info.value.field == field
    assert str(info.value) == f"{field}: {problem}"


def test_retry_after_seconds_and_http_date() -> None:
    """Retry-After is read as delta-seconds or as an HTTP-date relative to now; junk is None."""
    now = 1_800_000_000.0
    assert parse_retry_after("3", now_epoch=now) == 3.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now_epoch=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after(past, now_epoch=now) == 0.0
    assert parse_retry_after("soon", now_epoch=now) is None
    assert parse_retry_after("-1", now_epoch=now) is None
    assert parse_retry_after(None, now_epoch=now) is None


def test_classify_success_and_malformed() -> None:
    """A 2xx envelope is a success; a 2xx with a bad envelope is malformed naming the field."""
    ok = interpret(exchange(200, json.dumps(envelope_dict()).encode()), now_epoch=0)
    assert ok.verdict is Verdict.SUCCESS
    assert ok.error is None
    assert ok.observation.envelope is not None
    bad = interpret(exchange(200, b"not json"), now_epoch=0)
    assert bad.verdict is Verdict.MALFORMED
    assert isinstance(bad.error, MalformedResponse)
    assert "body: not JSON" in str(bad.error)
    missing = interpret(exchange(200, b'{"workflow_id": "x"}'), now_epoch=0)
    assert isinstance(missing.error, MalformedResponse)
    assert "logs: missing field" in str(missing.error)


@pytest.mark.parametrize(
    ("status", "headers", "verdict", "error_type", "retry_after"),
    [
        (401, {}, Verdict.AUTH_REJECTED, AuthRejected, None),
        (429, {"Retry-After": "3"}, Verdict.RETRYABLE, RateLimited, 3.0),
        (503, {"Retry-After": "7"}, Verdict.RETRYABLE, ServerError, 7.0),
        (500, {}, Verdict.RETRYABLE, ServerError, None),
        (404, {}, Verdict.CLIENT_ERROR, ApiError, None),
        (422, {}, Verdict.CLIENT_ERROR, ApiError, None),
    ],
)
def test_classify_error_answers(
    status: int,
    headers: dict[str, str],
    verdict: Verdict,
    error_type: type,
    retry_after: float | None,
) -> None:
    """Non-2xx answers map to the verdict and exception of the tree, with Retry-After parsed."""
    outcome = interpret(exchange(status, b'{"detail": "x"}', headers), now_epoch=0)
    assert outcome.verdict is verdict
    assert type(outcome.error) is error_type
    assert outcome.retry_after_s == retry_after
    if isinstance(outcome.error, RateLimited):
        assert outcome.error.retry_after_s == 3.0
    if isinstance(outcome.error, ApiError):
        assert outcome.error.status_code == status
        assert str(status) in str(outcome.error)


def test_no_answer_is_retryable() -> None:
    """An exchange without a status code (connection lost) is retryable."""
    outcome = interpret(exchange(None), now_epoch=0)
    assert outcome.verdict is Verdict.RETRYABLE
    assert outcome.observation.status_code is None


def test_redact_headers_by_name_and_value() -> None:
    """Credential headers keep only their scheme; a known secret inside any value is removed."""
    headers = {
        "Authorization": "Bearer k",
        "x-hub-signature": "sha256=1",
        "Cookie": "c=1",
        "X-Admin-Token": "t",
        "X-Echo": "my-secret",
        "X-Plain": "fine",
    }
    assert redact_headers(headers, ["my-secret"]) == {
        "Authorization": "Bearer [REDACTED]",
        "x-hub-signature": "sha256=[REDACTED]",
        "Cookie": "[REDACTED]",
        "X-Admin-Token": "[REDACTED]",
        "X-Echo": "[REDACTED]",
        "X-Plain": "fine",
    }


def test_exchange_is_redacted_everywhere() -> None:
    """make_exchange removes secrets from URL, headers, bodies and the error text."""
    t = dataclasses.replace(target(), api_key=Secret("k-123456"))
    spec = build_raw(t, "POST", "/trigger/k-123456", content=b'{"key": "k-123456"}')
    ex = make_exchange(
        spec,
        Redactor(t.secret_values()),
        started_at=1.0,
        elapsed_s=0.5,
        status_code=400,
        response_headers=[("x-echo", "Bearer k-123456")],
        response_body=b"echo k-123456",
        error="k-123456 failed",
    )
    assert "k-123456" not in repr(ex)
    assert ex.request_body == b'{"key": "[REDACTED]"}'
    assert ex.response_body == b"echo [REDACTED]"
    assert ex.url.endswith("/trigger/[REDACTED]")


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/trigger/status/ws/run-1", Endpoint.STATUS),
        ("/api/v1/ai/trigger/start/ws/t/DEV", Endpoint.START),
        ("/trigger/jira/start/ws/t/DEV", Endpoint.JIRA),
        ("http://127.0.0.1:1/api/v1/ai/trigger/ws/t/PROD", Endpoint.SYNC),
        ("/trigger/trigger/t/DEV", Endpoint.SYNC),
        ("/trigger/ws/t", None),
        ("/__admin/health", None),
    ],
)
def test_raw_request_paths_are_tagged_with_their_endpoint(
    path: str, endpoint: Endpoint | None
) -> None:
    """A raw request's endpoint is recognised from the path's shape after `/trigger/`."""
    assert endpoint_of_path(path) is endpoint


@pytest.mark.parametrize("raw", [b"\xb2", "\u0663".encode(), b"\xff" * 3])
def test_a_429_with_an_unusable_retry_after_is_retryable_without_a_wait(raw: bytes) -> None:
    """0xB2 (decoded "²" by httpx), "٣" and other junk give no Retry-After, never an error."""
    headers = httpx.Headers([(b"Retry-After", raw)]).multi_items()
    outcome = interpret(exchange(429, b"{}", headers=dict(headers)), now_epoch=0)
    assert outcome.verdict is Verdict.RETRYABLE
    assert outcome.retry_after_s is None
