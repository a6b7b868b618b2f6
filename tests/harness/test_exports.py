"""The public surface of `harness`: exactly the documented names, and no locust on import."""

from __future__ import annotations

import subprocess
import sys

import harness

PUBLIC_NAMES = {
    "JiraDelivery",
    "JiraIssue",
    "issue_created",
    "jira_signature",
    "join_url",
    "signed_delivery",
    "workflow_id_of",
    "FINAL_STATUSES",
    "ApiError",
    "AsyncTriggerClient",
    "AuthRejected",
    "CannotJudge",
    "CheckContext",
    "ConfigError",
    "ConnectError",
    "ContractViolation",
    "Endpoint",
    "Envelope",
    "EnvelopeError",
    "Exchange",
    "HarnessError",
    "Interrupted",
    "LogEntry",
    "MalformedResponse",
    "NotTriggerApi",
    "MockAdmin",
    "Observation",
    "OutcomeUnknown",
    "PollStrategy",
    "PollTimeout",
    "ProductionGuardError",
    "RateLimited",
    "RequestSpec",
    "RequestTimeout",
    "RetryPolicy",
    "RunHistory",
    "RunStatus",
    "Secret",
    "ServerError",
    "StopReason",
    "Target",
    "TargetUnavailable",
    "Terminated",
    "TransportError",
    "TriggerClient",
    "UsageError",
    "assert_checks",
    "backoff",
    "exponential",
    "fixed",
    "fixed_jittered",
    "guard_production",
    "load_targets",
    "mock_target",
    "parse_envelope",
    "redact_headers",
    "run_checks",
    "run_history_checks",
    "select_target",
}


def test_all_lists_exactly_the_public_names_sorted() -> None:
    """`harness.__all__` equals the public names, sorted, and each one is importable."""
    assert set(harness.__all__) == PUBLIC_NAMES
    assert harness.__all__ == sorted(harness.__all__, key=lambda n: (not n.isupper(), n))
    for name in harness.__all__:
        assert getattr(harness, name) is not None


def test_public_objects_say_they_are_public() -> None:
    """Every exported class or function other than constants has a docstring."""
    for name in harness.__all__:
        obj = getattr(harness, name)
        if callable(obj):
            assert obj.__doc__, name


def test_import_leaves_locust_and_gevent_out() -> None:
    """Importing harness in a fresh interpreter imports neither locust nor gevent."""
    code = (
        "import sys, harness; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
