"""`FlowSettings`: what a Locust run's flows need, and the one contract that carries it across.

The harness builds a `FlowSettings` for a target (`for_target`), puts it on Locust's command
line (`to_arguments`: names of variables, never a secret) and its secrets in the subprocess
environment (`to_environ`). The locustfile declares the same options from `FLOW_OPTIONS` (the
table made from the fields below) and reads them back with `from_options`, secrets from the
variables named. Validation happens once, in `__post_init__`, on both sides.

Without a key variable set, against workspace `demo`, the demo world's key and Jira secret are
used, so a plain `locust -f scenarios/background.py --host URL --mock-admin` works on the mock.

Cost (issue 14): `max_runs` caps the flows one Locust process launches (each starts at most
one run); a launch refused at the cap is counted under the flow metric `MAX_RUNS_METRIC`, so
the report can say the cap was hit. `seed` seeds the users' randomness (jitter, choices), so a
run can be replayed.

Stopping early (issue 16): with `stop_on_threshold`, the Locust master (or the one local
runner) judges the threshold fields (`max_fail_ratio` ... `max_violations`, the flags of
`trigger-harness load`) every second and stops the run when one is crossed
(`scenarios/_stop.py`); `stop_thresholds` builds the `Thresholds` they mean, `threshold_fields`
the fields of a `Thresholds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from .._exceptions import UsageError
from .._polling import STRATEGIES, PollStrategy, require_interval, strategy_from
from .._targets import ENVIRONMENTS, Secret, Target, mock_target, shown_variable
from ._options import (
    check_count,
    check_number,
    fail,
    flag_of,
    option,
    options_of,
    read,
    render,
)
from ._thresholds import LatencyLimit, Thresholds, latency_limits

__all__ = [
    "DEFAULT_BURST_SIZE",
    "DEFAULT_JIRA_ENV",
    "DEFAULT_KEY_ENV",
    "DEMO_WORKSPACE",
    "FLOW_CSV_ENV",
    "FLOW_OPTIONS",
    "MAX_RUNS_METRIC",
    "STOP_MARK",
    "FlowSettings",
    "threshold_fields",
]

DEFAULT_KEY_ENV: Final = "TRIGGER_HARNESS_API_KEY"
DEFAULT_JIRA_ENV: Final = "TRIGGER_HARNESS_JIRA_SECRET"
DEFAULT_ADMIN_TOKEN_ENV: Final = "TRIGGER_MOCK_ADMIN_TOKEN"  # noqa: S105 - a variable's name
FLOW_CSV_ENV: Final = "TRIGGER_HARNESS_FLOW_CSV"
DEFAULT_BURST_SIZE: Final = 10
"""jira-burst: deliveries per arrival."""
MAX_RUNS_METRIC: Final = "max-runs reached: flows not started"
"""The flow metric (`FLOW <name>`) counting launches refused at `max_runs`."""
STOP_MARK: Final = "trigger-harness stopped the run early: "
"""Starts the log line in which the master says which threshold stopped the run."""
_DEMO: Final = mock_target()
"""The demo world's target: its workspace, key and Jira secret are the fallbacks."""
DEMO_WORKSPACE: Final = _DEMO.workspace_id
_TEXT_FIELDS: Final = ("workspace", "api_key_env", "jira_secret_env", "admin_token_env")
_TRIGGER_FIELDS: Final = ("sync_trigger", "background_trigger", "jira_trigger")
_POSITIVE_FIELDS: Final = ("max_run_s", "pacing", "time_scale")  # poll_interval: _check_polling
_COUNT_FIELDS: Final = ("max_flows_per_user", "burst_size")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSettings:
    """The target and flow settings of one Locust run (times in target seconds unless said).

    Fields made with `option(...)` are Locust options (`--poll-interval` for `poll_interval`);
    `host` is Locust's own `--host`; the secrets are read from, and written to, the variables
    `api_key_env`, `jira_secret_env` and `admin_token_env` name.
    """

    workspace: str = field(
        default=DEMO_WORKSPACE,
        metadata=option(str, "Workspace id (default: demo)", env_var="TRIGGER_HARNESS_WORKSPACE"),
    )
    environment: str = field(
        default="DEV",
        metadata=option(str, "DEV, UAT or PROD", env_var="TRIGGER_HARNESS_ENVIRONMENT"),
    )
    sync_trigger: str | None = field(
        default="quick-answer",
        metadata=option(str, "Trigger for E1 flows (empty: none)", blank_is_none=True),
    )
    background_trigger: str | None = field(
        default="nightly-report",
        metadata=option(str, "Trigger for E2 flows (empty: none)", blank_is_none=True),
    )
    jira_trigger: str | None = field(
        default="jira-triage",
        metadata=option(str, "Trigger for E4 flows (empty: none)", blank_is_none=True),
    )
    api_key_env: str = field(
        default=DEFAULT_KEY_ENV,
        metadata=option(str, "Name of the environment variable holding the API key"),
    )
    jira_secret_env: str = field(
        default=DEFAULT_JIRA_ENV,
        metadata=option(str, "Name of the environment variable holding the Jira secret"),
    )
    poll_strategy: str = field(
        default="fixed", metadata=option(str, "How flows poll E3", choices=STRATEGIES)
    )
    poll_interval: float = field(
        default=5.0,
        metadata=option(float, "Poll interval (target seconds); exponential: the first delay"),
    )
    poll_jitter: float | None = field(
        default=None,
        metadata=option(
            float,
            "fixed_jittered: first-poll jitter (s, default: the interval); "
            "exponential: jitter fraction 0-1 (default 0)",
        ),
    )
    poll_cap: float | None = field(
        default=None,
        metadata=option(float, "exponential: longest delay (target s, default 60)"),
    )
    max_run_s: float = field(
        default=2700.0, metadata=option(float, "A flow's deadline (target seconds)")
    )
    pacing: float = field(
        default=1.0,
        metadata=option(float, "Real seconds between flow arrivals per user (fixed rate)"),
    )
    max_flows_per_user: int = field(
        default=50, metadata=option(int, "Flows in flight per user, at most")
    )
    burst_size: int = field(
        default=DEFAULT_BURST_SIZE, metadata=option(int, "jira-burst: deliveries per arrival")
    )
    max_runs: int | None = field(
        default=None,
        metadata=option(int, "Flows this process launches, at most (each starts at most one run)"),
    )
    seed: int | None = field(
        default=None,
        metadata=option(int, "Seed of the users' randomness (default: a random one)"),
    )
    time_scale: float = field(
        default=1.0,
        metadata=option(float, "Target seconds per real second (ignored with --mock-admin)"),
    )
    mock_admin: bool = field(
        default=False,
        metadata=option(
            bool,
            "The host is a trigger-mock: read its clock and run ends from /__admin",
            env_var="TRIGGER_HARNESS_MOCK_ADMIN",
        ),
    )
    admin_token_env: str = field(
        default=DEFAULT_ADMIN_TOKEN_ENV,
        metadata=option(str, "Name of the environment variable holding the mock's admin token"),
    )
    flow_csv: str | None = field(
        default=None,
        metadata=option(
            str,
            "Raw per-flow metrics CSV (default: <--csv prefix>_flows.csv)",
            env_var=FLOW_CSV_ENV,
            blank_is_none=True,
        ),
    )
    stop_on_threshold: bool = field(
        default=False,
        metadata=option(
            bool, "Stop the run as soon as a threshold below is crossed (judged each second)"
        ),
    )
    max_fail_ratio: float | None = field(
        default=None,
        metadata=option(float, "--stop-on-threshold: failed / all HTTP requests, 0-1"),
    )
    max_flow_fail_ratio: float | None = field(
        default=None,
        metadata=option(float, "--stop-on-threshold: flows ended failed or lost / all ended, 0-1"),
    )
    max_p95_ms: tuple[str, ...] = field(
        default=(),
        metadata=option(
            str, "--stop-on-threshold: highest p95, MS or ENDPOINT=MS (E3=200)", multiple=True
        ),
    )
    max_p99_ms: tuple[str, ...] = field(
        default=(),
        metadata=option(str, "--stop-on-threshold: highest p99, as --max-p95-ms", multiple=True),
    )
    min_rps: float | None = field(
        default=None,
        metadata=option(
            float, "--stop-on-threshold: lowest HTTP req/s, judged once spawning completed"
        ),
    )
    max_violations: int | None = field(
        default=None,
        metadata=option(int, "--stop-on-threshold: contract violations allowed"),
    )
    MAX_RUNS_METRIC: ClassVar[str] = MAX_RUNS_METRIC
    STOP_MARK: ClassVar[str] = STOP_MARK
    host: str | None = None
    api_key: Secret | None = None
    jira_secret: Secret | None = None
    admin_token: Secret | None = None

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            _check_text(name, getattr(self, name))
        for name in _TRIGGER_FIELDS:
            if getattr(self, name) is not None:
                _check_text(name, getattr(self, name))
        if self.environment not in ENVIRONMENTS:
            fail("environment", f"must be DEV, UAT or PROD, got {self.environment!r}")
        if self.poll_strategy not in STRATEGIES:
            known = ", ".join(STRATEGIES)
            fail("poll_strategy", f"unknown strategy {self.poll_strategy!r}; known: {known}")
        for name in _POSITIVE_FIELDS:
            check_number(name, getattr(self, name), above_zero=True)
        for name in _COUNT_FIELDS:
            check_count(name, getattr(self, name), low=1)
        if self.max_runs is not None:
            check_count("max_runs", self.max_runs, low=1)
        if self.seed is not None:
            check_count("seed", self.seed, low=0)
        self._check_polling()
        self.stop_thresholds()

    def stop_thresholds(self) -> Thresholds | None:
        """The limits the run stops at, None without `stop_on_threshold` (always validated).

        Raises:
            UsageError: a limit out of range, or a latency limit not `MS`/`ENDPOINT=MS`.
        """
        thresholds = Thresholds(
            max_fail_ratio=self.max_fail_ratio,
            max_flow_fail_ratio=self.max_flow_fail_ratio,
            latency=latency_limits(95, self.max_p95_ms) + latency_limits(99, self.max_p99_ms),
            min_rps=self.min_rps,
            max_violations=self.max_violations,
        )
        return thresholds if self.stop_on_threshold else None

    @classmethod
    def stop_thresholds_of(cls, parsed: object) -> Thresholds | None:
        """The stop thresholds in Locust's parsed options (no secret needed), or None.

        Raises:
            UsageError: an option out of range.
        """
        return cls(**read(parsed, FLOW_OPTIONS)).stop_thresholds()

    def _check_polling(self) -> None:
        require_interval(flag_of("poll_interval"), "the interval", self.poll_interval)
        jitter, cap = self.poll_jitter, self.poll_cap
        if jitter is not None:
            check_number("poll_jitter", jitter, above_zero=False)
            if self.poll_strategy == "exponential" and jitter > 1:
                fail("poll_jitter", f"exponential takes a fraction 0-1, got {jitter!r}")
        if cap is not None:
            check_number("poll_cap", cap, above_zero=True)

    @classmethod
    def for_target(cls, target: Target, *, host: str | None, **settings: Any) -> FlowSettings:
        """The settings that aim a Locust run at `target` (its triggers, limits and secrets).

        Args:
            target: a selected target (secrets read).
            host: the base URL Locust aims at (None: the locustfile finds its own).
            settings: further fields (`poll_strategy`, `pacing`, `mock_admin`...); the poll
                interval and deadline default to the target's.
        """
        fields: dict[str, Any] = {
            "workspace": target.workspace_id,
            "environment": target.environment,
            "sync_trigger": target.sync_trigger,
            "background_trigger": target.background_trigger,
            "jira_trigger": target.jira_trigger,
            "api_key_env": target.api_key_env or DEFAULT_KEY_ENV,
            "jira_secret_env": target.jira_secret_env or DEFAULT_JIRA_ENV,
            "api_key": target.api_key,
            "jira_secret": target.jira_secret,
            "max_run_s": target.max_run_s,
            "poll_interval": target.poll_interval_s,
        }
        return cls(**(fields | settings), host=host)

    @classmethod
    def from_options(
        cls, parsed: object, *, host: str | None, environ: Mapping[str, str]
    ) -> FlowSettings:
        """The settings a locustfile was started with: its options, host and secrets.

        The API key is required (the demo's on workspace `demo`); the Jira secret only by Jira
        flows, which refuse to start without it (issue 14: configuration must not block work
        it does not concern).

        Args:
            parsed: Locust's parsed options (`environment.parsed_options`).
            host: Locust's `--host` (`environment.host`).
            environ: where the variables the options name are read.

        Raises:
            UsageError: the API key's variable is unset on a workspace other than `demo`.
        """
        values = read(parsed, FLOW_OPTIONS)
        workspace = values["workspace"]
        return cls(
            **values,
            host=host or None,
            api_key=_secret(environ, values["api_key_env"], _DEMO.api_key, workspace),
            jira_secret=_optional_secret(environ, values["jira_secret_env"])
            or (_DEMO.jira_secret if workspace == DEMO_WORKSPACE else None),
            admin_token=_optional_secret(environ, values["admin_token_env"]),
        )

    def to_arguments(self) -> tuple[str, ...]:
        """The locustfile's arguments for these settings (names of variables, never secrets).

        `host` is not among them: it is Locust's own `--host`, placed by the command builder.
        """
        return render(self, FLOW_OPTIONS)

    def to_environ(self, environ: Mapping[str, str]) -> dict[str, str]:
        """`environ` plus the key, Jira secret and admin token under the variables they use."""
        env = dict(environ)
        for variable, secret in (
            (self.api_key_env, self.api_key),
            (self.jira_secret_env, self.jira_secret),
            (self.admin_token_env, self.admin_token),
        ):
            if secret is not None:
                env[variable] = secret.reveal()
        return env

    def target(self) -> Target:
        """The target the flows run against (`host` is its base URL)."""
        if not self.host:
            raise UsageError("--host is required (the target's base URL)")
        return Target(
            name="locust",
            base_url=self.host.rstrip("/"),
            workspace_id=self.workspace,
            environment=self.environment,
            api_key=self.api_key,
            sync_trigger=self.sync_trigger,
            background_trigger=self.background_trigger,
            jira_trigger=self.jira_trigger,
            jira_secret=self.jira_secret,
            max_run_s=self.max_run_s,
            poll_interval_s=min(self.poll_interval, self.max_run_s),
        )

    def strategy(self) -> PollStrategy:
        """The polling strategy the flows follow their runs with."""
        return strategy_from(
            self.poll_strategy, self.poll_interval, jitter=self.poll_jitter, cap_s=self.poll_cap
        )


