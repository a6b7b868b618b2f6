"""`junit.xml`: one testsuite per suite, one testcase per case, for CI test tabs.

Bodies from a target can hold any character; XML 1.0 forbids most control characters and lone
surrogates even when escaped, and a CI page shows the rest as they are, so every text and
attribute is cleaned first (`xml_safe`: `display_safe`, then what XML still forbids).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import ClassVar

from harness._display import display_safe

from ._base import FileReporter
from ._events import CaseFinished, Outcome, RunRecord, Suite
from ._format import exchange_text

__all__ = ["JunitReporter", "junit_tree", "xml_safe"]

_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PROPERTY_LIMIT = 500


def _escape_forbidden(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """The text display-safe (newlines and tabs kept) and with what XML 1.0 still forbids
    (U+FFFE, U+FFFF) written as visible `\\xNN` / `\\uNNNN` escapes.

    Args:
        text: any text, e.g. a response body.
    """
    return _FORBIDDEN.sub(_escape_forbidden, display_safe(text, multiline=True))


class JunitReporter(FileReporter):
    """Writes `junit.xml`."""

    file_name: ClassVar[str] = "junit.xml"

    def render(self, record: RunRecord) -> str:
        """The XML text of the run."""
        tree = junit_tree(record)
        ET.indent(tree)
        body = ET.tostring(tree.getroot(), encoding="unicode")
        return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def _element(
    parent: ET.Element, tag: str, text: str | None = None, **attributes: str
) -> ET.Element:
    child = ET.SubElement(
        parent, tag, {name: xml_safe(value) for name, value in attributes.items()}
    )
    if text:
        child.text = xml_safe(text)
    return child


def junit_tree(record: RunRecord) -> ET.ElementTree[ET.Element]:
    """The run as a JUnit XML tree (`testsuites` root).

    Args:
        record: the gathered (redacted) events.
    """
    counts = record.counts()
    root = ET.Element(
        "testsuites",
        {
            "name": "trigger-harness",
            "tests": str(sum(c.total for c in counts)),
            "failures": str(sum(c.failed for c in counts)),
            "errors": str(sum(c.error for c in counts)),
            "skipped": str(sum(c.skipped + c.inconclusive for c in counts)),
            "time": f"{sum(case.duration_s for case in record.cases):.3f}",
        },
    )
    for suite_counts in counts:
        suite = suite_counts.suite
        cases = list(record.cases_of(suite))
        element = _element(
            root,
            "testsuite",
            name=str(suite),
            tests=str(suite_counts.total),
            failures=str(suite_counts.failed),
            errors=str(suite_counts.error),
            skipped=str(suite_counts.skipped + suite_counts.inconclusive),
            time=f"{sum(case.duration_s for case in cases):.3f}",
            **_timestamp(record),
        )
        _properties(element, record)
        for case in cases:
            _testcase(element, suite, case)
    return ET.ElementTree(root)


def _timestamp(record: RunRecord) -> dict[str, str]:
    if record.started is None:
        return {}
    return {"timestamp": record.started.started_at.isoformat(timespec="seconds")}


def _properties(suite: ET.Element, record: RunRecord) -> None:
    started = record.started
    if started is None:
        return
    properties = _element(suite, "properties")
    values = {
        "command": started.command,
        "target": started.target_name,
        "base_url": started.base_url,
        **{f"option.{key}": str(value) for key, value in sorted(started.options.items())},
    }
    for name, value in values.items():
        _element(properties, "property", name=name, value=value[:_PROPERTY_LIMIT])


def _testcase(parent: ET.Element, suite: Suite, case: CaseFinished) -> None:
    element = _element(
        parent,
        "testcase",
        classname=f"trigger-harness.{suite}",
        name=f"{case.case_id}: {case.title}" if case.case_id != case.title else case.title,
        time=f"{case.duration_s:.3f}",
    )
    if case.outcome in (Outcome.SKIPPED, Outcome.INCONCLUSIVE):
        # JUnit has no "could not tell": an inconclusive case is skipped, its message says why.
        _element(element, "skipped", message=case.skip_reason or case.message or "skipped")
    elif case.outcome is Outcome.FAILED:
        title = case.violations[0].title if case.violations else case.message or case.title
        _element(element, "failure", _failure_text(case), message=title, type="ContractViolation")
    elif case.outcome is Outcome.ERROR:
        _element(
            element, "error", _failure_text(case), message=case.message or "error", type="error"
        )


def _failure_text(case: CaseFinished) -> str:
    parts = [case.message] if case.message else []
    for violation in case.violations:
        parts.append(
            f"[{violation.severity}] {violation.check}: {violation.title}\n{violation.message}"
        )
        parts += [exchange_text(exchange) for exchange in violation.evidence]
    parts += [exchange_text(exchange) for exchange in case.evidence]
    return "\n\n".join(parts)
