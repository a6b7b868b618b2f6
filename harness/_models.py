"""Typed values the harness passes around: statuses, envelopes, exchanges, observations, histories.

INTERFACE (fixed, other modules code against it). Parsing lives in `_protocol.py`; these are
plain frozen values with no IO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ._json import decode

__all__ = [
    "FINAL_STATUSES",
    "UNFINISHED_STATUSES",
    "Endpoint",
    "Envelope",
    "Exchange",
    "LogEntry",
    "Observation",
    "RunHistory",
    "RunStatus",
    "StopReason",
]


_UNREAD: Any = object()
"""`Exchange._decoded` before the body was read."""


class RunStatus(StrEnum):
    """The documented statuses of a run (plus the hand-over status)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    WAITING_FOR_INPUT = "waiting_for_input"


FINAL_STATUSES: frozenset[str] = frozenset({RunStatus.COMPLETED, RunStatus.FAILED})
UNFINISHED_STATUSES: frozenset[str] = frozenset({RunStatus.PENDING, RunStatus.WAITING_FOR_INPUT})
"""The statuses of a run that has not ended; any status outside `RunStatus` is neither."""


class StopReason(StrEnum):
    """Why a client stopped following a run (`RunHistory.stop_reason`).

    Only `DEADLINE` can show a broken invariant (9: a background run ends within its limit);
    every other reason short of `FINAL` means the harness could not tell how the run ended.
    """

    FINAL = "final"
    """A final status (completed or failed) was seen."""
    DEADLINE = "deadline"
    """The deadline passed while the run showed pending or waiting_for_input."""
    RATE_LIMITED = "rate_limited"
    """429s until the deadline, or a Retry-After reaching past it."""
    UNKNOWN_STATUS = "unknown_status"
    """A status outside `RunStatus` (e.g. `cancelled`): seen once, not followed further."""
    CONNECTION_LOST = "connection_lost"
    """No answer, retries exhausted (or the deadline passed while retrying)."""
    SERVER_ERROR = "server_error"
    """5xx answers, retries exhausted (or the deadline passed while retrying)."""
    NOT_RETRYABLE = "not_retryable"
    """An answer that cannot be retried: 401, another 4xx, a malformed envelope."""


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
    _decoded: Any = field(default=_UNREAD, init=False, repr=False, compare=False)
    """`json()` once read: every check of an answer shares one decode (issue 18)."""

    def json(self) -> Any:
        """The response body parsed as JSON (`_json.decode`), or None when it is not JSON.

        Decoded once per exchange; every caller gets that same value, to read, never to change.
        """
        decoded = self._decoded
        if decoded is _UNREAD:
            try:
                decoded = decode(self.response_body)
            except ValueError:
                decoded = None
            object.__setattr__(self, "_decoded", decoded)
        return decoded


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
    ended while followed). `stop_reason` says why following stopped; None for a history put
    together by hand, which claims nothing about it. `deadline_s` is the client's deadline
    (seconds from the start request), when one applied.
    """

    workflow_id: str
    start: Observation
    polls: tuple[Observation, ...]
    final: Envelope | None
    stop_reason: StopReason | None = None
    deadline_s: float | None = None

    @property
    def timed_out(self) -> bool:
        """True only when the deadline passed while the run showed pending/waiting_for_input."""
        return self.stop_reason is StopReason.DEADLINE

    @property
    def observations(self) -> tuple[Observation, ...]:
        """The start answer followed by every poll."""
        return (self.start, *self.polls)