FLOW_OPTIONS: Final = options_of(FlowSettings)
"""The Locust options of `FlowSettings`, in field order: the one table both sides use."""


def threshold_fields(thresholds: Thresholds) -> dict[str, Any]:
    """The `FlowSettings` fields that carry `thresholds` to Locust (`replace(flow, **...)`)."""
    return {
        "max_fail_ratio": thresholds.max_fail_ratio,
        "max_flow_fail_ratio": thresholds.max_flow_fail_ratio,
        "max_p95_ms": _latency_values(thresholds.latency, 95),
        "max_p99_ms": _latency_values(thresholds.latency, 99),
        "min_rps": thresholds.min_rps,
        "max_violations": thresholds.max_violations,
    }


def _latency_values(limits: tuple[LatencyLimit, ...], percentile: int) -> tuple[str, ...]:
    """`("500", "E3=200")`: the flag values of `limits` at `percentile`."""
    return tuple(
        f"{limit.endpoint}={limit.ms!r}" if limit.endpoint else repr(limit.ms)
        for limit in limits
        if limit.percentile == percentile
    )


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        fail(name, f"must be a non-empty string, got {value!r}")


def _secret(
    environ: Mapping[str, str], variable: str, demo_value: Secret | None, workspace: str
) -> Secret | None:
    """The secret in `variable`; the demo world's when unset on workspace `demo`."""
    value = environ.get(variable, "")
    if value.strip():
        return Secret(value)
    if workspace == DEMO_WORKSPACE:
        return demo_value
    shown = shown_variable(variable)
    named = (
        f"environment variable {shown}"
        if shown
        else f"the environment variable {flag_of('api_key_env')} names (its name is not shown "
        "because it does not look like a conventional upper-case variable name; perhaps a key "
        "was pasted)"
    )
    raise UsageError(f"{named} is not set (workspace {workspace!r})")


def _optional_secret(environ: Mapping[str, str], variable: str) -> Secret | None:
    value = environ.get(variable, "")
    return Secret(value) if value.strip() else None
