"""The one judgement of an answer: conforming, violation, observation or inconclusive."""

from __future__ import annotations

import pytest

from harness._exceptions import UsageError
from harness._models import Endpoint
from harness.checks import (
    CheckContext,
    Expectation,
    Verdict,
    accepted,
    found,
    judge,
    open_question,
    refused,
)
from tests.harness.factories import body, exchange

CTX = CheckContext()
UNAUTHORIZED = {"detail": "Invalid authentication credentials"}
PENDING = body("pending")


@pytest.mark.parametrize("endpoint", [Endpoint.START, Endpoint.JIRA])
def test_any_2xx_from_e2_or_e4_is_accepted_and_202_an_a6_observation(endpoint: Endpoint) -> None:
    """A6: 200 is conforming, 202 an observation noted as A6, never a violation."""
    plain = judge(CTX, exchange(endpoint, 200, PENDING), accepted("a start"))
    other = judge(CTX, exchange(endpoint, 202, PENDING), accepted("a start"))
    assert plain.verdict is Verdict.CONFORMING
    assert other.verdict is Verdict.OBSERVATION
    assert [(n.question_id, n.same) for n in other.notes] == [("A6", False)]


def test_a_valid_payload_refused_is_an_x2_observation() -> None:
    """X2: a documented-shape payload refused with a 4xx is noted, not a finding."""
    answer = exchange(Endpoint.START, 400, {"detail": "integer too large"})
    judgement = judge(CTX, answer, accepted("a valid payload"))
    assert judgement.verdict is Verdict.OBSERVATION
    assert judgement.notes[0].question_id == "X2"
    assert judgement.notes[0].observed == "refused (HTTP 400)"


@pytest.mark.parametrize(("code", "same"), [(200, False), (422, True), (404, False)])
def test_an_odd_environment_accepted_or_refused_is_a5(code: int, same: bool) -> None:
    """A5: `.../dev` accepted (200) or refused with any 4xx is a note, never a violation."""
    payload = body("completed") if code == 200 else {"detail": "no such environment"}
    answer = exchange(Endpoint.SYNC, code, payload, path="/trigger/acme/summarise/dev")
    expectation = open_question("A5", "an odd environment", mock_outcome="refused", mock_code=422)
    judgement = judge(CTX, answer, expectation)
    assert judgement.verdict is (Verdict.CONFORMING if same else Verdict.OBSERVATION)
    assert {note.question_id for note in judgement.notes} == {"A5"}


def test_a_lenient_parser_accepting_nan_is_an_a7_observation() -> None:
    """A7: a NaN body accepted is an observation naming the body under its topic."""
    expectation = open_question(
        "A7", "a NaN literal", mock_outcome="refused", mock_code=422, topic="Body not strict JSON"
    )
    judgement = judge(CTX, exchange(Endpoint.START, 200, PENDING), expectation)
    assert judgement.verdict is Verdict.OBSERVATION
    (a7,) = [note for note in judgement.notes if note.question_id == "A7"]
    assert (a7.title, a7.observed) == ("Body not strict JSON", "a NaN literal accepted (HTTP 200)")


def test_a_documented_invalid_body_accepted_breaks_invariant_7() -> None:
    """Invariant 7: a truncated body answered 200 is a violation; 400 instead of 422 a note."""
    expectation = refused("a truncated body", question_id="A7", mock_code=422)
    taken = judge(CTX, exchange(Endpoint.START, 200, PENDING), expectation)
    code_400 = judge(CTX, exchange(Endpoint.START, 400, {"detail": "bad"}), expectation)
    assert taken.verdict is Verdict.VIOLATION
    assert taken.invariant == 7
    assert code_400.verdict is Verdict.OBSERVATION


@pytest.mark.parametrize("code", [400, 401, 403])
def test_any_4xx_for_a_refused_jira_signature(code: int) -> None:
    """A12: E4 may refuse a bad signature with any 4xx; only 401 with the body is the default."""
    answer = exchange(Endpoint.JIRA, code, {"detail": "Signature rejected"})
    judgement = judge(
        CheckContext(authorized=False), answer, refused("a bad signature", invariant=8)
    )
    assert judgement.verdict is Verdict.OBSERVATION
    assert judgement.notes[0].question_id == "A12"


