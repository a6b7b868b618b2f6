"""Typed values the harness passes around: statuses, envelopes, exchanges, observations, histories.

INTERFACE (fixed, other modules code against it). Parsing lives in `_protocol.py`; these are
plain frozen values with no IO.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "FINAL_STATUSES",
    "Endpoint",
    "Envelope",
    "Exchange",
    "LogEntry",
    "Observation",
    "RunHistory",
    "RunStatus",
]


class RunStatus(StrEnum):
    """The documented statuses of a run (plus the hand-over status)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    WAITING_FOR_INPUT = "waiting_for_input"


FINAL_STATUSES: frozenset[str] = frozenset({RunStatus.COMPLETED, RunStatus.FAILED})


class Endpoint(StrEnum):
    """The four documented endpoints (ids of trigger-api.md)."""

    SYNC = "E1"
    START = "E2"
    STATUS = "E3"
    JIRA = "E4"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One entry of an envelope's `logs` window."""

    time: str
    level: str
    node_id: str
    message: str
    status: str
    user_logs_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """The six-field answer of E1, E2 and E3, parsed.

    `status` is kept as the raw string so an unknown value from a real target survives parsing;
    compare it with `RunStatus` members.
    """

    workflow_id: str
    response: Mapping[str, Any]
    status: str
    logs: tuple[LogEntry, ...]
    requires_input: bool
    error: str | None

    @property
    def is_final(self) -> bool:
        """True for `completed` and `failed`."""
        return self.status in FINAL_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One HTTP request and its answer, already redacted (no key, no signature, no secret).

    `started_at` is the client's injected clock (seconds) when the request was sent;
    `elapsed_s` the time to the whole answer. `status_code` is None when no answer came
    (connection error or timeout); `error` then says what happened.
    """

    endpoint: Endpoint | None
    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes
    started_at: float
    elapsed_s: float
    status_code: int | None
    response_headers: Mapping[str, str]
    response_body: bytes
    error: str | None = None

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One answer seen while following a run: the exchange and, when it parsed, its envelope."""

    exchange: Exchange
    envelope: Envelope | None

    @property
    def at(self) -> float:
        """Client clock time the request was sent."""
        return self.exchange.started_at

    @property
    def status_code(self) -> int | None:
        """HTTP status of the answer, None when none came."""
        return self.exchange.status_code


@dataclass(frozen=True, slots=True, kw_only=True)
class RunHistory:
    """Everything seen of one run, from the answer that started it to the last poll.

    `start` is the E1/E2/E4 answer; `polls` every E3 answer in order, including retried
    transient failures. `final` is the first final envelope seen (None if the run never
    ended while followed); `timed_out` is True when the deadline passed first.
    """

    workflow_id: str
    start: Observation
    polls: tuple[Observation, ...]
    final: Envelope | None
    timed_out: bool = False
    deadline_s: float | None = None

    @property
    def observations(self) -> tuple[Observation, ...]:
        """The start answer followed by every poll."""
        return (self.start, *self.polls)
