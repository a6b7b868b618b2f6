"""A `Calibration` as a mock config (TOML) that makes the mock answer like the target.

The file has the keys of interfaces.md's "Config file" and the `[mock.dialect]` keys, and
carries its evidence as comments: what each question's answers showed, the sample sizes, the
fitted parameters with their log-likelihoods and AIC, the outcome counts with their 95%
intervals. A value the probe could not settle, or one the mock cannot serve, stays at the
mock's default with a comment saying so: every key written is first checked by the mock's own
config validation (`embedded_mock`), so the file always loads.

Secrets are never written: the mock needs a literal API key and Jira secret, so the file holds
placeholders (`PLACEHOLDER_API_KEY`, `PLACEHOLDER_JIRA_SECRET`) and a comment naming the
environment variable the target's own value is read from. The whole text is passed through
the target's redactor before it is returned, as a last guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import tomli_w

from .._embedded import embedded_mock
from .._exceptions import ConfigError
from .._redact import Redactor
from ._calibrate import Calibration, LatencyFit, TriggerFit
from ._fit import OUTCOMES, DurationFit

__all__ = [
    "DIALECT_FACTS",
    "PLACEHOLDER_API_KEY",
    "PLACEHOLDER_JIRA_SECRET",
    "MockConfigDraft",
    "Setting",
    "mock_config_draft",
    "render_mock_config",
]

PLACEHOLDER_API_KEY: Final = "calibrated-mock-key"
PLACEHOLDER_JIRA_SECRET: Final = "calibrated-mock-jira-secret"  # noqa: S105 - a placeholder
DIALECT_FACTS: Final = (
    "e2_status",
    "e4_status",
    "lowercase_environments",
    "extra_fields",
    "missing_message",
    "missing_user_variables",
    "empty_body",
    "workflow_not_found_detail",
    "trigger_not_found_detail",
    "jira_auth_status",
    "unknown_workspace_status",
    "idempotency",
    "content_type",
    "compression",
    "workflow_id_format",
    "workflow_id_prefix",
)
"""The probe's facts that are `[mock.dialect]` keys of the same name and meaning."""
_NOT_ASKED: Final = {
    "paused_status": "not asked: the probe cannot pause a trigger",
    "no_build_status": "not asked: the probe cannot remove an environment's build",
    "foreign_workspace_status": "not asked: the probe knows no other workspace of the target",
}
_MOCK_FIXED: Final = {
    "lowercase_status": 422,
    "workflow_not_found_status": 404,
    "trigger_not_found_status": 404,
    "non_object_status": 422,
}
"""Facts the mock answers one way only (no key changes them): its answer. A target that
answered otherwise gets a comment saying the mock cannot express it."""
_ACCEPTED_OVERSIZE_BYTES: Final = 16 * 1024 * 1024
_SLOW_FACTOR: Final = 2.0
_KEY_ONLY: Final = {"id": "w", "api_keys": ["k"]}


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """One key of `[mock]` or `[mock.dialect]` (`table` says which): the value written, or
    None when the mock's default is kept, and why."""

    table: str
    key: str
    value: Any
    why: str


@dataclass(slots=True)
class _Section:
    """One part of the file: its values, the settings decided and the comment lines."""

    table: str
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)

    def set(self, key: str, value: Any, why: str) -> None:
        self.values[key] = value
        self.notes.append(f"{key} = {_short(value)}: {why}")
        self.settings.append(Setting(table=self.table, key=key, value=value, why=why))

    def keep(self, key: str, why: str) -> None:
        self.notes.append(f"{key}: the mock's default kept; {why}")
        self.settings.append(Setting(table=self.table, key=key, value=None, why=why))


@dataclass(frozen=True, slots=True, kw_only=True)
class MockConfigDraft:
    """The config as a mapping, the comment lines of its three parts (`[mock]`,
    `[mock.dialect]` with its latency, `[[workspaces]]`), and every setting decided."""

    document: dict[str, Any]
    notes: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    settings: tuple[Setting, ...]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _servable(dialect: Mapping[str, Any]) -> str | None:
    """Why the mock refuses this `[mock.dialect]` table, or None when it serves it."""
    try:
        embedded_mock({"mock": {"dialect": dict(dialect)}, "workspaces": [_KEY_ONLY]})
    except ConfigError as exc:
        return str(exc)
    return None


