"""Tests of harness.report._html: index.html is self-contained, escaped and verdict-first."""

from __future__ import annotations

from html.parser import HTMLParser

from harness.report import (
    SECTIONS,
    CaseFinished,
    Event,
    FuzzFinding,
    HtmlReporter,
    LoadStatsRow,
    LoadSummary,
    NoteRecorded,
    Outcome,
    SizingResult,
    SizingRow,
    Suite,
    SuiteStarted,
)

from .conftest import WriteRun, make_exchange, sample_events


class Outline(HTMLParser):
    """Collects the tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.body_tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_body = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
        elif self.in_body:
            self.body_tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, tag: str, css_class: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.body_tags
            if name == tag and css_class in (attrs.get("class") or "").split()
        ]


def _without_charts(events: list[Event]) -> list[Event]:
    """The events minus load and sizing, whose charts are slow to draw."""
    return [event for event in events if not isinstance(event, LoadSummary | SizingResult)]


def _outline(write_run: WriteRun, events: list[Event], *, charts: bool = False) -> Outline:
    folder = write_run(events if charts else _without_charts(events), only=HtmlReporter)
    parser = Outline()
    parser.feed((folder.path / "index.html").read_text(encoding="utf-8"))
    return parser


def test_verdict_is_the_first_element(write_run: WriteRun) -> None:
    """The first element in the body is the verdict header, classed by the verdict."""
    outline = _outline(write_run, sample_events(exit_code=1))
    tag, attrs = outline.body_tags[0]
    assert tag == "header"
    assert attrs["id"] == "verdict"
    assert "failed" in (attrs["class"] or "").split()


def test_one_table_row_per_contract_check(write_run: WriteRun) -> None:
    """The contract table has a row per case, classed by its outcome."""
    outline = _outline(write_run, sample_events())
    rows = [
        attrs
        for attrs in outline.with_class("tr", "case")
        if (attrs.get("id") or "").startswith("case-contract-")
    ]
    assert [(attrs["class"] or "").split()[1] for attrs in rows] == ["passed", "failed", "skipped"]


def test_charts_are_embedded_and_nothing_is_fetched(write_run: WriteRun) -> None:
    """Load and sizing charts are data: URIs and no src or href leaves the page."""
    outline = _outline(write_run, sample_events(), charts=True)
    images = [attrs["src"] or "" for tag, attrs in outline.body_tags if tag == "img"]
    assert len(images) == 2
    assert all(src.startswith("data:image/png;base64,") for src in images)
    links = [
        value or ""
        for _, attrs in outline.body_tags
        for name, value in attrs.items()
        if name in {"src", "href"}
    ]
    assert not [link for link in links if link.startswith(("http:", "https:", "//"))]


def test_evidence_is_escaped_and_pretty_printed(write_run: WriteRun) -> None:
    """A hostile body is shown as text, JSON bodies are indented, and long bodies are cut."""
    hostile = CaseFinished(
        suite=Suite.CONTRACT,
        case_id="x",
        title="<script>alert(1)</script>",
        outcome=Outcome.FAILED,
        evidence=(
            make_exchange(response_body=b'{"detail": "<img src=x onerror=alert(1)>"}'),
            make_exchange(response_body=b"y" * 10_000),
        ),
    )
    folder = write_run(_without_charts(sample_events(extra=[hostile])), only=HtmlReporter)
    page = (folder.path / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "{\n  &#34;detail&#34;: &#34;&lt;img src=x onerror=alert(1)&gt;&#34;\n}" in page
    assert "6000 more characters not shown" in page


def test_sections_come_in_order_and_the_contents_link_them(write_run: WriteRun) -> None:
    """Sections follow the reading order (contract first) and the table of contents links each."""
    outline = _outline(write_run, sample_events())
    section_ids = [attrs.get("id") for tag, attrs in outline.body_tags if tag == "section"]
    assert section_ids == [section_id for section_id, _ in SECTIONS]
    assert section_ids[:2] == ["contract", "fuzz"]
    nav_links = [
        attrs.get("href")
        for tag, attrs in outline.body_tags
        if tag == "a" and (attrs.get("href") or "").startswith("#")
    ]
    assert all(f"#{section_id}" in nav_links for section_id in section_ids)


def test_sections_without_data_say_so(write_run: WriteRun) -> None:
    """An empty run keeps every section with a short note instead of dropping it."""
    outline = _outline(write_run, [])
    text = " ".join(outline.text)
    section_ids = [attrs.get("id") for tag, attrs in outline.body_tags if tag == "section"]
    assert section_ids == ["contract", "fuzz", "load", "sizing", "probe", "options"]
    for note in (
        "The contract suite did not run.",
        "the fuzzer did not run",
        "No load run",
        "No polling sizing",
        "run the probe",
    ):
        assert note in text


def test_banner_links_each_failing_case_to_its_row(write_run: WriteRun) -> None:
    """The verdict banner lists the failing cases, each linking to an existing row id."""
    outline = _outline(write_run, sample_events())
    ids = {attrs.get("id") for _, attrs in outline.body_tags}
    problem_links = [
        attrs.get("href") or ""
        for tag, attrs in outline.body_tags
        if tag == "a" and (attrs.get("href") or "").startswith("#case-")
    ]
    assert problem_links == ["#case-contract-2", "#case-fuzz-1"]
    assert all(link[1:] in ids for link in problem_links)


def test_failing_evidence_is_collapsed_under_details(write_run: WriteRun) -> None:
    """A violation's exchanges sit in a closed <details> inside the failed case's row."""
    folder = write_run(_without_charts(sample_events()), only=HtmlReporter)
    page = (folder.path / "index.html").read_text(encoding="utf-8")
    row = page[
        page.index('id="case-contract-2"') : page.index("</tr>", page.index('id="case-contract-2"'))
    ]
    assert '<details class="exchange">' in row
    assert "Envelope misses a field" in row
    assert "<pre" in row


def test_probe_table_puts_the_documented_default_next_to_the_observation(
    write_run: WriteRun,
) -> None:
    """A probe case is joined with its note; notes from other suites go to their own table."""
    probe: list[Event] = [
        SuiteStarted(suite=Suite.PROBE),
        CaseFinished(
            suite=Suite.PROBE,
            case_id="probe.A3",
            title="A3: Unknown workflow",
            outcome=Outcome.PASSED,
            message="HTTP 404 after a day",
            evidence=(make_exchange(status_code=404),),
        ),
        NoteRecorded(
            question_id="A3",
            title="Unknown workflow",
            observed="HTTP 404 after a day",
            mock_default="404 Workflow not found",
            same=False,
        ),
        CaseFinished(
            suite=Suite.PROBE,
            case_id="probe.A1",
            title="A1: E1 past its limit",
            outcome=Outcome.SKIPPED,
            skip_reason="no slow trigger named",
        ),
    ]
    outline = _outline(write_run, sample_events(extra=probe))
    rows = outline.with_class("tr", "note")
    assert [(attrs["class"] or "").split()[1] for attrs in rows] == [
        "different",
        "skipped",
        "same",
        "different",
    ]
    text = " ".join(outline.text)
    assert "404 Workflow not found" in text
    assert "not asked: no slow trigger named" in text
    assert "Observed during the other suites (2)" in text


def test_findings_show_their_reproduction_command(write_run: WriteRun) -> None:
    """A fuzz finding shows its curl command in a monospace block and its answer as evidence."""
    outline = _outline(write_run, sample_events())
    assert outline.with_class("pre", "command")
    assert "curl -X POST http://127.0.0.1:8080/trigger/start/demo/q/DEV" in outline.text
    assert outline.with_class("article", "finding")


def test_sizing_marks_the_recommended_schedule(write_run: WriteRun) -> None:
    """The sizing table names each row's strategy, marks the pick and states the budget."""
    sizing = SizingResult(
        rows=(
            SizingRow(interval_s=5, status_rps=20, mean_delay_s=2.5, p95_delay_s=4.8),
            SizingRow(
                interval_s=10, status_rps=10, mean_delay_s=5, p95_delay_s=9.6, recommended=True
            ),
            SizingRow(
                strategy="exponential", interval_s=2, status_rps=12, mean_delay_s=4, p95_delay_s=11
            ),
        ),
        recommendation="fixed 10s: 10 status requests/s",
        max_delay_s=10,
    )
    folder = write_run([sizing], only=HtmlReporter)
    outline = Outline()
    outline.feed((folder.path / "index.html").read_text(encoding="utf-8"))
    assert len(outline.with_class("tr", "recommended")) == 1
    text = " ".join(outline.text)
    assert "Recommendation: fixed 10s: 10 status requests/s" in text
    assert "exponential" in text
    assert "delay surely stays within 10 s" in text
    assert "recommended" in text


