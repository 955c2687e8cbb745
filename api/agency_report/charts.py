"""Charts of the agency's report drawn from fpdf2 primitives, as the
statements' charts are (charging/statements/charts.py: vector, the page's
font, no plotting dependency): columns over many days with lines, dots and
an interval band on one value axis. The few-bar charts reuse the
statements' ``vertical_bars`` and ``horizontal_bars``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from charging.statements.charts import BAR, BAR_2, GRID, INK, _nice_max
from charging.statements.text import latin1

BAND = (200, 214, 232)
PALE = (175, 185, 200)  # a bar of registry figures only (nothing measured)
TARGET = (170, 30, 30)

Values = Sequence[float | None]


@dataclass
class Series:
    """One series of ``series_chart``: ``kind`` bar, line, dot or line+dot."""

    values: Values
    kind: str = "bar"
    colour: tuple[int, int, int] = BAR
    dashed: bool = False


@dataclass
class Chart:
    labels: Sequence[str]
    series: list[Series]
    band: tuple[Values, Values] | None = None  # lower, upper
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")
    top: float | None = None  # the axis end; default: a round number above the data
    integer: bool = False  # counts: whole-number grid lines


def axis(values: list[float], *, integer: bool) -> tuple[float, int]:
    """The axis end and its number of grid steps: the smallest round step (1,
    2, 2.5 or 5 times a power of ten; whole for counts) that covers the data
    with a little room in at most five steps (a peak of 52 gets 0..60 by 10)."""
    high = max(max(values, default=0.0) * 1.05, 1e-9)
    power = 10.0 ** math.floor(math.log10(high / 5))
    if integer:
        power = max(power, 1.0)
    for base in (1, 2, 2.5, 5, 10, 20):
        step = base * power
        if integer and (step < 1 or step != int(step)):
            continue
        n = math.ceil(round(high / step, 9))
        if n <= 5:
            return step * n, max(n, 1)
    return _nice_max(high), 5  # pragma: no cover - a step of 20 x power always fits


def _finite(values: Values) -> list[float]:
    return [float(v) for v in values if v is not None]


def series_chart(pdf: Any, *, x: float, y: float, w: float, h: float, chart: Chart) -> float:
    """Columns, lines and dots over ``chart.labels`` (a label shown every few
    columns so they never overlap); returns the bottom y."""
    axis_w = 14
    every = [v for s in chart.series for v in _finite(s.values)]
    if chart.band is not None:
        every += _finite(chart.band[1])
    top, steps = (chart.top, 5) if chart.top else axis(every, integer=chart.integer)
    n = max(len(chart.labels), 1)
    slot = (w - axis_w) / n
    x0 = x + axis_w

    def ypos(v: float) -> float:
        return y + h - h * min(max(v, 0.0), top) / top

    def xmid(i: int) -> float:
        return x0 + (i + 0.5) * slot

    pdf.set_font("helvetica", "", 7)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    for k in range(steps + 1):
        gy = y + h - h * k / steps
        pdf.line(x0, gy, x + w, gy)
        pdf.set_text_color(*INK)
        pdf.set_xy(x, gy - 2)
        pdf.cell(axis_w - 1, 4, latin1(chart.fmt(top * k / steps)), align="R")
    if chart.band is not None:
        pdf.set_fill_color(*BAND)
        lo, hi = chart.band
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if a is not None and b is not None and b > a:
                pdf.rect(x0 + i * slot + slot * 0.05, ypos(b), slot * 0.9, ypos(a) - ypos(b), "F")
    for s in chart.series:
        _draw_series(pdf, s, slot, ypos, xmid, x0, y + h)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.2)
    pdf.line(x0, y + h, x + w, y + h)
    step = max(1, -(-n * 11 // int(w - axis_w)))  # at most one label per 11 mm
    pdf.set_font("helvetica", "", 6.5)
    pdf.set_text_color(*INK)
    for i, label in enumerate(chart.labels):
        if i % step == 0:
            pdf.set_xy(xmid(i) - 10, y + h + 0.5)
            pdf.cell(20, 3.5, latin1(label), align="C")
    return y + h + 5


def _draw_series(
    pdf: Any,
    s: Series,
    slot: float,
    ypos: Callable[[float], float],
    xmid: Callable[[int], float],
    x0: float,
    base: float,
) -> None:
    pdf.set_fill_color(*s.colour)
    pdf.set_draw_color(*s.colour)
    if s.kind == "bar":
        for i, v in enumerate(s.values):
            if v is not None and v > 0:
                pdf.rect(x0 + i * slot + slot * 0.15, ypos(v), slot * 0.7, base - ypos(v), "F")
        return
    if s.kind == "dot":
        for i, v in enumerate(s.values):
            if v is not None:
                pdf.circle(x=xmid(i), y=ypos(v), radius=0.9, style="F")
        return
    pdf.set_line_width(0.5)
    if s.dashed:
        pdf.set_dash_pattern(dash=1.2, gap=0.8)
    last: tuple[float, float] | None = None
    for i, v in enumerate(s.values):
        point = None if v is None else (xmid(i), ypos(v))
        if point is not None and last is not None:
            pdf.line(*last, *point)
        if point is not None and s.kind == "line+dot":
            pdf.circle(x=point[0], y=point[1], radius=0.7, style="F")
        last = point
    pdf.set_dash_pattern()


def legend(
    pdf: Any, *, x: float, y: float, items: Sequence[tuple[str, tuple[int, int, int]]]
) -> None:
    """Coloured squares with their labels in one row."""
    pdf.set_font("helvetica", "", 7)
    pdf.set_text_color(*INK)
    xx = x
    for label, colour in items:
        pdf.set_fill_color(*colour)
        pdf.rect(xx, y + 1, 2.5, 2.5, "F")
        pdf.set_xy(xx + 3.2, y)
        text = latin1(label)
        width = pdf.get_string_width(text) + 2
        pdf.cell(width, 4.5, text)
        xx += width + 6


__all__ = ["BAND", "BAR", "BAR_2", "PALE", "TARGET", "Chart", "Series", "legend", "series_chart"]
