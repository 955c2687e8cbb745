"""Portfolio reports: utilisation and efficiency over every site of the
registry, read from the daily summaries (docs/api.md, "Portfolio reports").

Each site is read as its own site reports read it (``PeriodData``: summaries
for closed days, raw points for the rest; an agency key's visible spaces
only) over its own local days, and reduced to a few sums per group
(``metrics.portfolio``); the sums are added up across sites and the ratios
taken once. A site's sums are kept (``_Parts``) under the generations of its
summarised days, so a second read of a closed period costs one look-up of
each site's commits, not a re-read of its summary rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from api import access
from api.auth import Principal
from api.portfolio_one_pass import AtOnce, efficiency_at_once, sum_tuples, with_sums
from api.reports import Period, resolve_period
from core.registry import Registry, Site
from metrics import portfolio as pf
from metrics.efficiency import EFFICIENCY_COLUMNS, SITE_ROW, efficiency_of
from metrics.presence import DEFAULT_MARGIN
from storage import Store
from summaries.compute import ALL
from summaries.presence import BookingSource, no_bookings
from summaries.reader import PeriodData, prefetch_group_days, prefetch_presence
from summaries.retention import read_pruned_of_sites
from summaries.schema import read_commits_and_marks
from summaries.summariser import SummaryParams

EFFICIENCY_FIGURES = EFFICIENCY_COLUMNS[1:]  # every column but ``agency``


@dataclass(frozen=True)
class Portfolio:
    """What a portfolio report reads: the store, every site and the settings."""

    store: Store
    registry: Registry
    params: SummaryParams
    min_group: int
    #: the sites' bookings, for the agency presence of days read from raw points
    bookings: BookingSource = no_bookings
    #: the right-sizing margin (``rightsizing_margin``)
    margin: float = DEFAULT_MARGIN


class _Parts:
    """Per-site results by (store, site, what, period, view, the generations of
    its days), bounded in entries. Only results made wholly of current
    summaries are kept; a rewritten or dirty day changes the key."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
            return hit

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)


_PARTS = _Parts()


def clear_cache() -> None:
    """Forget the per-site results kept so far (what a fresh process knows)."""
    with _PARTS.lock:
        _PARTS.entries.clear()


def site_periods(
    registry: Registry, *, from_: date | None, to: date | None, month: str | None
) -> dict[str, Period]:
    """Each site's period: the same local dates, in its own time zone.
    Raises ``api.reports.PeriodError``."""
    return {
        sid: resolve_period(registry.site(sid), from_=from_, to=to, month=month)
        for sid in registry.ids
    }


class _Meta:
    """Where each site's figures came from, for the report's ``meta``."""

    def __init__(self) -> None:
        self.from_summaries = 0
        self.raw: dict[str, list[str]] = {}
        self.stale: dict[str, list[str]] = {}
        self.periods: dict[str, dict[str, str]] = {}

    def add(self, site: Site, period: Period, data: PeriodData) -> None:
        m = data.meta()
        self.from_summaries += m["days_from_summaries"]
        if m["days_from_raw"]:
            self.raw[site.id] = m["days_from_raw"]
        if m["stale_days"]:
            self.stale[site.id] = m["stale_days"]
        self.periods[site.id] = {
            "timezone": site.timezone,
            "start_utc": period.start.isoformat(),
            "end_utc": period.end.isoformat(),
        }

    def out(self, periods: dict[str, Period], **extra: Any) -> dict[str, Any]:
        firsts = [p.first_day for p in periods.values()]
        lasts = [p.last_day for p in periods.values()]
        return {
            **extra,
            "sites": len(periods),
            "from": min(firsts).isoformat() if firsts else None,
            "to": (max(lasts) + timedelta(days=1)).isoformat() if lasts else None,
            "source": "summaries",
            "site_days_from_summaries": self.from_summaries,
            "days_from_raw": self.raw,
            "stale_days": self.stale,
            "periods": self.periods,
        }


