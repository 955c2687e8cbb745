"""Forecast of an agency's daily peak of presence (docs/metrics.md, "Forecast of
agency presence"): the figure the agency's use rate and right-sizing are made
of (``metrics.presence``), forecast by ``metrics.forecast`` unchanged (weekday
level, trend, split-conformal interval).

The history's daily peaks take the pool share of the history period, as the
use rate of a period takes that period's share. A forecast is clipped to
[0, the desks the agency's presence can count]: its dedicated desks and every
shared desk (a booking can make any shared desk its own).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import pandas as pd

from core.registry import Site, SpaceType
from metrics.forecast import Params, forecast_peaks
from metrics.presence import daily_presence, pool_shares


def presence_desks(site: Site, agency: str) -> int:
    """The most desks the agency's presence can count at once: its own zones'
    desks and the shared zones' desks."""
    zones = {z.id: z.agency for z in site.zones}
    return sum(
        1 for s in site.spaces if s.type is SpaceType.DESK and zones.get(s.zone) in (agency, None)
    )


def presence_history(*, pairs: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Per agency and day of ``pairs`` (the days a desk was observed): the
    daily peak of presence with the pairs' period pool share, and ``spaces``
    = ``presence_desks``, the rows ``forecast_peaks`` reads (by="agency")."""
    daily = daily_presence(pairs=pairs, shares=pool_shares(pairs=pairs, site=site))
    cap = {a.id: presence_desks(site, a.id) for a in site.agencies}
    return pd.DataFrame(
        {
            "agency": daily["agency"].to_numpy(dtype=object),
            "day": daily["day"].to_numpy(dtype="datetime64[ns]"),
            "spaces": daily["agency"].map(cap).to_numpy(dtype=int),
            "peak": daily["peak"].to_numpy(dtype=float),
        }
    )


def forecast_presence(
    *,
    pairs: pd.DataFrame,
    site: Site,
    start: date,
    days: int,
    agencies: Collection[str] | None = None,
    params: Params | None = None,
) -> pd.DataFrame:
    """Forecast rows (agency, ``metrics.forecast.COLUMNS``) of the daily peak
    of presence of every agency (or of ``agencies``) for the open days in
    [start, start + days), from the presence ``pairs`` of the days before
    ``start`` (later ones are not used, for the pool share either). The pool
    share is of all the agencies' pairs, whichever are forecast."""
    before = pairs[pairs["day"] < pd.Timestamp(start)]
    history = presence_history(pairs=before, site=site)
    if agencies is not None:
        history = history[history["agency"].isin(list(agencies))]
    return forecast_peaks(
        daily=history,
        site=site,
        by="agency",
        start=start,
        days=days,
        params=params,
    )