def _observed(calibration: Calibration, question_id: str) -> str:
    answer = calibration.answer(question_id)
    if answer is None:
        return "not in the questions asked"
    return f"{question_id} {answer.observed}"


def _answers_seen(calibration: Calibration) -> list[str]:
    """One line per question: what the target answered (the evidence the keys cite)."""
    return [
        f"{answer.question_id} {answer.question}: {answer.observed}"
        for answer in calibration.answers
    ]


def _dialect(calibration: Calibration) -> _Section:
    facts = calibration.facts()
    section = _Section(
        "mock.dialect", notes=["what the target answered:", *_answers_seen(calibration)]
    )
    sources = {key: answer.question_id for answer in calibration.answers for key in answer.facts}
    for key in DIALECT_FACTS:
        if key == "workflow_id_prefix" and facts.get("workflow_id_format") != "prefixed":
            continue
        if key not in facts:
            section.keep(key, f"the probe could not tell (see {_OWNERS[key]})")
            continue
        problem = _servable({key: facts[key]})
        why = f"as {sources[key]} showed"
        if problem is None:
            section.set(key, facts[key], why)
        else:
            section.keep(key, f"the mock cannot answer {facts[key]!r} ({problem})")
    _compression_threshold(calibration, section)
    _extra_fields(calibration, section)
    _inexpressible(calibration, section)
    for key, why in _NOT_ASKED.items():
        section.keep(key, why)
    return section


_OWNERS: Final = {
    "e2_status": "A6", "e4_status": "A6", "lowercase_environments": "A5",
    "extra_fields": "A7", "missing_message": "A7", "missing_user_variables": "A7",
    "empty_body": "A7", "workflow_not_found_detail": "A3", "trigger_not_found_detail": "A4",
    "jira_auth_status": "A12", "unknown_workspace_status": "A4", "idempotency": "A14",
    "content_type": "W1 and W2", "compression": "W1 and W2", "workflow_id_format": "W2",
    "workflow_id_prefix": "W2",
}  # fmt: skip
"""Which question settles each dialect key."""


def _inexpressible(calibration: Calibration, section: _Section) -> None:
    """A comment for every answer the mock cannot give (`_MOCK_FIXED`): what the target
    answered, and what the mock answers instead."""
    for answer in calibration.answers:
        for key, mock_answer in _MOCK_FIXED.items():
            seen = answer.facts.get(key)
            if key == "lowercase_status" and answer.facts.get("lowercase_environments") != "refuse":
                continue
            if seen is not None and seen != mock_answer:
                section.notes.append(
                    f"{key}: the target answered {seen!r} ({answer.question_id}); the mock "
                    f"cannot express this and answers {mock_answer!r}"
                )


def _compression_threshold(calibration: Calibration, section: _Section) -> None:
    """gzip on a large answer but not on a small one: the threshold lies between them."""
    if section.values.get("compression") != "gzip":
        return
    error, envelope = calibration.answer("W1"), calibration.answer("W2")
    small = error is not None and error.facts.get("compression") == "never"
    if small and error is not None:
        threshold = int(error.extras.get("body_bytes", 0)) + 1
        section.set(
            "compression_min_bytes",
            threshold,
            f"an error answer of {threshold - 1} bytes came uncompressed, an envelope "
            f"of {envelope.extras.get('body_bytes') if envelope else '?'} bytes gzipped: "
            "the target's threshold lies between (the smallest value that explains both)",
        )


def _extra_fields(calibration: Calibration, section: _Section) -> None:
    envelope = calibration.answer("W2")
    extra = dict(envelope.extras.get("extra_envelope_values", {})) if envelope else {}
    if not extra:
        return
    nulls = sorted(key for key, value in extra.items() if value is None)
    kept = {key: value for key, value in extra.items() if value is not None}
    problem = _servable({"extra_envelope_fields": kept})
    if problem is not None:
        section.keep("extra_envelope_fields", f"the mock cannot add them ({problem})")
        return
    why = f"seen on a started run's envelope ({len(extra)} field(s), values as seen there)"
    if nulls:
        why += f"; {', '.join(nulls)} left out: null, which TOML cannot hold"
    section.set("extra_envelope_fields", kept, why)