def _per_site(
    pf_: Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    what: tuple[Any, ...],
    compute: Callable[[PeriodData, Site], Any],
    meta: _Meta,
    prefetch: Callable[[list[PeriodData]], None] | None = None,
    at_once: AtOnce | None = None,
) -> list[tuple[Site, Any]]:
    """``compute`` of every site's period data, or its kept result; ``prefetch``
    reads, for all the sites to compute at once, what ``compute`` will read;
    ``at_once`` computes the results of all the sites it can in one pass (by
    site id), ``compute`` those of the others."""
    sites = [pf_.registry.site(sid) for sid in periods]
    known, pruned = {}, {}
    if periods:
        span = (min(p.start for p in periods.values()), max(p.end for p in periods.values()))
        known = read_commits_and_marks(pf_.store, sites, *span)
        pruned = read_pruned_of_sites(pf_.store, sites, *span)
    todo = []
    for site in sites:
        sid, period = site.id, periods[site.id]
        data = PeriodData(
            store=pf_.store,
            site=site,
            start=period.start,
            end=period.end,
            params=pf_.params,
            visible=access.visible_spaces(site, principal),
            known=known[sid],
            pruned=pruned[sid],
        )
        gens = data.summary_key()
        if gens is None:  # some day comes from raw points: its presence needs the bookings
            data.bookings = pf_.bookings(site, period.start, period.end)
        key = (id(pf_.store), sid, site.version, what, period.start, period.end, principal.agency)
        part = _PARTS.get((*key, gens)) if gens is not None else None
        todo.append((site, data, key, gens, part))
    done: dict[str, Any] = {}
    if at_once is not None:
        done = at_once([(site, data) for site, data, _, _, part in todo if part is None])
    if prefetch is not None:
        prefetch([data for s, data, _, _, part in todo if part is None and s.id not in done])
    out = []
    for site, data, key, gens, part in todo:
        if part is None:
            part = done[site.id] if site.id in done else compute(data, site)
            if gens is not None and not data.meta()["days_from_raw"]:
                _PARTS.put((*key, gens), part)
        meta.add(site, periods[site.id], data)
        out.append((site, part))
    return out


# ---- utilisation ----------------------------------------------------------------
def utilisation(
    pf_: Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    by: pf.Level,
    bucket: pf.PortfolioBucket | None,
    agency: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows per site (each as the site's ``/utilisation?by=site`` shows it to
    ``principal``), or per agency across sites (sums of the rows its site
    reports show it, then ratios). ``sites`` counts the sites in an agency row."""
    meta = _Meta()

    def compute(data: PeriodData, site: Site) -> pd.DataFrame:
        return pf.group_sums(cells=data.day_cells(), site=site, by=by, bucket=bucket)

    parts = [
        access.restrict_rows(sums, by=by, principal=principal, site=site, min_group=pf_.min_group)
        for site, sums in _per_site(pf_, periods, principal, ("u", by, bucket), compute, meta)
    ]
    keys = [by, "bucket"] if bucket is not None else [by]
    if by == "site":
        nonempty = [p for p in parts if len(p)]
        sums = pd.concat(nonempty, ignore_index=True) if nonempty else pf.add_up([], keys=keys)
        frame = pf.utilisation_figures(sums, keys=keys).drop(columns="sites", errors="ignore")
    else:
        frame = pf.utilisation_figures(pf.add_up(parts, keys=keys), keys=keys)
        if agency is not None:
            frame = frame[frame["agency"] == agency].reset_index(drop=True)
    return frame, meta.out(periods, by=by, bucket=bucket)


# ---- efficiency -----------------------------------------------------------------
def _site_efficiency(
    data: PeriodData, site: Site, principal: Principal, margin: float = DEFAULT_MARGIN
) -> pd.DataFrame:
    """The site's ``/efficiency`` rows for ``principal`` before its restriction,
    with the nanosecond sums of each row's spaces (for the portfolio's ratios).
    Read from the per-group daily rows (``PeriodData.group_days``): a few rows
    per site-day, the same integers as the day cells add up to."""
    view = principal.agency or ALL
    return site_efficiency_from(
        agency_days=data.group_days(level="agency", view=view),
        site_days=data.group_days(level="site", view=view),
        presence=data.presence_pairs(),
        site=site,
        principal=principal,
        margin=margin,
    )


def site_efficiency_from(
    *,
    agency_days: pd.DataFrame,
    site_days: pd.DataFrame,
    presence: pd.DataFrame,
    site: Site,
    principal: Principal,
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    """``_site_efficiency`` of the period's inputs: its per-group daily rows
    by agency and by site (``PeriodData.group_days``) and its presence pairs.
    Nothing else of the period is read, so the inputs of some of its days
    (a month, ``api.portfolio_trend``) give the report of those days."""
    by_agency = pf.group_day_totals(agency_days, by="agency")
    whole = pf.group_day_totals(site_days, by="site")
    frame = efficiency_of(
        use=pf.time_figures(by_agency, keys=["agency"]),
        total=pf.time_figures(whole, keys=["site"]),
        presence=presence,
        site_desk_peaks=_desk_peaks(site_days, "site"),
        site=site,
        shared_use_s=access.area_weights(site, principal),
        margin=margin,
    )
    sums = dict(zip(by_agency["agency"].tolist(), sum_tuples(by_agency), strict=True))
    sums.update(zip([SITE_ROW] * len(whole), sum_tuples(whole), strict=True))  # one row or none
    return with_sums(frame, sums)


def _desk_peaks(days: pd.DataFrame, by: str) -> pd.DataFrame:
    """Daily desk peaks (``metrics.peaks.daily_peaks`` columns efficiency reads)."""
    peak = days["desk_peak"].to_numpy(dtype=np.int64)
    has = peak >= 0
    return pd.DataFrame(
        {
            by: days["group"].to_numpy(dtype=object)[has],
            "day": days["day"].to_numpy(dtype="datetime64[ns]")[has],
            "peak": peak[has],
        }
    )


def efficiency_prefetch(principal: Principal) -> Callable[[list[PeriodData]], None]:
    """What the efficiency of many sites reads, read for all of them at once:
    the group rows by agency and by site in ``principal``'s view, and the
    presence pairs."""
    view = principal.agency or ALL

    def prefetch(datas: list[PeriodData]) -> None:
        for level in ("agency", "site"):
            prefetch_group_days(datas, level=level, view=view)
        prefetch_presence(datas)

    return prefetch


def efficiency(
    pf_: Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    by: pf.Level,
    agency: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``by=site``: each site's ``_site`` row as its ``/efficiency`` shows it to
    ``principal``; ``by=agency``: each agency's rows of every site that lists
    it, combined (``metrics.portfolio.combine_efficiency``). Both end with the
    ``_portfolio`` row, the sites' ``_site`` rows combined; an agency key sees
    its registry figures only, as it sees a ``_site`` row."""
    meta = _Meta()
    parts = _per_site(
        pf_,
        periods,
        principal,
        ("e",),
        lambda data, site: _site_efficiency(data, site, principal, pf_.margin),
        meta,
        efficiency_prefetch(principal),
        efficiency_at_once(principal, pf_.margin),
    )
    return efficiency_rows(parts, principal, by=by, agency=agency), meta.out(periods, by=by)


