"""Tests of harness.report._junit: junit.xml parses, counts right, and survives odd bodies."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report import CaseFinished, JunitReporter, Outcome, Suite, ViolationRecord, xml_safe

from .conftest import WriteRun, make_exchange, sample_events


def _parse(write_run: WriteRun, events: list) -> ET.Element:  # type: ignore[type-arg]
    folder = write_run(events, only=JunitReporter)
    return ET.parse(folder.path / "junit.xml").getroot()


def test_one_testsuite_per_suite_and_one_testcase_per_case(write_run: WriteRun) -> None:
    """Suites become testsuites with counts; cases become testcases."""
    root = _parse(write_run, sample_events())
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites) == ["contract", "fuzz", "load", "sizing"]
    contract = suites["contract"]
    assert (contract.get("tests"), contract.get("failures"), contract.get("skipped")) == (
        "3",
        "1",
        "1",
    )
    assert len(contract.findall("testcase")) == 3
    assert root.get("tests") == "4"
    assert root.get("failures") == "2"


def test_failure_carries_title_message_and_evidence(write_run: WriteRun) -> None:
    """A failed case has <failure message=title> whose text holds the message and evidence."""
    root = _parse(write_run, sample_events())
    failure = root.find(".//testcase[@name='E2.envelope: E2 answers a full envelope']/failure")
    assert failure is not None
    assert failure.get("message") == "Envelope misses a field"
    assert "`logs` is missing from the E2 answer" in (failure.text or "")
    assert "POST http://127.0.0.1/trigger/start/demo/quick-answer/DEV" in (failure.text or "")
    assert "HTTP 200" in (failure.text or "")


def test_skipped_case_carries_its_reason(write_run: WriteRun) -> None:
    """A skipped case has <skipped message=reason>."""
    root = _parse(write_run, sample_events())
    skipped = root.find(".//skipped")
    assert skipped is not None
    assert skipped.get("message") == "no jira_trigger configured"


def test_target_is_recorded_as_properties(write_run: WriteRun) -> None:
    """Each testsuite lists the command, target and base URL as properties."""
    root = _parse(write_run, sample_events())
    properties = {
        prop.get("name"): prop.get("value")
        for prop in root.find("testsuite").iter("property")  # type: ignore[union-attr]
    }
    assert properties["target"] == "mock"
    assert properties["base_url"] == "http://127.0.0.1:8080"
    assert properties["option.users"] == "5"


def test_control_characters_and_odd_unicode_keep_the_xml_valid(write_run: WriteRun) -> None:
    """Bodies with NUL, escape, lone surrogates and emoji still give parseable XML."""
    odd = "nul\x00 bell\x07 esc\x1b surrogate\ud800 fffe\ufffe emoji🙂 rtl\u202e"
    case = CaseFinished(
        suite=Suite.PROBE,
        case_id="odd\x01id",
        title=f"odd {odd}",
        outcome=Outcome.FAILED,
        message=odd,
        violations=(
            ViolationRecord(
                check="no_server_error",
                title=f"title {odd}",
                message=odd,
                evidence=(make_exchange(response_body=odd.encode("utf-8", "surrogatepass")),),
            ),
        ),
    )
    root = _parse(write_run, sample_events(extra=[case]))
    failure = root.find(".//testsuite[@name='probe']/testcase/failure")
    assert failure is not None
    assert "nul\\x00 bell\\x07 esc\\x1b surrogate\\ud800 fffe\\ufffe" in (failure.text or "")
    assert "emoji🙂" in (failure.text or "")
    assert "\\x1b" in (failure.get("message") or "")


def test_xml_safe_keeps_tab_and_newline_and_shows_the_other_controls() -> None:
    """Tab and newline are kept; a carriage return (allowed by XML 1.0, but it rewrites a line
    on a CI console), C1 and bidi controls and what XML forbids become visible escapes."""
    assert xml_safe("a\tb\nc\rd\x0b\x85\u202e\ufffe") == "a\tb\nc\\x0dd\\x0b\\x85\\u202e\\ufffe"