def test_sizing_states_the_delay_resolution_and_shows_bounds(write_run: WriteRun) -> None:
    """Delays known within bounds show both ends, and the resolution is stated."""
    sizing = SizingResult(
        rows=(
            SizingRow(
                interval_s=1, status_rps=50, mean_delay_s=0.93, p95_delay_s=1.2,
                mean_delay_low_s=0.12, p95_delay_low_s=0.4, artefacts=2,
            ),
        ),
        recommendation="no candidate meets a p95 delay of 0.5 s",
        max_delay_s=0.5,
        delay_resolution="run ends from log times in whole seconds",
    )  # fmt: skip
    folder = write_run([sizing], only=HtmlReporter)
    outline = Outline()
    outline.feed((folder.path / "index.html").read_text(encoding="utf-8"))
    text = " ".join(outline.text)
    assert "Delay resolution: run ends from log times in whole seconds" in text
    assert "0.12-0.93" in text
    assert "0.40-1.20" in text


def test_load_totals_count_http_requests_not_flow_metrics(write_run: WriteRun) -> None:
    """Flow metrics are listed apart and left out of the request and failure totals."""
    load = LoadSummary(
        scenario="mixed",
        stats=(
            LoadStatsRow(
                name="GET E3 status", requests=90, failures=3, p50_ms=2, p95_ms=5, p99_ms=8, rps=9
            ),
            LoadStatsRow(
                name="FLOW background: end-to-end (target ms)",
                requests=7,
                failures=0,
                p50_ms=144_000,
                p95_ms=276_000,
                p99_ms=282_000,
                rps=0.7,
            ),
        ),
    )
    outline = _outline(write_run, [load], charts=True)
    text = " ".join(" ".join(outline.text).split())
    assert "90 requests" in text
    assert "3 failures (3.33%)" in text
    assert "5 ms worst p95" in text
    assert "Flow metrics (1)" in text
    assert len(outline.with_class("table", "flows")) == 1


