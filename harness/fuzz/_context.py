"""Property-based fuzzing against any target: budgets, pacing, requests and their judgement.

A property is a plain function `check(ctx, drawn)` over a `FuzzContext` and one drawn input
(the properties live in `_properties.py`, the stateful fuzzer in `_machine.py`, the runner in
`_runner.py`). Every answer is judged once by `FuzzContext.judge` (`harness.checks.judge`):
a violation of an invariant raises `FuzzFailure`; an open question answered unlike the mock is
a note (on the embedded demo mock, whose defaults are the baseline, it is a failure); no
answer, a 429 or a 5xx where faults are expected is counted as inconclusive and the example
goes on no further.

Decisions:
- The wall-clock limit stops generation between examples (`OutOfTime`, a `BaseException`
  hypothesis does not catch); once a failure is seen, shrinking runs to its end.
- The run cap (`--max-runs`, else `FuzzBudget.run_bound`) counts every request that may start a
  run (a POST to E1, E2 or E4) and is hard: the request past it is never sent
  (`RunCapReached`), even while shrinking; a failure already seen is still reported.
- Pacing and the wall clock use real time (injected), never the mock's virtual clock.
- The example database is given by the caller (the CLI keeps it under the report folder).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import ExampleDatabase

from .._admin_client import REQUEST_SOURCES, MockAdmin
from .._client import TriggerClient
from .._exceptions import ContractViolation, TransportError, UsageError
from .._models import Endpoint, Exchange
from .._protocol import build_raw, make_exchange
from .._redact import Redactor
from .._targets import Target
from .._transport import map_transport_errors
from .._types import Clock, Sleep
from ..checks import ANY_ANSWER, CheckContext, Expectation, Judgement, Note, Verdict, judge
from ._repro import FuzzRequest, FuzzStep

__all__ = [
    "FUZZ_PROFILES",
    "NOTES_PER_QUESTION",
    "REQUEST_SOURCES",
    "RUN_ENDPOINTS",
    "FuzzBudget",
    "FuzzContext",
    "FuzzFailure",
    "FuzzMeter",
    "OutOfTime",
    "RunCapReached",
    "register_profiles",
]

FUZZ_PROFILES: Final = ("ci", "dev", "thorough")
RUN_ENDPOINTS: Final = frozenset({Endpoint.SYNC, Endpoint.START, Endpoint.JIRA})
"""Endpoints whose POST may start a run: what the run cap counts."""
NOTES_PER_QUESTION: Final = 5
"""Distinct observations kept per open question and title (drawn ids make many)."""
_INCONCLUSIVE_REASONS: Final = 5
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
        max_runs: requests that may start a run (POSTs to E1, E2, E4), at most; None for
            the bound of the examples (`run_bound`).
    """

    profile: str = "dev"
    max_examples: int | None = None
    max_rps: float | None = None
    time_limit_s: float | None = None
    seed: int | None = None
    max_runs: int | None = None

    def __post_init__(self) -> None:
        if self.profile not in FUZZ_PROFILES:
            raise UsageError(
                f"--profile: {self.profile!r} is not one of {', '.join(FUZZ_PROFILES)}"
            )
        if self.max_examples is not None and (
            isinstance(self.max_examples, bool) or self.max_examples < 1
        ):
            raise UsageError(f"--max-examples: Invalid max_examples={self.max_examples!r} < 1")
        if self.max_runs is not None and (isinstance(self.max_runs, bool) or self.max_runs < 1):
            raise UsageError(f"--max-runs: Invalid max_runs={self.max_runs!r} < 1")
        for flag, value in (("--max-rps", self.max_rps), ("--time-limit", self.time_limit_s)):
            if value is not None and not value > 0:
                raise UsageError(f"{flag}: Invalid value {value!r} <= 0")

    @property
    def examples(self) -> int:
        """Examples per property: `max_examples`, else the profile's."""
        return self.max_examples or _PROFILE_EXAMPLES[self.profile]

    def run_bound(self, properties: int, *, machine: bool) -> int:
        """The most runs fuzzing `properties` properties (and the state machine) may start.

        Each example of a property sends at most one request that may start a run, each step
        of a state-machine program at most one; hypothesis may call a test more often than
        its examples (replaying saved failures, shrinking), so the meter enforces this bound
        as a cap. `max_runs` lowers it.

        Args:
            properties: the properties fuzzed.
            machine: whether the state machine runs too.
        """
        register_profiles()
        steps = settings.get_profile(self.profile).stateful_step_count if machine else 0
        bound = self.examples * (properties + steps)
        return bound if self.max_runs is None else min(bound, self.max_runs)

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


