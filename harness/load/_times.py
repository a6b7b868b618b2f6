"""Times read from runs: ISO 8601 stamps, a run's end from its logs, when a client saw it end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from .._models import RunHistory

__all__ = ["first_final_at", "log_end_time", "parse_iso"]

_LOG_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO 8601 time such as the admin API's `ended_at` (`Z` allowed)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def log_end_time(history: RunHistory) -> float | None:
    """Epoch seconds of the final envelope's last log entry (read as UTC), None without one."""
    final = history.final
    if final is None or not final.logs:
        return None
    try:
        moment = datetime.strptime(final.logs[-1].time, _LOG_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def first_final_at(history: RunHistory) -> float | None:
    """Client clock time the first answer showing a final status arrived, None if none did.

    The answer's arrival (not its sending) is when the client notices: the server may only
    judge the run's status some time after the request left.
    """
    for observation in history.observations:
        if observation.envelope is not None and observation.envelope.is_final:
            return observation.at + observation.exchange.elapsed_s
    return None
