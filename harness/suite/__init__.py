"""The contract suite: case registry, built-in cases, runner, context, open-question notes, probe.

This `__init__` imports the case modules (`cases/`), which register themselves in `_registry`;
no module here imports it back."""

from __future__ import annotations

from ..checks import (
    MAX_BODY_BYTES,
    NOTE_RULES,
    OPEN_QUESTIONS,
    Note,
    OpenQuestion,
    collect_notes,
    note_background_limit,
    note_body_fields,
    note_body_size,
    note_environment_case,
    note_idempotency,
    note_jira_refusal,
    note_rate_limit,
    note_start_code,
    note_sync_limit,
    note_unknown_workflow,
    note_www_authenticate,
    notes_for,
)
from . import cases  # noqa: F401 - registers on import
from ._context import (
    ADMIN_SKIP,
    NEEDS,
    Case,
    CaseFn,
    CaseInconclusive,
    SkipCase,
    SuiteContext,
    SuiteViolation,
    fail,
    raise_failures,
    random_id,
)
from ._probe import (
    A11_SYNC_RUNS,
    CALIBRATION_QUESTIONS,
    PROBE_QUESTIONS,
    WIRE_QUESTIONS,
    WIRE_TRAITS,
    ProbeAnswer,
    probe_target,
)
from ._registry import (
    CASES,
    case,
    select_cases,
)
from ._runner import (
    SuiteOutcome,
    execute_case,
    run_contract,
    run_suite,
    suite_context,
)

__all__ = [
    "A11_SYNC_RUNS",
    "ADMIN_SKIP",
    "CALIBRATION_QUESTIONS",
    "CASES",
    "MAX_BODY_BYTES",
    "NEEDS",
    "NOTE_RULES",
    "OPEN_QUESTIONS",
    "PROBE_QUESTIONS",
    "WIRE_QUESTIONS",
    "WIRE_TRAITS",
    "Case",
    "CaseFn",
    "CaseInconclusive",
    "Note",
    "OpenQuestion",
    "ProbeAnswer",
    "SkipCase",
    "SuiteContext",
    "SuiteOutcome",
    "SuiteViolation",
    "case",
    "collect_notes",
    "execute_case",
    "fail",
    "note_background_limit",
    "note_body_fields",
    "note_body_size",
    "note_environment_case",
    "note_idempotency",
    "note_jira_refusal",
    "note_rate_limit",
    "note_start_code",
    "note_sync_limit",
    "note_unknown_workflow",
    "note_www_authenticate",
    "notes_for",
    "probe_target",
    "raise_failures",
    "random_id",
    "run_contract",
    "run_suite",
    "select_cases",
    "suite_context",
]
