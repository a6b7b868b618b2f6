"""Tests of the check registry, the runners and every response check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness._exceptions import ContractViolation, UsageError
from harness._models import Endpoint, Exchange
from harness.checks._registry import (
    CHECK_TITLES,
    CheckContext,
    CheckOutcome,
    ContractViolations,
    RegisteredCheck,
    assert_checks,
    check,
    check_results,
    header,
    history_checks,
    response_checks,
    run_checks,
    run_history_checks,
)
from tests.harness.factories import WORKFLOW_ID, body, exchange, history, poll

CTX = CheckContext()
UNAUTHORIZED = {"detail": "Invalid authentication credentials"}


def failed_names(ctx: CheckContext, item: Exchange) -> set[str]:
    """Names of the response checks that fail on `item`."""
    return {r.name for r in check_results(ctx, item) if r.outcome is CheckOutcome.FAILED}


@pytest.fixture
def temporary_check() -> Iterator[list[str]]:
    """Names registered during the test, removed from the registry afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        response_checks.discard(name)


def test_registry_lists_every_check_with_a_title() -> None:
    """CHECK_TITLES names every built-in response and history check with a title."""
    assert {"envelope_fields", "no_server_error", "status_moves_forward"} <= set(CHECK_TITLES)
    assert all(title for title in CHECK_TITLES.values())
    assert len(CHECK_TITLES) == len(list(CHECK_TITLES))