def _latency(fits: Iterable[LatencyFit], section: _Section) -> dict[str, Any]:
    table = {}
    for fit in fits:
        key = fit.endpoint.lower()
        head = f"latency.{key} ({fit.samples} answers, median {fit.median_s * 1000:.1f} ms)"
        if fit.fit is None:
            section.notes.append(f"{head}: not added; {fit.why}")
            continue
        table[key] = fit.fit.as_config()
        section.notes.append(f"{head}: {_described(fit.fit)}")
    section.notes.append("latency.e1: not measured (E1's time is the flow's own)")
    return table


def _described(fit: DurationFit) -> str:
    """A fit in words: the choice, its reason, and every candidate's figures."""
    parts = [f"{fit.dist} {dict(fit.as_config())} chosen: {fit.reason}"]
    parts += [
        f"{c.dist} {{{', '.join(f'{k}={v:.4g}' for k, v in c.params.items())}}} "
        f"logL={c.log_likelihood:.2f} AIC={c.aic:.2f}"
        for c in fit.candidates
    ]
    return "; ".join(parts)


def _mock_settings(calibration: Calibration) -> _Section:
    facts = calibration.facts()
    target = calibration.target
    section = _Section("mock")
    _sync_limit(calibration, section)
    section.set("background_limit_s", target.max_run_s, "the target's max_run_s (not measured)")
    if "sync_timeout_policy" in facts:
        section.set("sync_timeout_policy", facts["sync_timeout_policy"], "as A1 showed")
    else:
        section.keep("sync_timeout_policy", "the probe could not tell (see A1)")
    if "log_window" in facts:
        section.set("log_window", facts["log_window"], "as A11 showed")
    elif "log_window_at_least" in facts:
        section.set("log_window", facts["log_window_at_least"], "a lower bound (see A11)")
    else:
        section.keep("log_window", "the probe could not tell (see A11)")
    _body_limit(calibration, section)
    if facts.get("rate_limited"):
        section.keep("rate_limit_per_s", "A8 met a 429, but the target's rate was not measured")
    return section


def _measured_sync_limit(calibration: Calibration) -> float | None:
    """The sync limit A1's timeout showed (target seconds), None when A1 did not settle."""
    answer = calibration.answer("A1")
    measured = answer.extras.get("sync_limit_s") if answer is not None else None
    return float(measured) if isinstance(measured, int | float) and measured > 0 else None


def _sync_limit(calibration: Calibration, section: _Section) -> None:
    """`sync_limit_s`: what A1's timeout showed when it settled, else the target's setting."""
    measured = _measured_sync_limit(calibration)
    if measured is None:
        limit = calibration.target.sync_limit_s
        section.set("sync_limit_s", limit, "the target's sync_limit_s (not measured: see A1)")
        return
    policy = calibration.facts().get("sync_timeout_policy")
    why = f"as A1 showed (policy {policy}; {_observed(calibration, 'A1')})"
    section.set("sync_limit_s", measured, why)


def _body_limit(calibration: Calibration, section: _Section) -> None:
    status = calibration.facts().get("oversize_status")
    if status == 413:
        section.keep("max_body_bytes", "1 MiB, as the target's 413 shows (see A7)")
    elif isinstance(status, int) and 200 <= status < 300:
        section.set(
            "max_body_bytes",
            _ACCEPTED_OVERSIZE_BYTES,
            "the target accepted a body over 1 MiB; how much more it takes was not asked",
        )
    else:
        section.keep("max_body_bytes", "the probe could not tell (see A7)")


def _trigger(fit: TriggerFit, calibration: Calibration) -> tuple[dict[str, Any], list[str]]:
    sample = fit.sample
    table: dict[str, Any] = {"id": sample.trigger_id}
    notes = [
        f"trigger {sample.trigger_id!r} ({sample.role}): {sample.requested} runs started with "
        f"{sample.via}, {len(sample.durations)} seen to end or pause, {sample.unfinished} still "
        f"pending at the deadline, {len(sample.refused)} refused; durations known to "
        f"{sample.resolution_s:.3g} s"
    ]
    if fit.duration is None:
        notes.append("  duration: the mock's default kept (no run ended)")
    else:
        table["duration"] = fit.duration.as_config()
        notes.append(f"  duration: {_described(fit.duration)}")
    if fit.outcomes.total:
        table["outcome"] = fit.outcomes.as_config()
        notes.append(
            "  outcome: "
            + ", ".join(
                f"{name} {fit.outcomes.counts[name]}/{fit.outcomes.total} "
                f"(95% {fit.outcomes.interval(name)[0]:.2f}-{fit.outcomes.interval(name)[1]:.2f})"
                for name in OUTCOMES
            )
        )
    if sample.role == "jira":
        table["jira_secret"] = PLACEHOLDER_JIRA_SECRET
        env = calibration.target.jira_secret_env
        variable = f" (${env})" if env else ""
        notes.append(
            f"  jira_secret: a placeholder; the target's Jira secret{variable} is never written"
        )
    return table, notes


