"""The sizing three ways in the report: index.html, results.json and summary.md all carry the
computed/simulated/measured table from one `SizingThreeWay` event (the one sizing.md is
rendered from)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness._targets import mock_target
from harness.cli import main
from harness.cli._edge import Edge, report_run
from harness.cli._run import _sizing, job_plan
from harness.load import parse_candidates
from harness.report import (
    RunRecord,
    SizingFigures,
    SizingThreeWay,
    ThreeWayRow,
    render_html,
    render_markdown,
    results_document,
)

_FIGURES = SizingFigures(
    status_rps=2.0, polls_per_flow=4.5, mean_delay_s=2.5, p95_delay_s=4.75, max_delay_s=5.0
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of `size-polling` on the embedded mock: 4 flows, two candidates."""
    root = tmp_path_factory.mktemp("sizing")
    edge = Edge(environ={}, cwd=root, echo=lambda _: None)
    args = ["size-polling", "--target", "mock", "--flows", "4", "--seed", "3",
            "--intervals", "fixed:5,exponential:2", "--duration-dist", "fixed:30"]  # fmt: skip
    result = CliRunner().invoke(main, args, obj=edge, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return (root / "reports" / "latest").resolve()


def test_index_html_shows_the_three_columns_the_gaps_and_links_the_plots(report: Path) -> None:
    """A three-way section: computed, simulated and measured columns, the gap to the model,
    the recommendation and links to sizing.png, sizing.svg and sizing.md."""
    page = (report / "index.html").read_text()
    section = page[page.index('<article class="sizing three-way">') :]
    header = "<th>computed</th><th>simulated</th><th>measured</th><th>gap</th>"
    assert header in section
    for name in ("sizing.png", "sizing.svg", "sizing.md"):
        assert f'<a href="{name}">{name}</a>' in section
        assert (report / name).is_file()
    assert "vs computed" in section  # fixed 5 s: judged against its closed form
    assert "vs simulated" in section  # exponential: no closed form, judged by the simulation
    assert "no closed form" in section
    assert "Recommendation: " in section


def test_results_json_holds_the_three_way_rows(report: Path) -> None:
    """results.json: per schedule the three sources' figures, the reference and the gaps."""
    [table] = json.loads((report / "results.json").read_text())["sizing_three_way"]
    fixed, backoff = table["rows"]
    assert (fixed["schedule"], backoff["schedule"]) == ("fixed 5s", "exponential 2s")
    assert fixed["reference"] == "computed"
    assert backoff["reference"] == "simulated"
    assert backoff["computed"] is None
    assert fixed["computed"]["status_rps"] == pytest.approx(4 / 5)  # R = C/T
    assert fixed["seen"] + fixed["lost"] == 4
    measured = fixed["measured"]
    gap = fixed["gaps"]["status_rps"]
    assert gap == pytest.approx(measured["status_rps"] / fixed["computed"]["status_rps"] - 1)
    assert table["files"] == ["sizing.md", "sizing.png", "sizing.svg"]
    assert table["durations"] == "fixed:s=30"
    assert table["flows"] == 4


def test_summary_md_shows_the_recommendation_once(report: Path) -> None:
    """summary.md: the recommendation that sizing.md ends with, once, and the three-way line."""
    summary = (report / "summary.md").read_text()
    table = (report / "sizing.md").read_text()
    recommendation = re.search(r"^Recommendation: (.+)$", table, re.MULTILINE)
    assert recommendation is not None
    assert summary.count(recommendation.group(1)) == 1
    assert "Computed, simulated, measured: 2 schedules" in summary
    assert "`sizing.png`" in summary


def _table(text: str, **row: Any) -> SizingThreeWay:
    fields: dict[str, Any] = {
        "schedule": "fixed 5s",
        "strategy": "fixed",
        "interval_s": 5.0,
        "computed": _FIGURES,
        "simulated": _FIGURES,
        "measured": _FIGURES,
        "reference": "computed",
        "gaps": {"status_rps": 0.0, "polls_per_flow": math.nan, "mean_delay_s": math.inf},
        "seen": 4,
        "lost": 0,
        "failed": 0,
        "notes": text,
    } | row
    return SizingThreeWay(
        rows=(ThreeWayRow(**fields),), recommendation=text, durations="fixed:s=30", flows=4
    )


def _record(table: SizingThreeWay) -> RunRecord:
    record = RunRecord()
    record.add(table)
    return record


def test_target_text_is_display_safe_in_every_sink() -> None:
    """Controls and bidi characters in a recommendation or note are shown as escapes in
    index.html and summary.md, and Markdown in them is not rendered."""
    hostile = "run \x1b[31m\u202eevil [x](http://e.example) <b>"
    record = _record(_table(hostile))
    page = render_html(record)
    summary = render_markdown(record)
    for text in (page, summary):
        assert "\x1b" not in text
        assert "\u202e" not in text
    assert "<b>" not in page
    assert "[x](http" not in summary
    assert "\\x1b" in summary


def test_unknown_gaps_are_null_in_json_and_blank_in_html() -> None:
    """A gap or figure that is NaN or infinite is null in results.json (valid JSON) and
    shown as no gap in index.html."""
    unmeasured = SizingFigures(
        status_rps=math.inf, polls_per_flow=0.0, mean_delay_s=math.inf, p95_delay_s=math.inf,
        max_delay_s=math.inf,
    )  # fmt: skip
    record = _record(_table("t", measured=unmeasured))
    [table] = results_document(record)["sizing_three_way"]
    [row] = table["rows"]
    assert row["gaps"] == {"status_rps": 0.0, "polls_per_flow": None, "mean_delay_s": None}
    assert row["measured"]["status_rps"] is None
    json.dumps(results_document(record), allow_nan=False)
    page = render_html(record)
    assert "unmeasured" in page
    assert "+0.0% vs computed" in page
    assert "nan%" not in page


def test_the_main_jobs_sizing_stage_writes_the_three_ways_too(tmp_path: Path) -> None:
    """`run`'s sizing stage writes sizing.md/png/svg and puts the three-way table in its
    report, as `size-polling` does (the same `write_sizing_files`)."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda _: None)
    target = mock_target()
    plan = job_plan(target, max_runs=None, allow_production=False)
    small = parse_candidates("fixed:5,exponential:2")
    plan = dataclasses.replace(
        plan, sizing=dataclasses.replace(plan.sizing, candidates=small, flows=3)
    )
    with report_run(
        edge, command="run", target=target, report_dir=tmp_path / "reports", options={}
    ) as run:
        stage = _sizing(run, edge, plan)
    assert stage.name == "sizing"
    [table] = json.loads((run.folder.path / "results.json").read_text())["sizing_three_way"]
    assert [row["schedule"] for row in table["rows"]] == ["fixed 5s", "exponential 2s"]
    assert table["recommendation"] == stage.summary
    for name in table["files"]:
        assert (run.folder.path / name).is_file()
    assert table["files"] == ["sizing.md", "sizing.png", "sizing.svg"]
