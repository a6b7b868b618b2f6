"""What may make a row "different", what the probe's facts settle, and where the rows are kept.

- Timings are "different" only on one clock, at a resolution fine enough for their size, with
  enough samples; otherwise "inconclusive" (never "different").
- A5 settles `lowercase_environments` and the refusal code on every side that answered, so
  404 vs 422 is a difference of `lowercase_status`, not "not settled"; `calibrate` writes the
  refusal and a comment that the mock cannot answer 404; A1's timeout writes `sync_limit_s`.
- `summary.md` gives the reason of a compare run's verdict and lists the differing rows.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from harness._embedded import embedded_mock, open_session
from harness.compare import (
    Measurement,
    Observation,
    TriggerSample,
    Verdict,
    calibrate,
    compare_samples,
    compare_sides,
    mock_config_target,
    render_mock_config,
)
from harness.report import (
    ComparisonRecorded,
    ComparisonRow,
    RunFinished,
    RunRecord,
    render_html,
)
from harness.report._markdown import render_markdown

_FAST = [1.0 + i / 10 for i in range(10)]
_SLOW = [30.0 + i for i in range(10)]


def test_a_clear_gap_on_one_clock_at_fine_resolution_is_different() -> None:
    test = compare_samples(_FAST, _SLOW, tolerance_s=0.1, resolution_s=0.1)
    assert test.verdict is Verdict.DIFFERENT
    assert test.p_value is not None
    assert test.p_value < 0.01


def test_the_same_gap_on_unaligned_clocks_is_inconclusive() -> None:
    test = compare_samples(_FAST, _SLOW, unaligned="a mock whose clock cannot be read")
    assert test.verdict is Verdict.INCONCLUSIVE
    assert "not measured on one clock" in test.why


def test_the_same_gap_measured_coarsely_is_inconclusive() -> None:
    """Durations known only to within 5 s (a poll interval) cannot tell 1 s from 30 s."""
    test = compare_samples(_FAST, _SLOW, tolerance_s=5.0, resolution_s=5.0)
    assert test.verdict is Verdict.INCONCLUSIVE
    assert "too coarse" in test.why


def _observation(name: str, durations: list[float], *, known: bool) -> Observation:
    sample = TriggerSample(
        trigger_id="batch",
        role="background",
        via="E2",
        requested=len(durations),
        durations=tuple(durations),
        outcomes=("completed",) * len(durations),
        resolution_s=0.0,
        unfinished=0,
        refused=(),
    )
    measurement = Measurement(
        runs_per_trigger=len(durations),
        samples=(sample,),
        latency={},
        clock="the clock" if known else "a clock that cannot be read",
        clock_known=known,
    )
    return Observation(name=name, answers=(), contract=None, measurement=measurement)


def test_a_side_whose_clock_is_unknown_never_makes_durations_different() -> None:
    left = _observation("live", _FAST, known=False)
    right = _observation("config", _SLOW, known=True)
    rows = [r for r in compare_sides(left, right).rows if r.topic == "run durations"]
    assert [(r.verdict, r.p_value) for r in rows] == [(Verdict.INCONCLUSIVE, None)]
    assert "a clock that cannot be read" in rows[0].why
    both_known = compare_sides(_observation("a", _FAST, known=True), right)
    (row,) = [r for r in both_known.rows if r.topic == "run durations"]
    assert row.verdict is Verdict.DIFFERENT
    assert row.p_value is not None


class _LowerCase404:
    """The mock, but a lower-case environment in the path answers 404 (as a router would)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/dev"):
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"detail": "Not Found"}'})
            return
        await self.inner(scope, receive, send)


def test_calibrate_writes_what_a5_and_a1_settled() -> None:
    """A target refusing `dev` with 404 and timing E1 out after 4 s: A5's facts hold the
    refusal and its code, the file says the mock cannot answer 404, and `sync_limit_s` is 4."""
    config = {
        "mock": {"seed": 3, "sync_limit_s": 4.0},
        "workspaces": [
            {
                "id": "ws",
                "api_keys": ["k-1"],
                "triggers": [
                    {"id": "batch", "duration": {"dist": "fixed", "s": 2}},
                    {"id": "slow", "duration": {"dist": "fixed", "s": 10}},
                ],
            }
        ],
    }
    target = mock_config_target(config, name="lower-404", like=None)
    app = _LowerCase404(embedded_mock(config, time_scale=1000.0).app)
    with open_session(target, app=app, time_scale=1000.0) as session:
        calibration = calibrate(session, runs=2, slow_trigger="slow")
    a5 = calibration.answer("A5")
    assert a5 is not None
    assert dict(a5.facts) == {"lowercase_environments": "refuse", "lowercase_status": 404}
    text = render_mock_config(calibration)
    assert 'lowercase_environments = "refuse"' in text
    assert "lowercase_status: the target answered 404 (A5); the mock cannot express" in text
    assert "the probe could not tell (see A5)" not in text
    assert "# sync_limit_s = 4.0: as A1 showed (policy 504; A1 HTTP 504" in text
    assert "sync_limit_s = 4.0\n" in text


def _record(*verdicts: str) -> RunRecord:
    record = RunRecord()
    rows = tuple(
        ComparisonRow(group="g", topic=f"row {i}", left="a", right="b", verdict=v, why=f"w{i}")
        for i, v in enumerate(verdicts)
    )
    record.add(
        ComparisonRecorded(
            kind="compare", title="A vs B", left="A", right="B", verdict="x", rows=rows
        )
    )
    code = 1 if "different" in verdicts else 0
    record.add(RunFinished(exit_code=code, finished_at=datetime.now(tz=UTC), duration_s=1.0))
    return record


def test_the_summary_headline_gives_the_reason_and_the_rows_are_listed() -> None:
    text = render_markdown(_record("different", "same", "different", "inconclusive"))
    headline = text.splitlines()[0]
    assert headline.endswith(": 2 rows differ, 1 inconclusive"), headline
    assert "Failures\n\n- **g: row 0** differs: w0\n- **g: row 2** differs: w2" in text
    assert "| g: row 3 | a | b | inconclusive |" in text
    assert "No suite ran." not in text
    assert render_markdown(_record("same")).splitlines()[0].endswith(": no row differs")


def test_the_html_section_shows_each_rows_p_value() -> None:
    record = _record("different")
    table = record.comparisons[0]
    row = table.rows[0]
    record.comparisons[0] = ComparisonRecorded(
        kind=table.kind,
        title=table.title,
        left=table.left,
        right=table.right,
        verdict=table.verdict,
        rows=(dataclasses.replace(row, p_value=0.000155),),
    )
    assert "p = 0.000155" in render_html(record)