def test_a_missing_key_keeps_invariant_8_strict_on_e1_to_e3() -> None:
    """Invariant 8: without a valid key E3 must answer 401 with the exact body."""
    ctx = CheckContext(authorized=False)
    expectation = refused("no key", invariant=8)
    other_code = judge(ctx, exchange(Endpoint.STATUS, 403, {"detail": "no"}), expectation)
    other_body = judge(ctx, exchange(Endpoint.STATUS, 401, {"detail": "no"}), expectation)
    right = judge(ctx, exchange(Endpoint.STATUS, 401, UNAUTHORIZED), expectation)
    assert other_code.verdict is Verdict.VIOLATION
    assert other_code.invariant == 8
    assert other_body.verdict is Verdict.VIOLATION
    assert right.verdict in (Verdict.CONFORMING, Verdict.OBSERVATION)


@pytest.mark.parametrize("text", ["Workflow not found", "No such run", "Nothing here"])
def test_404_texts_are_open(text: str) -> None:
    """A3: an unknown workflow refused with any 404 text (or another 4xx) is no violation."""
    answer = exchange(Endpoint.STATUS, 404, {"detail": text})
    judgement = judge(CTX, answer, refused("an unknown run", question_id="A3", mock_code=404))
    assert judgement.verdict is not Verdict.VIOLATION


def test_a_5xx_breaks_invariant_7_unless_faults_are_expected() -> None:
    """Invariant 7: a 503 is a violation; where faults are injected it is inconclusive."""
    answer = exchange(Endpoint.STATUS, 503, {"detail": "busy"})
    assert judge(CTX, answer, found()).invariant == 7
    assert judge(CTX, answer, found(), transient_faults=True).verdict is Verdict.INCONCLUSIVE


def test_e1_504_is_the_a1_answer_even_with_faults_expected() -> None:
    """A1: E1's 504 is an answer (the sync limit), never a 5xx finding."""
    answer = exchange(Endpoint.SYNC, 504, {"detail": "Flow did not finish within 150 s"})
    judgement = judge(CTX, answer, accepted("a valid payload"))
    assert judgement.verdict is Verdict.CONFORMING
    assert judgement.notes[0].question_id == "A1"


@pytest.mark.parametrize("code", [None, 429])
def test_no_answer_or_a_429_is_inconclusive(code: int | None) -> None:
    """A reset connection or a 429 says nothing: inconclusive, even where a 200 was needed."""
    answer = exchange(Endpoint.STATUS, code, {"detail": "slow down"} if code else None)
    judgement = judge(CTX, answer, found())
    assert judgement.verdict is Verdict.INCONCLUSIVE
    assert judgement.inconclusive


def test_a_started_run_not_found_breaks_invariant_6() -> None:
    """Invariant 6: E3 answering 404 for a run E2 started is a violation titled so."""
    judgement = judge(CTX, exchange(Endpoint.STATUS, 404, {"detail": "nope"}), found())
    assert judgement.verdict is Verdict.VIOLATION
    assert judgement.invariant == 6
    assert judgement.violations[0].title == "Started run not found by E3"


def test_a_path_that_no_longer_addresses_its_endpoint_asks_nothing() -> None:
    """An id holding "/" may get a framework's HTML 404: neither a violation nor a note."""
    answer = exchange(Endpoint.STATUS, 404, raw=b"<html/>", headers={"content-type": "text/html"})
    judgement = judge(
        CheckContext(authorized=False), answer, refused("x", invariant=8), addressed=False
    )
    assert judgement.verdict is Verdict.CONFORMING
    assert judgement.notes == ()


def test_an_expectation_needs_an_invariant_or_a_question() -> None:
    """An outcome with neither an invariant nor an open question is refused at build time."""
    with pytest.raises(UsageError):
        Expectation(outcome="refused")
    with pytest.raises(UsageError):
        Expectation(outcome="accepted", question_id="A99")