def _slow_trigger(calibration: Calibration) -> tuple[dict[str, Any], list[str]] | None:
    name = calibration.slow_trigger
    if name is None or any(fit.sample.trigger_id == name for fit in calibration.triggers):
        return None
    limit = max(calibration.target.sync_limit_s, _measured_sync_limit(calibration) or 0.0)
    seconds = limit * _SLOW_FACTOR
    table = {"id": name, "duration": {"dist": "fixed", "s": seconds}}
    note = (
        f"trigger {name!r}: the slow trigger A1 was asked on, written to outlast the sync "
        "limit; its runs were not followed"
    )
    return table, [note]


def mock_config_draft(calibration: Calibration) -> MockConfigDraft:
    """The mock config `calibration` calls for, with its evidence (see `MockConfigDraft`)."""
    settings = _mock_settings(calibration)
    dialect = _dialect(calibration)
    latency = _latency(calibration.latency, dialect)
    if latency:
        dialect.values["latency"] = latency
    target = calibration.target
    key: Any = PLACEHOLDER_API_KEY
    environments = calibration.facts().get("key_environments")
    variable = f" (${target.api_key_env})" if target.api_key_env else ""
    workspace_notes = [
        f"api_keys: a placeholder the mock accepts; the target's key{variable} is never "
        "written: point a target at this mock with api_key_env naming a variable holding it",
        f"key environments: {_observed(calibration, 'A15')}",
    ]
    if isinstance(environments, list) and environments and len(environments) < 3:
        key = {"key": PLACEHOLDER_API_KEY, "environments": environments}
    triggers = []
    for fit in calibration.triggers:
        table, notes = _trigger(fit, calibration)
        triggers.append(table)
        workspace_notes += notes
    slow = _slow_trigger(calibration)
    if slow is not None:
        triggers.append(slow[0])
        workspace_notes += slow[1]
    workspace = {"id": target.workspace_id, "api_keys": [key], "triggers": triggers}
    document = {"mock": {**settings.values, "dialect": dialect.values}, "workspaces": [workspace]}
    return MockConfigDraft(
        document=document,
        notes=(tuple(settings.notes), tuple(dialect.notes), tuple(workspace_notes)),
        settings=(*settings.settings, *dialect.settings),
    )


def _comment(lines: Iterable[str]) -> str:
    """Comment lines; characters a TOML comment cannot hold (newlines, controls) become `?`."""
    return "".join(f"# {''.join(map(_comment_char, line))}\n" for line in lines)


def _comment_char(char: str) -> str:
    return char if char == "\t" or (char >= " " and char != "\x7f") else "?"


def render_mock_config(calibration: Calibration, *, header: Iterable[str] = ()) -> str:
    """The mock config text: `header` comment lines, then each part with its evidence.

    Raises:
        ConfigError: the mock refuses the document (a harness bug: every key is checked).
    """
    draft = mock_config_draft(calibration)
    document = draft.document
    mock_notes, dialect_notes, workspace_notes = draft.notes
    embedded_mock(document, source="the calibrated mock config")
    mock = {key: value for key, value in document["mock"].items() if key != "dialect"}
    dialect = document["mock"]["dialect"]
    parts = [
        _comment(header),
        _comment(mock_notes) + tomli_w.dumps({"mock": mock}),
        _comment(dialect_notes) + tomli_w.dumps({"mock": {"dialect": dialect}})
        if dialect
        else _comment(dialect_notes),
        _comment(workspace_notes) + tomli_w.dumps({"workspaces": document["workspaces"]}),
    ]
    text = "\n".join(parts)
    return Redactor(calibration.target.secret_values()).redact_text(text)
