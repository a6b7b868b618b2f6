"""The fuzzer's machinery: budgets, pacing, time limit, curl reproductions, finding detection."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import strategies as hs
from harness._embedded import MOCK_LOG_WINDOW, embedded_app, open_session
from harness._exceptions import TargetUnavailable, UsageError
from harness._jira import signed_delivery
from harness._models import Endpoint
from harness._targets import Secret, Target, mock_target
from harness.cli._edge import Edge, report_run
from harness.cli._fuzz import fuzz_cli, fuzz_command, fuzz_stage
from harness.fuzz import (
    PROPERTIES,
    FuzzBudget,
    FuzzContext,
    FuzzMeter,
    FuzzRequest,
    OutOfTime,
    Property,
    curl_command,
    mock_refuses,
    must_refuse,
    reveals,
    run_machine,
    run_property,
    without_secrets,
)
from harness.strategies._auth import _fixed_variants
from harness.strategies._bodies import RawBody

CANARY = "CANARY-k3y-7f3e9b2c"
JIRA_CANARY = "CANARY-jira-5ec4e7"
TEST_BUDGET = FuzzBudget(profile="ci", max_examples=15, seed=1)


class FakeTime:
    """A real-time clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        """The current fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.slept.append(seconds)
        self.now += seconds


def canary_target() -> Target:
    """A real-looking target whose key and Jira secret are canaries."""
    return Target(
        name="canary",
        base_url="https://api.example.test/api/v1/ai",
        workspace_id="ws-1",
        environment="DEV",
        api_key=Secret(CANARY),
        api_key_env="PHINITE_API_KEY",
        jira_secret=Secret(JIRA_CANARY),
        jira_secret_env="PHINITE_JIRA_SECRET",
        jira_trigger="jira-triage",
    )


def test_budget_refuses_bad_values_naming_the_flag() -> None:
    """An unknown profile, zero examples or a non-positive rate is a usage error naming it."""
    with pytest.raises(UsageError, match="--profile"):
        FuzzBudget(profile="quick")
    with pytest.raises(UsageError, match="--max-examples"):
        FuzzBudget(max_examples=0)
    with pytest.raises(UsageError, match="--max-rps"):
        FuzzBudget(max_rps=0.0)
    with pytest.raises(UsageError, match="--time-limit"):
        FuzzBudget(time_limit_s=-1.0)


def test_budget_examples_come_from_the_profile_unless_given() -> None:
    """Examples per property are the profile's unless --max-examples sets them."""
    assert FuzzBudget(profile="ci").examples == 25
    assert FuzzBudget(profile="thorough").examples == 1000
    assert FuzzBudget(profile="ci", max_examples=7).settings(None).max_examples == 7


