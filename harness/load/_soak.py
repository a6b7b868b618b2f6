"""The soak's own settings and its verdict.

`scenarios/soak.py` starts its own `flaky` mock process and judges the run itself, writing its
figures and verdict to `soak.json`. Its options (`SOAK_OPTIONS`) are declared once, here, on
`SoakSettings`: the harness writes them (`to_arguments`), the locustfile declares and reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ._locust import LoadResult
from ._options import check_count, check_number, option, options_of, read, render

__all__ = ["SOAK_OPTIONS", "SOAK_REPORT", "SoakSettings", "soak_verdict"]

SOAK_REPORT: Final = "soak.json"
_RETENTION_BOUNDS_S: Final = (60.0, 3600.0)
_RETENTION_SHARE: Final = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakSettings:
    """The soak's mock (its speed and retention, or the pid of one at `--host`) and report."""

    soak_time_scale: float = field(default=300.0, metadata=option(float, "own mock's scale"))
    soak_retention_s: float = field(
        default=3600.0, metadata=option(float, "own mock's retention (virtual s)")
    )
    mock_pid: int = field(default=0, metadata=option(int, "pid of the mock at --host"))
    soak_report: str | None = field(
        default=None, metadata=option(str, "write the verdict as JSON here", blank_is_none=True)
    )

    def __post_init__(self) -> None:
        check_number("soak_time_scale", self.soak_time_scale, above_zero=True)
        check_number("soak_retention_s", self.soak_retention_s, above_zero=True)
        check_count("mock_pid", self.mock_pid, low=0)

    @classmethod
    def for_run(cls, *, duration_s: float, time_scale: float, out_dir: Path) -> SoakSettings:
        """The soak of a `load` run: its mock at `time_scale`, a retention short enough to
        apply within the run (a quarter of it, in virtual seconds, within 60 s-1 h), and its
        JSON in `out_dir`.

        Args:
            duration_s: the run's length (real seconds).
            time_scale: the soak mock's virtual seconds per real second.
            out_dir: the report folder.
        """
        low, high = _RETENTION_BOUNDS_S
        retention = min(high, max(low, duration_s * time_scale * _RETENTION_SHARE))
        return cls(
            soak_time_scale=time_scale,
            soak_retention_s=retention,
            soak_report=str(out_dir / SOAK_REPORT),
        )

    @classmethod
    def from_options(cls, parsed: object) -> SoakSettings:
        """The settings the soak locustfile was started with (Locust's parsed options)."""
        return cls(**read(parsed, SOAK_OPTIONS))

    def to_arguments(self) -> tuple[str, ...]:
        """The soak locustfile's arguments for these settings."""
        return render(self, SOAK_OPTIONS)


SOAK_OPTIONS: Final = options_of(SoakSettings)
"""The soak locustfile's own Locust options."""


def soak_verdict(result: LoadResult) -> tuple[bool, str]:
    """Whether the soak held, and its line (`soak held: lost runs: 0, ...`) from `soak.json`.

    A missing or unreadable `soak.json`, or a Locust exit code other than 0, fails the soak.
    """
    path = result.out_dir / SOAK_REPORT
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
        passed, line = bool(figures["passed"]), str(figures["line"])
    except (OSError, ValueError, KeyError, TypeError):
        tail = f"see {result.out_dir / 'locust-0.log'}"
        return False, f"soak FAILED: it wrote no readable {SOAK_REPORT} ({tail})"
    held = passed and result.exit_code == 0
    text = line.replace("soak:", "soak held:" if held else "soak FAILED:", 1)
    if passed and not held:
        text += f" (locust exited with {result.exit_code})"
    return held, text
