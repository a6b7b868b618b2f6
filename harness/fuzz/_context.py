"""Property-based fuzzing against any target: budgets, pacing, requests, findings, the runner.

A property is a plain function `check(ctx, drawn)` over a `FuzzContext` and one drawn input
that raises `FuzzFailure` when the target breaks an invariant (the properties themselves live
in `_fuzz_properties.py`, the stateful fuzzer in `_fuzz_machine.py`). `run_property` drives one
property with hypothesis under a `FuzzBudget` (examples, requests per second, wall clock) and
turns a failure into a `FuzzFinding` whose reproduction is a curl command naming the key and
the Jira secret only as environment variables.

Decisions:
- The wall-clock limit stops generation between examples (`OutOfTime`, a `BaseException`
  hypothesis does not catch); once a failure is seen, shrinking runs to its end.
- Pacing and the wall clock use real time (injected), never the mock's virtual clock.
- The example database is given by the caller (the CLI keeps it under the report folder).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky, FlakyFailure, HypothesisException
from hypothesis.reporting import with_reporter

from .._admin_client import MockAdmin
from .._client import TriggerClient
from .._exceptions import ContractViolation, TransportError, UsageError
from .._models import Exchange
from .._protocol import build_raw, make_exchange
from .._redact import Redactor
from .._targets import Target
from .._transport import map_transport_errors
from .._types import Clock, Sleep
from ..checks import CheckContext, run_checks
from ..report import CaseFinished, FuzzFinding, Outcome, Suite
from ._repro import FuzzRequest, curl_command

__all__ = [
    "FUZZ_PROFILES",
    "REQUEST_SOURCES",
    "FuzzBudget",
    "FuzzContext",
    "FuzzFailure",
    "FuzzMeter",
    "OutOfTime",
    "Property",
    "PropertyResult",
    "finding_of",
    "register_profiles",
    "run_property",
    "run_test",
    "seeded",
]

FUZZ_PROFILES: Final = ("ci", "dev", "thorough")
REQUEST_SOURCES: Final = frozenset({"api", "jira"})
"""Run sources a request starts (the mock's admin API labels runs api, cron, jira, manual)."""
_PROFILE_EXAMPLES: Final = {"ci": 25, "dev": 100, "thorough": 1000}
_HEALTH: Final = (
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
)


def register_profiles() -> None:
    """Register the hypothesis profiles `ci`, `dev` and `thorough` (examples per property).

    None has a per-example deadline (a target's latency is not a bug) and none prints
    reproduction blobs; `ci` is derandomized so CI runs repeat exactly.
    """
    for name, examples in _PROFILE_EXAMPLES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            deadline=None,
            derandomize=name == "ci",
            suppress_health_check=_HEALTH,
            print_blob=False,
            stateful_step_count=20 if name == "thorough" else 10,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzBudget:
    """How much fuzzing one run may do.

    Args:
        profile: `ci`, `dev` or `thorough` (examples per property when `max_examples` is None).
        max_examples: examples per property (and per state-machine run).
        max_rps: requests per second, at most; None for no cap.
        time_limit_s: wall-clock seconds for the whole run; None for no limit.
        seed: a fixed hypothesis seed, None for a random one.
    """

    profile: str = "dev"
    max_examples: int | None = None
    max_rps: float | None = None
    time_limit_s: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.profile not in FUZZ_PROFILES:
            raise UsageError(
                f"--profile: {self.profile!r} is not one of {', '.join(FUZZ_PROFILES)}"
            )
        if self.max_examples is not None and (
            isinstance(self.max_examples, bool) or self.max_examples < 1
        ):
            raise UsageError(f"--max-examples: Invalid max_examples={self.max_examples!r} < 1")
        for flag, value in (("--max-rps", self.max_rps), ("--time-limit", self.time_limit_s)):
            if value is not None and not value > 0:
                raise UsageError(f"{flag}: Invalid value {value!r} <= 0")

    @property
    def examples(self) -> int:
        """Examples per property: `max_examples`, else the profile's."""
        return self.max_examples or _PROFILE_EXAMPLES[self.profile]

    def settings(self, database: ExampleDatabase | None, **overrides: Any) -> settings:
        """The hypothesis settings of this budget, saving examples to `database`."""
        register_profiles()
        base = settings.get_profile(self.profile)
        options: dict[str, Any] = {
            "max_examples": self.examples,
            "database": database,
            "verbosity": Verbosity.normal,
            "report_multiple_bugs": False,
            # `explain` replays a failing example many times: too many requests to a target.
            "phases": tuple(phase for phase in Phase if phase is not Phase.explain),
        }
        if self.seed is not None:
            options["derandomize"] = False
        return settings(base, **(options | overrides))


class OutOfTime(BaseException):
    """The wall-clock limit passed: stop generating examples (not a failure)."""


class FuzzMeter:
    """Counts examples and requests, caps the request rate and watches the wall clock.

    Args:
        max_rps: requests per second, at most; None for no cap.
        time_limit_s: seconds from creation after which `tick` raises `OutOfTime`.
        clock: real monotonic seconds.
        sleep: a real sleep.
    """

    def __init__(
        self,
        *,
        max_rps: float | None = None,
        time_limit_s: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._interval = None if max_rps is None else 1.0 / max_rps
        self._clock = clock
        self._sleep = sleep
        self.started = clock()
        self._deadline = None if time_limit_s is None else self.started + time_limit_s
        self._next_at = self.started
        self.requests = 0
        self.examples = 0
        self.shrinking = False

    @classmethod
    def for_budget(cls, budget: FuzzBudget, *, clock: Clock, sleep: Sleep) -> FuzzMeter:
        """A meter enforcing `budget`'s rate and time limits."""
        return cls(
            max_rps=budget.max_rps, time_limit_s=budget.time_limit_s, clock=clock, sleep=sleep
        )

    @property
    def elapsed_s(self) -> float:
        """Real seconds since the meter started."""
        return self._clock() - self.started

    def out_of_time(self) -> bool:
        """True once the wall-clock limit has passed."""
        return self._deadline is not None and self._clock() >= self._deadline

    def tick(self) -> None:
        """Count one example; raise `OutOfTime` past the limit unless a failure is shrinking."""
        if self.out_of_time() and not self.shrinking:
            raise OutOfTime
        self.examples += 1

    def before_request(self) -> None:
        """Count one request, first sleeping as long as the rate cap asks."""
        if self._interval is not None:
            now = self._clock()
            if self._next_at > now:
                self._sleep(self._next_at - now)
                now = self._next_at
            self._next_at = now + self._interval
        self.requests += 1


class FuzzFailure(ContractViolation):
    """A property broken by one input; carries the request that shows it and its answer."""

    def __init__(
        self,
        title: str,
        message: str,
        *,
        request: FuzzRequest | None = None,
        exchange: Exchange | None = None,
        severity: str = "high",
    ) -> None:
        evidence = (exchange,) if exchange is not None else ()
        super().__init__(title, message, severity=severity, evidence=evidence)
        self.request = request
        self.exchange = exchange


@dataclass(kw_only=True)
class FuzzContext:
    """What a property runs with: target, client, raw HTTP client, the mock's admin, the meter.

    Args:
        target: the selected target (secrets read).
        client: the harness client over `http`.
        http: the ready HTTP client (for headers httpx only sends as bytes).
        meter: counts and paces every request.
        admin: the mock's admin API; None on a real target.
        exact: True on the embedded mock: its defaults for open questions are required.
        allow_production: let properties that start runs run on a production target.
        log_window: the mock's log window; None on a real target.
        sleep: the session's sleep (virtual on the mock) for polling.
    """

    target: Target
    client: TriggerClient
    http: httpx.Client
    meter: FuzzMeter
    admin: MockAdmin | None = None
    exact: bool = False
    allow_production: bool = False
    log_window: int | None = None
    sleep: Sleep = time.sleep
    redactor: Redactor = field(init=False)

    def __post_init__(self) -> None:
        self.redactor = Redactor(self.target.secret_values())

    @property
    def key(self) -> str:
        """The target's API key (sent, never shown)."""
        return self.target.api_key.reveal() if self.target.api_key is not None else "no-key"

    def checks(self, **overrides: Any) -> CheckContext:
        """The `CheckContext` for this target; `overrides` set endpoint, authorized, etc."""
        base = CheckContext(
            sync_limit_s=self.target.sync_limit_s,
            max_run_s=self.target.max_run_s,
            log_window=self.log_window,
        )
        return dataclasses.replace(base, **overrides)

    def send(self, request: FuzzRequest) -> Exchange:
        """Send `request` (paced, counted, never retried); no answer gives `status_code` None."""
        self.meter.before_request()
        raw_auth = isinstance(request.auth, str) and not request.auth.isascii()
        try:
            if raw_auth:
                return self._send_bytes_auth(request)
            return self.client.request(
                request.method,
                request.url,
                headers=request.headers(),
                content=request.body,
                auth=request.auth,
            )
        except TransportError as error:
            if error.exchange is None:
                raise
            return error.exchange

    def _send_bytes_auth(self, request: FuzzRequest) -> Exchange:
        """Send a non-ASCII Authorization value as UTF-8 bytes (httpx sends `str` as ASCII)."""
        assert isinstance(request.auth, str)
        spec = build_raw(
            self.target,
            request.method,
            request.url,
            headers=request.headers(),
            content=request.body,
            auth=False,
        )
        headers = [(k.encode("ascii"), v.encode("latin-1")) for k, v in spec.wire_headers().items()]
        headers.append((b"Authorization", request.auth.encode("utf-8")))
        started = self.meter.elapsed_s
        with map_transport_errors(
            spec.method,
            self.redactor.redact_text(spec.url),
            may_have_run=True,
            redact=self.redactor.redact_text,
        ):
            built = self.http.build_request(
                spec.method, spec.url, headers=headers, content=spec.body
            )
            response = self.http.send(built, follow_redirects=False)
        sent = [(k.decode("ascii"), v.decode("utf-8", "replace")) for k, v in headers]
        return make_exchange(
            spec,
            self.redactor,
            sent_headers=sent,
            started_at=started,
            elapsed_s=self.meter.elapsed_s - started,
            status_code=response.status_code,
            response_headers=response.headers.multi_items(),
            response_body=response.content,
        )

    def failure(
        self,
        title: str,
        message: str,
        *,
        request: FuzzRequest | None = None,
        exchange: Exchange | None = None,
        severity: str = "high",
    ) -> FuzzFailure:
        """A `FuzzFailure` to raise; from now on the time limit waits for shrinking to end."""
        self.meter.shrinking = True
        return FuzzFailure(title, message, request=request, exchange=exchange, severity=severity)

    def verify(
        self,
        request: FuzzRequest,
        exchange: Exchange,
        *,
        skip: Collection[str] = (),
        **overrides: Any,
    ) -> None:
        """Run the response checks on `exchange`; raise the first violation as a `FuzzFailure`.

        On the embedded mock E1's timing is not judged: its clock is real time scaled up, so
        any stall of the fuzzing process would look like a slow answer.
        """
        if self.target.embedded:
            skip = (*skip, "sync_within_limit")
        endpoint = overrides.pop("endpoint", request.endpoint)
        violations = run_checks(self.checks(endpoint=endpoint, **overrides), exchange, skip=skip)
        if violations:
            first = violations[0]
            extra = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            raise self.failure(
                first.title,
                first.message + extra,
                request=request,
                exchange=exchange,
                severity=first.severity,
            )

    def run_count(self) -> int | None:
        """Runs requests started in the target's workspace (API and Jira; not cron, whose
        ticks the mock's fast clock fires at any time); None without the admin API."""
        if self.admin is None:
            return None
        runs = self.admin.runs(workspace_id=self.target.workspace_id)
        return sum(run["source"] in REQUEST_SOURCES for run in runs)

    @contextmanager
    def starts_nothing(self, request: FuzzRequest, what: str) -> Iterator[list[Exchange]]:
        """On the mock, fail when the block started a run; yields a list for the answer."""
        before = self.run_count()
        answers: list[Exchange] = []
        yield answers
        after = self.run_count()
        if before is not None and after is not None and after > before:
            raise self.failure(
                "A refused request started a run",
                f"{what} started {after - before} run(s)",
                request=request,
                exchange=answers[-1] if answers else None,
                severity="critical",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Property:
    """One fuzzed property: a name, a title, what it draws, what it checks, when it applies."""

    name: str
    title: str
    draw: Callable[[FuzzContext], st.SearchStrategy[Any]]
    check: Callable[[FuzzContext, Any], None]
    skip_reason: Callable[[FuzzContext], str | None] = lambda ctx: None


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyResult:
    """How one property's run ended: its report case, finding (if any) and counts."""

    case: CaseFinished
    finding: FuzzFinding | None
    examples: int
    requests: int
    out_of_time: bool = False


def finding_of(ctx: FuzzContext, failure: FuzzFailure, input_repr: str) -> FuzzFinding:
    """The report event of a failure: shrunk input, redacted answer and a curl reproduction."""
    reproduction = (
        curl_command(failure.request, ctx.target)
        if failure.request is not None
        else "(no single request reproduces it; see the steps above)"
    )
    return FuzzFinding(
        title=failure.title,
        input_repr=ctx.redactor.redact_text(input_repr),
        response=failure.exchange,
        reproduction=reproduction,
        message=ctx.redactor.redact_text(failure.message),
    )


def _first_failure(exc: BaseException) -> FuzzFailure | None:
    if isinstance(exc, FuzzFailure):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_failure(inner)
            if found is not None:
                return found
    return None


def _as_failure(exc: Exception) -> FuzzFailure:
    found = _first_failure(exc)
    if found is not None:
        return found
    if isinstance(exc, ContractViolation):
        exchange = exc.evidence[-1] if exc.evidence else None
        return FuzzFailure(exc.title, exc.message, exchange=exchange, severity=exc.severity)
    if isinstance(exc, FlakyFailure):
        return FuzzFailure("Flaky failure", str(exc))
    return FuzzFailure(f"Property crashed: {type(exc).__name__}", str(exc))


def run_test(
    ctx: FuzzContext,
    *,
    case_id: str,
    title: str,
    test: Callable[[], None],
    last_input: Callable[[], str | None],
    clock: Clock = time.monotonic,
) -> PropertyResult:
    """Run one hypothesis test; its failure becomes a failed case and a `FuzzFinding`.

    Args:
        ctx: the fuzz context (its meter carries the run's rate and time limits).
        case_id: the report case id.
        title: the report case title.
        test: the hypothesis-wrapped test to call.
        last_input: the shrunk input's repr once the test failed (None: hypothesis's report).
        clock: real seconds, for the case's duration.
    """
    started, examples_before, requests_before = clock(), ctx.meter.examples, ctx.meter.requests
    lines: list[object] = []
    out_of_time, failure = False, None
    try:
        with with_reporter(lines.append):
            test()
    except OutOfTime:
        out_of_time = True
    except HypothesisException as exc:
        if not isinstance(exc, FlakyFailure | Flaky):
            # A health check or an invalid strategy: the fuzzer's problem, not the target's.
            message = f"hypothesis could not run it: {type(exc).__name__}: {exc}"
            case = CaseFinished(
                suite=Suite.FUZZ,
                case_id=case_id,
                title=title,
                outcome=Outcome.ERROR,
                duration_s=clock() - started,
                message=message[:2000],
            )
            ctx.meter.shrinking = False
            return PropertyResult(case=case, finding=None, examples=0, requests=0)
        failure = _as_failure(exc)
    except Exception as exc:
        failure = _as_failure(exc)
        # Hypothesis attaches the falsifying example (a state machine's steps) as notes.
        lines.extend(getattr(exc, "__notes__", ()))
    finally:
        ctx.meter.shrinking = False
    examples = ctx.meter.examples - examples_before
    requests = ctx.meter.requests - requests_before
    common: dict[str, Any] = {
        "suite": Suite.FUZZ,
        "case_id": case_id,
        "title": title,
        "duration_s": clock() - started,
    }
    if failure is None:
        message = f"{examples} examples, {requests} requests"
        message += " (stopped at the time limit)" if out_of_time else ""
        case = CaseFinished(**common, outcome=Outcome.PASSED, message=message)
        return PropertyResult(
            case=case,
            finding=None,
            examples=examples,
            requests=requests,
            out_of_time=out_of_time,
        )
    shrunk = last_input() or "\n".join(map(str, lines))
    finding = finding_of(ctx, failure, shrunk)
    message = (
        f"{finding.title}: {finding.message}\ninput: {finding.input_repr[:2000]}"
        f"\nreproduction:\n{finding.reproduction[:4000]}"
    )
    case = CaseFinished(
        **common, outcome=Outcome.FAILED, message=message, evidence=tuple(failure.evidence)
    )
    return PropertyResult(case=case, finding=finding, examples=examples, requests=requests)


def run_property(
    ctx: FuzzContext,
    prop: Property,
    budget: FuzzBudget,
    *,
    database: ExampleDatabase | None = None,
    clock: Clock = time.monotonic,
) -> PropertyResult:
    """Fuzz one property under `budget` (skipped, saying why, where it cannot apply).

    Args:
        ctx: the fuzz context (its meter carries the run's rate and time limits).
        prop: the property.
        budget: examples, seed and profile.
        database: where hypothesis keeps failing examples between runs; None for none.
        clock: real seconds, for the case's duration.
    """
    reason = prop.skip_reason(ctx)
    if reason is not None:
        case = CaseFinished(
            suite=Suite.FUZZ,
            case_id=f"fuzz.{prop.name}",
            title=prop.title,
            outcome=Outcome.SKIPPED,
            message=reason,
            skip_reason=reason,
        )
        return PropertyResult(case=case, finding=None, examples=0, requests=0)
    drawn_inputs: list[Any] = []

    def body(drawn: Any) -> None:
        ctx.meter.tick()
        drawn_inputs.append(drawn)
        try:
            prop.check(ctx, drawn)
        except Exception:
            ctx.meter.shrinking = True
            raise

    test = budget.settings(database)(given(prop.draw(ctx))(body))
    return run_test(
        ctx,
        case_id=f"fuzz.{prop.name}",
        title=prop.title,
        test=seeded(test, budget.seed),
        last_input=lambda: repr(drawn_inputs[-1]) if drawn_inputs else None,
        clock=clock,
    )


def seeded(test: Callable[[], None], seed: int | None) -> Callable[[], None]:
    """`test` with hypothesis's seed fixed (unchanged when `seed` is None)."""
    if seed is None:
        return test
    from hypothesis import seed as fixed_seed  # noqa: PLC0415 - keeps the name `seed` free

    wrapped: Callable[[], None] = fixed_seed(seed)(test)
    return wrapped
