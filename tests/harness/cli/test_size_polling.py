"""`size-polling`: the three-way table, the files beside the report, `--duration-dist` errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.cli._edge import Edge


def _invoke(tmp_path: Path, args: list[str]) -> tuple[int, str]:
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    result = CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    return result.exit_code, "\n".join(lines) + result.output


def test_size_polling_writes_the_three_ways_and_the_plots(tmp_path: Path) -> None:
    """On the mock: each candidate computed, simulated and measured is printed, and sizing.md,
    sizing.png and sizing.svg are written beside the report with the recommendation."""
    code, output = _invoke(
        tmp_path,
        ["size-polling", "--target", "mock", "--flows", "6", "--seed", "4",
         "--intervals", "fixed:5,exponential:2,retry_after:5",
         "--duration-dist", "uniform:min_s=20,max_s=40"],
    )  # fmt: skip
    assert code in (0, 1), output
    assert "three ways" in output
    assert "(no closed form)" in output
    assert "run durations (models): uniform:min_s=20,max_s=40" in output
    latest = tmp_path / "reports" / "latest"
    table = (latest / "sizing.md").read_text()
    assert "| fixed 5s | computed |" in table
    assert "| retry_after 5s | measured |" in table
    assert "Recommendation: " in table
    assert (latest / "sizing.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (latest / "sizing.svg").read_bytes()[:500]


def test_a_bad_duration_dist_is_exit_2_naming_the_flag(tmp_path: Path) -> None:
    """A malformed distribution stops before any run: exit 2, the flag named, no traceback."""
    code, output = _invoke(
        tmp_path, ["size-polling", "--target", "mock", "--duration-dist", "lognormal:median_s=20"]
    )
    assert code == 2
    assert "--duration-dist: lognormal needs sigma" in output
    assert "Traceback" not in output
    assert not (tmp_path / "reports").exists()


def test_degenerate_distributions_size_as_fixed_and_no_retry_after_note(tmp_path: Path) -> None:
    """`uniform` with min_s = max_s (the mock accepts it) sizes like `fixed:20` instead of
    crashing; the Retry-After note is printed only when a retry_after candidate was asked."""
    code, output = _invoke(
        tmp_path,
        ["size-polling", "--target", "mock", "--flows", "3", "--seed", "1",
         "--intervals", "fixed:5", "--duration-dist", "uniform:min_s=20,max_s=20"],
    )  # fmt: skip
    assert code == 0, output
    assert "Traceback" not in output
    assert "retry_after behaves" not in output


def test_a_duplicate_duration_key_is_exit_2(tmp_path: Path) -> None:
    """`fixed:30,s=40` is refused, naming the flag, before any run."""
    code, output = _invoke(
        tmp_path, ["size-polling", "--target", "mock", "--duration-dist", "fixed:30,s=40"]
    )
    assert code == 2
    assert "--duration-dist: s given twice" in output
