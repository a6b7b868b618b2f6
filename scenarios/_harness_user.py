"""Locust glue: a `HarnessUser` that drives flows through the harness client and its checks.

Every call goes through `TriggerClient` on the user's `httpx.Client`; the client's response
hook fires Locust's `request` event for it after running the contract checks, so a broken
invariant is a Locust failure whose error is `contract violation: <check title>`. Flows arrive
at a fixed rate per user (open arrivals: each task only launches a flow, which polls in its own
greenlet), bounded by `--max-flows-per-user` in flight and by each run's deadline.

Target settings come from custom arguments (each with an environment variable); the API key is
read from the variable `--api-key-env` names and never appears on a command line. Without it,
against workspace `demo`, the demo key is used, so

    trigger-mock serve --port 8080 &
    locust -f scenarios/background.py --host http://127.0.0.1:8080 --mock-admin

works as is. `--time-scale` says how many target seconds pass per real second (the mock's
`--time-scale`); with `--mock-admin` it is read from `/__admin/clock` instead.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

import gevent
import gevent.pool
import httpx
from locust import User, events
from locust.runners import MasterRunner, WorkerRunner

from harness._admin_client import MockAdmin
from harness._client import TriggerClient, workflow_id_of
from harness._exceptions import HarnessError, UsageError
from harness._jira import JiraIssue, issue_created, sign, signed_delivery
from harness._models import Endpoint, Exchange, Observation, RunHistory
from harness._polling import PollStrategy
from harness._protocol import join_url
from harness._targets import Secret, Target
from harness.checks._registry import CheckContext, run_checks, run_history_checks
from harness.load._locust import FLOW_CSV_ENV, VIOLATION_PREFIX, strategy_from
from harness.load._sizing import log_end_time, parse_iso
from scenarios._metrics import ClockMap, EndTimes, FlowCsv, fire_flow_events, flow_record

__all__ = ["FlowChecks", "HarnessUser", "LoadFailure", "Settings", "request_name"]

_log = logging.getLogger(__name__)
# One INFO line per request would drown Locust's own output.
logging.getLogger("httpx").setLevel(logging.WARNING)

DEMO_WORKSPACE: Final = "demo"
DEMO_KEY: Final = "demo-key"
DEMO_JIRA_SECRET: Final = "demo-jira-secret"
_ENDPOINT_NAMES: Final = {
    Endpoint.SYNC: "E1 run sync",
    Endpoint.START: "E2 start",
    Endpoint.STATUS: "E3 status",
    Endpoint.JIRA: "E4 jira start",
}
_MOCK_LOG_WINDOW: Final = 5


class LoadFailure(Exception):
    """A failure as Locust should show it: the error column is the message itself."""

    def __repr__(self) -> str:
        return str(self.args[0])


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("trigger-harness", "Target and flow settings")
    add = group.add_argument
    add(
        "--workspace",
        default=DEMO_WORKSPACE,
        env_var="TRIGGER_HARNESS_WORKSPACE",
        help="Workspace id (default: demo)",
    )
    add(
        "--environment",
        default="DEV",
        env_var="TRIGGER_HARNESS_ENVIRONMENT",
        help="DEV, UAT or PROD",
    )
    add("--sync-trigger", default="quick-answer", help="Trigger for E1 flows")
    add("--background-trigger", default="nightly-report", help="Trigger for E2 flows")
    add("--jira-trigger", default="jira-triage", help="Trigger for E4 flows")
    add(
        "--api-key-env",
        default="TRIGGER_HARNESS_API_KEY",
        help="Name of the environment variable holding the API key",
    )
    add(
        "--jira-secret-env",
        default="TRIGGER_HARNESS_JIRA_SECRET",
        help="Name of the environment variable holding the Jira secret",
    )
    add(
        "--poll-strategy",
        default="fixed",
        choices=["fixed", "fixed_jittered", "exponential"],
        help="How flows poll E3",
    )
    add(
        "--poll-interval",
        type=float,
        default=5.0,
        help="Poll interval (target seconds); exponential: the first delay",
    )
    add(
        "--poll-jitter",
        type=float,
        default=0.0,
        help="fixed_jittered: first-poll jitter (s); exponential: jitter fraction 0-1",
    )
    add("--poll-cap", type=float, default=60.0, help="exponential: longest delay (target s)")
    add("--max-run-s", type=float, default=2700.0, help="A flow's deadline (target seconds)")
    add(
        "--pacing",
        type=float,
        default=1.0,
        help="Real seconds between flow arrivals per user (fixed rate)",
    )
    add("--max-flows-per-user", type=int, default=50, help="Flows in flight per user, at most")
    add("--burst-size", type=int, default=10, help="jira-burst: deliveries per arrival")
    add(
        "--time-scale",
        type=float,
        default=1.0,
        help="Target seconds per real second (ignored with --mock-admin)",
    )
    add(
        "--mock-admin",
        action="store_true",
        default=False,
        env_var="TRIGGER_HARNESS_MOCK_ADMIN",
        help="The host is a trigger-mock: read its clock and run ends from /__admin",
    )
    add(
        "--admin-token-env",
        default="TRIGGER_MOCK_ADMIN_TOKEN",
        help="Name of the environment variable holding the mock's admin token",
    )
    add(
        "--flow-csv",
        default="",
        env_var=FLOW_CSV_ENV,
        help="Raw per-flow metrics CSV (default: <--csv prefix>_flows.csv)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a user needs, built once per process from the arguments and environment."""

    target: Target
    strategy: PollStrategy
    pacing_s: float
    max_flows: int
    burst_size: int
    clock: Callable[[], float]
    clock_map: ClockMap
    end_times: EndTimes | None
    flow_csv: FlowCsv | None
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


