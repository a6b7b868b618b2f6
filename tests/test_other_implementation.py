"""Cross-checks: the harness's commands against a second, independent implementation of the API.

`tests/fixtures/other_api.py` keeps invariants 1-9 and answers every open question the suite
can observe differently from the mock (202 starts, lower-case environments, a strict-but-
lenient body parser, 403 for a bad Jira signature, no `WWW-Authenticate`, ...). Against it,
`contract`, `probe` and `fuzz` must find nothing and report each differing choice as a note in
`results.json`. Against each `Breakage` (one invariant broken, everything else correct) they
must exit 1 and name that invariant. A target the harness cannot use (no `/api/v1/ai` prefix,
a refused key) is exit 3 naming what is wrong, never a failed check. Verdicts only: no timing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.cli._edge import Edge
from tests.fixtures.other_api import Breakage, Dialect, create_other_api
from tests.fixtures.other_api_server import (
    API_KEY_ENV,
    JIRA_SECRET_ENV,
    TARGET_NAME,
    serve_in_thread,
    write_targets,
)

pytestmark = pytest.mark.socket

API_KEY: Final = "other-KEY-7c1e5a9b40d2"
JIRA_SECRET: Final = "other-JIRA-3f8d2b6e91aa"
ENVIRON: Final = {API_KEY_ENV: API_KEY, JIRA_SECRET_ENV: JIRA_SECRET}
DIALECT: Final = Dialect(api_key=API_KEY, jira_secret=JIRA_SECRET)
UNLIMITED: Final = dataclasses.replace(DIALECT, status_requests_per_s=None)
"""The dialect without its E3 rate limit (A8): for fuzzing breakages (429s make answers
inconclusive and each costs a one-second wait) and for the probe, whose own A8 burst would
otherwise rate-limit the polls of the run A11 follows, depending on timing."""
FUZZ_BUDGET: Final = ("--profile", "ci", "--max-examples", "5")
_NAMED_INVARIANT: Final = re.compile(r"\[[\w.]+, invariant (\d+)\]|\(invariant (\d+)\)")
"""How a verdict names an invariant: `[check, invariant N]` (contract), `(invariant N)` (fuzz)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one command said: exit code, printed text, and its `results.json`."""

    code: int
    output: str
    results: dict[str, Any]

    def notes(self, *, same: bool) -> dict[str, list[str]]:
        """Observed text of each note, by question id, that matches (or not) the mock."""
        found: dict[str, list[str]] = {}
        for note in self.results.get("notes", []):
            if note["same"] is same:
                found.setdefault(note["question_id"], []).append(note["observed"])
        return found

    def bad_cases(self) -> list[dict[str, Any]]:
        """Cases that failed or could not be judged."""
        return [c for c in self.results.get("cases", []) if c["outcome"] in ("failed", "error")]

    def named_invariants(self) -> set[int]:
        """The invariants that failed cases (contract) and findings (fuzz) name."""
        texts = [case.get("message") or "" for case in self.bad_cases()]
        texts += [finding["message"] for finding in self.results.get("findings", [])]
        return {
            int(contract or fuzz)
            for text in texts
            for contract, fuzz in _NAMED_INVARIANT.findall(text)
        }

    def summary(self) -> str:
        """The output and each bad case or finding, for assertion messages."""
        cases = [f"{c['outcome']} {c['case_id']}: {c['message']}"[:300] for c in self.bad_cases()]
        findings = [
            f"finding {f['title']}: {f['message']}"[:300] for f in self.results.get("findings", [])
        ]
        return "\n".join([self.output[-3000:], *cases, *findings])


def _invoke(
    folder: Path,
    server_url: str,
    args: list[str],
    *,
    environ: dict[str, str] | None = None,
    **targets: Any,
) -> Verdict:
    """Run `trigger-harness <args> --target other` in process against `server_url`."""
    write_targets(folder, server_url, DIALECT, **targets)
    lines: list[str] = []
    edge = Edge(environ=ENVIRON if environ is None else environ, cwd=folder, echo=lines.append)
    result = CliRunner().invoke(
        main, [*args, "--target", TARGET_NAME], obj=edge, catch_exceptions=False
    )
    report = folder / "reports" / "latest" / "results.json"
    results = json.loads(report.read_text()) if report.is_file() else {}
    output = "\n".join([*lines, result.output])
    for secret in (API_KEY, JIRA_SECRET):
        assert secret not in output
    return Verdict(code=result.exit_code, output=output, results=results)


@pytest.fixture(scope="module")
def correct_url() -> Iterator[str]:
    """The correct dialect, served on 127.0.0.1 for the whole module."""
    with serve_in_thread(create_other_api(DIALECT)) as url:
        yield url


def test_contract_passes_and_notes_every_different_choice(tmp_path: Path, correct_url: str) -> None:
    """`contract` exits 0 with no failure; A3, A5, A6, A7, A12 and X1 are noted as different."""
    verdict = _invoke(tmp_path, correct_url, ["contract"])
    assert verdict.code == 0, verdict.summary()
    assert verdict.bad_cases() == [], verdict.summary()
    different = verdict.notes(same=False)
    assert {"A3", "A5", "A6", "A7", "A12", "X1"} <= set(different), different


def test_contract_passes_on_triggers_whose_runs_fail(tmp_path: Path, correct_url: str) -> None:
    """A flow that fails (HTTP 200 `failed`, error set) on E1 and E2 is no contract failure."""
    verdict = _invoke(
        tmp_path,
        correct_url,
        ["contract"],
        sync_trigger="always-fails",
        background_trigger="always-fails",
    )
    assert verdict.code == 0, verdict.summary()
    assert verdict.bad_cases() == [], verdict.summary()


def test_probe_asks_each_question_where_the_answer_means_something(tmp_path: Path) -> None:
    """`probe` exits 0 and notes A1, A3, A5-A7, A11, A12 and A15 as different, each asked of a
    trigger that exists (never answered by "Trigger not found").

    Served without the E3 rate limit, and with a background trigger that runs for a second, so
    that A11 (older log entries dropping out of a followed run) never depends on timing.
    """
    with serve_in_thread(create_other_api(UNLIMITED)) as url:
        verdict = _invoke(
            tmp_path,
            url,
            ["probe", "--slow-trigger", "slow-sync"],
            background_trigger="slow-sync",
        )
    assert verdict.code == 0, verdict.summary()
    different = verdict.notes(same=False)
    assert {"A1", "A3", "A5", "A6", "A7", "A11", "A12", "A15"} <= set(different), different
    for question in ("A5", "A7"):
        for observed in different[question]:
            assert "Trigger not found" not in observed, (question, observed)
    assert any("accepted" in observed for observed in different["A5"]), different["A5"]
    assert any("3" in observed for observed in different["A11"]), different["A11"]
    assert any("403" in observed for observed in different["A12"]), different["A12"]


def test_fuzz_finds_nothing_and_notes_the_start_code(tmp_path: Path, correct_url: str) -> None:
    """`fuzz` (small ci budget) exits 0 with no finding; E2/E4's 202 is noted under A6."""
    verdict = _invoke(tmp_path, correct_url, ["fuzz", *FUZZ_BUDGET])
    assert verdict.code == 0, verdict.summary()
    assert verdict.results["findings"] == [], verdict.summary()
    assert verdict.bad_cases() == [], verdict.summary()
    assert "A6" in verdict.notes(same=False), verdict.results["notes"]


