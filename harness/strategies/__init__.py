"""Hypothesis strategies for the trigger API: odd messages, user variables, bodies, keys, ids.

Like hypothesis's own factories, each function checks its arguments when called and raises
`hypothesis.errors.InvalidArgument` naming the bad one (`max_depth=-1 must be >= 0`).
Use them in your own tests:

    import httpx
    from hypothesis import given, settings
    from harness import strategies as hs

    URL = "http://127.0.0.1:8080/trigger/demo/quick-answer/DEV"
    AUTH = {"Authorization": "Bearer demo-key"}

    @settings(max_examples=50, deadline=None)
    @given(payload=hs.valid_payloads(allow_omission=False, allow_extra_fields=False))
    def test_variables_come_back(payload):
        answer = httpx.post(URL, json=payload, headers=AUTH, timeout=160).json()
        if answer["status"] == "completed":
            for key, value in payload["user_variables"].items():
                assert answer["response"][key] == value

    @settings(max_examples=50, deadline=None)
    @given(body=hs.invalid_payloads(kinds=("wrong_type", "not_object", "invalid_json")))
    def test_bad_bodies_are_refused(body):
        headers = {**AUTH, "Content-Type": body.content_type} if body.content_type else AUTH
        answer = httpx.post(URL, content=body.content, headers=headers)
        if body.documented_invalid:
            assert 400 <= answer.status_code < 500, body.why
        else:
            assert answer.status_code < 500, body.why  # accepted or refused: an observation

What each factory draws:
- `messages()` strings: empty, ASCII, emoji (astral, ZWJ, flags), RTL with marks, zero-width,
  combining, control, very long; lone surrogates only with `allow_surrogates=True`.
- `user_variables()` JSON objects that round-trip exactly through `json.dumps`/`json.loads`.
- `valid_payloads()` E1/E2 bodies as Python objects (omission and extra fields are A7).
- `invalid_payloads()` `RawBody` values (bytes, content type, why, `documented_invalid`).
- `authorization_headers(key)` `AuthVariant` values that are never the right credential.
- `path_ids()`, `workspace_ids()`, `trigger_ids()`, `workflow_ids()` odd path segments.
- `jira_events()` Jira Cloud payloads; `jira_deliveries(secret)` the same, signed."""

from __future__ import annotations

from ._auth import AuthVariant, authorization_headers, is_valid_credential
from ._bodies import (
    DEFAULT_MAX_BODY_BYTES,
    INVALID_KINDS,
    RawBody,
    invalid_payloads,
    user_variables,
    valid_payloads,
)
from ._ids import trigger_ids, workflow_ids, workspace_ids
from ._jira import jira_deliveries, jira_events
from ._text import messages, path_ids

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INVALID_KINDS",
    "AuthVariant",
    "RawBody",
    "authorization_headers",
    "invalid_payloads",
    "is_valid_credential",
    "jira_deliveries",
    "jira_events",
    "messages",
    "path_ids",
    "trigger_ids",
    "user_variables",
    "valid_payloads",
    "workflow_ids",
    "workspace_ids",
]