def _secret(environ: dict[str, str], variable: str, demo_value: str, workspace: str) -> Secret:
    value = environ.get(variable, "")
    if value.strip():
        return Secret(value)
    if workspace == DEMO_WORKSPACE:
        return Secret(demo_value)
    raise UsageError(f"environment variable {variable} is not set (workspace {workspace!r})")


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise UsageError(f"--{name} must be > 0, got {value!r}")
    return value


def build_settings(environment: Any, environ: dict[str, str]) -> Settings:
    """Settings from the parsed options, the host and the environment variables."""
    options = environment.parsed_options
    host = environment.host or ""
    if not host:
        raise UsageError("--host is required (the target's base URL)")
    target = Target(
        name="locust",
        base_url=host.rstrip("/"),
        workspace_id=options.workspace,
        environment=options.environment,
        api_key=_secret(environ, options.api_key_env, DEMO_KEY, options.workspace),
        sync_trigger=options.sync_trigger,
        background_trigger=options.background_trigger,
        jira_trigger=options.jira_trigger,
        jira_secret=_secret(environ, options.jira_secret_env, DEMO_JIRA_SECRET, options.workspace),
        max_run_s=_positive("max-run-s", options.max_run_s),
        poll_interval_s=min(_positive("poll-interval", options.poll_interval), options.max_run_s),
    )
    strategy = strategy_from(
        options.poll_strategy,
        options.poll_interval,
        jitter=options.poll_jitter,
        cap_s=options.poll_cap,
    )
    end_times, clock, clock_map = None, None, None
    if options.mock_admin:
        admin = MockAdmin(
            httpx.Client(timeout=30.0),
            base_url=target.base_url,
            token=environ.get(options.admin_token_env) or None,
        )
        clock, clock_map = _mock_clock(admin)
        end_times = EndTimes(
            lambda: admin.runs(workspace_id=target.workspace_id), sleep=gevent.sleep
        )
    else:
        clock, clock_map = _real_clock(_positive("time-scale", options.time_scale))
    return Settings(
        target=target,
        strategy=strategy,
        pacing_s=_positive("pacing", options.pacing),
        max_flows=int(_positive("max-flows-per-user", options.max_flows_per_user)),
        burst_size=int(_positive("burst-size", options.burst_size)),
        clock=clock,
        clock_map=clock_map,
        end_times=end_times,
        flow_csv=_flow_csv(environment, options),
        log_window=_MOCK_LOG_WINDOW if options.mock_admin else None,
    )


def _mock_clock(admin: MockAdmin) -> tuple[Callable[[], float], ClockMap]:
    """A client clock reading the mock's virtual epoch time (sampled once, then extrapolated)."""
    before = time.monotonic()
    reading = admin.clock()
    anchor = (before + time.monotonic()) / 2
    virtual = parse_iso(reading["now"])
    scale = 0.0 if reading.get("frozen") else float(reading["time_scale"])
    scale = scale or 1.0

    def clock() -> float:
        return virtual + (time.monotonic() - anchor) * scale

    return clock, ClockMap(client_at=virtual, target_epoch=virtual, scale=scale)


