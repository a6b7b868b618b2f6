"""Running a fuzz property (or the state machine) under hypothesis, and what its run gave.

`run_property` drives one `Property` with hypothesis under a `FuzzBudget`; `run_test` runs any
hypothesis test (the state machine's too) and turns its end into a report case:

- a `FuzzFailure` (an invariant broken, see `FuzzContext.judge`) is a failed case and a
  `FuzzFinding` whose reproduction replays the whole sequence that shows it, secrets only as
  environment variables;
- hypothesis's own errors (a failed health check, `Flaky`, `FlakyFailure`,
  `FlakyStrategyDefinition`, `Unsatisfiable`, ...) and any other exception are the harness's
  problem: an error case and a `CannotJudge` on the result, never a finding;
- a property whose every answer was inconclusive (429, injected 5xx) could not be judged
  either; one whose every request got no answer at all means the target became unreachable:
  `TargetUnavailable` (exit 3), which also propagates when raised inside;
- the run cap reached (`RunCapReached`) ends the test where it is: a failure already seen is
  still a finding (its shrinking cut short), and the case says the cap stopped it;
- a signal (SIGINT, SIGTERM, SIGHUP) is never an example's failure: hypothesis would take the
  exception the command's handler raises for a failing input, shrink it, and end in `Flaky`.
  While hypothesis runs, such a signal raises `_Signalled` (a `BaseException` hypothesis lets
  pass); outside it the command's own handler is called, so `Terminated` or
  `KeyboardInterrupt` ends the run as anywhere else.

A finding's texts (input, message, reproduction) carry no secret: the target's key and Jira
secret and every `X-Hub-Signature` value sent are redacted like keys (issue 14).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.errors import FailedHealthCheck, Flaky, HypothesisException
from hypothesis.reporting import with_reporter

from .._exceptions import CannotJudge, ContractViolation, Interrupted, TargetUnavailable
from .._redact import Redactor
from .._types import Clock
from ..checks import Note
from ..report import CaseFinished, FuzzFinding, NoteRecorded, Outcome, Suite
from ._context import (
    FuzzBudget,
    FuzzContext,
    FuzzFailure,
    FuzzMeter,
    OutOfTime,
    RunCapReached,
)
from ._repro import curl_command, curl_sequence

__all__ = [
    "Property",
    "PropertyResult",
    "cannot_judge_message",
    "finding_of",
    "note_events",
    "run_property",
    "run_test",
    "seeded",
]

_MESSAGE_LIMIT: Final = 600
_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_Handler = Callable[[int, FrameType | None], Any]


class _Signalled(BaseException):
    """A signal arrived while hypothesis ran; `handler` is the command's, to call outside."""

    def __init__(self, signum: int, handler: _Handler) -> None:
        super().__init__(signum)
        self.signum = signum
        self.handler = handler


