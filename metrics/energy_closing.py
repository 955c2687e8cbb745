"""Closing a floor on a weekday: what it saves, and whether the measured desk
demand fits the rest (docs/metrics.md, "Energy of empty conditioned space",
"Recommendations").

For each floor and weekday with conditioned time: how much of the floor's
conditioned m²h it was empty; whether the site's daily desk peak on that
weekday (the exact peak of all its desks in use at once, which stay at the
site when a floor closes) fits the desks of the other floors with the
margin, by the what-if engine's rule (``metrics.whatif.fit_by_day_type``,
the "close floor" move of ``POST /v1/portfolio/what-if``); and the energy and
CO2 that not conditioning the floor on that weekday saves in a year.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from core.registry import ROOM_TYPES, WEEKDAYS, Site, SpaceType
from metrics.energy import NS_FIELDS, energy_zones, zone_area
from metrics.whatif import fit_by_day_type

_NS_PER_H = 3_600 * 1_000_000_000
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOSING_COLUMNS = (
    "floor", "weekday", "conditioned_days", "conditioned_m2h", "empty_m2h", "empty_share",
    "demand_days", "max_peak", "desks_left", "usable", "headroom", "days_over", "fits",
    "room_peak_max", "rooms_left", "rooms_fit", "service_points", "saving_kwh_year",
    "saving_kg_co2_year", "recommended", "other_floors", "text",
)  # fmt: skip


def floor_weekdays(*, hours: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Per floor and weekday (0 = Monday): conditioned days, conditioned,
    empty and unknown m²h (the floor's states, in its zones' conditioned time)."""
    if hours.empty:
        return pd.DataFrame(
            {"floor": [], "weekday": [], "conditioned_days": [], "conditioned_m2h": [],
             "empty_m2h": [], "unknown_m2h": []}
        )  # fmt: skip
    area = {z.id: zone_area(site, z.id) for z in energy_zones(site)}
    floor_of = {z.id: z.floor for z in site.zones}
    frame = hours[["zone", "day", *NS_FIELDS]].copy()
    frame["weekday"] = pd.to_datetime(frame["day"]).dt.day_of_week
    sums = frame.groupby(["zone", "weekday"], sort=True)[list(NS_FIELDS)].sum().reset_index()
    a = sums["zone"].map(area).astype(float)
    per_zone = pd.DataFrame(
        {
            "floor": sums["zone"].map(floor_of),
            "weekday": sums["weekday"],
            "conditioned_m2h": sums["conditioned_ns"] * a / _NS_PER_H,
            "empty_m2h": sums["floor_empty_ns"] * a / _NS_PER_H,
            "unknown_m2h": sums["floor_unknown_ns"] * a / _NS_PER_H,
        }
    )
    out = per_zone.groupby(["floor", "weekday"], sort=True).sum().reset_index()
    days = (
        frame.assign(floor=frame["zone"].map(floor_of))
        .groupby(["floor", "weekday"])["day"]
        .nunique()
        .rename("conditioned_days")
        .reset_index()
    )
    return out.merge(days, on=["floor", "weekday"])


