"""Scenarios and shapes: the locustfile of a scenario, what it needs, and users over time.

Pure helpers shared with the locustfiles (`scenarios/_shapes.py` asks `shape_at` how many users
to run) and tested without Locust.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Final

from .._exceptions import UsageError
from ._options import Option

__all__ = [
    "DEFAULT_SHAPE",
    "SCENARIOS",
    "SCENARIO_TRIGGERS",
    "SHAPES",
    "SHAPE_OPTION",
    "SOAK",
    "parse_timespan",
    "scenario_file",
    "shape_at",
]

SCENARIOS: Final = ("sync", "background", "mixed", "jira-burst", "bad-key-storm", "soak")
SOAK: Final = "soak"
SCENARIO_TRIGGERS: Final = {
    "sync": ("sync_trigger",),
    "background": ("background_trigger",),
    "mixed": ("sync_trigger", "background_trigger", "jira_trigger"),
    "jira-burst": ("jira_trigger",),
    "bad-key-storm": (),
    SOAK: ("sync_trigger", "background_trigger", "jira_trigger"),
}
"""The target fields each scenario needs set."""
SHAPES: Final = ("constant", "ramp", "step", "spike", "soak")
DEFAULT_SHAPE: Final = "constant"
SHAPE_OPTION: Final = Option(
    name="shape",
    kind=str,
    default=DEFAULT_SHAPE,
    choices=SHAPES,
    help="Load shape over -t: constant, ramp, step, spike or soak (peak users: -u)",
)
"""`--shape`: passed by the harness, declared by `scenarios/_shapes.py`."""
_DEFAULT_SHAPE_DURATION_S: Final = 60.0
_STEPS: Final = 4
_SPIKE_WINDOW: Final = (0.4, 0.6)
_SOAK_RAMP_SHARE: Final = 0.1
_TIMESPAN = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def scenario_file(name: str, root: Path) -> Path:
    """The locustfile of scenario `name` (`jira-burst` -> `scenarios/jira_burst.py`).

    Args:
        name: one of `SCENARIOS`.
        root: the project directory holding `scenarios/`.
    """
    if name not in SCENARIOS:
        raise UsageError(f"--scenario: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    path = root / "scenarios" / f"{name.replace('-', '_')}.py"
    if not path.is_file():
        raise UsageError(f"--scenario: locustfile {str(path)!r} does not exist")
    return path


def parse_timespan(text: str) -> float:
    """Seconds in `90`, `60s`, `2m`, `1h30m` (Locust's `-t` syntax).

    Args:
        text: the `--duration` value.
    """
    value = text.strip().lower()
    match = _TIMESPAN.fullmatch(value)
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
    elif value and match is not None and any(match.groups()):
        hours, minutes, secs = (float(group or 0) for group in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise UsageError(f"--duration: expected a time like 60s, 2m or 1h30m, got {text!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"--duration: must be more than 0 s, got {text!r}")
    return seconds


def shape_at(
    shape: str, elapsed_s: float, *, users: int, spawn_rate: float, duration_s: float | None
) -> tuple[int, float] | None:
    """Users and spawn rate a shape asks for `elapsed_s` into the run; None when it is over.

    Args:
        shape: `constant` (-u at -r), `ramp` (0 to -u linearly), `step` (4 equal steps),
            `spike` (a fifth of -u, then -u in the middle fifth), `soak` (reach -u in the
            first tenth, then hold).
        elapsed_s: seconds since the run began.
        users: the peak number of users (-u).
        spawn_rate: users started per second (-r).
        duration_s: the run time (-t); 60 s when None.
    """
    duration = duration_s or _DEFAULT_SHAPE_DURATION_S
    if elapsed_s >= duration:
        return None
    share = elapsed_s / duration
    peak = max(1, users)
    if shape == "constant":
        return peak, spawn_rate
    if shape == "ramp":
        return max(1, math.ceil(peak * share)), max(spawn_rate, peak / duration)
    if shape == "step":
        step = min(_STEPS, int(share * _STEPS) + 1)
        return max(1, math.ceil(peak * step / _STEPS)), max(spawn_rate, float(peak))
    if shape == "spike":
        low, high = _SPIKE_WINDOW
        in_spike = low <= share < high
        return (peak if in_spike else max(1, peak // 5)), max(spawn_rate, float(peak))
    if shape == "soak":
        return peak, max(spawn_rate, peak / (duration * _SOAK_RAMP_SHARE))
    raise UsageError(f"--shape: unknown shape {shape!r}; known: {', '.join(SHAPES)}")