_HOSTILE = "boom \x1b]0;title\x07 \x1b[2J \x00 \x07 \u202e\u2066 end\r"
_RAW = ("\x1b", "\x07", "\x00", "\u202e", "\u2066", "\r")


def test_every_interpolation_shows_controls_as_escapes(write_run: WriteRun) -> None:
    """A target's controls and bidi characters, wherever they land (case message, violation,
    evidence head and body, finding, note, options), are escapes; the templates' own markup
    (macros) is left whole and the bodies keep their lines."""
    hostile_body = ('{"detail": "' + _HOSTILE + '"}\nsecond line').encode()
    exchange = make_exchange(
        status_code=500, response_body=hostile_body, url=f"http://127.0.0.1/x?{_HOSTILE}"
    )
    hostile: list[Event] = [
        CaseFinished(
            suite=Suite.CONTRACT,
            case_id="hostile",
            title=f"title {_HOSTILE}",
            outcome=Outcome.ERROR,
            message=f"message {_HOSTILE}",
            evidence=(exchange,),
        ),
        FuzzFinding(
            title=f"finding {_HOSTILE}",
            input_repr=_HOSTILE,
            response=exchange,
            reproduction=f"curl {_HOSTILE}",
            message=_HOSTILE,
        ),
        NoteRecorded(
            question_id="A3",
            title=_HOSTILE,
            observed=_HOSTILE,
            mock_default="404",
            same=False,
        ),
    ]
    folder = write_run(_without_charts(sample_events(extra=hostile)), only=HtmlReporter)
    page = (folder.path / "index.html").read_text(encoding="utf-8")
    assert not set(_RAW) & set(page)
    assert page.count("\\x1b]0;title\\x07 \\x1b[2J \\x00 \\x07 \\u202e\\u2066 end\\x0d") >= 10
    assert '<details class="exchange">' in page
    assert "second line</pre>" in page