class RunCapReached(OutOfTime):
    """The run cap was reached: the next request that may start a run is not sent."""


class FuzzMeter:
    """Counts examples and requests, caps the request rate and watches the wall clock.

    Args:
        max_rps: requests per second, at most; None for no cap.
        time_limit_s: seconds from creation after which `tick` raises `OutOfTime`.
        clock: real monotonic seconds.
        sleep: a real sleep.
        max_runs: requests that may start a run, at most; None for no cap.
        on_change: called with the meter after each example and each run started (progress).

    `pending` is a stop (a signal) raised where it was lost; `tick` and `before_request`
    raise it again.
    """

    def __init__(
        self,
        *,
        max_rps: float | None = None,
        time_limit_s: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        max_runs: int | None = None,
        on_change: Callable[[FuzzMeter], None] | None = None,
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
        self.max_runs = max_runs
        self.runs = 0
        self.cap_reached = False
        self.pending: BaseException | None = None
        self._on_change = on_change

    @classmethod
    def for_budget(
        cls,
        budget: FuzzBudget,
        *,
        clock: Clock,
        sleep: Sleep,
        max_runs: int | None = None,
        on_change: Callable[[FuzzMeter], None] | None = None,
    ) -> FuzzMeter:
        """A meter enforcing `budget`'s rate and time limits and the run cap `max_runs`."""
        return cls(
            max_rps=budget.max_rps,
            time_limit_s=budget.time_limit_s,
            clock=clock,
            sleep=sleep,
            max_runs=max_runs,
            on_change=on_change,
        )

    def spent(self) -> bool:
        """True once the time limit passed or the run cap was reached: start nothing more."""
        return self.cap_reached or self.out_of_time()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)

    @property
    def elapsed_s(self) -> float:
        """Real seconds since the meter started."""
        return self._clock() - self.started

    def out_of_time(self) -> bool:
        """True once the wall-clock limit has passed."""
        return self._deadline is not None and self._clock() >= self._deadline

    def tick(self) -> None:
        """Count one example; raise `OutOfTime` past the limit unless a failure is shrinking."""
        self.raise_pending()
        if self.cap_reached:
            raise RunCapReached
        if self.out_of_time() and not self.shrinking:
            raise OutOfTime
        self.examples += 1
        self._changed()

    def before_run(self) -> None:
        """Count one request that may start a run; raise `RunCapReached` instead past the cap.

        The cap holds while shrinking too: it bounds what a run costs the target.
        """
        if self.max_runs is not None and self.runs >= self.max_runs:
            self.cap_reached = True
            raise RunCapReached
        self.runs += 1
        self._changed()

    def raise_pending(self) -> None:
        """Raise `pending` (a stop, such as a signal, that arrived where raising was lost)."""
        if self.pending is not None:
            raise self.pending

    def before_request(self) -> None:
        """Count one request, first sleeping as long as the rate cap asks."""
        self.raise_pending()
        if self._interval is not None:
            now = self._clock()
            if self._next_at > now:
                self._sleep(self._next_at - now)
                now = self._next_at
            self._next_at = now + self._interval
        self.requests += 1


