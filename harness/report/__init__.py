"""Reports: a typed event stream and the reporters that turn it into files.

folder = ReportFolder.create(Path("reports"), "contract", "mock", now, redactor=Redactor(secrets))
with fan_out(standard_reporters(folder)) as bus:
    bus.emit(RunStarted(...))
    ...
    bus.emit(RunFinished(...))
"""

from ._base import FileReporter
from ._comparison import ComparisonRecorded, ComparisonRow
from ._events import (
    GAP_FIGURES,
    CaseFinished,
    Event,
    EventBus,
    FlowStatusCount,
    FuzzFinding,
    LoadSeriesPoint,
    LoadStatsRow,
    LoadSummary,
    NoteRecorded,
    Outcome,
    Reporter,
    RunFinished,
    RunRecord,
    RunStarted,
    SizingFigures,
    SizingResult,
    SizingRow,
    SizingThreeWay,
    Suite,
    SuiteCounts,
    SuiteStarted,
    ThreeWayRow,
    ViolationRecord,
    fan_out,
)
from ._folder import LATEST, ReportFolder, folder_name, read_latest, sanitise_name
from ._html import SECTIONS, HtmlReporter, render_html
from ._json import SCHEMA_VERSION, JsonReporter, results_document
from ._junit import JunitReporter, junit_tree, xml_safe
from ._markdown import MarkdownReporter, markdown_cell, render_markdown
from ._plots import CHART_FORMATS, sizing_chart
from ._standard import standard_reporters

__all__ = [
    "CHART_FORMATS",
    "GAP_FIGURES",
    "LATEST",
    "SCHEMA_VERSION",
    "SECTIONS",
    "CaseFinished",
    "ComparisonRecorded",
    "ComparisonRow",
    "Event",
    "EventBus",
    "FileReporter",
    "FlowStatusCount",
    "FuzzFinding",
    "HtmlReporter",
    "JsonReporter",
    "JunitReporter",
    "LoadSeriesPoint",
    "LoadStatsRow",
    "LoadSummary",
    "MarkdownReporter",
    "NoteRecorded",
    "Outcome",
    "ReportFolder",
    "Reporter",
    "RunFinished",
    "RunRecord",
    "RunStarted",
    "SizingFigures",
    "SizingResult",
    "SizingRow",
    "SizingThreeWay",
    "Suite",
    "SuiteCounts",
    "SuiteStarted",
    "ThreeWayRow",
    "ViolationRecord",
    "fan_out",
    "folder_name",
    "junit_tree",
    "markdown_cell",
    "read_latest",
    "render_html",
    "render_markdown",
    "results_document",
    "sanitise_name",
    "sizing_chart",
    "standard_reporters",
    "xml_safe",
]
