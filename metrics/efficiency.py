"""Use rate (käyttöaste), space efficiency (tilatehokkuus, m²/htv), desk-sharing
ratio and a right-sizing estimate, per agency and for the whole site.

Attribution (docs/metrics.md, "Space efficiency"):

* an agency's *desks* are the desks in the zones dedicated to it; the site's
  desks are all desks (shared zones included);
* an agency's *area* is the area of the spaces in its dedicated zones plus a
  share of the rest of the site's area (``site.area_m2`` minus all dedicated
  space areas: shared zones, corridors, service areas), split by the agencies'
  shares of use: by default each agency's occupied seconds in its dedicated
  spaces, or the weights the caller passes (``shared_use_s``, e.g. the occupied
  seconds the charging attribution gives each agency, bookings included); when
  no agency used anything, by headcount (htv). The agencies' areas add up to
  the site's area.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.registry import Site, SpaceType
from metrics.cells import day_cells, hour_cells
from metrics.peaks import daily_peaks, peak_summary
from metrics.utilisation import utilisation_from_cells

#: The agency label of the whole-site row.
SITE_ROW = "_site"

EFFICIENCY_COLUMNS = (
    "agency",
    "headcount_htv",
    "desks",
    "desk_area_m2",
    "area_m2",
    "m2_per_htv",
    "target_m2_per_htv",
    "meets_target",
    "peak_desks",
    "p90_peak_desks",
    "use_rate",
    "desk_sharing_ratio",
    "utilisation",
    "coverage",
    "releasable_desks",
    "releasable_m2",
    "m2_per_htv_after",
)


def _floats(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in frame[column].items()}


def _keep_desks(p90_peak: float) -> int:
    # A fractional percentile still needs a whole desk; the rounding guards
    # against 3.0000000001 from float interpolation demanding a fourth.
    return math.ceil(round(p90_peak, 9)) if not math.isnan(p90_peak) else 0


def efficiency_report(
    *,
    intervals: pd.DataFrame,
    site: Site,
    shared_use_s: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``efficiency_from`` of clipped intervals (``clip_to_opening``)."""
    cells = day_cells(cells=hour_cells(intervals=intervals, site=site), site=site)
    return efficiency_from(
        cells=cells,
        agency_desk_peaks=daily_peaks(
            intervals=intervals, site=site, by="agency", space_types={"desk"}
        ),
        site_desk_peaks=daily_peaks(
            intervals=intervals, site=site, by="site", space_types={"desk"}
        ),
        site=site,
        shared_use_s=shared_use_s,
    )


