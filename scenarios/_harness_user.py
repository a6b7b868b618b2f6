"""Locust glue: a `HarnessUser` that drives flows through the harness client and its checks.

Every call goes through `TriggerClient` on the user's `GeventTransport` (geventhttpclient's
pool, as Locust's `FastHttpUser`: `scenarios._fast_transport`); the client's response
hook fires Locust's `request` event for it after running the contract checks, so a broken
invariant is a Locust failure whose error is `contract violation: <check title>`. Flows arrive
at a fixed rate per user (open arrivals: each task only launches a flow, which polls in its own
greenlet), bounded by `--max-flows-per-user` in flight and by each run's deadline.

The options are `harness.load.FLOW_OPTIONS`, the table the harness writes its command line
from; they are read back into one `FlowSettings` (the API key from the variable `--api-key-env`
names, never a command line). Without it, against workspace `demo`, the demo key is used, so

    trigger-mock serve --port 8080 &
    locust -f scenarios/background.py --host http://127.0.0.1:8080 --mock-admin

works as is. `--time-scale` says how many target seconds pass per real second (the mock's
`--time-scale`); with `--mock-admin` it is read from `/__admin/clock` instead.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import gevent
import gevent.pool
import httpx
from locust import User, events
from locust.runners import MasterRunner

from harness import (
    CheckContext,
    Endpoint,
    Exchange,
    HarnessError,
    JiraIssue,
    MockAdmin,
    Observation,
    PollStrategy,
    RunHistory,
    RunStatus,
    Target,
    TriggerClient,
    UsageError,
    issue_created,
    jira_signature,
    join_url,
    run_history_checks,
    signed_delivery,
    workflow_id_of,
)
from harness.checks import ANY_ANSWER, Verdict, judge, refused
from harness.load import (
    FLOW_OPTIONS,
    INCONCLUSIVE_PREFIX,
    VIOLATION_PREFIX,
    ClockMap,
    FlowSettings,
    RunEnd,
    exact_end,
    log_end,
)
from scenarios import _messaging, _stop  # noqa: F401 - _stop registers its watcher
from scenarios._fast_transport import GeventTransport
from scenarios._metrics import (
    INCONCLUSIVE_STOPS,
    RUN_FAILED_PREFIX,
    EndTimes,
    detect_mock_clock,
    fire_flow_events,
    flow_record,
    mock_clock,
    real_clock,
)

__all__ = [
    "RUN_FAILED_PREFIX",
    "FlowChecks",
    "HarnessUser",
    "LoadFailure",
    "Settings",
    "flow_failure",
    "inconclusive_reason",
    "request_name",
]

_log = logging.getLogger(__name__)
# One INFO line per request would drown Locust's own output.
logging.getLogger("httpx").setLevel(logging.WARNING)

_ENDPOINT_NAMES: Final = {
    Endpoint.SYNC: "E1 run sync",
    Endpoint.START: "E2 start",
    Endpoint.STATUS: "E3 status",
    Endpoint.JIRA: "E4 jira start",
}
_MOCK_LOG_WINDOW: Final = 5
_KILL_WAIT_S: Final = 5.0
"""How long a stopping user waits for its flows to end before closing its client (real s)."""


class LoadFailure(Exception):
    """A failure as Locust should show it: the error column is the message itself."""

    def __repr__(self) -> str:
        return str(self.args[0])


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("trigger-harness", "Target and flow settings")
    for option in FLOW_OPTIONS:
        option.add_to(group)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a user needs, built once per process from the flow settings."""

    flow: FlowSettings
    target: Target
    strategy: PollStrategy
    clock: Callable[[], float]
    clock_map: ClockMap
    end_times: EndTimes | None
    log_window: int | None

    @property
    def scale(self) -> float:
        """Target seconds per real second."""
        return self.clock_map.scale

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of target time (a gevent-friendly real sleep)."""
        gevent.sleep(max(seconds, 0.0) / self.scale)

    def check_context(self, **values: Any) -> CheckContext:
        """The checks' context for this target, with per-flow `values`."""
        return CheckContext(
            sync_limit_s=self.target.sync_limit_s,
            max_run_s=self.target.max_run_s,
            log_window=self.log_window,
            **values,
        )