def test_rate_cap_spaces_requests() -> None:
    """At 4 requests per second, five requests take a second: four waits of 0.25 s."""
    fake = FakeTime()
    meter = FuzzMeter(max_rps=4.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(5):
        meter.before_request()
    assert meter.requests == 5
    assert fake.slept == pytest.approx([0.25] * 4)


def test_no_rate_cap_never_sleeps() -> None:
    """Without --max-rps requests are sent back to back."""
    fake = FakeTime()
    meter = FuzzMeter(clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        meter.before_request()
    assert fake.slept == []


def test_time_limit_stops_examples_but_not_shrinking() -> None:
    """Past the time limit a new example raises OutOfTime, unless a failure is shrinking."""
    fake = FakeTime()
    meter = FuzzMeter(time_limit_s=10.0, clock=fake.clock, sleep=fake.sleep)
    meter.tick()
    fake.now = 10.0
    meter.shrinking = True
    meter.tick()
    meter.shrinking = False
    with pytest.raises(OutOfTime):
        meter.tick()
    assert meter.examples == 2


def _outputs_of(variant_values: list[str | None]) -> list[str]:
    target = canary_target()
    commands = []
    for value in variant_values:
        request = FuzzRequest(
            endpoint=Endpoint.STATUS,
            method="GET",
            url=f"{target.base_url}/trigger/status/ws-1/{CANARY}",
            auth=False if value is None else value,
            auth_description="a variant",
        )
        commands.append(curl_command(request, target))
    return commands


def test_curl_never_shows_the_key_for_any_fixed_variant() -> None:
    """No reproduction of a key-derived Authorization variant shows the key or half of it."""
    values = [variant.value for variant in _fixed_variants(CANARY, ("other-ws-key",))]
    for command in _outputs_of(values):
        assert not reveals(command, CANARY), command


@settings(max_examples=50, deadline=None)
@given(variant=hs.authorization_headers(CANARY))
def test_curl_never_shows_the_key_for_drawn_variants(variant: hs.AuthVariant) -> None:
    """Drawn wrong credentials never put the canary key in a reproduction."""
    (command,) = _outputs_of([variant.value])
    assert CANARY not in command
    assert not reveals(command.replace("${PHINITE_API_KEY}", ""), CANARY)


def _run_shell(command: str, environ: dict[str, str]) -> str:
    """Run `command` with curl replaced by a stub that prints its arguments and body."""
    stub = 'curl() { printf "%s\\n" "$@"; cat "$body"; }\n'
    completed = subprocess.run(
        ["bash", "-c", stub + command],
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environ},
    )
    return completed.stdout.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "caf\xe9 \'quoted\' 100% \\\\ back", "user_variables": {}}',
        "😀 \u202e\u200b\n\t".encode(),
        b"\x00\x01\xff%s%%",
        f'{{"echo": "{CANARY}"}}'.encode(),
    ],
    ids=["quotes-percent-backslash", "unicode", "binary", "key-in-body"],
)
def test_curl_sends_the_exact_body_and_expands_the_key(body: bytes) -> None:
    """The reproduction's body is byte for byte the sent body and the key comes from the env."""
    target = canary_target()
    request = FuzzRequest(
        endpoint=Endpoint.START,
        method="POST",
        url=f"{target.base_url}/trigger/start/ws-1/t/DEV",
        body=body,
        content_type="application/json",
    )
    command = curl_command(request, target)
    assert CANARY not in command
    output = _run_shell(command, {"PHINITE_API_KEY": CANARY}).encode("utf-8", "surrogateescape")
    assert f"Authorization: Bearer {CANARY}".encode() in output
    assert output.endswith(body)


def test_curl_recomputes_the_jira_signature_from_the_secret() -> None:
    """A signed Jira delivery is reproduced with the signature computed from the secret's env."""
    target = canary_target()
    delivery = signed_delivery({"webhookEvent": "jira:issue_created", "n": "é"}, JIRA_CANARY)
    request = FuzzRequest(
        endpoint=Endpoint.JIRA,
        method="POST",
        url=f"{target.base_url}/trigger/jira/start/ws-1/jira-triage/DEV",
        body=delivery.body,
        content_type="application/json",
        auth=False,
        jira_signature=delivery.signature,
        jira_signed=True,
    )
    command = curl_command(request, target)
    assert JIRA_CANARY not in command
    assert str(delivery.signature) not in command
    assert "${PHINITE_JIRA_SECRET}" in command
    if subprocess.run(["which", "openssl"], capture_output=True, check=False).returncode == 0:
        output = _run_shell(command, {"PHINITE_JIRA_SECRET": JIRA_CANARY})
        assert f"X-Hub-Signature: {delivery.signature}" in output


def test_curl_points_the_embedded_mock_at_a_served_one() -> None:
    """For the embedded mock the command says to serve it and targets 127.0.0.1:8080."""
    target = mock_target()
    request = FuzzRequest(
        endpoint=Endpoint.STATUS, method="GET", url=f"{target.base_url}/trigger/status/demo/x"
    )
    command = curl_command(request, target)
    assert command.startswith("# first: trigger-mock serve --port 8080")
    assert "http://127.0.0.1:8080/trigger/status/demo/x" in command
    assert "demo-key" not in command


