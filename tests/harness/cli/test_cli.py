"""The `trigger-harness` command line: exit codes, messages, reports, redaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness._embedded import embedded_app
from harness.cli import main
from harness.cli._edge import Edge
from harness.cli._output import render_table
from mock_server import serve_in_thread

CANARY_KEY = "canary-cli-KEY-7f3a9c"


def _invoke(
    tmp_path: Path, args: list[str], environ: dict[str, str] | None = None
) -> tuple[int, str]:
    lines: list[str] = []
    edge = Edge(environ=environ or {}, cwd=tmp_path, echo=lines.append)
    result = CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    return result.exit_code, "\n".join(lines) + result.output


def _targets(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(body)
    return path


UNREACHABLE = """
[targets.dev]
base_url = "http://127.0.0.1:9/api/v1/ai"
workspace_id = "ws-1"
environment = "DEV"
api_key_env = "DEV_KEY"
background_trigger = "nightly"
"""


def test_contract_against_the_mock_passes_and_writes_a_report(tmp_path: Path) -> None:
    """`contract --target mock` exits 0 and writes junit.xml, results.json and index.html."""
    code, output = _invoke(tmp_path, ["contract", "--target", "mock", "--select", "auth"])
    assert code == 0, output
    assert "0 failed" in output
    folder = tmp_path / "reports" / "latest"
    assert {"junit.xml", "results.json", "index.html", "summary.md"} <= {
        p.name for p in folder.iterdir()
    }
    results = json.loads((folder / "results.json").read_text())
    assert results["schema_version"] == 1


def test_unknown_target_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    """An unknown --target exits 2 and the message lists the known targets."""
    code, output = _invoke(tmp_path, ["contract", "--target", "staging"])
    assert code == 2
    assert "'staging'" in output
    assert "mock" in output
    assert "Traceback" not in output


def test_missing_key_variable_is_exit_2_naming_the_variable(tmp_path: Path) -> None:
    """A target whose key variable is unset exits 2 and names the variable."""
    _targets(tmp_path, UNREACHABLE)
    code, output = _invoke(tmp_path, ["contract", "--target", "dev"])
    assert code == 2
    assert "DEV_KEY" in output


def test_bad_targets_file_is_exit_2_naming_the_key(tmp_path: Path) -> None:
    """A targets file with a bad value exits 2 and names the key."""
    _targets(tmp_path, UNREACHABLE.replace('environment = "DEV"', 'environment = "dev"'))
    code, output = _invoke(tmp_path, ["contract", "--target", "dev"], {"DEV_KEY": CANARY_KEY})
    assert code == 2
    assert "environment" in output


def test_unreachable_target_is_exit_3_and_never_shows_the_key(tmp_path: Path) -> None:
    """A target nobody listens on exits 3; neither output nor report holds the key."""
    _targets(tmp_path, UNREACHABLE)
    code, output = _invoke(tmp_path, ["contract", "--target", "dev"], {"DEV_KEY": CANARY_KEY})
    assert code == 3
    assert "could not connect" in output
    assert CANARY_KEY not in output
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path


def test_production_targets_are_refused_without_the_flag(tmp_path: Path) -> None:
    """A production target is refused (exit 2) by run-starting commands without the flag."""
    _targets(tmp_path, UNREACHABLE + "production = true\n")
    for command in ("contract", "fuzz", "size-polling"):
        code, output = _invoke(tmp_path, [command, "--target", "dev"], {"DEV_KEY": CANARY_KEY})
        assert code == 2, command
        assert "production" in output


def test_missing_required_flag_is_exit_2(tmp_path: Path) -> None:
    """Forgetting --target is a usage error with exit code 2."""
    code, output = _invoke(tmp_path, ["probe"])
    assert code == 2
    assert "--target" in output


def test_probe_prints_the_table_of_open_questions(tmp_path: Path) -> None:
    """`probe --target mock` prints one row per question with the mock's verdict."""
    code, output = _invoke(tmp_path, ["probe", "--target", "mock"])
    assert code == 0, output
    for question in ("A1", "A3", "A4", "A5", "A6", "A7", "A8", "A11", "A12", "A14", "A15"):
        assert question in output
    assert "different" not in output
    assert "not asked" not in output
    assert "may have started runs on mock" in output
    assert "A6 HTTP code of E2 / E4 [may start a run]" in output
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    assert results["notes"]


@pytest.mark.load
def test_run_json_summary_lists_every_stage(tmp_path: Path) -> None:
    """`run --json` prints one JSON object whose stages all held against the mock."""
    code, output = _invoke(tmp_path, ["run", "--json"])
    assert code == 0, output
    summary = json.loads(output.strip().splitlines()[-1])
    assert [stage["name"] for stage in summary["stages"]] == [
        "contract",
        "probe",
        "fuzz",
        "load",
        "sizing",
    ]
    assert all(stage["ok"] for stage in summary["stages"])
    assert Path(summary["report"]).is_file()