@pytest.mark.parametrize("command", [["contract"], ["probe"], ["fuzz", *FUZZ_BUDGET]])
def test_a_base_url_without_the_prefix_is_exit_3_naming_base_url(
    tmp_path: Path, correct_url: str, command: list[str]
) -> None:
    """A base_url missing `/api/v1/ai` (every path a generic 404) is exit 3 naming base_url."""
    verdict = _invoke(tmp_path, correct_url, command, prefix="")
    assert verdict.code == 3, verdict.summary()
    assert "base_url" in verdict.output
    assert "FAILED" not in verdict.output
    assert "Traceback" not in verdict.output


@pytest.mark.parametrize("command", [["contract"], ["probe"], ["fuzz", *FUZZ_BUDGET]])
def test_a_refused_key_is_exit_3_naming_its_variable(
    tmp_path: Path, correct_url: str, command: list[str]
) -> None:
    """A key the target refuses (401 everywhere) is exit 3 naming the key's variable."""
    environ = {**ENVIRON, API_KEY_ENV: "other-KEY-not-the-right-one"}
    verdict = _invoke(tmp_path, correct_url, command, environ=environ)
    assert verdict.code == 3, verdict.summary()
    assert API_KEY_ENV in verdict.output
    assert "different" not in verdict.output


BROKEN_INVARIANTS: Final = {
    Breakage.WRONG_METHOD_500: {7},
    Breakage.SHARED_WORKFLOW_ID: {5, 6},
    Breakage.STATUS_BACKWARDS: {2},
    Breakage.MISSING_VARIABLES: {5},
    Breakage.NOT_FOUND_AT_ONCE: {6},
    Breakage.AUTH_BODY_BY_PATH: {8},
    Breakage.ERROR_ON_COMPLETED: {3},
    Breakage.SYNC_PENDING: {4},
    Breakage.HUGE_UNICODE_500: {7},
}
"""The invariant(s) each breakage breaks; a verdict must name them and no other."""