def _broken(
    inner: Any,
    *,
    emoji_500: bool = False,
    accept_key: str | None = None,
    any_workspace: bool = False,
) -> Any:
    """Wrap the mock: 500 on a body holding an emoji, take `accept_key` for the right key, or
    answer E3 under any workspace id as if it were `demo`'s."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        if any_workspace and scope["path"].startswith("/trigger/status/"):
            workflow_id = scope["path"].rsplit("/", 1)[-1]
            scope = {**scope, "path": f"/trigger/status/demo/{workflow_id}"}
        if accept_key is not None:
            headers = [
                (name, b"Bearer demo-key" if value == accept_key.encode() else value)
                for name, value in scope["headers"]
            ]
            scope = {**scope, "headers": headers}
        if emoji_500 and scope["method"] == "POST":
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            if re.search(r"[\U0001F300-\U0001FAFF]", body.decode("utf-8", "replace")):
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"boom"})
                return
            replayed = iter([{"type": "http.request", "body": body, "more_body": False}])

            async def receive_again() -> Any:
                return next(replayed, {"type": "http.disconnect"})

            await inner(scope, receive_again, send)
            return
        await inner(scope, receive, send)

    return app


@pytest.fixture
def broken_ctx(request: pytest.FixtureRequest) -> Iterator[FuzzContext]:
    """A fuzz context over a deliberately broken embedded mock (see `_broken`)."""
    app = _broken(embedded_app(1000.0), **request.param)
    with open_session(mock_target(), time_scale=1000.0, app=app) as session:
        yield FuzzContext(
            target=session.target,
            client=session.client(),
            http=session.http,
            meter=FuzzMeter(),
            admin=session.admin,
            exact=True,
            log_window=MOCK_LOG_WINDOW,
            sleep=session.sleep,
        )


def _property(name: str) -> Any:
    return next(prop for prop in PROPERTIES if prop.name == name)


@pytest.mark.parametrize("broken_ctx", [{"emoji_500": True}], indirect=True)
def test_a_500_on_emoji_is_found_shrunk_and_reproduced(broken_ctx: FuzzContext) -> None:
    """A mock that 500s on emoji fails the valid-payload property with an emoji input."""
    budget = FuzzBudget(profile="ci", max_examples=200, seed=3)
    result = run_property(broken_ctx, _property("valid_payload_accepted"), budget)
    assert result.finding is not None
    assert result.case.outcome == "failed"
    assert result.finding.response is not None
    assert result.finding.response.status_code == 500
    assert re.search(r"[\U0001F300-\U0001FAFF]", result.finding.input_repr)
    assert "demo-key" not in result.finding.reproduction
    assert "${PHINITE_API_KEY}" in result.finding.reproduction


@pytest.mark.parametrize("broken_ctx", [{"accept_key": "Bearer demo-keyx"}], indirect=True)
def test_a_wrong_key_accepted_is_found(broken_ctx: FuzzContext) -> None:
    """A mock taking the key with a trailing character fails the wrong-key property."""
    budget = FuzzBudget(profile="ci", max_examples=300, seed=5)
    result = run_property(broken_ctx, _property("wrong_key_refused"), budget)
    assert result.finding is not None
    assert "demo-key" not in result.finding.reproduction
    assert "demo-key" not in result.finding.input_repr


@pytest.mark.parametrize("broken_ctx", [{"any_workspace": True}], indirect=True)
def test_the_state_machine_finds_a_run_shown_to_another_workspace(broken_ctx: FuzzContext) -> None:
    """The stateful fuzzer notices E3 showing a run under another workspace id."""
    budget = FuzzBudget(profile="ci", max_examples=60, seed=7)
    result = run_machine(broken_ctx, budget)
    assert result.finding is not None
    assert result.case.outcome == "failed"
    assert "state.poll_other_workspace" in result.finding.input_repr


def test_fuzz_command_on_the_mock_passes_and_leaves_no_hypothesis_home(tmp_path: Path) -> None:
    """`fuzz` on the mock exits 0, reports every property and leaves no hypothesis home in
    the working directory."""
    lines: list[str] = []
    edge = Edge(environ={}, cwd=tmp_path, echo=lines.append)
    code = fuzz_command(
        edge,
        target_name="mock",
        targets_file=None,
        report_dir=Path("reports"),
        allow_production=False,
        profile="ci",
        max_examples=3,
        seed=11,
    )
    assert code == 0, lines
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    fuzz_cases = [case for case in results["cases"] if case["suite"] == "fuzz"]
    assert len(fuzz_cases) == len(PROPERTIES) + 1
    assert not (tmp_path / ".hypothesis").exists()
    assert not (tmp_path / "reports" / ".hypothesis" / "constants").exists()
    assert lines[0].startswith("fuzz: 7 passed, 0 failed, 0 errors")


def test_findings_reach_junit_and_results_json(tmp_path: Path) -> None:
    """A finding is a failed JUnit case and a results.json finding, with exit code 1."""
    target = mock_target()
    edge = Edge(environ={}, cwd=tmp_path, now=lambda: datetime(2026, 6, 10, tzinfo=UTC))
    app = _broken(embedded_app(1000.0), emoji_500=True)
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=replace(TEST_BUDGET, max_examples=200),
            database=None,
            properties=[_property("valid_payload_accepted")],
            machine=False,
            app=app,
        )
    assert not outcome.ok
    assert run.exit_code == 1
    folder = run.folder.path
    junit = (folder / "junit.xml").read_text()
    assert "fuzz.valid_payload_accepted" in junit
    assert "<failure" in junit
    assert "reproduction:" in junit
    (finding,) = json.loads((folder / "results.json").read_text())["findings"]
    assert "${PHINITE_API_KEY}" in finding["reproduction"]
    assert "demo-key" not in (folder / "results.json").read_text()


def test_fuzz_command_refuses_a_bad_profile(tmp_path: Path) -> None:
    """A bad --profile is a usage error before any request."""
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(UsageError, match="--profile"):
        fuzz_command(
            edge,
            target_name="mock",
            targets_file=None,
            report_dir=Path("reports"),
            allow_production=False,
            profile="fast",
        )


def test_fuzz_cli_runs_with_all_flags(tmp_path: Path) -> None:
    """`fuzz` parses every flag, fuzzes the mock and prints the totals and the report path."""
    result = CliRunner().invoke(
        fuzz_cli,
        [
            "--target=mock",
            "--report-dir",
            str(tmp_path / "reports"),
            "--profile=ci",
            "--max-examples=2",
            "--max-rps=10000",
            "--time-limit=60",
            "--seed=4",
            "--max-runs=40",
        ],
        obj=Edge(environ={}, cwd=tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("fuzz: 7 passed, 0 failed, 0 errors, 0 skipped;")
    assert "report: " in result.stdout
    assert "at most 32 runs" in result.stderr
    assert "seed 4" in result.stderr


def test_fuzz_cli_refuses_a_zero_rate_naming_the_flag(tmp_path: Path) -> None:
    """A non-positive --max-rps is a usage error (exit 2) naming the flag."""
    result = CliRunner().invoke(
        fuzz_cli, ["--target=mock", "--max-rps=0"], obj=Edge(environ={}, cwd=tmp_path)
    )
    assert result.exit_code == 2
    assert "--max-rps" in result.output


def test_time_limit_reports_the_rest_not_reached(tmp_path: Path) -> None:
    """Past --time-limit generation stops and the properties not reached are reported skipped."""
    ticks = iter(float(n) for n in range(10_000))
    edge = Edge(environ={}, cwd=tmp_path, echo=lambda line: None)
    target = mock_target()
    with report_run(
        edge, command="fuzz", target=target, report_dir=Path("reports"), options={}
    ) as run:
        outcome = fuzz_stage(
            run,
            target,
            budget=replace(TEST_BUDGET, time_limit_s=3.0),
            database=None,
            clock=lambda: next(ticks),
        )
    assert outcome.ok
    first, *rest = outcome.results
    assert first.out_of_time
    assert "stopped at the time limit" in first.case.message
    assert [result.case.outcome for result in rest] == ["skipped"] * 6
    assert all(result.case.skip_reason == "not reached within --time-limit" for result in rest)


def test_unreachable_target_is_target_unavailable(tmp_path: Path) -> None:
    """A target nobody answers for stops the run with TargetUnavailable (exit code 3)."""
    (tmp_path / "harness.toml").write_text(
        '[targets.closed]\nbase_url = "http://127.0.0.1:9"\nworkspace_id = "ws"\n'
        'environment = "DEV"\napi_key_env = "CLOSED_KEY"\nbackground_trigger = "t"\n'
    )
    edge = Edge(environ={"CLOSED_KEY": CANARY}, cwd=tmp_path, echo=lambda line: None)
    with pytest.raises(TargetUnavailable) as caught:
        fuzz_command(
            edge,
            target_name="closed",
            targets_file=None,
            report_dir=Path("reports"),
            allow_production=False,
            max_examples=1,
        )
    assert caught.value.exit_code == 3
    assert CANARY not in str(caught.value)


def test_a_property_hypothesis_cannot_run_is_an_error_not_a_finding() -> None:
    """A strategy that draws nothing makes the property an error, with no finding."""
    never = Property(
        name="never",
        title="draws nothing",
        draw=lambda ctx: st.integers().filter(lambda _: False),
        check=lambda ctx, drawn: None,
    )
    with open_session(mock_target(), time_scale=1000.0) as session:
        ctx = FuzzContext(
            target=session.target, client=session.client(), http=session.http, meter=FuzzMeter()
        )
        result = run_property(ctx, never, TEST_BUDGET)
    assert result.case.outcome == "error"
    assert result.finding is None
    assert "Unsatisfiable" in result.case.message


def test_run_count_ignores_cron_and_manual_runs() -> None:
    """Cron ticks and manual runs (which the fast clock fires any time) are not request runs."""
    with open_session(mock_target(), time_scale=1000.0) as session:
        assert session.admin is not None
        ctx = FuzzContext(
            target=session.target,
            client=session.client(),
            http=session.http,
            meter=FuzzMeter(),
            admin=session.admin,
        )
        before = ctx.run_count()
        session.admin.advance(7200)
        session.admin.run_now("demo", "hourly-health")
        assert ctx.run_count() == before
        assert any(run["source"] == "cron" for run in session.admin.runs(workspace_id="demo"))
        session.client().start()
        assert ctx.run_count() == (before or 0) + 1


def test_empty_body_is_an_assumption_case() -> None:
    """An empty body need not be refused (A7: both fields optional); the mock accepts it."""
    empty = RawBody(
        content=b"",
        content_type="application/json",
        why="empty",
        kind="invalid_json",
        documented_invalid=True,
    )
    truncated = replace(empty, content=b'{"message": "h')
    no_type = replace(empty, content=b"{}", content_type=None, kind="content_type")
    assert not must_refuse(empty)
    assert not mock_refuses(empty)
    assert must_refuse(truncated)
    assert mock_refuses(truncated)
    assert not mock_refuses(no_type)


def test_payloads_holding_a_secret_are_not_drawn() -> None:
    """A payload holding the target's key is recognised (answers are redacted, so it is skipped)."""
    with open_session(mock_target(), time_scale=1000.0) as session:
        ctx = FuzzContext(
            target=session.target, client=session.client(), http=session.http, meter=FuzzMeter()
        )
        assert not without_secrets(ctx, {"user_variables": {"demo-key": None}})
        assert not without_secrets(ctx, {"x": "demo-jira-secret"})
        assert without_secrets(ctx, {"user_variables": {"demo": "key"}})
