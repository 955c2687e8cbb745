"""The energy report of a site (docs/api.md, "Energy of empty conditioned
space"; definitions in docs/metrics.md): plain functions the routes, the
exports and the agency report call.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from api.reports import Period, period_data
from core.registry import ROOM_TYPES, Site
from metrics import energy as energy_m
from metrics.energy_closing import closing_table
from storage import Store
from summaries.compute import ALL
from summaries.energy import read_energy_hours
from summaries.reader import PeriodData, Source

#: The published figures the defaults of ``core.registry.EnergySettings`` come
#: from (docs/metrics.md, "Energy of empty conditioned space": assumptions).
DEFAULT_SOURCES = {
    "intensity_kwh_per_m2_h": (
        "assumption: 240 kWh/m² a year (office buildings, all energy: Statistics Norway, "
        "'Energy use by type of building', table 'Office building', a Nordic-climate stock "
        "figure) over 2,750 conditioned hours a year (11 h x 250 working days) = 0.087 "
        "kWh/m²h; replace it with the building's own metered figure"
    ),
    "emission_g_per_kwh": (
        "assumption: 0.6 x 182 g/kWh (district heat) + 0.4 x 74 g/kWh (electricity), Helen "
        "Oy's specific CO2 emissions of energy sold in 2021 = 139 g/kWh; the 60/40 split of "
        "heat and electricity is itself assumed"
    ),
}


def assumptions(site: Site) -> dict[str, Any]:
    """The site's intensity and emission factor, and whether they are the defaults."""
    defaults = type(site.energy)()
    out: dict[str, Any] = {}
    for key in ("intensity_kwh_per_m2_h", "emission_g_per_kwh"):
        value = getattr(site.energy, key)
        out[key] = value
        out[f"{key}_source"] = (
            DEFAULT_SOURCES[key] if value == getattr(defaults, key) else "the site file"
        )
    return out


def energy_report(
    data: PeriodData, site: Site, *, by: energy_m.By, bucket: energy_m.Bucket
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table of ``GET /v1/sites/{site}/energy`` and where its hours came from."""
    hours, meta = read_energy_hours(data)
    table = energy_m.energy_table(hours=hours, site=site, by=by, bucket=bucket)
    return table, {**meta, "assumptions": assumptions(site)}


def room_peaks(data: PeriodData, site: Site) -> pd.DataFrame:
    """Per open day, the sum of the site's daily peaks of each room type (an
    upper bound of the rooms in use at once): columns day, peak."""
    types = sorted({s.type.value for s in site.spaces if s.type in ROOM_TYPES})
    parts = [data.daily_peaks(level="site", types=t, view=ALL)[["day", "peak"]] for t in types]
    if not parts:
        return pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"), "peak": []})
    return pd.concat(parts).groupby("day")["peak"].sum().reset_index()


def closing_report(
    data: PeriodData, site: Site, period: Period, *, margin: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per floor and weekday: empty share, the fit of the site's desk peak in
    the other floors (the what-if's "close floor" rule) and the yearly saving."""
    hours, meta = read_energy_hours(data)
    peaks = data.daily_peaks(level="site", types="desk", view=ALL)
    days = (period.last_day - period.first_day).days + 1
    table = closing_table(
        hours=hours,
        site=site,
        desk_peaks=peaks,
        room_peaks=room_peaks(data, site),
        margin=margin,
        period_days=days,
    )
    return table, {**meta, "margin": margin, "assumptions": assumptions(site)}


def energy_section(
    store: Store,
    site: Site,
    period: Period,
    *,
    silence_factor: float = 2.5,
    merge_gap_s: float = 0.0,
    margin: float = 0.1,
    source: Source = "summaries",
    raw_retention_days: int | None = None,
) -> dict[str, Any]:
    """The energy section of a report (the agency report, the site report):
    the site's empty conditioned m²h, kWh and kg CO2 over the period, by floor
    and by month, the recommended floor closings and the assumptions. Site
    aggregates only (floors), so an agency's report may show it whole."""
    data = period_data(
        store, site, period, silence_factor=silence_factor, merge_gap_s=merge_gap_s,
        source=source, raw_retention_days=raw_retention_days,
    )  # fmt: skip
    hours, meta = read_energy_hours(data)
    whole = energy_m.energy_table(hours=hours, site=site, by="floor", bucket="year")
    months = energy_m.energy_table(hours=hours, site=site, by="floor", bucket="month")
    peaks = data.daily_peaks(level="site", types="desk", view=ALL)
    days = (period.last_day - period.first_day).days + 1
    closing = closing_table(
        hours=hours,
        site=site,
        desk_peaks=peaks,
        room_peaks=room_peaks(data, site),
        margin=margin,
        period_days=days,
    )
    site_rows = months[months["level"] == "site"]
    floors = whole[whole["level"] == "floor"]
    return {
        "site": site.id,
        "period": period.meta(),
        "totals": _sum_totals(whole[whole["level"] == "site"]),
        "by_floor": floors.drop(columns=["level"]).to_dict(orient="records"),
        "by_month": site_rows.drop(columns=["level", "group"]).to_dict(orient="records"),
        "recommendations": closing[closing["recommended"]].to_dict(orient="records"),
        "assumptions": assumptions(site),
        "coverage": meta,
    }


def _sum_totals(rows: pd.DataFrame) -> dict[str, float]:
    """The period's site figures (a period across a new year has a row per year)."""
    keys = ("conditioned_m2h", "empty_m2h", "unknown_m2h", "empty_kwh", "empty_kg_co2")
    out = {k: float(rows[k].sum()) for k in keys}
    cond = out["conditioned_m2h"]
    out["empty_share"] = out["empty_m2h"] / cond if cond else 0.0
    return out


__all__ = ["DEFAULT_SOURCES", "assumptions", "closing_report", "energy_report", "energy_section"]
