"""Tests of harness.report._html: index.html is self-contained, escaped and verdict-first."""

from __future__ import annotations

from html.parser import HTMLParser

from harness.report import (
    CaseFinished,
    Event,
    HtmlReporter,
    LoadSummary,
    Outcome,
    SizingResult,
    Suite,
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


def test_sections_without_data_say_so(write_run: WriteRun) -> None:
    """An empty run keeps every section with a short note instead of dropping it."""
    outline = _outline(write_run, [])
    text = " ".join(outline.text)
    section_ids = [attrs.get("id") for tag, attrs in outline.body_tags if tag == "section"]
    assert section_ids == ["summary", "notes", "findings", "load", "sizing", "options"]
    for note in ("No suite ran.", "No fuzz findings.", "No load run", "No polling sizing"):
        assert note in text


def test_notes_and_findings_are_shown(write_run: WriteRun) -> None:
    """Notes rows are marked same/different and findings show their reproduction command."""
    outline = _outline(write_run, sample_events())
    notes = outline.with_class("tr", "note")
    assert [(attrs["class"] or "").split()[1] for attrs in notes] == ["same", "different"]
    assert "curl -X POST http://127.0.0.1:8080/trigger/start/demo/q/DEV" in outline.text
