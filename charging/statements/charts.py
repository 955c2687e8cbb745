"""The summary page's charts, drawn with fpdf2's own primitives (rectangles,
lines, text).

Why not matplotlib: these are three bar charts; drawn as PDF vectors they are
sharp at any zoom, use the statement's font, add no dependency of ~40 MB, and
stay byte-identical between runs (an embedded image would carry a renderer's
version and settings into the statement's bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from charging.statements.text import latin1

BAR = (47, 94, 140)  # blue
BAR_2 = (190, 120, 40)  # amber: the second series of the share chart
GRID = (200, 200, 200)
INK = (40, 40, 40)


def _nice_max(value: float) -> float:
    """The axis end: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def horizontal_bars(
    pdf: Any,
    *,
    x: float,
    y: float,
    w: float,
    rows: Sequence[tuple[str, Fraction]],
    fmt: Any,
    label_w: float = 55,
    bar_h: float = 4.2,
) -> float:
    """Labelled bars, one per row, scaled to the largest; returns the bottom y."""
    top = max((float(v) for _, v in rows), default=0.0)
    span = w - label_w - 22
    pdf.set_font("helvetica", "", 7.5)
    for i, (label, value) in enumerate(rows):
        yy = y + i * (bar_h + 1.6)
        pdf.set_text_color(*INK)
        pdf.set_xy(x, yy)
        pdf.cell(label_w - 1, bar_h, latin1(label)[:44], align="R")
        length = span * float(value) / top if top else 0
        pdf.set_fill_color(*BAR)
        if length > 0:
            pdf.rect(x + label_w, yy + 0.4, max(length, 0.3), bar_h - 0.8, style="F")
        pdf.set_xy(x + label_w + length + 1, yy)
        pdf.cell(20, bar_h, latin1(fmt(value)))
    return y + len(rows) * (bar_h + 1.6)


def vertical_bars(
    pdf: Any,
    *,
    x: float,
    y: float,
    w: float,
    h: float,
    bars: Sequence[tuple[str, Fraction]],
    fmt: Any,
) -> float:
    """Columns with an axis and five grid lines; returns the bottom y (labels included)."""
    axis_w = 14
    top = _nice_max(max((float(v) for _, v in bars), default=0.0))
    pdf.set_font("helvetica", "", 7)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    for k in range(6):  # 1, 2, 2.5 or 5 x 10^n in five steps: round tick labels
        gy = y + h - h * k / 5
        pdf.line(x + axis_w, gy, x + w, gy)
        pdf.set_text_color(*INK)
        pdf.set_xy(x, gy - 2)
        pdf.cell(axis_w - 1, 4, latin1(fmt(top * k / 5)), align="R")
    n = max(len(bars), 1)
    slot = (w - axis_w) / n
    pdf.set_fill_color(*BAR)
    for i, (label, value) in enumerate(bars):
        bh = h * float(value) / top
        bx = x + axis_w + i * slot + slot * 0.15
        if bh > 0:
            pdf.rect(bx, y + h - bh, slot * 0.7, bh, style="F")
        pdf.set_xy(x + axis_w + i * slot, y + h - bh - 4.2)
        pdf.cell(slot, 4, latin1(fmt(value)), align="C")
        lines = label.split("\n")  # a label and, smaller, what it spans
        pdf.set_xy(x + axis_w + i * slot, y + h + 0.5)
        pdf.cell(slot, 4, latin1(lines[0]), align="C")
        if len(lines) > 1:
            pdf.set_font("helvetica", "", 6)
            pdf.set_xy(x + axis_w + i * slot, y + h + 3.8)
            pdf.cell(slot, 3, latin1(lines[1]), align="C")
            pdf.set_font("helvetica", "", 7)
    pdf.set_draw_color(*INK)
    pdf.line(x + axis_w, y + h, x + w, y + h)
    return y + h + 8


def share_bars(
    pdf: Any,
    *,
    x: float,
    y: float,
    w: float,
    rows: Sequence[tuple[str, Fraction]],
    fmt: Any,
    label_w: float = 55,
) -> float:
    """Shares (0..1) as bars on a common 0..100 % scale, each in its own colour."""
    span = w - label_w - 22
    pdf.set_font("helvetica", "", 8)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    for i, (label, value) in enumerate(rows):
        yy = y + i * 7
        pdf.set_text_color(*INK)
        pdf.set_xy(x, yy)
        pdf.cell(label_w - 1, 5.5, latin1(label), align="R")
        pdf.rect(x + label_w, yy + 0.5, span, 4.5, style="D")
        pdf.set_fill_color(*(BAR if i == 0 else BAR_2))
        length = span * float(min(max(value, Fraction(0)), Fraction(1)))
        if length > 0:
            pdf.rect(x + label_w, yy + 0.5, length, 4.5, style="F")
        pdf.set_xy(x + label_w + span + 1, yy)
        pdf.cell(20, 5.5, latin1(fmt(value)))
    return y + len(rows) * 7
