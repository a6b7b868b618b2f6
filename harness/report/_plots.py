"""Charts for the HTML report and files beside it, rendered with matplotlib's Agg canvas.

PNG for the report's embed and files; the sizing chart also as SVG (`sizing_chart`), for a
design document.

matplotlib is imported only when a chart is drawn, and through `Figure` + `FigureCanvasAgg`
rather than pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any, Final

from ._events import LoadSummary, SizingResult, SizingRow

__all__ = ["CHART_FORMATS", "load_chart_png", "png_data_uri", "sizing_chart", "sizing_chart_png"]

CHART_FORMATS: Final = ("png", "svg")
"""The formats `sizing_chart` renders."""

_DPI = 96
_LOAD_SIZE_IN = (11.0, 3.1)
_SIZING_SIZE_IN = (8.0, 3.6)
_FAIL_COLOUR = "#cf222e"
_BUDGET_COLOUR = "#9a6700"
_PICK_COLOUR = "#1a7f37"


def _new_figure(size: tuple[float, float], cols: int = 1) -> tuple[Any, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow import
    from matplotlib.figure import Figure  # noqa: PLC0415 - slow import

    figure = Figure(figsize=size, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, list(figure.subplots(1, cols, squeeze=False)[0])


def _png(figure: Any) -> bytes:
    return _render(figure, "png")


def _render(figure: Any, fmt: str) -> bytes:
    """The figure as `png` or `svg` bytes, without the tool's name or a date (reproducible)."""
    metadata = {"Software": None} if fmt == "png" else {"Creator": None, "Date": None}
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=_DPI, metadata=metadata)
    return buffer.getvalue()


def load_chart_png(summary: LoadSummary) -> bytes | None:
    """Requests/s, latency percentiles and failures/s over time, None without a time series.

    Args:
        summary: the load run.
    """
    if not summary.series:
        return None
    figure, (throughput, latency, failures) = _new_figure(_LOAD_SIZE_IN, cols=3)
    elapsed = [point.elapsed_s for point in summary.series]
    throughput.plot(elapsed, [p.rps for p in summary.series], label="requests/s")
    users = throughput.twinx()
    users.plot(elapsed, [p.users for p in summary.series], color="grey", linestyle=":")
    users.set_ylabel("users (dotted)", fontsize="small")
    users.set_ylim(bottom=0)
    throughput.set(title="requests per second", xlabel="seconds", ylabel="requests/s")
    latency.plot(elapsed, [p.p50_ms for p in summary.series], label="p50")
    latency.plot(elapsed, [p.p95_ms for p in summary.series], label="p95")
    latency.set(title="response time percentiles", xlabel="seconds", ylabel="ms")
    latency.legend(loc="best", fontsize="small")
    failures.plot(elapsed, [p.failures_per_s for p in summary.series], color=_FAIL_COLOUR)
    failures.set(title="failures per second", xlabel="seconds", ylabel="failures/s")
    for axis in (throughput, latency, failures):
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
    worst = max(p.failures_per_s for p in summary.series)
    failures.set_ylim(top=max(1.0, worst * 1.2))
    if worst == 0:
        failures.text(
            0.5, 0.5, "no failures", transform=failures.transAxes, ha="center",
            color=_PICK_COLOUR, fontsize="large",
        )  # fmt: skip
    return _png(figure)


def _delay(row: SizingRow, stat: str) -> float:
    return row.mean_delay_s if stat == "mean" else row.p95_delay_s


def _delay_low(row: SizingRow, stat: str) -> float:
    low = row.mean_delay_low_s if stat == "mean" else row.p95_delay_low_s
    return _delay(row, stat) if low is None else low


def _strategies(rows: Sequence[SizingRow]) -> list[str]:
    return list(dict.fromkeys(row.strategy for row in rows))


def sizing_chart_png(result: SizingResult) -> bytes | None:
    """`sizing_chart(result)` as PNG (the HTML report's embed)."""
    return sizing_chart(result)


def sizing_chart(
    result: SizingResult,
    *,
    fmt: str = "png",
    simulated: Sequence[tuple[float, float]] = (),
) -> bytes | None:
    """The polling trade-off: detection delay against status requests/s, a line per strategy.

    Each point is one schedule at its delay's upper bound, labelled with its interval, with a
    bar down to the lower bound when the delay is known only within bounds; schedules with no
    measured delay are left out. The delay budget is a dashed line and the recommended
    schedule is ringed; `simulated` points (status requests/s, delay of the same statistic)
    are grey crosses. None when the table has no rows.

    Args:
        result: the sizing table.
        fmt: `png` or `svg` (`CHART_FORMATS`).
        simulated: what the simulation expects of each schedule, as (x, y) points.

    Raises:
        ValueError: `fmt` is not one of `CHART_FORMATS`.
    """
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format must be one of {', '.join(CHART_FORMATS)}, got {fmt!r}")
    if not result.rows:
        return None
    figure, (axis,) = _new_figure(_SIZING_SIZE_IN)
    stat = result.delay_stat
    for strategy in _strategies(result.rows):
        rows = sorted(
            (
                row
                for row in result.rows
                if row.strategy == strategy
                and math.isfinite(_delay(row, stat))
                and math.isfinite(row.status_rps)
            ),
            key=lambda r: r.status_rps,
        )
        xs = [row.status_rps for row in rows]
        ys = [_delay(row, stat) for row in rows]
        (line,) = axis.plot(xs, ys, marker="o", label=strategy)
        axis.vlines(xs, [_delay_low(row, stat) for row in rows], ys, colors=line.get_color())
        for row, x, y in zip(rows, xs, ys, strict=True):
            axis.annotate(
                f"{row.interval_s:g}s", (x, y), textcoords="offset points", xytext=(4, 4),
                fontsize="small",
            )  # fmt: skip
    for row in result.rows:
        if row.recommended and math.isfinite(_delay(row, stat)):
            axis.scatter(
                [row.status_rps], [_delay(row, stat)], s=180, facecolors="none",
                edgecolors=_PICK_COLOUR, linewidths=2, label="recommended", zorder=3,
            )  # fmt: skip
    finite = [(x, y) for x, y in simulated if math.isfinite(x) and math.isfinite(y)]
    if finite:
        axis.scatter(
            [x for x, _ in finite], [y for _, y in finite], marker="x", color="grey",
            label="simulated", zorder=2,
        )  # fmt: skip
    if result.max_delay_s is not None:
        axis.axhline(
            result.max_delay_s, color=_BUDGET_COLOUR, linestyle="--",
            label=f"delay budget {result.max_delay_s:g} s",
        )  # fmt: skip
    axis.set(
        title="polling trade-off: load on the API against detection delay",
        xlabel="status requests per second (cost)",
        ylabel=f"{stat} detection delay (s, upper bound)",
    )
    axis.set_ylim(bottom=0)
    axis.set_xlim(left=0)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize="small")
    return _render(figure, fmt)


def png_data_uri(png: bytes) -> str:
    """A `data:` URI embedding the PNG, so the report needs no other file.

    Args:
        png: the image bytes.
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