def test_checks_import_without_pytest_in_any_order() -> None:
    """Importing any check module registers every check and leaves pytest unimported."""
    code = (
        "import sys, harness.checks._history, harness.checks._notes, harness.checks._timing;"
        "from harness.checks._registry import CHECK_TITLES;"
        "print(len(CHECK_TITLES), 'pytest' in sys.modules, 'locust' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == [str(len(CHECK_TITLES)), "False", "False"]


def test_every_invariant_has_a_check() -> None:
    """Each of the nine invariants of trigger-api.md is enforced by at least one check."""
    covered = {r.invariant for r in [*response_checks, *history_checks]}
    assert set(range(1, 10)) <= covered


def test_valid_answers_pass_every_check() -> None:
    """A well-formed answer of each endpoint passes every applicable check."""
    answers = [
        exchange(Endpoint.SYNC, 200, body("completed")),
        exchange(Endpoint.START, 200, body("pending")),
        exchange(Endpoint.STATUS, 200, body("failed")),
        exchange(Endpoint.STATUS, 200, body("waiting_for_input")),
        exchange(Endpoint.STATUS, 404, {"detail": "Workflow not found"}),
    ]
    for answer in answers:
        assert run_checks(CTX, answer) == []


def test_run_checks_collects_all_failures() -> None:
    """Several broken fields give several violations, not just the first."""
    bad = exchange(Endpoint.SYNC, 200, body("pending", error="boom"))
    assert {"sync_final_status", "error_matches_status"} <= failed_names(CTX, bad)
    assert len(run_checks(CTX, bad)) >= 2


def test_crashing_check_is_reported_not_raised(temporary_check: list[str]) -> None:
    """A check raising a non-assertion error becomes a violation naming that check."""

    @check(title="Always crashes")
    def crashing_probe(ctx: CheckContext, item: Exchange) -> None:
        raise KeyError("nope")

    temporary_check.append("crashing_probe")
    violations = run_checks(CTX, exchange(Endpoint.STATUS, 200, body("completed")))
    assert [v.title for v in violations] == ["Check crashing_probe crashed"]
    assert "KeyError" in violations[0].message


def test_plain_assertion_error_gets_the_check_title(temporary_check: list[str]) -> None:
    """A bare AssertionError in a check is wrapped with the check's title and the exchange."""

    @check(title="Probe title")
    def asserting_probe(ctx: CheckContext, item: Exchange) -> None:
        raise AssertionError("bad thing")

    temporary_check.append("asserting_probe")
    item = exchange(Endpoint.STATUS, 200, body("completed"))
    (violation,) = run_checks(CTX, item)
    assert (violation.title, violation.message, violation.evidence) == (
        "Probe title",
        "bad thing",
        (item,),
    )


def test_duplicate_check_name_is_refused(temporary_check: list[str]) -> None:
    """Registering a second check under an existing name raises UsageError."""
    with pytest.raises(UsageError, match="envelope_fields"):

        @check(title="dup")
        def envelope_fields(ctx: CheckContext, item: Exchange) -> None:
            return None


def test_skip_marks_checks_skipped_and_rejects_unknown_names() -> None:
    """Skipped checks report SKIPPED and never fail; an unknown name is a usage error."""
    item = exchange(Endpoint.STATUS, 503, {"detail": "down"})
    results = {r.name: r for r in check_results(CTX, item, skip={"no_server_error"})}
    assert results["no_server_error"].outcome is CheckOutcome.SKIPPED
    assert run_checks(CTX, item, skip={"no_server_error"}) == []
    with pytest.raises(UsageError, match="no_such_check"):
        run_checks(CTX, item, skip={"no_such_check"})


def test_checks_for_other_endpoints_are_not_applicable() -> None:
    """E1-only checks report NOT_APPLICABLE on an E3 answer."""
    results = {r.name: r for r in check_results(CTX, exchange(Endpoint.STATUS, 200, body()))}
    assert results["sync_final_status"].outcome is CheckOutcome.NOT_APPLICABLE
    assert results["envelope_fields"].outcome is CheckOutcome.PASSED


def test_context_endpoint_overrides_the_exchange() -> None:
    """ctx.endpoint decides which checks apply when it is set."""
    item = exchange(None, 200, body("pending"))
    assert "sync_final_status" in failed_names(CheckContext(endpoint=Endpoint.SYNC), item)
    assert "sync_final_status" not in failed_names(CTX, item)


def test_assert_checks_raises_single_violation_as_is() -> None:
    """One failure is raised as that ContractViolation."""
    with pytest.raises(ContractViolation, match="Server error") as info:
        assert_checks(CTX, exchange(Endpoint.STATUS, 500, {"detail": "x"}))
    assert not isinstance(info.value, ContractViolations)


def test_assert_checks_aggregates_several_violations() -> None:
    """Several failures are raised as one ContractViolations listing each, worst severity."""
    with pytest.raises(ContractViolations) as info:
        assert_checks(CTX, exchange(Endpoint.SYNC, 200, body("pending", error="boom")))
    aggregate = info.value
    assert len(aggregate.violations) >= 2
    assert all(v.title in aggregate.message for v in aggregate.violations)
    assert aggregate.severity == "high"
    assert isinstance(aggregate, AssertionError)


def test_assert_checks_on_history_runs_response_and_history_checks() -> None:
    """A history is checked as a run and answer by answer."""
    run = history(poll(5, "completed"), poll(10, "pending"), poll(15, None, 500))
    with pytest.raises(ContractViolations) as info:
        assert_checks(CTX, run)
    titles = {v.title for v in info.value.violations}
    assert {"Status moved backwards", "Server error"} <= titles
    assert run_history_checks(CTX, history(poll(5, "completed"))) == []


def test_context_validates_limits() -> None:
    """A non-positive limit in CheckContext is refused with its name."""
    with pytest.raises(UsageError, match="sync_limit_s"):
        CheckContext(sync_limit_s=0)
    with pytest.raises(UsageError, match="log_window"):
        CheckContext(log_window=-1)


def test_header_lookup_ignores_case() -> None:
    """header() finds a header whatever its spelling."""
    assert header({"Content-Type": "application/json"}, "content-type") == "application/json"
    assert header({}, "content-type") is None


def test_registered_check_applicability() -> None:
    """A check without endpoints applies everywhere, one with endpoints only there."""
    everywhere = RegisteredCheck(
        name="a", title="a", invariant=None, endpoints=None, function=print
    )
    only_sync = RegisteredCheck(
        name="b", title="b", invariant=None, endpoints=frozenset({Endpoint.SYNC}), function=print
    )
    assert everywhere.applies_to(None)
    assert only_sync.applies_to(Endpoint.SYNC)
    assert not only_sync.applies_to(Endpoint.STATUS)


# --- response checks, each both ways -----------------------------------------------------------

CASES: list[tuple[str, Exchange, Exchange, CheckContext]] = [
    (
        "envelope_fields",
        exchange(Endpoint.STATUS, 200, body()),
        exchange(Endpoint.STATUS, 200, {"workflow_id": 1, "status": "completed"}),
        CTX,
    ),
    (
        "json_content_type",
        exchange(
            Endpoint.STATUS,
            404,
            {"detail": "x"},
            headers={"Content-Type": "application/json; charset=utf-8"},
        ),
        exchange(Endpoint.STATUS, 404, raw=b"<html/>", headers={"content-type": "text/html"}),
        CTX,
    ),
    (
        "status_value",
        exchange(Endpoint.STATUS, 200, body("waiting_for_input")),
        exchange(Endpoint.STATUS, 200, body("running")),
        CTX,
    ),
    (
        "error_matches_status",
        exchange(Endpoint.STATUS, 200, body("failed")),
        exchange(Endpoint.STATUS, 200, body("failed", error="")),
        CTX,
    ),
    (
        "log_entry_shape",
        exchange(Endpoint.STATUS, 200, body()),
        exchange(
            Endpoint.STATUS,
            200,
            body(logs=[{**body()["logs"][0], "time": "2026-06-10T00:10:05Z"}]),
        ),
        CTX,
    ),
    (
        "log_window",
        exchange(Endpoint.STATUS, 200, body(logs=[body()["logs"][0]] * 5)),
        exchange(Endpoint.STATUS, 200, body(logs=[body()["logs"][0]] * 6)),
        CheckContext(log_window=5),
    ),
    (
        "sync_final_status",
        exchange(Endpoint.SYNC, 200, body("waiting_for_input")),
        exchange(Endpoint.SYNC, 200, body("pending")),
        CTX,
    ),
    (
        "sync_within_limit",
        exchange(Endpoint.SYNC, 504, {"detail": "limit"}, elapsed_s=155),
        exchange(Endpoint.SYNC, 200, body(), elapsed_s=161),
        CTX,
    ),
    (
        "start_pending",
        exchange(Endpoint.START, 200, body("pending")),
        exchange(Endpoint.START, 200, body("pending", logs=[body()["logs"][0]])),
        CTX,
    ),
    (
        "completed_response",
        exchange(Endpoint.STATUS, 200, body(response={"workflow_id": WORKFLOW_ID, "k": "v"})),
        exchange(Endpoint.STATUS, 200, body(response={"workflow_id": WORKFLOW_ID, "k": "w"})),
        CheckContext(expected_user_variables={"k": "v"}),
    ),
    (
        "workflow_id_expected",
        exchange(Endpoint.STATUS, 200, body()),
        exchange(Endpoint.STATUS, 200, body(workflow_id="other")),
        CheckContext(expected_workflow_id=WORKFLOW_ID),
    ),
    (
        "no_server_error",
        exchange(Endpoint.SYNC, 504, {"detail": "Flow did not finish"}),
        exchange(Endpoint.STATUS, 504, {"detail": "gateway"}),
        CTX,
    ),
    (
        "client_error_detail",
        exchange(Endpoint.START, 422, {"detail": [{"type": "dict_type"}]}),
        exchange(Endpoint.START, 400, {"message": "bad"}),
        CTX,
    ),
    (
        "unauthorized_body",
        exchange(Endpoint.STATUS, 401, UNAUTHORIZED),
        exchange(Endpoint.STATUS, 401, {"detail": "Unauthorized"}),
        CTX,
    ),
    (
        "unauthorized_refused",
        exchange(Endpoint.STATUS, 401, UNAUTHORIZED),
        exchange(Endpoint.STATUS, 404, {"detail": "Workflow not found"}),
        CheckContext(authorized=False),
    ),
]


@pytest.mark.parametrize(("name", "good", "bad", "ctx"), CASES, ids=[c[0] for c in CASES])
def test_response_check_both_ways(
    name: str, good: Exchange, bad: Exchange, ctx: CheckContext
) -> None:
    """Each response check passes its good answer and fails its bad one, with evidence."""
    assert name not in failed_names(ctx, good)
    assert name in failed_names(ctx, bad)
    result = next(r for r in check_results(ctx, bad) if r.name == name)
    assert result.violation is not None
    assert result.violation.evidence == (bad,)


@pytest.mark.parametrize(
    ("endpoint", "code"),
    [(Endpoint.START, 413), (Endpoint.STATUS, 429), (Endpoint.SYNC, 504), (Endpoint.STATUS, 502)],
)
def test_infrastructure_answers_need_no_json_content_type(endpoint: Endpoint, code: int) -> None:
    """A gateway's HTML 413, 429 or 5xx is not a JSON-content-type violation (A7, A8, A1)."""
    html = exchange(endpoint, code, raw=b"<html/>", headers={"content-type": "text/html"})
    assert "json_content_type" not in failed_names(CTX, html)


def test_envelope_message_names_each_wrong_field() -> None:
    """The envelope violation lists every missing or mistyped field by name."""
    bad = exchange(Endpoint.SYNC, 200, {**body(), "requires_input": 0, "logs": {}})
    del_response = exchange(Endpoint.SYNC, 200, {k: v for k, v in body().items() if k != "error"})
    (violation,) = [v for v in run_checks(CTX, bad) if v.title == "Envelope fields wrong"]
    assert "requires_input is int" in violation.message
    assert "logs is dict" in violation.message
    assert "error missing" in " ".join(v.message for v in run_checks(CTX, del_response))


def test_non_object_envelope_is_critical() -> None:
    """A 2xx E1-E3 body that is not a JSON object is a critical violation."""
    (violation,) = [v for v in run_checks(CTX, exchange(Endpoint.STATUS, 200, [1])) if v]
    assert violation.severity == "critical"


def test_error_on_completed_run_is_a_violation() -> None:
    """A completed answer carrying an error string breaks invariant 3."""
    item = exchange(Endpoint.STATUS, 200, body("completed", error="oops"))
    assert "error_matches_status" in failed_names(CTX, item)


def test_log_time_must_be_a_real_date() -> None:
    """A log time of the right shape but an impossible date is refused."""
    entry = {**body()["logs"][0], "time": "2026-13-40 25:00:00"}
    item = exchange(Endpoint.STATUS, 200, body(logs=[entry, "text"]))
    (violation,) = [v for v in run_checks(CTX, item) if v.title == "Malformed log entries"]
    assert "logs[0]: time" in violation.message
    assert "logs[1]: is str" in violation.message


def test_log_window_is_ignored_on_real_targets() -> None:
    """Without a configured window any number of log entries is accepted."""
    item = exchange(Endpoint.STATUS, 200, body(logs=[body()["logs"][0]] * 50))
    assert "log_window" not in failed_names(CTX, item)


def test_sync_timeout_without_answer_is_a_violation() -> None:
    """An E1 call that got no answer before limit plus slack breaks invariant 9."""
    item = exchange(Endpoint.SYNC, None, elapsed_s=170)
    assert "sync_within_limit" in failed_names(CTX, item)
    assert "sync_within_limit" not in failed_names(CheckContext(network_slack_s=30), item)


def test_completed_response_needs_its_workflow_id() -> None:
    """A completed response without the workflow_id breaks invariant 5."""
    item = exchange(Endpoint.SYNC, 200, body(response={"k": "v"}))
    assert "completed_response" in failed_names(CTX, item)


def test_413_and_429_need_no_detail() -> None:
    """Infrastructure answers 413 and 429 may lack a detail (A7, A8)."""
    for code in (413, 429):
        assert "client_error_detail" not in failed_names(CTX, exchange(None, code, {"m": 1}))


def test_unauthorized_success_is_critical() -> None:
    """A 2xx to a request without a valid key is a critical violation."""
    item = exchange(Endpoint.START, 200, body("pending"))
    (violation,) = run_checks(CheckContext(authorized=False), item)
    assert violation.severity == "critical"


def test_jira_refusal_may_be_any_4xx() -> None:
    """E4 refusing a bad signature with 403 is allowed (A12); a 200 is not."""
    ctx = CheckContext(authorized=False)
    assert "unauthorized_refused" not in failed_names(
        ctx, exchange(Endpoint.JIRA, 403, {"detail": "x"})
    )
    assert "unauthorized_refused" in failed_names(
        ctx, exchange(Endpoint.JIRA, 200, body("pending"))
    )


def test_connection_errors_pass_response_checks() -> None:
    """An exchange without an answer fails no response check (apart from timing)."""
    assert run_checks(CTX, exchange(Endpoint.STATUS, None)) == []