def build_settings(environment: Any, environ: Mapping[str, str]) -> Settings:
    """Settings from the parsed options, the host and the environment variables."""
    flow = FlowSettings.from_options(
        environment.parsed_options, host=environment.host, environ=environ
    )
    target = flow.target()
    end_times = None
    token = flow.admin_token.reveal() if flow.admin_token is not None else None
    if flow.mock_admin:
        admin = MockAdmin(httpx.Client(timeout=30.0), base_url=target.base_url, token=token)
        clock, clock_map = mock_clock(admin)
        end_times = EndTimes(
            lambda: admin.runs(workspace_id=target.workspace_id), sleep=gevent.sleep
        )
    else:
        with httpx.Client(timeout=target.timeout_s) as http:
            found = detect_mock_clock(http, target.base_url, token=token)
        clock, clock_map = found if found is not None else real_clock(flow.time_scale)
    return Settings(
        flow=flow,
        target=target,
        strategy=flow.strategy(),
        clock=clock,
        clock_map=clock_map,
        end_times=end_times,
        log_window=_MOCK_LOG_WINDOW if flow.mock_admin else None,
    )


_SETTINGS: dict[int, Settings] = {}
_SETTINGS_LOCK = threading.Lock()
_LAUNCHED: dict[int, int] = {}
"""Flows launched per environment (process), held to `--max-runs`."""
_USERS = itertools.count()
"""Users started in this process: each seeds its own generator from `--seed` and its number."""


def settings_for(environment: Any) -> Settings:
    """This process's settings (built on first use, after the master sent its options)."""
    key = id(environment)
    with _SETTINGS_LOCK:
        if key not in _SETTINGS:
            import os  # noqa: PLC0415 - the environment is read here, at the edge, only

            _SETTINGS[key] = build_settings(environment, dict(os.environ))
        return _SETTINGS[key]


