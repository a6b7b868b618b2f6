"""`calibrate`: ask a target everything the mock can be told, follow its runs, fit them.

`calibrate` runs on an open session: the probe's questions and the wire traits
(`CALIBRATION_QUESTIONS`, preflight first), then `measure` (N runs per trigger the target
names), then the fits: each trigger's duration distribution and outcome rates
(`fit_durations`, `fit_outcomes`) and each endpoint's latency. `render_mock_config` turns the
resulting `Calibration` into a mock config.

Latency below `LATENCY_FLOOR_S` is not written: an answer that fast is the harness's own
machine (an in-process mock, loopback), not a delay a mock should add. E1 is never timed for
latency: its time is the flow's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import median
from typing import Final

from .._embedded import Session
from .._targets import Target
from ..suite import A11_SYNC_RUNS, CALIBRATION_QUESTIONS, ProbeAnswer, probe_target
from ._fit import MIN_FIT_SAMPLES, DurationFit, OutcomeFit, fit_durations, fit_outcomes
from ._sample import Measurement, TriggerSample, measure

__all__ = [
    "LATENCY_FLOOR_S",
    "LATENCY_RESOLUTION_S",
    "PROBE_RUNS",
    "Calibration",
    "LatencyFit",
    "TriggerFit",
    "calibrate",
    "fit_latency",
    "fit_trigger",
    "runs_announcement",
]

LATENCY_FLOOR_S: Final = 0.005
"""A median latency below this (real seconds) is the harness's own overhead: not written."""
LATENCY_RESOLUTION_S: Final = 0.002
"""Latencies all within this of each other are one fixed latency (the harness's jitter)."""
PROBE_RUNS: Final = 14 + A11_SYNC_RUNS + 1
"""The most runs the probe's questions start: A1 1, A5 1, A6 2, A7 5, A14 4, W2 1, and A11's
E1 runs and one background run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerFit:
    """One trigger's followed runs and what was fitted to them (`duration` None when no run
    ended or paused)."""

    sample: TriggerSample
    duration: DurationFit | None
    outcomes: OutcomeFit


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyFit:
    """One endpoint's latency (real seconds): sample size, median, and the fitted
    distribution, or None when it is not written (`why` says why)."""

    endpoint: str
    samples: int
    median_s: float
    fit: DurationFit | None
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Everything `calibrate` learnt of a target: the probe's answers (with their facts),
    each trigger's fits, each endpoint's latency, and the slow trigger A1 was asked on."""

    target: Target
    answers: tuple[ProbeAnswer, ...]
    measurement: Measurement
    triggers: tuple[TriggerFit, ...]
    latency: tuple[LatencyFit, ...]
    slow_trigger: str | None = None

    def facts(self) -> dict[str, object]:
        """Every asked question's facts, merged (later questions win a shared key)."""
        merged: dict[str, object] = {}
        for answer in self.answers:
            merged.update(answer.facts)
        return merged

    def answer(self, question_id: str) -> ProbeAnswer | None:
        """The answer to one question, None when it was not in the set asked."""
        return next((a for a in self.answers if a.question_id == question_id), None)


def fit_trigger(sample: TriggerSample) -> TriggerFit:
    """Fit one trigger's sample (durations only when some run ended)."""
    duration = (
        fit_durations(sample.durations, resolution_s=sample.resolution_s)
        if sample.durations
        else None
    )
    return TriggerFit(sample=sample, duration=duration, outcomes=fit_outcomes(sample.outcomes))


def fit_latency(endpoint: str, samples: tuple[float, ...]) -> LatencyFit:
    """Fit one endpoint's latency, unless it is too small to be the target's or too few."""
    size = len(samples)
    middle = median(samples) if samples else 0.0
    if size < MIN_FIT_SAMPLES:
        why = f"{size} answer(s): too few to fit"
        return LatencyFit(endpoint=endpoint, samples=size, median_s=middle, fit=None, why=why)
    if middle < LATENCY_FLOOR_S:
        why = (
            f"median {middle * 1000:.1f} ms is below {LATENCY_FLOOR_S * 1000:g} ms, the "
            "harness's own overhead: no latency added"
        )
        return LatencyFit(endpoint=endpoint, samples=size, median_s=middle, fit=None, why=why)
    fit = fit_durations(samples, resolution_s=LATENCY_RESOLUTION_S)
    return LatencyFit(endpoint=endpoint, samples=size, median_s=middle, fit=fit, why=fit.reason)


def _latency(latency: Mapping[str, tuple[float, ...]]) -> tuple[LatencyFit, ...]:
    return tuple(
        fit_latency(endpoint, samples)
        for endpoint, samples in sorted(latency.items())
        if endpoint != "E1"
    )


def runs_announcement(target: Target, runs: int, triggers: int) -> str:
    """What `calibrate` says before it starts anything: how many runs, where."""
    return (
        f"calibrate starts {runs * triggers} runs on {target.name} ({runs} for each of "
        f"{triggers} trigger(s)), and up to {PROBE_RUNS} more for the probe's questions."
    )


def calibrate(
    session: Session,
    *,
    runs: int,
    slow_trigger: str | None = None,
    allow_production: bool = False,
) -> Calibration:
    """Probe the session's target, follow `runs` runs of each of its triggers and fit them.

    Args:
        session: an open session on the target (a mock's admin API, when the session has
            one, moves its clock so runs end at once).
        runs: runs per trigger (> 0).
        slow_trigger: a trigger known to outlast the sync limit, to ask A1 on.
        allow_production: the `--allow-production` flag (the command refuses production
            before this; the probe asks it again).

    Raises:
        TargetUnavailable: the target cannot be reached, refuses the key or is not the
            trigger API, or stopped answering (exit 3).
    """
    answers = probe_target(
        session.client(),
        slow_trigger=slow_trigger,
        questions=CALIBRATION_QUESTIONS,
        allow_production=allow_production,
        sleep=session.sleep,
    )
    measurement = measure(session, runs=runs)
    return Calibration(
        target=session.target,
        answers=tuple(answers),
        measurement=measurement,
        triggers=tuple(fit_trigger(sample) for sample in measurement.samples),
        latency=_latency(measurement.latency),
        slow_trigger=slow_trigger,
    )
