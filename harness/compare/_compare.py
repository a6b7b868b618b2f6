"""`compare`: two targets (or mock configs) side by side, one verdict per row and overall.

Each side is observed the same way (`observe`): the probe's questions and the wire traits
(`CALIBRATION_QUESTIONS`), optionally the contract suite, and a small sample of runs per
trigger (`measure`). `compare_sides` then makes the rows:

- one per question: the facts each side's answers settled (`ProbeAnswer.facts`) are compared
  key by key; a fact both sides settled and that differs makes the row `different` (naming
  the key and both values); the same facts on both sides make it `same`; a question asked on
  one side only, or settled on one side only, is `inconclusive`. A question asked on neither
  side (no trigger to ask it on, production) is shown and left out of the verdict;
- the contract suite: its counts on each side, and one row per case whose outcome differs
  (passed on one side, failed or errored on the other). A case skipped on either side is not
  compared;
- per trigger role: the run durations (two-sample Kolmogorov-Smirnov test, tolerance the
  coarser side's measurement resolution) and the outcome rates (Fisher's exact test).
  Durations are each side's target seconds (`Measurement.clock`): a side whose clock is not
  its target's own (`clock_known` False) makes the row inconclusive, as does a resolution
  coarse for the durations (`compare_samples`);
- per endpoint: latency (KS, tolerance `LATENCY_TOLERANCE_S`), real seconds on both sides
  (this machine's clock; a mock's added latency is real seconds too), so always one scale.

A row carries the p-value of its test where one ran (`Row.p_value`).

The overall verdict is `different` when any row is, `inconclusive` when any row is and none
differs, else `same` (`overall`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from .._embedded import Session
from ..report import Event, Outcome
from ..suite import (
    CALIBRATION_QUESTIONS,
    ProbeAnswer,
    SuiteOutcome,
    probe_target,
    run_suite,
    suite_context,
)
from ._fit import OUTCOMES
from ._sample import Measurement, TriggerSample, measure
from ._stats import SampleTest, Verdict, compare_outcomes, compare_samples, overall

__all__ = [
    "LATENCY_TOLERANCE_S",
    "Comparison",
    "Observation",
    "Row",
    "compare_sides",
    "observe",
]

LATENCY_TOLERANCE_S: Final = 0.01
"""A latency median gap at most this large (real seconds) is the harness's own noise."""
_ROLES: Final = ("sync", "background", "jira")


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What one side showed: the probe's answers, the contract suite's outcome (None when not
    run) and the runs followed."""

    name: str
    answers: tuple[ProbeAnswer, ...]
    contract: SuiteOutcome | None
    measurement: Measurement


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One row of the comparison: what is compared (`topic`, in `group`), each side's value
    in words, the verdict (None: compared on neither side), why, and the p-value of the
    row's test (None when none ran)."""

    group: str
    topic: str
    left: str
    right: str
    verdict: Verdict | None
    why: str
    p_value: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The rows, the two sides' names and the overall verdict."""

    left: str
    right: str
    rows: tuple[Row, ...]

    @property
    def verdict(self) -> Verdict:
        """`overall` of the rows that were compared."""
        return overall([row.verdict for row in self.rows if row.verdict is not None])

    def differences(self) -> list[Row]:
        """The rows whose verdict is `different`."""
        return [row for row in self.rows if row.verdict is Verdict.DIFFERENT]


def observe(
    session: Session,
    *,
    runs: int,
    slow_trigger: str | None = None,
    contract: bool = True,
    exact: bool | None = None,
    allow_production: bool = False,
    emit: Callable[[Event], None] = lambda event: None,
) -> Observation:
    """Probe one side, run its contract suite (when `contract`) and follow `runs` runs per
    trigger.

    Args:
        session: an open session on the side.
        runs: runs per trigger (> 0).
        slow_trigger: the trigger to ask A1 on.
        contract: run the contract suite too.
        exact: judge open questions as the demo mock (see `suite_context`); None: default.
        allow_production: the `--allow-production` flag.
        emit: receives the contract suite's events (default: dropped).

    Raises:
        TargetUnavailable: the side cannot be reached or refuses the key (exit 3).
    """
    answers = probe_target(
        session.client(),
        slow_trigger=slow_trigger,
        questions=CALIBRATION_QUESTIONS,
        allow_production=allow_production,
        sleep=session.sleep,
    )
    outcome = None
    if contract:
        context = suite_context(session, allow_production=allow_production, exact=exact)
        outcome = run_suite(context, emit=emit)
    return Observation(
        name=session.target.name,
        answers=tuple(answers),
        contract=outcome,
        measurement=measure(session, runs=runs),
    )


def _facts_text(answer: ProbeAnswer) -> str:
    return answer.observed if answer.asked else f"({answer.observed})"


def _question_row(left: ProbeAnswer, right: ProbeAnswer) -> Row:
    def row(verdict: Verdict | None, why: str) -> Row:
        return Row(
            group="open questions",
            topic=f"{left.question_id} {left.question}",
            left=_facts_text(left),
            right=_facts_text(right),
            verdict=verdict,
            why=why,
        )

    if not left.asked and not right.asked:
        return row(None, "asked on neither side")
    shared = left.facts.keys() & right.facts.keys()
    differing = sorted(key for key in shared if left.facts[key] != right.facts[key])
    if differing:
        why = "; ".join(f"{key}: {left.facts[key]!r} vs {right.facts[key]!r}" for key in differing)
        return row(Verdict.DIFFERENT, why)
    if left.facts and left.facts.keys() == right.facts.keys():
        return row(Verdict.SAME, "the same answers")
    return row(Verdict.INCONCLUSIVE, "not settled on both sides")