def test_an_unusable_report_dir_is_a_usage_error_naming_the_flag(tmp_path: Path) -> None:
    """A --report-dir that cannot be created exits 2 and names the flag, without a traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, output = _invoke(
        tmp_path, ["probe", "--target", "mock", "--report-dir", str(blocker / "x")]
    )
    assert code == 2
    assert "--report-dir" in output
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The embedded mock served on a real 127.0.0.1 socket (it answers under both prefixes)."""
    with serve_in_thread(embedded_app()) as base_url:
        yield base_url


def _served_target(tmp_path: Path, base_url: str, extra: str = "") -> None:
    _targets(
        tmp_path,
        f"""
[targets.dev]
base_url = "{base_url}"
workspace_id = "demo"
environment = "DEV"
api_key_env = "DEV_KEY"
sync_trigger = "quick-answer"
background_trigger = "nightly-report"
jira_trigger = "jira-triage"
{extra}""",
    )


@pytest.mark.socket
def test_a_base_url_without_the_gateway_prefix_is_exit_3_naming_it(
    tmp_path: Path, served: str
) -> None:
    """`/api/v1` instead of `/api/v1/ai` (every path a generic 404): exit 3 naming base_url, no
    case run and no FAILED banner (it was 18 failures and a red FAILED before)."""
    _served_target(tmp_path, f"{served}/api/v1")
    code, output = _invoke(tmp_path, ["contract", "--target", "dev"], {"DEV_KEY": "demo-key"})
    assert code == 3, output
    assert "does not lead to the trigger API" in output
    assert f"'{served}/api/v1'" in output
    assert "FAILED" not in output
    assert "demo-key" not in output


@pytest.mark.socket
@pytest.mark.parametrize(
    "command",
    [
        ["contract"],
        ["probe"],
        ["fuzz", "--max-examples", "1"],
        ["load", "--scenario", "background", "--duration", "1s"],
        ["size-polling", "--flows", "1"],
    ],
    ids=lambda command: command[0],
)
def test_a_refused_key_is_exit_3_on_every_command(
    tmp_path: Path, served: str, command: list[str]
) -> None:
    """A key the target refuses is exit 3 naming its variable, on every command (probe was exit
    0 with every row "different", load exit 1), and the key is shown nowhere."""
    _served_target(tmp_path, f"{served}/api/v1/ai")
    code, output = _invoke(tmp_path, [*command, "--target", "dev"], {"DEV_KEY": CANARY_KEY})
    assert code == 3, output
    assert "refused the configured key (environment variable DEV_KEY)" in output
    assert "different" not in output
    assert CANARY_KEY not in output
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert CANARY_KEY.encode() not in path.read_bytes(), path


@pytest.mark.socket
def test_probe_on_production_asks_only_questions_that_start_nothing(
    tmp_path: Path, served: str
) -> None:
    """On a production target without the flag, the probe runs, and every question that may
    start a run is reported as not asked."""
    _served_target(tmp_path, f"{served}/api/v1/ai", "production = true\n")
    code, output = _invoke(tmp_path, ["probe", "--target", "dev"], {"DEV_KEY": "demo-key"})
    assert code == 0, output
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    skipped = {case["case_id"] for case in results["cases"] if case["outcome"] == "skipped"}
    assert skipped == {f"probe.{q}" for q in ("A1", "A5", "A6", "A7", "A11", "A12", "A14")}


def test_tables_show_brackets_from_a_target_as_written() -> None:
    """Text in a table cell such as `[bold]` or `["body"]` is shown, never read as markup."""
    table = render_table("t", ["c"], [['[bold]x[/bold] ["body", "user_variables"]']])
    assert '[bold]x[/bold] ["body", "user_variables"]' in table


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["contract", "--target", "mock", "--select", "auth"], id="contract"),
        pytest.param(
            ["size-polling", "--target", "mock", "--flows", "2", "--intervals", "fixed:5",
             "--seed", "1"],
            id="size-polling",
        ),
        pytest.param(
            ["load", "--target", "mock", "--scenario", "sync", "--users", "1", "--duration",
             "2s", "--seed", "1"],
            id="load",
            marks=pytest.mark.load,
        ),
        pytest.param(
            ["fuzz", "--target", "mock", "--max-examples", "1", "--seed", "1"], id="fuzz"
        ),
    ],
)  # fmt: skip
def test_every_command_prints_its_report_path_the_same_way(tmp_path: Path, args: list[str]) -> None:
    """The last line a report-writing command echoes is `report: <folder>/index.html`, and the
    file is there."""
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    assert lines, "the command echoed nothing"
    assert lines[-1].startswith("report: "), lines
    index = Path(lines[-1].removeprefix("report: "))
    assert index.name == "index.html"
    assert index.is_file()
    assert index.parent == (tmp_path / "reports" / "latest").resolve()