@events.test_start.add_listener
def _validate(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return
    try:
        settings_for(environment)
    except HarnessError as exc:
        _log.error("trigger-harness: %s", exc)
        environment.process_exit_code = 2
        environment.runner.quit()


@events.quitting.add_listener
def _close(environment: Any, **_: Any) -> None:
    _SETTINGS.pop(id(environment), None)


def request_name(exchange: Exchange, suffix: str = "") -> str:
    """The Locust name of a request: its endpoint (never the URL, which holds run ids)."""
    if exchange.endpoint is None:
        return f"{exchange.method} other{suffix}"
    return f"{_ENDPOINT_NAMES[exchange.endpoint]}{suffix}"


class FlowChecks:
    """One flow's check context, updated as the flow learns its run id."""

    def __init__(self, context: CheckContext, *, refused: bool = False, suffix: str = "") -> None:
        self.context = context
        self.refused = refused
        self.suffix = suffix

    def expect_run(self, workflow_id: str) -> None:
        """Later answers must be about `workflow_id`."""
        self.context = dataclasses.replace(self.context, expected_workflow_id=workflow_id)

    def failure(self, exchange: Exchange) -> LoadFailure | None:
        """What Locust should count as this answer's failure, None when it is a success.

        The one judgement (`harness.checks.judge`) classifies the answer: a violation is
        `contract violation: <titles>`; an inconclusive answer (none, 429) is
        `inconclusive: <why>`, never a violation; an open question answered differently
        (any 2xx from E2/E4, any 4xx refusing a Jira signature, a lower-case environment
        accepted) is an observation, never a violation. A request refused that should have
        been taken is an `HTTP <code>` failure: a failed request, not a broken invariant.
        """
        expectation = _WITHOUT_KEY if self.refused else ANY_ANSWER
        judgement = judge(self.context, exchange, expectation)
        if judgement.verdict is Verdict.VIOLATION:
            titles = " | ".join(sorted({violation.title for violation in judgement.violations}))
            return LoadFailure(f"{VIOLATION_PREFIX}{titles}")
        if judgement.verdict is Verdict.INCONCLUSIVE:
            return LoadFailure(f"{INCONCLUSIVE_PREFIX}{judgement.reason}")
        code = exchange.status_code
        if code is None or code < 400 or self.refused:
            return None
        seen = f" ({judgement.reason})" if judgement.verdict is Verdict.OBSERVATION else ""
        return LoadFailure(f"HTTP {code}{seen}")


_ERROR_CHARS: Final = 120
"""The run's own error text is cut to this many characters (`FlowRecord.error`)."""
_WITHOUT_KEY: Final = refused("a request without a valid key or signature", invariant=8)


def inconclusive_reason(history: RunHistory) -> str | None:
    """Why following a run told nothing about how it ended, None if it did.

    `RunHistory.stop_reason` decides: rate-limited past the deadline, a status outside the
    documented values, the connection lost or server errors until retries ran out. A run
    still pending or waiting at the deadline is no such case (invariant 9 judges it), nor a
    final status or an answer that cannot be retried.
    """
    reason = INCONCLUSIVE_STOPS.get(history.stop_reason) if history.stop_reason else None
    if reason is None:
        return None
    last = history.observations[-1]
    if history.stop_reason == "unknown_status" and last.envelope is not None:
        return f"status {last.envelope.status!r} outside the documented values"
    code = last.status_code
    return f"{reason} (last answer: {'none' if code is None else f'HTTP {code}'})"


def flow_failure(context: CheckContext, history: RunHistory, flow: str) -> LoadFailure | None:
    """A finished flow's verdict: None (it held), a violation, inconclusive, failed or lost.

    A broken invariant (the history checks) is `contract violation: <titles>`; following
    that told nothing (`inconclusive_reason`) is `inconclusive: <why>`, counted apart from a
    failed flow; a run that ended `failed` is `run ended failed: <its error>` (issue 16: a
    trigger whose runs all fail must show it); any other flow left without a final status
    is lost (`timed out` before the run's limit, `gave up polling` on an answer that cannot be
    retried). Only a violation and a lost flow are Locust failures: `fire_flow_events`
    counts the others with their own events, and the text goes to `FlowRecord.error`.

    Args:
        context: the flow's check context.
        history: the run as followed.
        flow: `background`, `jira` or `sync` (a sync flow is judged by its one answer).
    """
    violations = run_history_checks(context, history)
    if violations:
        titles = " | ".join(sorted({violation.title for violation in violations}))
        return LoadFailure(f"{VIOLATION_PREFIX}{titles}")
    if history.final is not None and history.final.status == RunStatus.FAILED:
        error = (history.final.error or "no error text")[:_ERROR_CHARS]
        return LoadFailure(f"{RUN_FAILED_PREFIX}{error}")
    if history.final is not None or flow == "sync":
        return None
    reason = inconclusive_reason(history)
    if reason is not None:
        return LoadFailure(f"{INCONCLUSIVE_PREFIX}{reason}")
    return LoadFailure("timed out" if history.timed_out else "gave up polling")


class HarnessUser(User):
    """A Locust user whose tasks launch flows; subclasses pick the flows and their weights."""

    abstract = True
    scenario: ClassVar[str] = "harness"

    def on_start(self) -> None:
        """Build this user's HTTP client and flow pool."""
        self.settings = settings_for(self.environment)
        seed = self.settings.flow.seed
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.rng = random.Random(None if seed is None else f"{seed}:{worker}:{next(_USERS)}")
        self._next_arrival: float | None = None
        self.http = GeventTransport(connections=self.settings.flow.max_flows_per_user + 1)
        self.flows = gevent.pool.Pool(self.settings.flow.max_flows_per_user)

    def on_stop(self) -> None:
        """Stop the flows still in flight (not counted), then close the client.

        The kill waits (at most `_KILL_WAIT_S`) for the flows to end, so none sends on the
        closed client ("client has been closed" at shutdown).
        """
        self.flows.kill(block=True, timeout=_KILL_WAIT_S)
        self.http.close()

    def wait_time(self) -> float:
        """Fixed-rate arrivals: the next flow starts `pacing` after the previous one started."""
        now = time.monotonic()
        self._next_arrival = (self._next_arrival or now) + self.settings.flow.pacing
        return max(0.0, self._next_arrival - now)

    # --- plumbing ---------------------------------------------------------------------------

    def launch(self, flow: Callable[[], None], name: str) -> None:
        """Run `flow` in its own greenlet, once fewer than `--max-flows-per-user` are in flight.

        The in-flight cap is a waiting policy, never a failure: with the pool full the user
        waits for a free slot (later arrivals come late), and the wait is recorded as the flow
        metric `<name>: wait for a free flow slot (real ms)`. Past `--max-runs` launches in
        this process the flow is not started, only counted under
        `FlowSettings.MAX_RUNS_METRIC` (a flow metric, never a failure).
        """
        key, limit = id(self.environment), self.settings.flow.max_runs
        if limit is not None and _LAUNCHED.get(key, 0) >= limit:
            self.environment.events.request.fire(
                request_type="FLOW",
                name=FlowSettings.MAX_RUNS_METRIC,
                response_time=0.0,
                response_length=0,
                exception=None,
                context={},
            )
            return
        _LAUNCHED[key] = _LAUNCHED.get(key, 0) + 1
        if self.flows.full():
            waited = time.monotonic()
            self.flows.wait_available()
            self.environment.events.request.fire(
                request_type="FLOW",
                name=f"{name}: wait for a free flow slot (real ms)",
                response_time=(time.monotonic() - waited) * 1000.0,
                response_length=0,
                exception=None,
                context={},
            )
        self.flows.spawn(self._guarded, flow, name)

    def _guarded(self, flow: Callable[[], None], name: str) -> None:
        try:
            flow()
        except HarnessError:
            pass  # already counted: the failing answer was reported by the response hook
        except Exception as exc:
            self._flow_failure(name, f"flow crashed: {type(exc).__name__}: {exc}")

    def _flow_failure(self, name: str, message: str) -> None:
        self.environment.events.request.fire(
            request_type="FLOW",
            name=f"{name}: end-to-end (target ms)",
            response_time=0.0,
            response_length=0,
            exception=LoadFailure(message),
            context={},
        )

    def client(self, checks: FlowChecks) -> TriggerClient:
        """A client for one flow: its answers are checked and reported to Locust."""
        scale = self.settings.scale
        fire = self.environment.events.request.fire

        def report(exchange: Exchange) -> None:
            fire(
                request_type=exchange.method,
                name=request_name(exchange, checks.suffix),
                response_time=exchange.elapsed_s / scale * 1000.0,
                response_length=len(exchange.response_body),
                exception=checks.failure(exchange),
                context={},
            )

        return TriggerClient(
            self.settings.target,
            http=self.http,
            clock=self.settings.clock,
            sleep=self.settings.sleep,
            rng=self.rng,
            event_hooks={"response": [report]},
        )

    def _variables(self, flow: str) -> dict[str, str]:
        return {"load_flow": flow, "load_id": uuid.uuid4().hex}

    def _finish(self, flow: str, history: RunHistory, checks: FlowChecks) -> None:
        failure = flow_failure(checks.context, history, flow)
        record = flow_record(
            scenario=self.scenario,
            flow=flow,
            history=history,
            clock_map=self.settings.clock_map,
            end=self._end(history),
            finished_at=self.settings.clock(),
            error="" if failure is None else str(failure),
        )
        fire_flow_events(self.environment, record, failure)
        _messaging.record(self.environment, record)

    def _end(self, history: RunHistory) -> RunEnd | None:
        if history.final is None or not history.polls:
            return None
        if self.settings.end_times is None:
            return log_end(history)
        ended_at = self.settings.end_times.lookup(history.workflow_id)
        return None if ended_at is None else exact_end(ended_at)

    # --- flows ------------------------------------------------------------------------------

    def sync_flow(self) -> None:
        """E1: one synchronous run."""
        variables = self._variables("sync")
        checks = FlowChecks(self.settings.check_context(expected_user_variables=variables))
        observation = self.client(checks).run_sync(user_variables=variables)
        final = (
            observation.envelope if observation.envelope and observation.envelope.is_final else None
        )
        history = RunHistory(
            workflow_id=workflow_id_of(observation), start=observation, polls=(), final=final
        )
        self._finish("sync", history, checks)

    def background_flow(self) -> None:
        """E2 then E3 until final, polling with the configured strategy."""
        variables = self._variables("background")
        checks = FlowChecks(self.settings.check_context(expected_user_variables=variables))
        client = self.client(checks)
        started = client.start(user_variables=variables)
        self._follow("background", client, checks, started)

    def jira_flow(self) -> None:
        """E4 with a signed Jira delivery, then E3 until final (E4 behaves like E2)."""
        number = self.rng.randrange(1, 1_000_000)
        issue = JiraIssue(key=f"LOAD-{number}", summary=f"Load test issue {number}")
        payload = issue_created(issue=issue, timestamp_ms=int(time.time() * 1000))
        target = self.settings.target
        if target.jira_secret is None:
            raise UsageError(
                f"the Jira flow needs the Jira secret: set {self.settings.flow.jira_secret_env}"
            )
        delivery = signed_delivery(payload, target.jira_secret.reveal())
        checks = FlowChecks(self.settings.check_context(expected_user_variables=payload))
        client = self.client(checks)
        started = client.send_jira(delivery.body, signature=delivery.signature)
        self._follow("jira", client, checks, started)

    def _follow(
        self, flow: str, client: TriggerClient, checks: FlowChecks, started: Observation
    ) -> None:
        workflow_id = workflow_id_of(started)
        checks.expect_run(workflow_id)
        history = client.wait(workflow_id, strategy=self.settings.strategy, start=started)
        self._finish(flow, history, checks)

    def bad_key_request(self) -> None:
        """One request E1-E4 without a valid key or signature; a correct target refuses it."""
        target = self.settings.target
        checks = FlowChecks(
            self.settings.check_context(authorized=False), refused=True, suffix=" (bad key)"
        )
        client = self.client(checks)
        kind = self.rng.randrange(4)
        if kind == 3:
            body = b'{"webhookEvent": "jira:issue_created"}'
            signature = self.rng.choice([None, jira_signature(body, "not-the-secret"), "sha256=zz"])
            client.send_jira(body, signature=signature)
            return
        credentials: list[bool | str] = [
            False,
            f"Bearer wrong-{uuid.uuid4().hex[:12]}",
            "Basic d3Jvbmc6a2V5",
            "Bearer",
        ]
        auth = self.rng.choice(credentials)
        workspace = ("workspace_id", target.workspace_id)
        trigger = ("trigger_id", target.background_trigger or "unknown")
        environment = ("environment", target.environment)
        run_id = ("workflow_id", str(uuid.uuid4()))
        urls = [
            ("POST", join_url(target.base_url, workspace, trigger, environment)),
            ("POST", join_url(target.base_url, "start", workspace, trigger, environment)),
            ("GET", join_url(target.base_url, "status", workspace, run_id)),
        ]
        method, url = urls[kind]
        content = b'{"message": "", "user_variables": {}}' if method == "POST" else b""
        client.request(
            method, url, content=content, auth=auth, headers={"Content-Type": "application/json"}
        )
