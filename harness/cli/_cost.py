"""What a command that starts runs says about its cost: the bound, the seed, and progress.

`fuzz`, `load` and `size-polling` say on stderr, before their first request, how many runs they
will start at most and with which seed (issue 14: cost on real targets is visible and
bounded; a run can be replayed with `--seed`). While they work, a rich progress bar runs on
stderr when stderr is a terminal, and is off otherwise, so tests and CI logs stay clean. The
bar shows only counts and the harness's own labels: never a secret, never a target's text.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._display import display_safe
from .._polling import require_interval
from .._targets import Target

__all__ = [
    "SEED_LIMIT",
    "Advance",
    "announce",
    "check_poll_interval",
    "choose_seed",
    "progress",
    "timed_progress",
]

SEED_LIMIT: Final = 2**32
"""Seeds are chosen in [0, 2**32): short enough to type back after `--seed`."""
_TICK_S: Final = 0.25

Advance = Callable[[float, str], None]
"""Moves a bar: `advance(completed, note)` (completed in the bar's unit, a short note)."""


def choose_seed(seed: int | None, rng: random.Random | None = None) -> int:
    """`seed` when given, else a fresh random one (from `rng`, the OS's by default)."""
    if seed is not None:
        return seed
    return (rng or random.SystemRandom()).randrange(SEED_LIMIT)


def check_poll_interval(target: Target) -> None:
    """Refuse a target whose `poll_interval_s` is below `MIN_POLL_INTERVAL_S` (exit 2)."""
    require_interval(
        f"targets file, target {target.name!r}", "poll_interval_s", target.poll_interval_s
    )


def announce(line: str) -> None:
    """Say `line` on stderr (before a command starts runs), display-safe on one line.

    The line may hold a target's name (from the user's targets file), so every control or bidi
    character in it, a newline too, is shown as an escape (`display_safe`).
    """
    click.echo(display_safe(line), err=True)


def _console() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress(label: str, total: float | None) -> Iterator[Advance]:
    """A progress bar on stderr (off when stderr is no terminal); yields its `Advance`.

    Args:
        label: what the bar counts (the harness's own words, shown as plain text).
        total: the count at the end; None for unknown.
    """
    console = _console()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(escape(label), total=total, note="")

        def advance(completed: float, note: str = "") -> None:
            bar.update(task, completed=completed, note=escape(note))

        yield advance


@contextmanager
def timed_progress(label: str, total_s: float, clock: Callable[[], float]) -> Iterator[None]:
    """A bar of elapsed seconds out of `total_s`, moved by a thread while the block runs.

    For work the harness waits on without seeing inside (a Locust subprocess). The thread
    exists only when the bar is shown, and stops when the block ends.

    Args:
        label: what runs (plain text).
        total_s: the expected seconds.
        clock: real monotonic seconds.
    """
    done = threading.Event()
    with progress(label, round(total_s)) as advance:
        started = clock()

        def tick() -> None:
            while not done.wait(_TICK_S):
                advance(min(total_s, clock() - started), "")

        thread = threading.Thread(target=tick, name="progress", daemon=True)
        if _console().is_terminal:
            thread.start()
        try:
            yield
        finally:
            done.set()
            if thread.is_alive():
                thread.join()
