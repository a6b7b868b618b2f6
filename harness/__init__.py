"""Contract, fuzz and load harness for Phinite's workspace trigger API."""

from __future__ import annotations

from ._admin_client import MockAdmin
from ._async_client import AsyncTriggerClient
from ._client import TriggerClient, workflow_id_of
from ._exceptions import (
    ApiError,
    AuthRejected,
    ConfigError,
    ConnectError,
    ContractViolation,
    HarnessError,
    MalformedResponse,
    OutcomeUnknown,
    PollTimeout,
    ProductionGuardError,
    RateLimited,
    RequestTimeout,
    ServerError,
    TargetUnavailable,
    TransportError,
    UsageError,
)
from ._jira import JiraDelivery, JiraIssue, issue_created, jira_signature, signed_delivery
from ._models import (
    FINAL_STATUSES,
    Endpoint,
    Envelope,
    Exchange,
    LogEntry,
    Observation,
    RunHistory,
    RunStatus,
)
from ._polling import (
    PollStrategy,
    RetryPolicy,
    backoff,
    exponential,
    fixed,
    fixed_jittered,
)
from ._protocol import EnvelopeError, RequestSpec, join_url, parse_envelope
from ._redact import redact_headers
from ._targets import (
    Secret,
    Target,
    guard_production,
    load_targets,
    mock_target,
    select_target,
)
from .checks import CheckContext, assert_checks, run_checks, run_history_checks

__all__ = [
    "FINAL_STATUSES",
    "ApiError",
    "AsyncTriggerClient",
    "AuthRejected",
    "CheckContext",
    "ConfigError",
    "ConnectError",
    "ContractViolation",
    "Endpoint",
    "Envelope",
    "EnvelopeError",
    "Exchange",
    "HarnessError",
    "JiraDelivery",
    "JiraIssue",
    "LogEntry",
    "MalformedResponse",
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
    "Target",
    "TargetUnavailable",
    "TransportError",
    "TriggerClient",
    "UsageError",
    "assert_checks",
    "backoff",
    "exponential",
    "fixed",
    "fixed_jittered",
    "guard_production",
    "issue_created",
    "jira_signature",
    "join_url",
    "load_targets",
    "mock_target",
    "parse_envelope",
    "redact_headers",
    "run_checks",
    "run_history_checks",
    "select_target",
    "signed_delivery",
    "workflow_id_of",
]
