"""Contract checks: the registry, and the built-in response, history and poll-timing checks.

The registry (`_registry`) knows nothing of the checks; this package imports the check modules,
which register themselves with `@check` / `@history_check` (schemathesis's layout). A module
here never imports this `__init__` back."""

from __future__ import annotations

from . import _history  # noqa: F401 - its checks register on import
from ._registry import (
    CHECK_TITLES,
    Check,
    CheckContext,
    CheckOutcome,
    CheckResult,
    ContractViolations,
    HistoryCheck,
    RegisteredCheck,
    Registry,
    Severity,
    assert_checks,
    check,
    check_results,
    header,
    history_check,
    history_check_results,
    history_checks,
    is_transient,
    missing_variables,
    response_checks,
    run_checks,
    run_history_checks,
)
from ._response import UNAUTHORIZED_BODY
from ._timing import (
    JournalRow,
    no_polls_closer_than,
    no_request_after_final,
    retry_after_respected,
    timeline_rows,
)

__all__ = [
    "CHECK_TITLES",
    "UNAUTHORIZED_BODY",
    "Check",
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "ContractViolations",
    "HistoryCheck",
    "JournalRow",
    "RegisteredCheck",
    "Registry",
    "Severity",
    "assert_checks",
    "check",
    "check_results",
    "header",
    "history_check",
    "history_check_results",
    "history_checks",
    "is_transient",
    "missing_variables",
    "no_polls_closer_than",
    "no_request_after_final",
    "response_checks",
    "retry_after_respected",
    "run_checks",
    "run_history_checks",
    "timeline_rows",
]