@pytest.mark.parametrize("breakage", list(BROKEN_INVARIANTS), ids=lambda b: b.name.lower())
def test_contract_names_the_one_broken_invariant(tmp_path: Path, breakage: Breakage) -> None:
    """`contract` exits 1 on an implementation with one invariant broken, names that invariant
    in a failed case, and blames no other invariant."""
    with serve_in_thread(create_other_api(DIALECT, breakage)) as url:
        verdict = _invoke(tmp_path, url, ["contract"])
    assert verdict.code == 1, verdict.summary()
    named = verdict.named_invariants()
    expected = BROKEN_INVARIANTS[breakage]
    assert named & expected, verdict.summary()
    assert named <= expected, verdict.summary()
    assert not [c for c in verdict.bad_cases() if c["outcome"] == "error"], verdict.summary()


FUZZED: Final = (
    Breakage.STATUS_BACKWARDS,
    Breakage.MISSING_VARIABLES,
    Breakage.NOT_FOUND_AT_ONCE,
    Breakage.AUTH_BODY_BY_PATH,
    Breakage.HUGE_UNICODE_500,
)
"""The breakages fuzzed, one per kind of reach (the machine's polls, a completed run's
variables, E3 right after E2, the wrong-key property, huge unicode values).

Left to the contract run: a wrong method (fuzzing sends none; the `methods` cases do);
ERROR_ON_COMPLETED and SYNC_PENDING (judged by the same response checks on the same E1 answers
that catch MISSING_VARIABLES); SHARED_WORKFLOW_ID, which the state machine finds but then
shrinks for 45-100 s of real runs, over this file's budget.
"""


@pytest.mark.parametrize("breakage", FUZZED, ids=lambda b: b.name.lower())
def test_fuzz_names_the_broken_invariant(tmp_path: Path, breakage: Breakage) -> None:
    """`fuzz` (small ci budget) exits 1 with a finding that names the broken invariant."""
    with serve_in_thread(create_other_api(UNLIMITED, breakage)) as url:
        verdict = _invoke(tmp_path, url, ["fuzz", *FUZZ_BUDGET])
    assert verdict.code == 1, verdict.summary()
    assert verdict.named_invariants() & BROKEN_INVARIANTS[breakage], verdict.summary()