def efficiency_rows(
    parts: list[tuple[Site, pd.DataFrame]],
    principal: Principal,
    *,
    by: pf.Level,
    agency: str | None = None,
) -> pd.DataFrame:
    """The rows of ``efficiency`` from each site's ``_site_efficiency`` rows."""
    if not parts:
        return pd.DataFrame(columns=[by, *EFFICIENCY_FIGURES])
    rows = pd.concat([p for _, p in parts], ignore_index=True)
    total = _combined(rows, SITE_ROW, pf.PORTFOLIO_ROW)
    if by == "site":
        shown = [
            _site_row(access.restrict_efficiency(p[list(EFFICIENCY_COLUMNS)], principal), site)
            for site, p in parts
        ]
        last = access.restrict_efficiency(total, principal, total=pf.PORTFOLIO_ROW)
        frame = pd.concat([*shown, last.drop(columns="sites")], ignore_index=True)
        return frame.rename(columns={"agency": "site"})
    agencies = sorted({a.id for site, _ in parts for a in site.agencies})
    frame = pd.concat([*(_combined(rows, a, a) for a in agencies), total], ignore_index=True)
    frame = access.restrict_efficiency(frame, principal, total=pf.PORTFOLIO_ROW)
    if agency is not None:
        frame = frame[frame["agency"] == agency]
    return frame.reset_index(drop=True)


def _site_row(frame: pd.DataFrame, site: Site) -> pd.DataFrame:
    return frame[frame["agency"] == SITE_ROW].assign(agency=site.id)


def _combined(rows: pd.DataFrame, agency: str, label: str) -> pd.DataFrame:
    """The rows of ``agency`` (of every site) combined into one labelled ``label``."""
    chosen = rows[rows["agency"] == agency]
    return pd.DataFrame(
        [{"agency": label, **pf.combine_efficiency(chosen)}],
        columns=["agency", "sites", *EFFICIENCY_FIGURES],
    )