def _real_clock(scale: float) -> tuple[Callable[[], float], ClockMap]:
    anchor, wall = time.monotonic(), time.time()

    def clock() -> float:
        return wall + (time.monotonic() - anchor) * scale

    return clock, ClockMap(client_at=wall, target_epoch=wall, scale=scale)


def _flow_csv(environment: Any, options: Any) -> FlowCsv | None:
    path = options.flow_csv or (f"{options.csv_prefix}_flows.csv" if options.csv_prefix else "")
    if not path:
        return None
    worker = isinstance(environment.runner, WorkerRunner)
    return FlowCsv(FlowCsv.for_process(Path(path), worker=worker))


_SETTINGS: dict[int, Settings] = {}
_SETTINGS_LOCK = threading.Lock()


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
    settings = _SETTINGS.pop(id(environment), None)
    if settings is not None and settings.flow_csv is not None:
        settings.flow_csv.close()


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
        """What Locust should count as this answer's failure, None when it is a success."""
        violations = run_checks(self.context, exchange)
        if violations:
            titles = " | ".join(sorted({violation.title for violation in violations}))
            return LoadFailure(f"{VIOLATION_PREFIX}{titles}")
        code = exchange.status_code
        if code is None:
            return LoadFailure(f"no answer: {exchange.error}")
        if self.refused:
            return None if 400 <= code < 500 else LoadFailure(f"HTTP {code}, expected a refusal")
        if code == 429:
            return LoadFailure("HTTP 429 rate limited")
        return LoadFailure(f"HTTP {code}") if code >= 400 else None


class HarnessUser(User):
    """A Locust user whose tasks launch flows; subclasses pick the flows and their weights."""

    abstract = True
    scenario: ClassVar[str] = "harness"

    def on_start(self) -> None:
        """Build this user's HTTP client and flow pool."""
        self.settings = settings_for(self.environment)
        self.rng = random.Random()
        self._next_arrival: float | None = None
        limit = self.settings.max_flows + 1
        self.http = httpx.Client(
            timeout=self.settings.target.timeout_s,
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
        )
        self.flows = gevent.pool.Pool(self.settings.max_flows)

    def on_stop(self) -> None:
        """Stop the flows still in flight (not counted) and close the client."""
        self.flows.kill(block=False)
        self.http.close()

    def wait_time(self) -> float:
        """Fixed-rate arrivals: the next flow starts `pacing` after the previous one started."""
        now = time.monotonic()
        self._next_arrival = (self._next_arrival or now) + self.settings.pacing_s
        return max(0.0, self._next_arrival - now)

    # --- plumbing ---------------------------------------------------------------------------

    def launch(self, flow: Callable[[], None], name: str) -> None:
        """Run `flow` in its own greenlet, or count a failure when too many are in flight."""
        if self.flows.full():
            self._flow_failure(name, f"not started: {self.settings.max_flows} flows in flight")
            return
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
        violations = run_history_checks(checks.context, history)
        failure: LoadFailure | None = None
        if violations:
            titles = " | ".join(sorted({violation.title for violation in violations}))
            failure = LoadFailure(f"{VIOLATION_PREFIX}{titles}")
        elif history.final is None and flow != "sync":
            failure = LoadFailure("timed out" if history.timed_out else "gave up polling")
        ended_at, source = self._ended_at(history)
        record = flow_record(
            scenario=self.scenario,
            flow=flow,
            history=history,
            clock_map=self.settings.clock_map,
            ended_at=ended_at,
            detection_source=source,
            finished_at=self.settings.clock(),
        )
        fire_flow_events(self.environment, record, failure)
        if self.settings.flow_csv is not None:
            self.settings.flow_csv.write(record)

    def _ended_at(self, history: RunHistory) -> tuple[float | None, str]:
        if history.final is None or not history.polls:
            return None, "none"
        if self.settings.end_times is not None:
            return self.settings.end_times.lookup(history.workflow_id), "admin"
        return log_end_time(history), "logs"

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
        assert target.jira_secret is not None
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
            signature = self.rng.choice([None, sign(body, "not-the-secret"), "sha256=zz"])
            client.send_jira(body, signature=signature)
            return
        auth = self.rng.choice(
            [False, f"Bearer wrong-{uuid.uuid4().hex[:12]}", "Basic d3Jvbmc6a2V5", "Bearer"]
        )
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
