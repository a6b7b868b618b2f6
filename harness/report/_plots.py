"""Charts for the HTML report, rendered to PNG with matplotlib's Agg canvas.

matplotlib is imported only when a chart is drawn, and through `Figure` + `FigureCanvasAgg`
rather than pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from ._events import LoadSummary, SizingResult

__all__ = ["load_chart_png", "png_data_uri", "sizing_chart_png"]

_DPI = 96
_SIZE_IN = (8.0, 3.2)


def _new_figure(rows: int = 1, cols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow import
    from matplotlib.figure import Figure  # noqa: PLC0415 - slow import

    figure = Figure(figsize=_SIZE_IN, dpi=_DPI)
    figure.subplots_adjust(left=0.08, right=0.92, bottom=0.16, top=0.88, wspace=0.28)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(rows, cols, squeeze=False)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def load_chart_png(summary: LoadSummary) -> bytes | None:
    """Throughput and latency over time of a load run, None when it has no time series.

    Args:
        summary: the load run.
    """
    if not summary.series:
        return None
    figure, axes = _new_figure(1, 2)
    elapsed = [point.elapsed_s for point in summary.series]
    throughput, latency = axes[0][0], axes[0][1]
    throughput.plot(elapsed, [p.rps for p in summary.series], label="requests/s")
    throughput.plot(elapsed, [p.failures_per_s for p in summary.series], label="failures/s")
    throughput.set(title=f"{summary.scenario}: throughput", xlabel="seconds", ylabel="per second")
    latency.plot(elapsed, [p.p50_ms for p in summary.series], label="p50")
    latency.plot(elapsed, [p.p95_ms for p in summary.series], label="p95")
    latency.set(title=f"{summary.scenario}: response time", xlabel="seconds", ylabel="ms")
    for axis in (throughput, latency):
        axis.set_ylim(bottom=0)
        axis.legend(loc="best", fontsize="small")
        axis.grid(alpha=0.3)
    return _png(figure)


def sizing_chart_png(result: SizingResult) -> bytes | None:
    """Added delay and status-request rate per polling interval, None without rows.

    Args:
        result: the sizing table.
    """
    if not result.rows:
        return None
    rows = sorted(result.rows, key=lambda row: row.interval_s)
    figure, axes = _new_figure()
    delay = axes[0][0]
    intervals = [row.interval_s for row in rows]
    delay.plot(intervals, [row.mean_delay_s for row in rows], marker="o", label="mean delay")
    delay.plot(intervals, [row.p95_delay_s for row in rows], marker="o", label="p95 delay")
    delay.set(title="polling interval sizing", xlabel="poll interval (s)", ylabel="delay (s)")
    delay.grid(alpha=0.3)
    rate = delay.twinx()
    rate.plot(intervals, [row.status_rps for row in rows], color="grey", linestyle="--")
    rate.set_ylabel("status requests/s (dashed)")
    delay.legend(loc="upper left", fontsize="small")
    return _png(figure)


def png_data_uri(png: bytes) -> str:
    """A `data:` URI embedding the PNG, so the report needs no other file.

    Args:
        png: the image bytes.
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
