"""The typed event stream a run emits and reporters consume.

Events decouple production from consumption: a command (`contract`, `fuzz`, `load`,
`size-polling`, `probe`, `run`) emits small frozen events to an `EventBus`; each reporter handles
them and writes its file on `close()`. The runner never knows which reporters exist.

A run's stream is `RunStarted`, then per suite a `SuiteStarted` followed by that suite's
`CaseFinished` events (the units that pass or fail, one JUnit testcase each) and its details
(`NoteRecorded`, `FuzzFinding`, `LoadSummary`, `SizingResult`, `SizingThreeWay`), and last
`RunFinished`.
`RunRecord` accumulates a stream for reporters that write once at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import Any, Final, Protocol

from harness._exceptions import ContractViolation
from harness._models import Exchange

from ._comparison import ComparisonRecorded

__all__ = [
    "GAP_FIGURES",
    "NOTE_SUITES",
    "CaseFinished",
    "Event",
    "EventBus",
    "FlowStatusCount",
    "FuzzFinding",
    "LoadSeriesPoint",
    "LoadStatsRow",
    "LoadSummary",
    "NoteRecorded",
    "Outcome",
    "Reporter",
    "RunFinished",
    "RunRecord",
    "RunStarted",
    "SizingFigures",
    "SizingResult",
    "SizingRow",
    "SizingThreeWay",
    "Suite",
    "SuiteCounts",
    "SuiteStarted",
    "ThreeWayRow",
    "ViolationRecord",
    "fan_out",
]


class Suite(StrEnum):
    """The suites a run can hold, in report order."""

    CONTRACT = "contract"
    FUZZ = "fuzz"
    LOAD = "load"
    SIZING = "sizing"
    PROBE = "probe"


NOTE_SUITES: Final = (Suite.CONTRACT, Suite.PROBE, Suite.FUZZ)
"""The suites whose runs record open-question notes: with none of them run, the open
questions were "not run"."""


class Outcome(StrEnum):
    """How one case ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"
    INCONCLUSIVE = "inconclusive"
    """The case ran but its answers said nothing (a 429 after the bounded retries, A8): "could
    not tell", neither passed nor failed; a run with one and no failure exits 4."""


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy, so a frozen event cannot change under a reporter."""
    return MappingProxyType(dict(value))


_VERDICTS: Final = {
    0: "passed",
    1: "failed",
    4: "could not judge",
    130: "interrupted",
    143: "interrupted",
}
"""The verdict each exit code means (interfaces.md exit codes); any other code is `error`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    """A command began against a target; `options` are its effective flags (no secrets)."""

    command: str
    target_name: str
    base_url: str
    started_at: datetime
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", _frozen_mapping(self.options))


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteStarted:
    """A suite began; a suite that starts and records no case is reported as empty."""

    suite: Suite

    def __post_init__(self) -> None:
        object.__setattr__(self, "suite", Suite(self.suite))


