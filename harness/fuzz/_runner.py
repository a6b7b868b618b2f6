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
  `TargetUnavailable` (exit 3), which also propagates when raised inside.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.errors import FailedHealthCheck, Flaky, HypothesisException
from hypothesis.reporting import with_reporter

from .._exceptions import CannotJudge, ContractViolation, TargetUnavailable
from .._types import Clock
from ..checks import Note
from ..report import CaseFinished, FuzzFinding, NoteRecorded, Outcome, Suite
from ._context import FuzzBudget, FuzzContext, FuzzFailure, OutOfTime
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
    whole sequence that shows it."""
    if failure.steps:
        reproduction = curl_sequence(failure.steps, ctx.target)
    elif failure.request is not None:
        reproduction = curl_command(failure.request, ctx.target)
    else:
        reproduction = "(no single request reproduces it; see the steps above)"
    invariant = f" (invariant {failure.invariant})" if failure.invariant is not None else ""
    return FuzzFinding(
        title=failure.title,
        input_repr=ctx.redactor.redact_text(input_repr),
        response=failure.exchange,
        reproduction=reproduction,
        message=ctx.redactor.redact_text(failure.message + invariant),
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
    """Run `test`: (out of time, the failure found, why it could not be judged)."""
    try:
        with with_reporter(lines.append):
            test()
    except OutOfTime:
        return True, None, None
    except TargetUnavailable:
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
        message += " (stopped at the time limit)" if out_of_time else ""
        finished = CaseFinished(**case, outcome=Outcome.PASSED, message=message)
        return PropertyResult(case=finished, finding=None, out_of_time=out_of_time, **common)
    shrunk = last_input() or "\n".join(map(str, lines))
    finding = finding_of(ctx, failure, shrunk)
    message = (
        f"{finding.title}: {finding.message}\ninput: {finding.input_repr[:2000]}"
        f"\nreproduction:\n{finding.reproduction[:4000]}"
    )
    finished = CaseFinished(
        **case, outcome=Outcome.FAILED, message=message, evidence=tuple(failure.evidence)
    )
    return PropertyResult(case=finished, finding=finding, **common)


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