@contextmanager
def _signals_pass_hypothesis(meter: FuzzMeter) -> Iterator[None]:
    """While the block runs, a signal with a Python handler raises `_Signalled`; on the way
    out that handler runs (raising `Terminated`, `KeyboardInterrupt`...). Main thread only.

    Python runs a signal handler wherever the main thread is, a garbage-collector callback of
    hypothesis's included, where a raised exception is lost; so the signal is also left on
    the meter, which raises it again at its next example or request.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    handlers = {sig: handler for sig, handler in previous.items() if callable(handler)}

    def signalled(signum: int, frame: FrameType | None) -> None:
        meter.pending = _Signalled(signum, handlers[signal.Signals(signum)])
        raise meter.pending

    for sig in handlers:
        signal.signal(sig, signalled)
    try:
        yield
    except _Signalled:
        pass
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        stop, meter.pending = meter.pending, None
        if isinstance(stop, _Signalled):
            stop.handler(stop.signum, None)


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
    """How one property's run ended.

    Args:
        case: its report case.
        finding: the invariant it found broken, if any.
        examples: examples (state-machine programs) run.
        requests: requests sent.
        out_of_time: generation stopped at the time limit.
        notes: open-question notes first recorded while it ran.
        inconclusive: answers that said nothing (no answer, 429, injected 5xx).
        cannot_judge: why the harness could not judge it (exit 4), None when it could.
    """

    case: CaseFinished
    finding: FuzzFinding | None
    examples: int
    requests: int
    out_of_time: bool = False
    notes: tuple[Note, ...] = ()
    inconclusive: int = 0
    cannot_judge: CannotJudge | None = None


def finding_of(ctx: FuzzContext, failure: FuzzFailure, input_repr: str) -> FuzzFinding:
    """The report event of a failure: shrunk input, redacted answer and a reproduction of the
    whole sequence that shows it; the key, the Jira secret and every signature sent are
    redacted from its texts."""
    if failure.steps:
        reproduction = curl_sequence(failure.steps, ctx.target)
    elif failure.request is not None:
        reproduction = curl_command(failure.request, ctx.target)
    else:
        reproduction = "(no single request reproduces it; see the steps above)"
    invariant = f" (invariant {failure.invariant})" if failure.invariant is not None else ""
    message = failure.message + invariant
    texts = (input_repr, message, reproduction)
    signatures = [value for value in ctx.signatures if any(value in text for text in texts)]
    redactor = Redactor([*ctx.target.secret_values(), *signatures]) if signatures else ctx.redactor
    return FuzzFinding(
        title=redactor.redact_text(failure.title),
        input_repr=redactor.redact_text(input_repr),
        response=failure.exchange,
        reproduction=redactor.redact_text(reproduction),
        message=redactor.redact_text(message),
    )


def note_events(notes: tuple[Note, ...] | list[Note]) -> list[NoteRecorded]:
    """The report events of open-question notes (the report's open-questions section)."""
    return [
        NoteRecorded(
            question_id=note.question_id,
            title=note.title,
            observed=note.observed,
            mock_default=note.mock_default,
            same=note.same,
        )
        for note in notes
    ]


def cannot_judge_message(exc: BaseException) -> str:
    """A plain sentence saying why hypothesis could not judge, naming its error."""
    name = type(exc).__name__
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    if isinstance(exc, FailedHealthCheck):
        why = "a hypothesis health check failed (the fuzzer's problem, not the target's)"
    elif isinstance(exc, Flaky):
        why = (
            "the outcome did not repeat when hypothesis replayed the same input (the target's "
            "answers changed between tries, or a transient fault)"
        )
    elif isinstance(exc, HypothesisException):
        why = "hypothesis could not run the property"
    else:
        why = "the harness failed while judging (an internal error)"
    return f"{why}: {name}" + (f": {first}" if first else "")


def _first_failure(exc: BaseException) -> FuzzFailure | None:
    if isinstance(exc, FuzzFailure):
        return exc
    if isinstance(exc, BaseExceptionGroup) and not isinstance(exc, Flaky):
        for inner in exc.exceptions:
            found = _first_failure(inner)
            if found is not None:
                return found
    return None


def _as_failure(exc: Exception) -> FuzzFailure | None:
    """The finding an exception carries: a `FuzzFailure` or a `ContractViolation`."""
    found = _first_failure(exc)
    if found is not None:
        return found
    if isinstance(exc, ContractViolation) and not isinstance(exc, Flaky):
        exchange = exc.evidence[-1] if exc.evidence else None
        return FuzzFailure(exc.title, exc.message, exchange=exchange, severity=exc.severity)
    return None


def _ended(
    ctx: FuzzContext,
    test: Callable[[], None],
    lines: list[object],
) -> tuple[bool, FuzzFailure | None, CannotJudge | None]:
    """Run `test`: (out of time or runs, the failure found, why it could not be judged)."""
    ctx.last_failure = None
    try:
        with _signals_pass_hypothesis(ctx.meter), with_reporter(lines.append):
            test()
    except RunCapReached:
        return True, ctx.last_failure, None
    except OutOfTime:
        return True, None, None
    except (TargetUnavailable, Interrupted):
        raise
    except Exception as exc:
        failure = None if isinstance(exc, HypothesisException) else _as_failure(exc)
        if failure is None:
            return False, None, CannotJudge(cannot_judge_message(exc))
        # Hypothesis attaches the falsifying example (a state machine's steps) as notes.
        lines.extend(getattr(exc, "__notes__", ()))
        return False, failure, None
    finally:
        ctx.meter.shrinking = False
    return False, None, None


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

    Raises:
        TargetUnavailable: the target stopped answering at all (no answer to any request).
    """
    started, examples_before, requests_before = clock(), ctx.meter.examples, ctx.meter.requests
    judged_before, inconclusive_before = ctx.judged, ctx.inconclusive
    unanswered_before = ctx.unanswered
    notes_before, reasons_before = len(ctx.notes), len(ctx.inconclusive_reasons)
    lines: list[object] = []
    out_of_time, failure, unjudged = _ended(ctx, test, lines)
    examples = ctx.meter.examples - examples_before
    requests = ctx.meter.requests - requests_before
    judged, inconclusive = ctx.judged - judged_before, ctx.inconclusive - inconclusive_before
    if failure is None and unjudged is None and judged and inconclusive == judged:
        if ctx.unanswered - unanswered_before == judged:
            raise TargetUnavailable(
                f"target {ctx.target.name!r} became unreachable: no answer to any of the "
                f"{judged} requests of {case_id}"
            )
        reasons = "; ".join(dict.fromkeys(ctx.inconclusive_reasons[reasons_before:]))
        unjudged = CannotJudge(f"every one of {judged} answers was inconclusive ({reasons})")
    common: dict[str, Any] = {
        "examples": examples,
        "requests": requests,
        "notes": tuple(list(ctx.notes.values())[notes_before:]),
        "inconclusive": inconclusive,
    }
    case: dict[str, Any] = {
        "suite": Suite.FUZZ,
        "case_id": case_id,
        "title": title,
        "duration_s": clock() - started,
    }
    if unjudged is not None:
        message = f"could not judge: {unjudged}"[:_MESSAGE_LIMIT]
        finished = CaseFinished(**case, outcome=Outcome.ERROR, message=message)
        return PropertyResult(case=finished, finding=None, cannot_judge=unjudged, **common)
    if failure is None:
        message = f"{examples} examples, {requests} requests"
        message += f", {inconclusive} answers inconclusive" if inconclusive else ""
        message += _stopped(ctx) if out_of_time else ""
        finished = CaseFinished(**case, outcome=Outcome.PASSED, message=message)
        return PropertyResult(case=finished, finding=None, out_of_time=out_of_time, **common)
    shrunk = last_input() or "\n".join(map(str, lines))
    finding = finding_of(ctx, failure, shrunk)
    message = (
        f"{finding.title}: {finding.message}\ninput: {finding.input_repr[:2000]}"
        f"\nreproduction:\n{finding.reproduction[:4000]}"
    )
    message += _stopped(ctx) if out_of_time else ""
    finished = CaseFinished(
        **case, outcome=Outcome.FAILED, message=message, evidence=tuple(failure.evidence)
    )
    return PropertyResult(case=finished, finding=finding, **common)


def _stopped(ctx: FuzzContext) -> str:
    """Why a test stopped early: the run cap or the time limit."""
    if ctx.meter.cap_reached:
        return f" (stopped: --max-runs reached, {ctx.meter.runs} runs started)"
    return " (stopped at the time limit)"


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
    failing: list[Any] = []

    def body(drawn: Any) -> None:
        ctx.meter.tick()
        drawn_inputs.append(drawn)
        try:
            prop.check(ctx, drawn)
        except Exception:
            ctx.meter.shrinking = True
            failing.append(drawn)
            raise

    test = budget.settings(database)(given(prop.draw(ctx))(body))
    return run_test(
        ctx,
        case_id=f"fuzz.{prop.name}",
        title=prop.title,
        test=seeded(test, budget.seed),
        last_input=lambda: repr((failing or drawn_inputs)[-1]) if drawn_inputs else None,
        clock=clock,
    )


def seeded(test: Callable[[], None], seed: int | None) -> Callable[[], None]:
    """`test` with hypothesis's seed fixed (unchanged when `seed` is None)."""
    if seed is None:
        return test
    from hypothesis import seed as fixed_seed  # noqa: PLC0415 - keeps the name `seed` free

    wrapped: Callable[[], None] = fixed_seed(seed)(test)
    return wrapped
