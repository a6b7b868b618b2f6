"""The reporters every command writes: results.json, junit.xml, summary.md, index.html."""

from __future__ import annotations

from ._events import Reporter
from ._folder import ReportFolder
from ._html import HtmlReporter
from ._json import JsonReporter
from ._junit import JunitReporter
from ._markdown import MarkdownReporter

__all__ = ["standard_reporters"]


def standard_reporters(folder: ReportFolder) -> list[Reporter]:
    """One reporter per report file, all writing into `folder` (and redacting through it).

    Args:
        folder: the run's report folder.
    """
    return [
        JsonReporter(folder),
        JunitReporter(folder),
        MarkdownReporter(folder),
        HtmlReporter(folder),
    ]
