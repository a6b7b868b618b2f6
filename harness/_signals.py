"""Holding the stopping signals (SIGINT, SIGTERM, SIGHUP) over work that must not be cut short.

While `signals_held()` is active, those signals are only recorded; when it ends, the handlers
that were in force come back and the first signal recorded is raised again
(`signal.raise_signal`), so Ctrl-C still ends in `KeyboardInterrupt` and SIGTERM in whatever
its handler raises (`Terminated` under `trigger-harness`), just after the block. It guards what
would be lost if cut in half: starting a child process (a `Popen` interrupted after the fork
never returns its process, which nobody could stop then) and writing a report (issue 14).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

__all__ = ["STOPPING_SIGNALS", "signals_held"]

STOPPING_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop a command: Ctrl-C, a CI cancel or `timeout`, a closed terminal."""


@contextmanager
def signals_held() -> Iterator[None]:
    """Record SIGINT, SIGTERM and SIGHUP while the block runs; raise the first one after it.

    Signal handlers can be set only in the main thread; in any other thread this holds
    nothing (a signal is handled by the main thread anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if held:
            signal.raise_signal(held[0])