@dataclass(frozen=True, slots=True, kw_only=True)
class ViolationRecord:
    """One broken invariant, as reported (built from a `ContractViolation`)."""

    check: str
    title: str
    message: str
    severity: str = "high"
    evidence: tuple[Exchange, ...] = ()

    @classmethod
    def from_violation(cls, check: str, violation: ContractViolation) -> ViolationRecord:
        """The record of a raised violation.

        Args:
            check: name of the check function that raised it.
            violation: the raised exception.
        """
        return cls(
            check=check,
            title=violation.title,
            message=violation.message,
            severity=violation.severity,
            evidence=tuple(violation.evidence),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFinished:
    """One case (a JUnit testcase) ended; failures carry their violations and evidence."""

    suite: Suite
    case_id: str
    title: str
    outcome: Outcome
    duration_s: float = 0.0
    message: str = ""
    violations: tuple[ViolationRecord, ...] = ()
    evidence: tuple[Exchange, ...] = ()
    skip_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "suite", Suite(self.suite))
        object.__setattr__(self, "outcome", Outcome(self.outcome))


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteRecorded:
    """What the target did on an open question (A1–A15) next to the mock's default."""

    question_id: str
    title: str
    observed: str
    mock_default: str
    same: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzFinding:
    """An input the fuzzer found that breaks an invariant, with a command reproducing it."""

    title: str
    input_repr: str
    response: Exchange | None
    reproduction: str
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadStatsRow:
    """Aggregate figures of one request name in a load run.

    A name starting `FLOW ` is a flow metric the scenarios record (end-to-end time, detection
    delay, polls per flow) rather than an HTTP request: its "ms" are target milliseconds or a
    count, as its name says.
    """

    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float

    @property
    def is_flow_metric(self) -> bool:
        """True for a flow metric (`FLOW ...`), False for an HTTP request name."""
        return self.name.startswith("FLOW ")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSeriesPoint:
    """One sample of a load run's time series (seconds since the run began)."""

    elapsed_s: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowStatusCount:
    """How many flows of one kind (`background`, `jira`, `sync`) ended in one final status.

    `status` is `completed`, `failed`, `waiting_for_input`, `lost` (followed to its
    deadline, or given up on, without a final status) or `inconclusive` (following it told
    nothing: rate-limited, connection lost, ...).
    """

    flow: str
    status: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSummary:
    """The result of one load scenario; any crossed threshold fails the run.

    `stats` holds HTTP request names and flow metrics (`LoadStatsRow.is_flow_metric`), never
    mixed in a total. `flow_statuses` counts the flows' final statuses; `failures` are
    Locust's failure texts (`<count> x <name>: <error>`, redacted and display-safe);
    `locust_html` is Locust's own HTML report, relative to the report folder (None when
    absent). `interrupted` marks the partial figures of a run stopped by a signal.
    """

    scenario: str
    stats: tuple[LoadStatsRow, ...]
    series: tuple[LoadSeriesPoint, ...] = ()
    thresholds_crossed: tuple[str, ...] = ()
    flow_statuses: tuple[FlowStatusCount, ...] = ()
    failures: tuple[str, ...] = ()
    locust_html: str | None = None
    interrupted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingRow:
    """One polling schedule tried: the status-request rate it costs and the delay it adds.

    Delays are target seconds and bounds that hold the true figure: `mean_delay_s` and
    `p95_delay_s` are the upper bounds (what the budget is judged on), `*_low_s` the lower
    ones (None: the same, an exact figure); infinite when no delay was measured.
    `artefacts` counts flows whose figures could not be a delay (clocks that differ).
    `strategy` names the schedule's polling strategy (`fixed`, `fixed_jittered`,
    `exponential`); `recommended` marks the row the recommendation picked.
    """

    interval_s: float
    status_rps: float
    mean_delay_s: float
    p95_delay_s: float
    mean_delay_low_s: float | None = None
    p95_delay_low_s: float | None = None
    artefacts: int = 0
    strategy: str = "fixed"
    recommended: bool = False

    def delay_text(self, stat: str) -> str:
        """The `p95` or `mean` delay as text: `2.55` when exact, `0.40-1.40` as bounds."""
        high = self.p95_delay_s if stat == "p95" else self.mean_delay_s
        low = self.p95_delay_low_s if stat == "p95" else self.mean_delay_low_s
        if low is None or low == high or not math.isfinite(high):
            return f"{high:.2f}"
        return f"{low:.2f}-{high:.2f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingResult:
    """The polling sizing table (rows of any strategies) and the schedule it recommends.

    `max_delay_s` is the detection delay budget the recommendation was judged against (None
    when unknown) and `delay_stat` which delay it applies to (`p95` or `mean`).
    `delay_resolution` says what bounds the delays (exact on the embedded mock; log times'
    whole seconds and request latency on a real target).
    """

    rows: tuple[SizingRow, ...]
    recommendation: str
    max_delay_s: float | None = None
    delay_stat: str = "p95"
    delay_resolution: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingFigures:
    """What one schedule costs and how late it notices, by one source (computed, simulated
    or measured): status requests/s for the flows in flight, polls per flow, and the mean,
    p95 and max detection delay (target seconds; measured: the upper bound). A figure that
    was not measured is infinite."""

    status_rps: float
    polls_per_flow: float
    mean_delay_s: float
    p95_delay_s: float
    max_delay_s: float