def _question_rows(left: Observation, right: Observation) -> list[Row]:
    theirs = {answer.question_id: answer for answer in right.answers}
    return [
        _question_row(answer, theirs[answer.question_id])
        for answer in left.answers
        if answer.question_id in theirs
    ]


def _counts(outcome: SuiteOutcome) -> str:
    return (
        f"{outcome.passed} passed, {outcome.failed} failed, {outcome.error} errors, "
        f"{outcome.skipped} skipped"
    )


_FAILING: Final = frozenset({Outcome.FAILED, Outcome.ERROR})


def _contract_rows(left: SuiteOutcome | None, right: SuiteOutcome | None) -> list[Row]:
    if left is None or right is None:
        return []
    rows = []
    theirs = right.by_id()
    for case_id, mine in left.by_id().items():
        other = theirs.get(case_id)
        if other is None or Outcome.SKIPPED in (mine.outcome, other.outcome):
            continue
        if (mine.outcome in _FAILING) != (other.outcome in _FAILING):
            rows.append(
                Row(
                    group="contract",
                    topic=case_id,
                    left=str(mine.outcome),
                    right=str(other.outcome),
                    verdict=Verdict.DIFFERENT,
                    why=(mine.message or other.message or "one side failed the case").splitlines()[
                        0
                    ][:160],
                )
            )
    verdict = Verdict.DIFFERENT if rows else Verdict.SAME
    why = (
        f"{len(rows)} case(s) pass on one side only" if rows else "every case both ran ended alike"
    )
    summary = Row(
        group="contract",
        topic="contract suite",
        left=_counts(left),
        right=_counts(right),
        verdict=verdict,
        why=why,
    )
    return [summary, *rows]


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} s"


def _sample_row(group: str, topic: str, test: SampleTest) -> Row:
    left = f"n={test.sizes[0]}, median {_seconds(test.medians[0])}"
    right = f"n={test.sizes[1]}, median {_seconds(test.medians[1])}"
    return Row(
        group=group,
        topic=topic,
        left=left,
        right=right,
        verdict=test.verdict,
        why=test.why,
        p_value=test.p_value,
    )


def _unaligned(left: Measurement, right: Measurement) -> str | None:
    """Why the two sides' durations are not on one scale, None when both are their
    targets' own seconds."""
    unknown = [m.clock for m in (left, right) if not m.clock_known]
    return "; ".join(unknown) if unknown else None


def _rates(sample: TriggerSample | None) -> str:
    if sample is None:
        return "no such trigger"
    counts = {name: sample.outcomes.count(name) for name in OUTCOMES}
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "no run ended"


def _trigger_rows(
    role: str, left: TriggerSample | None, right: TriggerSample | None, unaligned: str | None
) -> list[Row]:
    if left is None and right is None:
        return []
    names = f"{left.trigger_id if left else '—'} / {right.trigger_id if right else '—'}"
    resolution = max(left.resolution_s if left else 0.0, right.resolution_s if right else 0.0)
    durations = compare_samples(
        left.durations if left else (),
        right.durations if right else (),
        tolerance_s=resolution,
        resolution_s=resolution,
        unaligned=unaligned,
    )
    outcomes = compare_outcomes(
        {name: left.outcomes.count(name) for name in OUTCOMES} if left else None,
        {name: right.outcomes.count(name) for name in OUTCOMES} if right else None,
        OUTCOMES,
    )
    group = f"{role} trigger ({names})"
    return [
        _sample_row(group, "run durations", durations),
        Row(
            group=group,
            topic="outcome rates",
            left=_rates(left),
            right=_rates(right),
            verdict=outcomes.verdict,
            why=outcomes.why,
            p_value=outcomes.p_value,
        ),
    ]


def _latency_rows(
    left: Mapping[str, Sequence[float]], right: Mapping[str, Sequence[float]]
) -> list[Row]:
    return [
        _sample_row(
            "latency",
            endpoint,
            compare_samples(
                left.get(endpoint, ()), right.get(endpoint, ()), tolerance_s=LATENCY_TOLERANCE_S
            ),
        )
        for endpoint in sorted(left.keys() | right.keys())
    ]


def compare_sides(left: Observation, right: Observation) -> Comparison:
    """The rows comparing two observations (see the module docstring for each verdict)."""
    rows = _question_rows(left, right)
    rows += _contract_rows(left.contract, right.contract)
    mine, theirs = left.measurement.by_role(), right.measurement.by_role()
    unaligned = _unaligned(left.measurement, right.measurement)
    for role in _ROLES:
        rows += _trigger_rows(role, mine.get(role), theirs.get(role), unaligned)
    rows += _latency_rows(left.measurement.latency, right.measurement.latency)
    return Comparison(left=left.name, right=right.name, rows=tuple(rows))