def efficiency_from(
    *,
    cells: pd.DataFrame,
    agency_desk_peaks: pd.DataFrame,
    site_desk_peaks: pd.DataFrame,
    site: Site,
    shared_use_s: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per agency of the site (registry order) and a last row ``_site``.

    ``cells``: the day cells of the period (a month, say; ``metrics.cells``);
    ``agency_desk_peaks`` and ``site_desk_peaks``: the daily peaks of desks by
    agency and for the site (``metrics.peaks.daily_peaks``).
    Columns (EFFICIENCY_COLUMNS): headcount_htv; desks and desk_area_m2 (its
    dedicated desks); area_m2 (attributed, see the module text); m2_per_htv =
    area / htv against target_m2_per_htv (meets_target: at or below it);
    peak_desks and p90_peak_desks (daily peak concurrent desks in use: the
    maximum and the 90th percentile); use_rate = peak_desks / htv;
    desk_sharing_ratio = htv / desks; utilisation and coverage of its dedicated
    spaces; releasable_desks = desks - ceil(p90_peak_desks) (not below 0),
    releasable_m2 = those desks x the mean area of its desks, and
    m2_per_htv_after = (area - releasable_m2) / htv.
    """
    return efficiency_of(
        use=utilisation_from_cells(cells=cells, site=site, by="agency"),
        total=utilisation_from_cells(cells=cells, site=site, by="site"),
        agency_desk_peaks=agency_desk_peaks,
        site_desk_peaks=site_desk_peaks,
        site=site,
        shared_use_s=shared_use_s,
    )


def efficiency_of(
    *,
    use: pd.DataFrame,
    total: pd.DataFrame,
    agency_desk_peaks: pd.DataFrame,
    site_desk_peaks: pd.DataFrame,
    site: Site,
    shared_use_s: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``efficiency_from`` given the period's utilisation rows instead of its
    cells: ``use`` by agency and ``total`` by site (``utilisation_from_cells``
    columns; occupied_s, utilisation and coverage are read), so a caller that
    already has them (the portfolio) does not add the cells up again."""
    agencies = [a.id for a in site.agencies]
    zone_agency = {z.id: z.agency for z in site.zones}
    owner = {s.id: zone_agency[s.zone] for s in site.spaces}
    desks = [s for s in site.spaces if s.type is SpaceType.DESK]
    dedicated_area = {a: 0.0 for a in agencies}
    desk_count = {a: 0 for a in agencies}
    desk_area = {a: 0.0 for a in agencies}
    for s in site.spaces:
        agency = owner[s.id]
        if agency is not None:
            dedicated_area[agency] += s.area_m2
            if s.type is SpaceType.DESK:
                desk_count[agency] += 1
                desk_area[agency] += s.area_m2

    use = use.set_index("agency")
    occupied_s = _floats(use, "occupied_s")
    util = _floats(use, "utilisation")
    cover = _floats(use, "coverage")

    if shared_use_s is not None:
        unknown = sorted(set(shared_use_s) - set(agencies))
        if unknown:
            raise ValueError(f"shared_use_s names agencies not in the site: {', '.join(unknown)}")
        weights = {a: float(shared_use_s.get(a, 0.0)) for a in agencies}
        if any(w < 0 for w in weights.values()):
            raise ValueError("shared_use_s must not be negative")
    else:
        weights = {a: occupied_s.get(a, 0.0) for a in agencies}
    if sum(weights.values()) <= 0:
        weights = {a: site.agency(a).headcount_htv for a in agencies}
    wsum = sum(weights.values())
    rest = max(site.area_m2 - sum(dedicated_area.values()), 0.0)

    agency_peaks = peak_summary(daily=agency_desk_peaks, by="agency").set_index("agency")
    peak_of = _floats(agency_peaks, "max_peak")
    p90_of = _floats(agency_peaks, "p90_peak")
    site_peaks = peak_summary(daily=site_desk_peaks, by="site").set_index("site")

    rows = []
    for a in agencies:
        htv = site.agency(a).headcount_htv
        area = dedicated_area[a] + (rest * weights[a] / wsum if wsum > 0 else 0.0)
        peak = peak_of.get(a, 0.0)
        p90 = p90_of.get(a, 0.0)
        n = desk_count[a]
        release = max(n - _keep_desks(p90), 0) if n else 0
        release_m2 = release * desk_area[a] / n if n else 0.0
        rows.append(
            {
                "agency": a,
                "headcount_htv": htv,
                "desks": n,
                "desk_area_m2": desk_area[a],
                "area_m2": area,
                "peak_desks": peak if n else float("nan"),
                "p90_peak_desks": p90 if n else float("nan"),
                "utilisation": util.get(a, float("nan")),
                "coverage": cover.get(a, float("nan")),
                "releasable_desks": release,
                "releasable_m2": release_m2,
            }
        )
    site_htv = sum(a.headcount_htv for a in site.agencies)
    n_all = len(desks)
    all_desk_area = sum(s.area_m2 for s in desks)
    s_peak = _floats(site_peaks, "max_peak").get(site.id, 0.0)
    s_p90 = _floats(site_peaks, "p90_peak").get(site.id, 0.0)
    s_release = max(n_all - _keep_desks(s_p90), 0) if n_all else 0
    rows.append(
        {
            "agency": SITE_ROW,
            "headcount_htv": site_htv,
            "desks": n_all,
            "desk_area_m2": all_desk_area,
            "area_m2": site.area_m2,
            "peak_desks": s_peak if n_all else float("nan"),
            "p90_peak_desks": s_p90 if n_all else float("nan"),
            "utilisation": float(total["utilisation"].sum()) if len(total) else float("nan"),
            "coverage": float(total["coverage"].sum()) if len(total) else float("nan"),
            "releasable_desks": s_release,
            "releasable_m2": s_release * all_desk_area / n_all if n_all else 0.0,
        }
    )
    out = pd.DataFrame(rows)
    htv_all = out["headcount_htv"].to_numpy(dtype=float)
    area_all = out["area_m2"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["m2_per_htv"] = np.where(htv_all > 0, area_all / htv_all, np.nan)
        out["use_rate"] = np.where(htv_all > 0, out["peak_desks"] / htv_all, np.nan)
        out["desk_sharing_ratio"] = np.where(
            out["desks"] > 0, htv_all / out["desks"].to_numpy(dtype=float), np.nan
        )
        out["m2_per_htv_after"] = np.where(
            htv_all > 0, (area_all - out["releasable_m2"]) / htv_all, np.nan
        )
    out["target_m2_per_htv"] = site.target_m2_per_htv
    out["meets_target"] = out["m2_per_htv"] <= site.target_m2_per_htv + 1e-9
    return out[list(EFFICIENCY_COLUMNS)]


__all__ = [
    "EFFICIENCY_COLUMNS",
    "SITE_ROW",
    "efficiency_from",
    "efficiency_of",
    "efficiency_report",
]
