"""Type aliases shared by the harness modules (no runtime logic)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

__all__ = [
    "AsyncSleep",
    "Clock",
    "Environ",
    "EventHooks",
    "HeaderMap",
    "JSONObject",
    "Sleep",
]

Clock: TypeAlias = Callable[[], float]
"""Returns seconds; monotonic for timing, epoch seconds for wall-clock uses."""

Sleep: TypeAlias = Callable[[float], None]
AsyncSleep: TypeAlias = Callable[[float], Awaitable[None]]

Environ: TypeAlias = Mapping[str, str]
HeaderMap: TypeAlias = Mapping[str, str]
JSONObject: TypeAlias = Mapping[str, Any]

EventHooks: TypeAlias = Mapping[str, Sequence[Callable[..., object]]]
"""httpx's shape: `{"request": [f(RequestSpec)], "response": [f(Exchange)]}`."""
