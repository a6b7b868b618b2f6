"""Tests of scripts/browser_check.py's page checks (the parts that need no browser)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from harness.report import HtmlReporter

from .conftest import WriteRun, sample_events

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "browser_check.py"


@pytest.fixture(scope="module")
def browser_check() -> ModuleType:
    """The script, loaded as a module."""
    spec = importlib.util.spec_from_file_location("browser_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rendered_report_references_nothing_outside_itself(
    browser_check: ModuleType, write_run: WriteRun
) -> None:
    """A full report (charts included) passes the external-reference check."""
    folder = write_run(sample_events(), only=HtmlReporter)
    page = (folder.path / "index.html").read_text(encoding="utf-8")
    assert browser_check.external_references(page) == []


def test_remote_and_fetched_references_are_reported(browser_check: ModuleType) -> None:
    """Remote images, stylesheets, scripts and off-page links are each named."""
    page = (
        '<html><head><link rel="stylesheet" href="style.css"></head><body>'
        '<img src="https://example.com/x.png"><a href="#ok">in page</a>'
        '<a href="results.json">sibling</a><a href="//cdn.example/x">cdn</a>'
        '<script src="app.js"></script><img src="data:image/png;base64,AAAA"></body></html>'
    )
    assert browser_check.external_references(page) == [
        "<link> tag='style.css'",
        "<img> src='https://example.com/x.png'",
        "<a> href='//cdn.example/x'",
        "<script> tag='app.js'",
    ]


def test_console_lines_are_picked_out_of_chromium_logs(browser_check: ModuleType) -> None:
    """Only the CONSOLE lines of Chromium's log count, whatever its other noise."""
    log = (
        "[1:1:1128/193121.76:WARNING:vaapi_wrapper.cc:1655] drmGetDevices2() found no devices\n"
        '[1:1:1128/193122.09:INFO:CONSOLE:1] "boom", source: file:///x.html (1)\n'
        '[1:1:1128/193122.10:INFO:CONSOLE(7)] "Uncaught ReferenceError: f", source: x (7)\n'
    )
    assert browser_check.console_messages(log) == [
        '"boom", source: file:///x.html (1)',
        '"Uncaught ReferenceError: f", source: x (7)',
    ]
