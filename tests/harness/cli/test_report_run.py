"""Every run ends in a verdict, and `latest` names only a written report (issue 14).

`report_run` closes the report however its block ends (normally, Ctrl-C, `Terminated`, an
unexpected error), holds SIGINT/SIGTERM/SIGHUP while the files are written, and points
`latest` at the folder only once every file is written. `resolve_target` warns about the
file's other invalid targets without a secret.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from click.testing import CliRunner

from harness import Interrupted, Terminated, UsageError
from harness._targets import mock_target
from harness.cli import main
from harness.cli._edge import Edge, ReportedRun, report_run, resolve_target
from harness.report import Event, ReportFolder, read_latest, standard_reporters

START = datetime(2026, 6, 10, tzinfo=UTC)
CANARY = "canary-targets-KEY-5e1d"
_REPORTERS = "harness.cli._edge.standard_reporters"


def _edge_for(tmp_path: Path, **fields: Any) -> Edge:
    return Edge(environ={}, cwd=tmp_path, now=lambda: START, echo=lambda line: None, **fields)


def _results(run: ReportedRun) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run.folder.path / "results.json").read_text())
    return document


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """A report root whose `latest` names an earlier, written run."""
    root = tmp_path / "reports"
    earlier = ReportFolder.create(root, "contract", "mock", START)
    earlier.point_latest()
    return earlier.path.resolve()


def _open(tmp_path: Path) -> Any:
    return report_run(
        _edge_for(tmp_path),
        command="run",
        target=mock_target(),
        report_dir=Path("reports"),
        options={},
    )


def test_a_finished_run_becomes_latest(tmp_path: Path, previous: Path) -> None:
    """The written report's verdict is recorded and `latest` moves to it."""
    with _open(tmp_path) as run:
        run.exit_code = 1
    assert (run.verdict, _results(run)["verdict"]) == ("failed", "failed")
    assert read_latest(tmp_path / "reports") == run.folder.path.resolve() != previous


def test_ctrl_c_writes_an_interrupted_report_that_becomes_latest(tmp_path: Path) -> None:
    """Before: Ctrl-C left a report saying PASSED (exit 0)."""
    with pytest.raises(Interrupted), _open(tmp_path) as run:
        raise KeyboardInterrupt
    assert (_results(run)["verdict"], _results(run)["exit_code"]) == ("interrupted", 130)
    assert read_latest(tmp_path / "reports") == run.folder.path.resolve()


def test_sigterm_writes_an_interrupted_report_with_exit_143(tmp_path: Path) -> None:
    """`Terminated` (what SIGTERM/SIGHUP raise) is recorded as 143, `interrupted`."""
    with pytest.raises(Terminated), _open(tmp_path) as run:
        raise Terminated("terminated (SIGTERM)")
    assert (run.verdict, _results(run)["exit_code"]) == ("interrupted", 143)


def test_an_unexpected_error_is_never_reported_as_passed(tmp_path: Path) -> None:
    """A crash inside the command records `could not judge` (exit 4), not exit 0."""
    with pytest.raises(ZeroDivisionError), _open(tmp_path) as run:
        _ = 1 / 0
    assert (_results(run)["verdict"], _results(run)["exit_code"]) == ("could not judge", 4)


class _Failing:
    """A reporter whose writing fails."""

    def handle(self, event: Event) -> None:
        """Accept the event."""

    def close(self) -> None:
        """Fail to write."""
        raise OSError("disk full")