def closing_table(
    *,
    hours: pd.DataFrame,
    site: Site,
    desk_peaks: pd.DataFrame,
    room_peaks: pd.DataFrame | None = None,
    margin: float,
    period_days: int,
) -> pd.DataFrame:
    """One row per floor and weekday with conditioned time (``CLOSING_COLUMNS``),
    recommended ones first, then by saving. ``desk_peaks``: the site's daily
    peak of desks in use (columns day, peak) over the period's open days;
    ``period_days``: calendar days of the period (the saving is scaled from
    them to a year of 365.25 days). ``room_peaks``: per open day, the sum
    of the site's daily peaks of each room type, an upper bound of the rooms
    in use at once (the summaries keep peaks per type, not of all rooms
    together): a floor whose rooms it says fit does fit; the what-if's exact
    room check may admit more. A floor with a customer service point is
    never recommended: its visitors come to that floor."""
    per = floor_weekdays(hours=hours, site=site)
    counts = {
        "desks": _counts(site, {SpaceType.DESK}),
        "rooms": _counts(site, ROOM_TYPES),
        "points": _counts(site, {SpaceType.SERVICE_POINT}),
    }
    records: list[dict[str, Any]] = per.to_dict(orient="records")  # type: ignore[assignment]
    desk_peaks = desk_peaks[["day", "peak"]]
    fits: dict[tuple[str, int], pd.DataFrame] = {}  # one table per kind and capacity
    rows = []
    for rec in records:
        floor, weekday = str(rec["floor"]), WEEKDAYS[int(rec["weekday"])]
        desks = _fit(desk_peaks, counts["desks"], floor, weekday, margin, fits, "desks")
        rooms = (
            _fit(room_peaks, counts["rooms"], floor, weekday, margin, fits, "rooms")
            if room_peaks is not None and len(room_peaks) and counts["rooms"].get(floor, 0)
            else {"max_peak": 0.0, "fits": True, "left": _left(counts["rooms"], floor)}
        )
        kwh = float(rec["conditioned_m2h"]) * site.energy.intensity_kwh_per_m2_h * 365.25
        kwh /= period_days
        cond = float(rec["conditioned_m2h"])
        points = counts["points"].get(floor, 0)
        rows.append(
            {
                "floor": floor,
                "weekday": weekday,
                "conditioned_days": int(rec["conditioned_days"]),
                "conditioned_m2h": cond,
                "empty_m2h": float(rec["empty_m2h"]),
                "empty_share": float(rec["empty_m2h"]) / cond if cond else 0.0,
                "demand_days": desks["days"],
                "max_peak": desks["max_peak"],
                "desks_left": desks["left"],
                "usable": desks["left"] * (1 - margin),
                "headroom": desks["left"] * (1 - margin) - desks["max_peak"],
                "days_over": desks["days_over"],
                "fits": desks["fits"],
                "room_peak_max": rooms["max_peak"],
                "rooms_left": rooms["left"],
                "rooms_fit": rooms["fits"],
                "service_points": points,
                "saving_kwh_year": kwh,
                "saving_kg_co2_year": kwh * site.energy.emission_g_per_kwh / 1000.0,
                "recommended": desks["fits"]
                and rooms["fits"]
                and points == 0
                and desks["left"] > 0,
                "other_floors": ",".join(
                    f.id for f in site.floors if f.id != floor and counts["desks"].get(f.id, 0)
                ),
                "text": "",
            }
        )
    table = pd.DataFrame(rows, columns=list(CLOSING_COLUMNS))
    if table.empty:
        return table
    table["text"] = [
        closing_text(site, {str(k): v for k, v in r.items()}, margin)
        for r in table.to_dict(orient="records")
    ]
    return table.sort_values(
        ["recommended", "saving_kwh_year", "floor"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def _left(counts: dict[str, int], floor: str) -> int:
    return sum(counts.values()) - counts.get(floor, 0)


def _fit(
    peaks: pd.DataFrame,
    counts: dict[str, int],
    floor: str,
    weekday: str,
    margin: float,
    tables: dict[tuple[str, int], pd.DataFrame],
    kind: str,
) -> dict[str, Any]:
    """The what-if's fit of the weekday's daily peaks in what the other
    floors hold (no such weekday among the peaks: no demand, it fits);
    ``tables`` keeps each (kind, capacity)'s table for the other weekdays."""
    left = _left(counts, floor)
    if (kind, left) not in tables:
        tables[(kind, left)] = fit_by_day_type(peaks=peaks, capacity=left, margin=margin)
    fit = tables[(kind, left)]
    mine = fit[fit["day_type"] == weekday]
    if not len(mine):
        return {"left": left, "days": 0, "max_peak": 0.0, "days_over": 0, "fits": True}
    row = mine.iloc[0]
    return {
        "left": left,
        "days": int(row["days"]),
        "max_peak": float(row["max_peak"]),
        "days_over": int(row["days_over"]),
        "fits": bool(row["fits"]),
    }


def _counts(site: Site, types: set[SpaceType] | frozenset[SpaceType]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in site.spaces:
        if s.type in types:
            f = site.floor_of(s.id).id
            out[f] = out.get(f, 0) + 1
    return out


def closing_text(site: Site, row: Mapping[str, Any], margin: float) -> str:
    """The recommendation as a sentence (English; the UI words its own)."""
    name = site.floor(str(row["floor"])).name_in("en")
    day = DAY_NAMES[WEEKDAYS.index(str(row["weekday"]))]
    others = ", ".join(
        str(site.floor(f).name_in("en")) for f in str(row["other_floors"]).split(",") if f
    )
    share = float(row["empty_share"])
    head = f"{name} was empty {share:.0%} of its {day} conditioned hours"
    if row["service_points"]:
        return f"{head}; its customer service point keeps it open"
    if row["fits"] and not row["rooms_fit"]:
        return (
            f"{head}; its desks fit elsewhere, but the site's {day} meeting-room use (at most "
            f"{float(row['room_peak_max']):.0f} rooms) may not fit the {row['rooms_left']} "
            "rooms left; keep it open"
        )
    if not row["fits"]:
        return (
            f"{head}; the site's {day} desk peak ({float(row['max_peak']):.0f}) does not fit "
            f"the {row['desks_left']} desks of {others} with {margin:.0%} margin "
            f"on {row['days_over']} of {row['demand_days']} days; keep it open"
        )
    return (
        f"{head}; the site's {day} peak ({float(row['max_peak']):.0f} desks) fits the "
        f"{row['desks_left']} desks of {others} with {margin:.0%} margin; closing it on "
        f"{day}s saves {float(row['saving_kwh_year']):,.0f} kWh and "
        f"{float(row['saving_kg_co2_year']):,.0f} kg CO2 a year"
    )


__all__ = ["CLOSING_COLUMNS", "closing_table", "closing_text", "floor_weekdays"]
