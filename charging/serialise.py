"""A month's charges as JSON-ready strings: the view the JSON, CSV, XLSX and
PDF statements share, restricted to one agency when asked."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from charging.results import ChargeLine, MonthCharges, SpaceUse
from charging.rounding import dec as _dec
from charging.rounding import eur, hours


def month_dict(mc: MonthCharges, agency: str | None) -> dict[str, Any]:
    if agency is not None and agency not in mc.agency_ids:
        raise KeyError(f"agency {agency!r} is not charged at site {mc.site!r}")
    lines = [ln for ln in mc.lines if agency is None or ln.agency == agency]
    agencies = [a for a in mc.agencies if agency is None or a.agency == agency]
    used_spaces = {s for ln in lines for s in ln.spaces}
    return {
        "site": mc.site,
        "site_name": mc.site_name,
        "month": mc.month,
        "period_start": mc.period_start.isoformat(),
        "period_end": mc.period_end.isoformat(),
        "currency": mc.currency,
        "agency": agency,
        "provisional": mc.provisional,
        "elapsed_share": _dec(mc.elapsed_share, 6),
        "tariff": _tariff_dict(mc),
        "registry_version": mc.registry_version,
        "inputs_hash": mc.inputs_hash,
        "totals": _totals_dict(mc),
        "agencies": [
            {
                "agency": a.agency,
                "name": a.name,
                "headcount_htv": _dec(a.headcount_htv, 4),
                "amount_eur": eur(a.amount_cents),
                "bookings": a.bookings,
                "no_shows": a.no_shows,
                "no_show_hours": hours(a.no_show_h),
                "unverified_no_shows": a.unverified,
                "attributed_weighted_hours": _dec(a.attributed_weighted_h, 6),
                "pool_share": _dec(a.pool_share, 8),
            }
            for a in agencies
        ],
        "lines": [line_dict(mc, ln) for ln in lines],
        "spaces": [
            _space_dict(u, agency) for u in mc.spaces if agency is None or u.space in used_spaces
        ],
        "no_shows": [
            {
                "booking_id": n.booking_id,
                "agency": n.agency,
                "space": n.space,
                "start": n.start.isoformat(),
                "end": n.end.isoformat(),
                "status": n.status,
                "booked_hours": hours(n.booked_h),
                "charged_hours": hours(n.charged_h),
            }
            for n in mc.no_shows
            if agency is None or n.agency == agency
        ],
        "notes": list(mc.notes),
    }


def _tariff_dict(mc: MonthCharges) -> dict[str, Any]:
    p = mc.pricing
    weights = {t.value: str(w) for t, w in sorted(p.weights.items(), key=lambda kv: kv[0].value)}
    return {
        "name": mc.tariff_name,
        "version": mc.tariff_version,
        "sha256": mc.tariff_hash,
        "pricing": "unit_prices" if p.unit_prices is not None else "cost_to_recover",
        "cost_to_recover_eur": eur(mc.cost_cents),
        "base_share": None if p.base_share is None else str(p.base_share),
        "unit_prices": None if p.unit_prices is None else p.unit_prices.model_dump(mode="json"),
        "weight_basis": p.weight_basis.value,
        "weights": weights,
        "no_show_window_minutes": p.no_show.window_minutes,
        "no_show_charge_booked_hours": p.no_show.charge_booked_hours,
        "min_coverage": str(p.min_coverage),
    }


def _totals_dict(mc: MonthCharges) -> dict[str, Any]:
    return {
        "cost_eur": eur(mc.cost_cents),
        "base_pot_eur": eur(mc.base_pot_cents, 6),
        "usage_pot_eur": eur(mc.usage_pot_cents, 6),
        "total_weighted_hours": _dec(mc.total_weighted_h, 6),
        "eur_per_weighted_hour": (
            eur(mc.usage_pot_cents / mc.total_weighted_h, 8) if mc.total_weighted_h else None
        ),
        "total_headcount_htv": _dec(sum((a.headcount_htv for a in mc.agencies), Fraction()), 4),
        "pool_basis": mc.pool_basis,
        "usage_basis": mc.usage_basis,
        "lines_sum_eur": eur(sum(ln.amount_cents for ln in mc.lines)),
    }


def _space_dict(u: SpaceUse, agency: str | None) -> dict[str, Any]:
    # an agency sees its own hours of a shared space, never another's
    return {
        "space": u.space,
        "space_type": u.space_type,
        "zone": u.zone,
        "dedicated_to": u.dedicated_to,
        "weight": _dec(u.weight, 4),
        "opening_hours": hours(u.opening_h),
        "observed_hours": hours(u.observed_h),
        "coverage": _dec(u.coverage, 4),
        "occupied_hours": hours(u.occupied_h),
        "dedicated_hours": {a: hours(h) for a, h in u.dedicated_h.items() if agency in (None, a)},
        "booked_hours": {a: hours(h) for a, h in u.booked_h.items() if agency in (None, a)},
        "pool_hours": hours(u.pool_h),
        "no_show_hours": {a: hours(h) for a, h in u.no_show_h.items() if agency in (None, a)},
    }


LINE_FIELDS = [
    "site",
    "month",
    "agency",
    "line",
    "hours_dedicated",
    "hours_booked",
    "hours_pool",
    "hours_no_show",
    "scale",
    "hours",
    "weight",
    "weighted_hours",
    "headcount_htv",
    "coverage",
    "estimated",
    "quota_eur",
    "amount_eur",
    "tariff_version",
    "registry_version",
    "inputs_hash",
]


def line_dict(mc: MonthCharges, ln: ChargeLine) -> dict[str, Any]:
    """One line as strings and flags, in ``LINE_FIELDS`` order (CSV and JSON share it)."""
    weight = ln.weight
    return {
        "site": mc.site,
        "month": mc.month,
        "agency": ln.agency,
        "line": ln.line,
        "hours_dedicated": hours(ln.hours_dedicated),
        "hours_booked": hours(ln.hours_booked),
        "hours_pool": hours(ln.hours_pool),
        "hours_no_show": hours(ln.hours_no_show),
        "scale": _dec(ln.scale, 6),
        "hours": hours(ln.hours),
        "weight": "" if weight is None else _dec(weight, 4),
        "weighted_hours": _dec(ln.weighted_hours, 6),
        "headcount_htv": _dec(ln.headcount_htv, 4),
        "coverage": _dec(ln.coverage, 4),
        "estimated": ln.estimated,
        "quota_eur": eur(ln.quota_cents, 6),
        "amount_eur": eur(ln.amount_cents),
        "tariff_version": mc.tariff_version,
        "registry_version": mc.registry_version,
        "inputs_hash": mc.inputs_hash,
    }
