"""The ``charges`` measurement (storage/base.py) so that Grafana needs no logic."""

from __future__ import annotations

from charging.charges import MonthCharges
from core.timeutil import to_ns
from storage.base import CHARGES, FieldValue, Point


def charge_points(mc: MonthCharges) -> list[Point]:
    """One point per charge line, at the local month start (in UTC).

    Writing a month again overwrites its points (same identity), so reruns are
    harmless. Amounts are floats of the rounded cents: Grafana sums agree with
    the statement to the cent.
    """
    when = to_ns(mc.period_start)
    points = []
    for ln in mc.lines:
        fields: dict[str, FieldValue] = {
            "amount_eur": ln.amount_cents / 100,
            "hours": float(ln.hours),
            "weighted_hours": float(ln.weighted_hours),
            "coverage": float(ln.coverage),
            "estimated": int(ln.estimated),
            "tariff_version": mc.tariff_version,
        }
        tags = {"site": mc.site, "agency": ln.agency, "month": mc.month, "line": ln.line}
        points.append(Point(CHARGES, tags, fields, when))
    return points