def test_a_report_whose_writing_failed_never_becomes_latest(
    tmp_path: Path, previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`latest` stays on the last written run when a reporter cannot write its file."""
    monkeypatch.setattr(_REPORTERS, lambda f: [*standard_reporters(f), _Failing()])
    with pytest.raises(OSError, match="disk full"), _open(tmp_path) as run:
        pass
    assert run.finished is None
    assert read_latest(tmp_path / "reports") == previous


@pytest.fixture
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises `Terminated`, as under the `trigger-harness` group."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated("terminated (SIGTERM)")

    before = signal.signal(signal.SIGTERM, terminate)
    yield
    signal.signal(signal.SIGTERM, before)


class _SignalledWhileWriting:
    """A reporter that receives SIGTERM while it writes."""

    def handle(self, event: Event) -> None:
        """Accept the event."""

    def close(self) -> None:
        """SIGTERM arrives mid-write."""
        signal.raise_signal(signal.SIGTERM)


@pytest.mark.usefixtures("sigterm_raises")
def test_a_signal_while_the_report_is_written_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM during the writing is acted on once every file is written and `latest` moved."""
    monkeypatch.setattr(_REPORTERS, lambda f: [_SignalledWhileWriting(), *standard_reporters(f)])
    with pytest.raises(Terminated), _open(tmp_path) as run:
        pass
    assert {"results.json", "junit.xml", "summary.md", "index.html"} <= {
        path.name for path in run.folder.path.iterdir()
    }
    assert read_latest(tmp_path / "reports") == run.folder.path.resolve()


TARGETS = f"""
[targets.good]
base_url = "http://127.0.0.1:9/api/v1/ai"
workspace_id = "ws-1"
environment = "DEV"
api_key_env = "GOOD_KEY"

[targets.pasted]
base_url = "{CANARY}"
workspace_id = "ws-1"
environment = "DEV"
api_key_env = "PASTED_KEY"

[targets.incomplete]
base_url = "http://127.0.0.1:9/api/v1/ai"
workspace_id = "ws-1"
"""


def test_other_invalid_targets_are_warnings_without_secrets(tmp_path: Path) -> None:
    """Before: one bad target stopped every command; now it is one warning line each."""
    path = tmp_path / "harness.toml"
    path.write_text(TARGETS)
    warnings: list[str] = []
    edge = Edge(
        environ={"GOOD_KEY": "good-key-1234", "PASTED_KEY": CANARY},
        cwd=tmp_path,
        echo=lambda line: None,
        warn=warnings.append,
    )
    target = resolve_target(edge, "good", path, starts_runs=True, allow_production=False)
    assert target.name == "good"
    assert [line[: line.index(" is skipped: ")] for line in warnings] == [
        "warning: target 'incomplete'",
        "warning: target 'pasted'",
    ]
    assert CANARY not in "\n".join(warnings)


def test_the_cli_prints_the_warnings_on_stderr(tmp_path: Path) -> None:
    """`contract --target mock` with a file holding invalid targets warns on stderr, runs."""
    (tmp_path / "harness.toml").write_text(TARGETS)
    edge = Edge(environ={"PASTED_KEY": CANARY}, cwd=tmp_path, echo=lambda line: None)
    result = CliRunner().invoke(
        main, ["contract", "--target", "mock", "--select", "auth.wrong_key.*"], obj=edge
    )
    assert result.exit_code == 0, result.output
    assert "warning: target 'incomplete' is skipped" in result.stderr
    assert "warning: target 'pasted' is skipped" in result.stderr
    assert CANARY not in result.output


def _open_echoing(tmp_path: Path, lines: list[str], secret: str = "") -> Any:
    return report_run(
        Edge(environ={}, cwd=tmp_path, now=lambda: START, echo=lines.append),
        command="load",
        target=mock_target(),
        report_dir=Path("reports"),
        options={},
        extra_secrets=(secret,),
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [(UsageError("no workers came"), 2), (RuntimeError("no workers came"), 4)],
)
def test_an_error_after_the_folder_exists_prints_the_report_line(
    tmp_path: Path, error: Exception, code: int
) -> None:
    """Before: exit 2/4 wrote a report and moved `latest` but printed no `report:` line, and
    summary.md gave no reason. Now both say it, the secret masked."""
    lines: list[str] = []
    secret = "admin-token-7f1c"
    failure = type(error)(f"{error} ({secret})")
    with pytest.raises(type(error)), _open_echoing(tmp_path, lines, secret) as run:
        raise failure
    assert lines == [f"report: {run.folder.path / 'index.html'}"]
    assert _results(run)["exit_code"] == code
    first = (run.folder.path / "summary.md").read_text().splitlines()[0]
    assert "no workers came" in first
    assert secret not in first


def test_a_normal_ending_leaves_the_report_line_to_the_command(tmp_path: Path) -> None:
    """A block that ends without an error prints nothing itself (the command does, once)."""
    lines: list[str] = []
    with _open_echoing(tmp_path, lines) as run:
        run.exit_code = 1
    assert lines == []
