"""Poll-timing verifiers: did a client poll politely? Over a `RunHistory` or journal rows.

The same three rules judge the client side (a `RunHistory`, times from the client's clock) and
the server side (rows of the mock's request journal for one run: time, status code, headers
and, when known, the run status answered). Each raises `ContractViolation` with the offending
requests as evidence (exchanges for a history; the message names row times for a journal).

For a history, gaps are measured between polls (the start answer is not a poll), and a
`Retry-After` counts from when the 429 arrived (`started_at + elapsed_s`). A `Retry-After` is
read by the one parser (`_headers`, RFC 9110 §10.2.3); only its delay-seconds form is judged
(an HTTP-date needs the wall clock of the answer, which rows do not carry), and an unusable
value is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal, NamedTuple

from .._exceptions import ContractViolation, UsageError
from .._headers import parse_delay_seconds
from .._models import FINAL_STATUSES, Exchange, RunHistory
from ._registry import Severity, header

__all__ = [
    "JournalRow",
    "no_polls_closer_than",
    "no_request_after_final",
    "retry_after_respected",
    "timeline_rows",
]

_EPSILON_S = 1e-6


class JournalRow(NamedTuple):
    """One request of the server's journal: when, the answer's code and headers, the status."""

    time: float
    status_code: int | None
    headers: Mapping[str, str]
    status: str | None = None


@dataclass(frozen=True, slots=True)
class _Request:
    sent_at: float
    answered_at: float
    status_code: int | None
    headers: Mapping[str, str]
    status: str | None
    exchange: Exchange | None


Source = RunHistory | Sequence[JournalRow] | Sequence[tuple[float, int | None, Mapping[str, str]]]


def _requests(source: Source, *, polls_only: bool = False) -> list[_Request]:
    if isinstance(source, RunHistory):
        observations = source.polls if polls_only else source.observations
        return [
            _Request(
                sent_at=o.at,
                answered_at=o.at + o.exchange.elapsed_s,
                status_code=o.status_code,
                headers=o.exchange.response_headers,
                status=o.envelope.status if o.envelope is not None else None,
                exchange=o.exchange,
            )
            for o in observations
        ]
    rows = [JournalRow(*row) for row in source]
    return [
        _Request(row.time, row.time, row.status_code, row.headers, row.status, None)
        for row in sorted(rows, key=lambda row: row.time)
    ]


def _violation(title: str, message: str, *requests: _Request) -> ContractViolation:
    evidence = tuple(r.exchange for r in requests if r.exchange is not None)
    return ContractViolation(title, message, severity=Severity.MEDIUM, evidence=evidence)


def no_polls_closer_than(source: Source, min_gap_s: float) -> None:
    """Raise when two consecutive polls were sent less than `min_gap_s` apart.

    Args:
        source: a run's history (its polls), or journal rows of one run.
        min_gap_s: the smallest allowed gap in seconds.
    """
    requests = _requests(source, polls_only=True)
    for before, after in pairwise(requests):
        gap = after.sent_at - before.sent_at
        if gap < min_gap_s - _EPSILON_S:
            message = f"polls at {before.sent_at:.3f} and {after.sent_at:.3f}: {gap:.3f} s apart"
            raise _violation(
                "Polled too often", f"{message}, at least {min_gap_s} s required", before, after
            )


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    value = header(headers, "retry-after")
    return None if value is None else parse_delay_seconds(value)


def retry_after_respected(source: Source, *, max_wait_s: float | None = None) -> None:
    """Raise when a request followed a 429 with `Retry-After: N` sooner than N seconds.

    Args:
        source: a run's history, or journal rows of one run.
        max_wait_s: the longest wait a client is asked to honour (`RetryPolicy.max_wait_s`);
            a longer `Retry-After` is met by waiting this long. None: no bound.
    """
    requests = _requests(source)
    for limited, following in pairwise(requests):
        wait_s = _retry_after_s(limited.headers) if limited.status_code == 429 else None
        if wait_s is None:
            continue
        if max_wait_s is not None:
            wait_s = min(wait_s, max_wait_s)
        waited = following.sent_at - limited.answered_at
        if waited < wait_s - _EPSILON_S:
            message = f"came back after {waited:.3f} s, Retry-After was {wait_s:g} s"
            raise _violation("Retry-After ignored", message, limited, following)


def no_request_after_final(source: Source) -> None:
    """Raise when a request for the run was sent after an answer showed it final.

    Journal rows must carry the answered run `status` for this rule.
    """
    requests = _requests(source)
    if not isinstance(source, RunHistory) and requests and all(r.status is None for r in requests):
        raise UsageError("journal rows carry no run status; no_request_after_final needs it")
    final = next((r for r in requests if r.status in FINAL_STATUSES and _ok(r)), None)
    if final is None:
        return
    later = [r for r in requests if r.sent_at > final.answered_at + _EPSILON_S]
    if later:
        message = (
            f"{len(later)} request(s) after the run was {final.status!r} "
            f"at {final.answered_at:.3f}, first at {later[0].sent_at:.3f}"
        )
        raise _violation("Polled after the run ended", message, final, *later)


def timeline_rows(
    timeline: Sequence[Mapping[str, Any]],
    *,
    clock: Literal["real", "virtual"] = "real",
    polls_only: bool = False,
) -> list[JournalRow]:
    """The mock's run timeline (`MockAdmin.timeline`) as rows the three rules judge.

    Args:
        timeline: the timeline's request entries.
        clock: measure in the mock's real seconds (rate limits, `Retry-After`) or its
            virtual seconds (run time).
        polls_only: keep only the status requests (E3), e.g. for `no_polls_closer_than`.
    """
    if clock not in ("real", "virtual"):
        raise UsageError(f"timeline_rows(): clock must be 'real' or 'virtual', got {clock!r}")
    key = "real_time" if clock == "real" else "virtual_time"
    rows = []
    for entry in timeline:
        if polls_only and entry.get("endpoint") != "E3":
            continue
        retry_after = entry.get("retry_after")
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        rows.append(
            JournalRow(
                float(entry[key]), entry.get("status_code"), headers, entry.get("run_status")
            )
        )
    return rows


def _ok(request: _Request) -> bool:
    return request.status_code is not None and 200 <= request.status_code < 300
