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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from charging.bookings import Booking
from core.registry import Site, Space, SpaceType
from metrics.cells import day_cells, hour_cells
from metrics.peaks import daily_peaks, p90
from metrics.presence import (
    DEFAULT_MARGIN,
    daily_peaks_of,
    desks_needed,
    pool_shares,
    presence_pairs,
)
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
    # agency presence (metrics.presence, docs/metrics.md "Agency presence and use rate")
    "open_days",
    "pool_share",
    "desks_held",
    "peak_presence_mean",
    "peak_presence_p90",
    "peak_presence_max",
    "use_rate_mean",
    "use_rate_p90",
    "use_rate_max",
    "desks_needed",
)


def _floats(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in frame[column].items()}


def efficiency_report(
    *,
    intervals: pd.DataFrame,
    site: Site,
    bookings: Sequence[Booking] = (),
    shared_use_s: Mapping[str, float] | None = None,
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    """``efficiency_from`` of clipped intervals (``clip_to_opening``) and the
    site's bookings of the period."""
    cells = day_cells(cells=hour_cells(intervals=intervals, site=site), site=site)
    return efficiency_from(
        cells=cells,
        presence=presence_pairs(intervals=intervals, bookings=bookings, site=site),
        site_desk_peaks=daily_peaks(
            intervals=intervals, site=site, by="site", space_types={"desk"}
        ),
        site=site,
        shared_use_s=shared_use_s,
        margin=margin,
    )


def efficiency_from(
    *,
    cells: pd.DataFrame,
    presence: pd.DataFrame,
    site_desk_peaks: pd.DataFrame,
    site: Site,
    shared_use_s: Mapping[str, float] | None = None,
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    """One row per agency of the site (registry order) and a last row ``_site``.

    ``cells``: the day cells of the period (a month, say; ``metrics.cells``);
    ``presence``: the period's presence pairs (``metrics.presence.presence_pairs``);
    ``site_desk_peaks``: the daily peaks of desks of the site
    (``metrics.peaks.daily_peaks``); ``margin``: the right-sizing margin.
    Columns (EFFICIENCY_COLUMNS): headcount_htv; desks and desk_area_m2 (its
    dedicated desks); area_m2 (attributed, see the module text); m2_per_htv =
    area / htv against target_m2_per_htv (meets_target: at or below it);
    pool_share (its share of the unbooked shared desks) and desks_held =
    desks + pool_share x shared desks; the daily peaks of its presence over
    the open days: peak_presence_mean/_p90/_max and the use rates
    use_rate_mean/_p90/_max = those / htv (use_rate = use_rate_mean, the
    headline; peak_desks = peak_presence_max, p90_peak_desks =
    peak_presence_p90); desk_sharing_ratio = htv / desks; utilisation and
    coverage of its dedicated spaces; desks_needed = ceil(ceil(p90) x (1 +
    margin)); releasable_desks = floor(desks_held - desks_needed), not below
    0; releasable_m2 = those desks x the mean area of the desks it holds, and
    m2_per_htv_after = (area - releasable_m2) / htv.
    """
    return efficiency_of(
        use=utilisation_from_cells(cells=cells, site=site, by="agency"),
        total=utilisation_from_cells(cells=cells, site=site, by="site"),
        presence=presence,
        site_desk_peaks=site_desk_peaks,
        site=site,
        shared_use_s=shared_use_s,
        margin=margin,
    )


def _area_weights(
    site: Site, occupied_s: Mapping[str, float], shared_use_s: Mapping[str, float] | None
) -> dict[str, float]:
    agencies = [a.id for a in site.agencies]
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
    return weights


def _peak_figures(peaks: np.ndarray, htv: float) -> dict[str, float]:
    """Mean, p90 and max of the daily peaks, and as use rates (/ htv)."""
    if len(peaks) == 0:
        mean = q90 = top = float("nan")
    else:
        mean, q90, top = float(np.mean(peaks)), p90(peaks), float(np.max(peaks))
    rate = (lambda v: v / htv) if htv > 0 else (lambda v: float("nan"))
    return {
        "open_days": len(peaks),
        "peak_presence_mean": mean,
        "peak_presence_p90": q90,
        "peak_presence_max": top,
        "peak_desks": top,
        "p90_peak_desks": q90,
        "use_rate_mean": rate(mean),
        "use_rate_p90": rate(q90),
        "use_rate_max": rate(top),
    }


@dataclass(frozen=True)
class PeriodFigures:
    """What a site's efficiency rows take from its period, besides the registry.

    By agency: ``utilisation``, ``coverage`` and ``occupied_s`` of its
    dedicated spaces, its ``shares`` of the shared pool and ``peaks``, its
    daily presence peaks (open days in order); for the ``_site`` row: the
    site's ``site_utilisation`` and ``site_coverage`` and ``site_peaks``, its
    daily desk peaks on the days presence counts."""

    utilisation: Mapping[str, float]
    coverage: Mapping[str, float]
    occupied_s: Mapping[str, float]
    site_utilisation: float
    site_coverage: float
    shares: Mapping[str, Fraction]
    peaks: Mapping[str, np.ndarray]
    site_peaks: np.ndarray


def efficiency_of(
    *,
    use: pd.DataFrame,
    total: pd.DataFrame,
    presence: pd.DataFrame,
    site_desk_peaks: pd.DataFrame,
    site: Site,
    shared_use_s: Mapping[str, float] | None = None,
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    """``efficiency_from`` given the period's utilisation rows instead of its
    cells: ``use`` by agency and ``total`` by site (``utilisation_from_cells``
    columns; occupied_s, utilisation and coverage are read), so a caller that
    already has them (the portfolio) does not add the cells up again."""
    check_margin(margin)
    use = use.set_index("agency")
    shares = pool_shares(pairs=presence, site=site)
    if len(site_desk_peaks):
        mine = site_desk_peaks[site_desk_peaks["site"] == site.id]
        # the days the agencies' presence counts: days on which a desk was observed
        site_peaks = mine[mine["day"].isin(presence["day"])]["peak"].to_numpy(float)
    else:
        site_peaks = np.empty(0)
    figures = PeriodFigures(
        utilisation=_floats(use, "utilisation"),
        coverage=_floats(use, "coverage"),
        occupied_s=_floats(use, "occupied_s"),
        site_utilisation=float(total["utilisation"].sum()) if len(total) else float("nan"),
        site_coverage=float(total["coverage"].sum()) if len(total) else float("nan"),
        shares=shares,
        peaks=daily_peaks_of(pairs=presence, shares=shares),
        site_peaks=site_peaks,
    )
    rows = efficiency_rows_of(figures=figures, site=site, shared_use_s=shared_use_s, margin=margin)
    return pd.DataFrame(rows, columns=list(EFFICIENCY_COLUMNS))


def check_margin(margin: float) -> None:
    if not margin >= 0:
        raise ValueError(f"the right-sizing margin must be at least 0, not {margin!r}")


def efficiency_rows_of(
    *,
    figures: PeriodFigures,
    site: Site,
    shared_use_s: Mapping[str, float] | None,
    margin: float,
) -> list[dict[str, Any]]:
    """The rows of ``efficiency_of`` (``EFFICIENCY_COLUMNS``, as dicts) from
    the period's figures: one per agency (registry order), then ``_site``."""
    agencies = [a.id for a in site.agencies]
    zone_agency = {z.id: z.agency for z in site.zones}
    owner = {s.id: zone_agency[s.zone] for s in site.spaces}
    desks = [s for s in site.spaces if s.type is SpaceType.DESK]
    shared = [s for s in desks if owner[s.id] is None]
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

    weights = _area_weights(site, figures.occupied_s, shared_use_s)
    wsum = sum(weights.values())
    rest = max(site.area_m2 - sum(dedicated_area.values()), 0.0)
    shares, shared_area = figures.shares, sum(s.area_m2 for s in shared)

    rows: list[dict[str, Any]] = []
    for a in agencies:
        htv = site.agency(a).headcount_htv
        share = shares.get(a, Fraction(0))
        held = desk_count[a] + float(share * len(shared))
        held_area = desk_area[a] + float(share) * shared_area
        peaks = _peak_figures(figures.peaks.get(a, np.empty(0)), htv)
        need = desks_needed(peaks["peak_presence_p90"], margin)
        if not peaks["open_days"]:
            # no day measured: no evidence to release anything on
            need = math.ceil(round(held, 9))
        release = max(math.floor(round(held - need, 9)), 0)
        rows.append(
            {
                "agency": a,
                "headcount_htv": htv,
                "desks": desk_count[a],
                "desk_area_m2": desk_area[a],
                "area_m2": dedicated_area[a] + (rest * weights[a] / wsum if wsum > 0 else 0.0),
                "utilisation": figures.utilisation.get(a, float("nan")),
                "coverage": figures.coverage.get(a, float("nan")),
                "pool_share": float(share),
                "desks_held": held,
                **peaks,
                "desks_needed": need,
                "releasable_desks": release,
                "releasable_m2": release * held_area / held if held > 0 else 0.0,
            }
        )
    rows.append(_site_row(site, desks, figures, margin))
    target = site.target_m2_per_htv
    nan = float("nan")
    for r in rows:  # plain floats: the same IEEE divisions as over columns, without them
        htv, area, n_desks = float(r["headcount_htv"]), float(r["area_m2"]), r["desks"]
        r["m2_per_htv"] = area / htv if htv > 0 else nan
        r["use_rate"] = r["use_rate_mean"]
        r["desk_sharing_ratio"] = htv / float(n_desks) if n_desks > 0 else nan
        r["m2_per_htv_after"] = (area - r["releasable_m2"]) / htv if htv > 0 else nan
        r["target_m2_per_htv"] = target
        r["meets_target"] = bool(r["m2_per_htv"] <= target + 1e-9)
    return rows


def _site_row(
    site: Site, desks: list[Space], figures: PeriodFigures, margin: float
) -> dict[str, Any]:
    """The ``_site`` row: every desk, the site's daily desk peaks on the days
    presence counts (``figures.site_peaks``)."""
    site_htv = sum(a.headcount_htv for a in site.agencies)
    n_all = len(desks)
    all_desk_area = sum(s.area_m2 for s in desks)
    peaks = _peak_figures(figures.site_peaks, site_htv)
    need = desks_needed(peaks["peak_presence_p90"], margin)
    if not peaks["open_days"]:
        need = n_all  # no day measured: no evidence to release anything on
    release = max(n_all - need, 0) if n_all else 0
    return {
        "agency": SITE_ROW,
        "headcount_htv": site_htv,
        "desks": n_all,
        "desk_area_m2": all_desk_area,
        "area_m2": site.area_m2,
        "utilisation": figures.site_utilisation,
        "coverage": figures.site_coverage,
        "pool_share": float("nan"),
        "desks_held": float(n_all),
        **peaks,
        "desks_needed": need,
        "releasable_desks": release,
        "releasable_m2": release * all_desk_area / n_all if n_all else 0.0,
    }


__all__ = [
    "EFFICIENCY_COLUMNS",
    "SITE_ROW",
    "PeriodFigures",
    "check_margin",
    "efficiency_from",
    "efficiency_of",
    "efficiency_report",
    "efficiency_rows_of",
]
