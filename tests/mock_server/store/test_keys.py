"""Auth scopes: workspace keys with their environment limits, and Jira signatures (A12, A15)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mock_server._config import demo_config
from mock_server.store import JiraNotEnabled, KeyScope, TriggerNotFound
from mock_server.store._keys import KeyRing, jira_signature_ok, signature_digest
from tests.mock_server.store._support import make_store


def test_key_scope_accepts_workspace_keys_only() -> None:
    """A key opens only its own workspace, with its environment limits (A15)."""
    store = make_store()
    assert store.key_scope("demo", "demo-key") == KeyScope("demo", None)
    assert store.key_scope("demo", "demo-dev-key") == KeyScope("demo", frozenset({"DEV"}))
    assert store.key_scope("sandbox", "demo-key") is None
    assert store.key_scope("demo", "wrong") is None
    assert store.key_scope("demo", None) is None
    assert store.key_scope("nowhere", "demo-key") is None
    assert store.key_scope("demo", "démo-kéy\udcff") is None


def test_key_ring_lists_workspaces_in_config_order() -> None:
    """The key ring knows every workspace of the config, in order, keys or not."""
    config = demo_config()
    assert KeyRing(config.workspaces).workspace_ids == tuple(ws.id for ws in config.workspaces)


def test_jira_signature() -> None:
    """Only `sha256=<hex>` of the body under the trigger's secret verifies (A12)."""
    store = make_store()
    body = b'{"issue": {"key": "J-1"}}'
    digest = hmac.new(b"demo-jira-secret", body, hashlib.sha256).hexdigest()
    assert store.verify_jira_signature("demo", "jira-triage", body, f"sha256={digest}")
    assert store.verify_jira_signature("demo", "jira-triage", body, f"sha256={digest.upper()}")
    assert not store.verify_jira_signature("demo", "jira-triage", body + b" ", f"sha256={digest}")
    assert not store.verify_jira_signature("demo", "jira-triage", body, digest)
    assert not store.verify_jira_signature("demo", "jira-triage", body, None)
    assert not store.verify_jira_signature("demo", "jira-triage", body, "sha256=zz\u00e9")
    with pytest.raises(JiraNotEnabled) as info:
        store.verify_jira_signature("demo", "quick-answer", body, f"sha256={digest}")
    assert (info.value.status_code, info.value.detail) == (404, "Trigger not found")
    with pytest.raises(TriggerNotFound):
        store.verify_jira_signature("demo", "nope", body, None)


def test_jira_signature_sets_aside_only_the_fields_outer_whitespace() -> None:
    """Outer SP/HTAB is not part of the field value; a space after `sha256=` is malformed."""
    body = b"{}"
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert jira_signature_ok("s3cret", body, f" sha256={digest} ")
    assert not jira_signature_ok("s3cret", body, f"sha256= {digest}")
    assert not jira_signature_ok("s3cret", body, f"sha256={digest}\u00a0")
    assert not jira_signature_ok("other", body, f"sha256={digest}")


HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("header", "digest"),
    [
        ("sha256=" + HEX, HEX),
        ("sha256=" + HEX.upper(), HEX),
        (" sha256=" + HEX + "\t", HEX),
        ("sha256= " + HEX, None),
        ("sha256=" + HEX + "\u00a0", None),
        ("sha256=" + HEX + "\n", None),
        ("sha256=" + HEX[:-1] + "\u0663", None),
        ("sha256=" + HEX[:-1] + "\uff10", None),
        ("sha256=" + HEX + "0", None),
        ("Sha256=" + HEX, None),
        (None, None),
    ],
)
def test_signature_header_grammar(header: str | None, digest: str | None) -> None:
    """`sha256=` and exactly 64 ASCII hex digits; only the field's outer SP/HTAB is set aside."""
    expected = None if digest is None else digest.encode()
    assert signature_digest(header) == expected