GAP_FIGURES: Final = ("status_rps", "polls_per_flow", "mean_delay_s")
"""The figures a three-way row's `gaps` compare, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreeWayRow:
    """One candidate schedule three ways.

    `computed` is the closed form (None when none exists), `simulated` the seeded simulation
    (`simulated_lost`: the share of its flows that never ended, 0-1) and `measured` what the
    target showed (`seen` flows seen final, `lost` never seen, `failed` ended `failed`).
    `gaps` holds measured minus `reference` (`computed`, else `simulated`) relative to the
    reference (0.05 = 5 %) per `GAP_FIGURES` name, NaN when either figure is unknown.
    `schedule` is the label (`fixed 5s`), `notes` what the schedule does in words.
    """

    schedule: str
    strategy: str
    interval_s: float
    computed: SizingFigures | None
    simulated: SizingFigures
    measured: SizingFigures
    reference: str
    gaps: Mapping[str, float]
    seen: int
    lost: int
    failed: int
    simulated_lost: float = 0.0
    notes: str = ""
    recommended: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "gaps", _frozen_mapping(self.gaps))


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingThreeWay:
    """The sizing table three ways (computed, simulated, measured) and its recommendation.

    `durations` says which run durations the models used, `flows` the flows in flight the
    rates are given for; `files` are the files written beside the report (`sizing.md`,
    `sizing.png`, `sizing.svg`, relative to the report folder), empty before they are.
    """

    rows: tuple[ThreeWayRow, ...]
    recommendation: str
    durations: str
    flows: int
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished:
    """The run ended with this exit code (0 held, 1 failed, 2 usage, 3 target unavailable,
    4 could not judge, 130/143 interrupted)."""

    exit_code: int
    finished_at: datetime
    duration_s: float
    reason: str = ""
    """Why the run ended in an error (exit 2-4, interrupted), redacted; '' otherwise."""

    @property
    def verdict(self) -> str:
        """`passed` (0), `failed` (1), `could not judge` (4), `interrupted` (130/143), or
        `error` for any other code (usage or target problem, exit 2/3)."""
        return _VERDICTS.get(self.exit_code, "error")


Event = (
    RunStarted
    | SuiteStarted
    | CaseFinished
    | NoteRecorded
    | FuzzFinding
    | LoadSummary
    | SizingResult
    | SizingThreeWay
    | ComparisonRecorded
    | RunFinished
)


class Reporter(Protocol):
    """Consumes events; writes its output no later than `close()`."""

    def handle(self, event: Event) -> None:
        """Take one event."""

    def close(self) -> None:
        """Finish: write whatever is still pending."""


class EventBus:
    """Delivers each event to every reporter, in order; closes them all at the end.

    Args:
        reporters: the consumers; the bus is also a context manager that closes them.
    """

    __slots__ = ("_closed", "_reporters")

    def __init__(self, reporters: Iterable[Reporter]) -> None:
        self._reporters = tuple(reporters)
        self._closed = False

    def emit(self, event: Event) -> None:
        """Hand one event to every reporter."""
        if self._closed:
            raise RuntimeError(f"event {type(event).__name__} emitted after the bus was closed")
        for reporter in self._reporters:
            reporter.handle(event)

    def close(self) -> None:
        """Close every reporter, even when one fails; re-raise the first failure."""
        if self._closed:
            return
        self._closed = True
        first_error: BaseException | None = None
        for reporter in self._reporters:
            try:
                reporter.close()
            except Exception as exc:
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def __enter__(self) -> EventBus:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def fan_out(reporters: Iterable[Reporter]) -> EventBus:
    """An `EventBus` over the reporters.

    Args:
        reporters: the consumers every event goes to.
    """
    return EventBus(reporters)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteCounts:
    """How many cases of one suite ended each way."""

    suite: Suite
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    error: int = 0
    inconclusive: int = 0

    @property
    def total(self) -> int:
        """Every case of the suite."""
        return self.passed + self.failed + self.skipped + self.error + self.inconclusive


def _merged(question_id: str, notes: Sequence[NoteRecorded]) -> NoteRecorded:
    """One note of `question_id` saying each distinct thing of `notes` once: titles,
    observations and mock defaults each joined by "; " without repeats; `same` only when
    every note was."""
    if len(notes) == 1:
        return notes[0]

    def joined(values: Iterable[str]) -> str:
        return "; ".join(dict.fromkeys(value for value in values if value))

    return NoteRecorded(
        question_id=question_id,
        title=joined(note.title for note in notes),
        observed=joined(note.observed for note in notes),
        mock_default=joined(note.mock_default for note in notes),
        same=all(note.same for note in notes),
    )


@dataclass(slots=True)
class RunRecord:
    """Everything a run emitted, grouped for reporters that write once at the end."""

    started: RunStarted | None = None
    finished: RunFinished | None = None
    suites: list[Suite] = field(default_factory=list)
    cases: list[CaseFinished] = field(default_factory=list)
    notes: list[NoteRecorded] = field(default_factory=list)
    findings: list[FuzzFinding] = field(default_factory=list)
    loads: list[LoadSummary] = field(default_factory=list)
    sizings: list[SizingResult] = field(default_factory=list)
    three_ways: list[SizingThreeWay] = field(default_factory=list)
    comparisons: list[ComparisonRecorded] = field(default_factory=list)

    def add(self, event: Event) -> None:
        """File one event under its kind."""
        match event:
            case RunStarted():
                self.started = event
            case RunFinished():
                self.finished = event
            case SuiteStarted(suite=suite):
                self._see_suite(suite)
            case CaseFinished(suite=suite):
                self._see_suite(suite)
                self.cases.append(event)
            case NoteRecorded():
                self.notes.append(event)
            case FuzzFinding():
                self.findings.append(event)
            case LoadSummary():
                self.loads.append(event)
            case SizingResult():
                self.sizings.append(event)
            case SizingThreeWay():
                self.three_ways.append(event)
            case ComparisonRecorded():
                self.comparisons.append(event)

    def open_questions(self) -> list[NoteRecorded]:
        """The notes as one row per open question, in the order the questions first came.

        A question the probe answered is the probe's note (it asked exactly that question;
        the suites' notes on it say the same in other words), joined by the suites' notes that
        differ from the mock's default (a difference is never hidden). Any other question's
        notes become one row saying each distinct thing once (`_merged`).
        """
        answered = {
            (case.case_id.removeprefix("probe."), case.message)
            for case in self.cases_of(Suite.PROBE)
        }
        groups: dict[str, list[NoteRecorded]] = {}
        for note in self.notes:
            groups.setdefault(note.question_id, []).append(note)
        rows = []
        for question, notes in groups.items():
            probed = [note for note in notes if (question, note.observed) in answered]
            unlike = [note for note in notes if not note.same and note not in probed]
            rows.append(_merged(question, [*probed[:1], *unlike] if probed else notes))
        return rows

    def _see_suite(self, suite: Suite) -> None:
        if suite not in self.suites:
            self.suites.append(suite)

    @property
    def exit_code(self) -> int | None:
        """The run's exit code, None while it has not finished."""
        return None if self.finished is None else self.finished.exit_code

    @property
    def verdict(self) -> str:
        """`passed`, `failed`, `could not judge` (exit 4), `interrupted` (130/143), `error`
        (usage or target problem, exit 2/3) or `incomplete` (no exit code recorded)."""
        return "incomplete" if self.finished is None else self.finished.verdict

    def counts(self) -> list[SuiteCounts]:
        """Per-suite outcome counts, suites in the order they started."""
        return [self._count(suite) for suite in self.suites]

    def _count(self, suite: Suite) -> SuiteCounts:
        tally = dict.fromkeys(Outcome, 0)
        for case in self.cases_of(suite):
            tally[case.outcome] += 1
        return SuiteCounts(
            suite=suite,
            passed=tally[Outcome.PASSED],
            failed=tally[Outcome.FAILED],
            skipped=tally[Outcome.SKIPPED],
            error=tally[Outcome.ERROR],
            inconclusive=tally[Outcome.INCONCLUSIVE],
        )

    def cases_of(self, suite: Suite) -> Iterator[CaseFinished]:
        """The cases of one suite, in the order they finished."""
        return (case for case in self.cases if case.suite == suite)

    def problems(self) -> list[CaseFinished]:
        """Cases that failed or errored, in order."""
        return [case for case in self.cases if case.outcome in {Outcome.FAILED, Outcome.ERROR}]