class FuzzFailure(ContractViolation):
    """An invariant broken by one input; carries the requests that show it and the answer.

    `steps` is the whole sequence that shows the fault (a start, a clock move, the poll), in
    order; empty when the last `request` alone shows it. `invariant` is the trigger-api.md
    invariant broken, None for a mock default the embedded mock did not keep.
    """

    def __init__(
        self,
        title: str,
        message: str,
        *,
        request: FuzzRequest | None = None,
        exchange: Exchange | None = None,
        severity: str = "high",
        steps: tuple[FuzzStep, ...] = (),
        invariant: int | None = None,
    ) -> None:
        evidence = (exchange,) if exchange is not None else ()
        super().__init__(title, message, severity=severity, evidence=evidence)
        self.request = request
        self.exchange = exchange
        self.steps = steps
        self.invariant = invariant


@dataclass(kw_only=True)
class FuzzContext:
    """What a property runs with: target, client, raw HTTP client, the mock's admin, the meter.

    Args:
        target: the selected target (secrets read).
        client: the harness client over `http`.
        http: the ready HTTP client (for headers httpx only sends as bytes).
        meter: counts and paces every request.
        admin: the mock's admin API; None on a real target.
        exact: True on the embedded demo mock: its defaults for open questions are required.
        allow_production: let properties that start runs run on a production target.
        log_window: the mock's log window; None on a real target.
        sleep: the session's sleep (virtual on the mock) for polling.
        transient_faults: True where the target injects faults (a 5xx is then inconclusive).

    `notes` gathers the open-question notes of every judged answer (at most
    `NOTES_PER_QUESTION` distinct observations per question and title); `judged`,
    `inconclusive` and `unanswered` (no answer at all) count answers, `inconclusive_reasons`
    keeps the first few reasons. `signatures` holds every `X-Hub-Signature` value sent, so a
    finding can redact them like keys; `last_failure` the latest failure raised (reported
    when the run cap stops its shrinking).
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
    transient_faults: bool = False
    redactor: Redactor = field(init=False)
    notes: dict[tuple[str, str, str], Note] = field(init=False, default_factory=dict)
    judged: int = field(init=False, default=0)
    inconclusive: int = field(init=False, default=0)
    unanswered: int = field(init=False, default=0)
    inconclusive_reasons: list[str] = field(init=False, default_factory=list)
    signatures: set[str] = field(init=False, default_factory=set)
    last_failure: FuzzFailure | None = field(init=False, default=None)

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
        """Send `request` (paced, counted, never retried); no answer (connection refused or
        reset, timeout) gives an exchange with `status_code` None, judged inconclusive.

        Raises:
            RunCapReached: the request may start a run and the run cap is reached (not sent).
        """
        if request.method == "POST" and request.endpoint in RUN_ENDPOINTS:
            self.meter.before_run()
        if request.jira_signature is not None:
            self.signatures.add(request.jira_signature)
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
        headers = spec.wire_header_bytes()
        headers.append((b"Authorization", request.auth.encode("utf-8")))
        sent = [(k.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for k, v in headers]
        started = self.meter.elapsed_s
        try:
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
        except TransportError as error:
            return make_exchange(
                spec,
                self.redactor,
                sent_headers=sent,
                started_at=started,
                elapsed_s=self.meter.elapsed_s - started,
                error=str(error),
            )
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
        steps: tuple[FuzzStep, ...] = (),
        invariant: int | None = None,
    ) -> FuzzFailure:
        """A `FuzzFailure` to raise; from now on the time limit waits for shrinking to end."""
        self.meter.shrinking = True
        self.last_failure = FuzzFailure(
            title,
            message,
            request=request,
            exchange=exchange,
            severity=severity,
            steps=steps,
            invariant=invariant,
        )
        return self.last_failure

    def judge(
        self,
        request: FuzzRequest,
        exchange: Exchange,
        expectation: Expectation = ANY_ANSWER,
        *,
        steps: tuple[FuzzStep, ...] = (),
        addressed: bool = True,
        skip: Collection[str] = (),
        **overrides: Any,
    ) -> Judgement:
        """Judge one answer (`harness.checks.judge`), record its notes and act on the verdict.

        Args:
            request: the request sent.
            exchange: its answer.
            expectation: what the docs let a target answer it.
            steps: the requests before it that the fault needs (a start, a clock move).
            addressed: False when an id holding "/" no longer addresses the endpoint.
            skip: check names not to run.
            overrides: `CheckContext` fields (endpoint, authorized, expected run, ...).

        Raises:
            FuzzFailure: the answer breaks an invariant, or (on the embedded demo mock) an
                open question was answered unlike the mock's default.

        On the embedded mock E1's timing is not judged: its clock is real time scaled up, so
        any stall of the fuzzing process would look like a slow answer.
        """
        if self.target.embedded:
            skip = (*skip, "sync_within_limit")
        endpoint = overrides.pop("endpoint", request.endpoint)
        judgement = judge(
            self.checks(endpoint=endpoint, **overrides),
            exchange,
            expectation,
            transient_faults=self.transient_faults,
            addressed=addressed,
            skip=skip,
        )
        self.record(judgement.notes)
        self.judged += 1
        sequence = (*steps, FuzzStep(request=request)) if steps else ()
        if judgement.verdict is Verdict.VIOLATION:
            first = judgement.violations[0]
            more = len(judgement.violations) - 1
            raise self.failure(
                first.title,
                first.message + (f" (and {more} more)" if more else ""),
                request=request,
                exchange=exchange,
                severity=first.severity,
                steps=sequence,
                invariant=judgement.invariant,
            )
        self._keep_mock_defaults(judgement, request, exchange, sequence)
        if judgement.inconclusive:
            self.inconclusive += 1
            self.unanswered += exchange.status_code is None
            if len(self.inconclusive_reasons) < _INCONCLUSIVE_REASONS:
                self.inconclusive_reasons.append(judgement.reason)
        return judgement

    def _keep_mock_defaults(
        self,
        judgement: Judgement,
        request: FuzzRequest,
        exchange: Exchange,
        steps: tuple[FuzzStep, ...],
    ) -> None:
        """On the embedded demo mock, an open question answered unlike its default fails."""
        different = [note for note in judgement.notes if not note.same]
        if not self.exact or not different:
            return
        note = different[0]
        raise self.failure(
            f"Mock answered {note.question_id} unlike its default",
            f"{note.title}: observed {note.observed}; default {note.mock_default}",
            request=request,
            exchange=exchange,
            steps=steps,
        )

    def record(self, notes: Iterable[Note]) -> None:
        """Keep `notes`, each (question, title, observed) once, a few per question and title."""
        for note in notes:
            key = (note.question_id, note.title, note.observed)
            kept = sum(k[:2] == key[:2] for k in self.notes)
            if key not in self.notes and kept < NOTES_PER_QUESTION:
                self.notes[key] = note

    def run_count(self) -> int | None:
        """Runs requests started in the target's workspace (API and Jira; not cron, whose
        ticks the mock's fast clock fires at any time); None without the admin API."""
        if self.admin is None:
            return None
        return self.admin.requested_runs(self.target.workspace_id)

    @contextmanager
    def starts_nothing(
        self, request: FuzzRequest, what: str, *, invariant: int = 7
    ) -> Iterator[list[Exchange]]:
        """On the mock, fail when the block's request was refused (4xx) yet started a run.

        An accepted request may start a run (an open question answered so), and a request
        with no answer may or may not have: only a refusal that ran something is a fault.
        Yields a list for the block to put the answer in.
        """
        before = self.run_count()
        answers: list[Exchange] = []
        yield answers
        after = self.run_count()
        code = answers[-1].status_code if answers else None
        refused = code is not None and 400 <= code < 500
        if refused and before is not None and after is not None and after > before:
            raise self.failure(
                "A refused request started a run",
                f"{what} was refused with HTTP {code} yet started {after - before} run(s)",
                request=request,
                exchange=answers[-1],
                severity="critical",
                invariant=invariant,
            )
