"""The portfolio's efficiency of many sites in one pass (docs/api.md,
"Portfolio reports"): ``api.portfolio._site_efficiency`` of every site wholly
in current summaries, from one read of all the sites' group rows and
presence pairs each, checked against all their commits at once
(``summaries.many_sites``), the figures of all of them from frames with a
site column (``metrics.efficiency_sites``). The frames are those of each
site alone; a site with a day not wholly in summaries is left to its own
read (``api.portfolio._per_site`` computes it).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from api import access
from api.auth import Principal
from core.registry import Site
from metrics import portfolio as pf
from metrics.efficiency import SITE_ROW
from metrics.efficiency_sites import efficiency_of_sites, group_totals
from summaries.compute import ALL
from summaries.groups import stored_view, visible_groups
from summaries.many_sites import (
    checked_rows,
    group_rows_expected,
    presence_rows_expected,
    whole_sites,
)
from summaries.presence import PRESENCE
from summaries.reader import PeriodData
from summaries.schema import GROUPS

#: the results of the sites it can compute at once, by site id
AtOnce = Callable[[list[tuple[Site, PeriodData]]], dict[str, Any]]


#: the one pass's reads side by side (SQLite steps without the GIL): a few
#: threads for the process, each with its own store connection
_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portfolio-read")
#: the fields of the group rows and presence pairs the efficiency reads
_GROUP_FIELDS = (*pf.NS_SUMS, "desk_peak")
_PAIR_FIELDS = ("a", "p", "use_ns")


def efficiency_at_once(principal: Principal, margin: float) -> AtOnce:
    """``_site_efficiency`` of many sites in one pass: their group rows and
    presence pairs in one read each, checked against all their commits at
    once (``summaries.many_sites``), the figures of all of them from those
    frames (``metrics.efficiency_sites``); the same frames. A site with a day
    not wholly in summaries is left out (``_site_efficiency`` reads it)."""
    view = principal.agency or ALL
    site_view = stored_view("site", view)
    kinds = (
        ("agency", ALL, f"groups agency {ALL}"),
        ("site", site_view, f"groups site {site_view}"),
    )

    def at_once(todo: list[tuple[Site, PeriodData]]) -> dict[str, pd.DataFrame]:
        datas = [data for _, data in todo]
        jobs = [
            _READS.submit(
                checked_rows, datas, GROUPS, where={"level": level, "view": stored},
                expected=group_rows_expected(level, stored), fields=_GROUP_FIELDS,
            )
            for level, stored, _ in kinds
        ]  # fmt: skip
        pairs = checked_rows(
            datas, PRESENCE, where=None, expected=presence_rows_expected, fields=_PAIR_FIELDS
        )
        reads = [(job.result(), kind) for job, (_, _, kind) in zip(jobs, kinds, strict=True)]
        whole = whole_sites(datas, [*reads, (pairs, "presence")])
        if not whole:
            return {}
        sites = [todo[i][0] for i in whole]
        agency_rows, site_rows = (
            _visible_rows(c.rows, datas, whole, level=level, view=view)
            for (c, _), (level, _, _) in zip(reads, kinds, strict=True)
        )
        by_agency = group_totals(agency_rows, by="agency")
        by_site = group_totals(site_rows, by="agency")
        peaks = site_rows[site_rows["desk_peak"].to_numpy(dtype=np.int64) >= 0]
        presence = pairs.rows[np.isin(pairs.rows["index"].to_numpy(), whole)]
        frames = efficiency_of_sites(
            use=pf.time_figures(by_agency, keys=["site", "agency"]),
            total=pf.time_figures(by_site, keys=["site"]),
            pairs=presence,
            site_desk_peaks=peaks.rename(columns={"desk_peak": "peak"}),
            sites=sites,
            shared_use_s={s.id: access.area_weights(s, principal) for s in sites},
            margin=margin,
        )
        sums = _sums_of_sites(by_agency, by_site)
        return {s.id: with_sums(frames[s.id], sums.get(s.id, {})) for s in sites}

    return at_once


def _visible_rows(
    rows: pd.DataFrame, datas: list[PeriodData], whole: list[int], *, level: str, view: str
) -> pd.DataFrame:
    """The group rows (``checked_rows``) of the ``whole`` sites' groups that
    ``view`` may see, as ``PeriodData.group_days`` keeps them."""
    if not len(rows):
        return rows.assign(group=[], day=[], desk_peak=[])
    code, labels = pd.factorize(rows["group"].astype(str))
    position = {g: j for j, g in enumerate(labels)}
    allowed = np.zeros((len(datas), len(labels)), bool)
    for i in whole:
        for g in visible_groups(datas[i].site, level=level, view=view):
            if g in position:
                allowed[i, position[g]] = True
    return rows[allowed[rows["index"].to_numpy(), code]]


def _sums_of_sites(
    by_agency: pd.DataFrame, by_site: pd.DataFrame
) -> dict[str, dict[str, tuple[int, ...]]]:
    """Per site, ``_with_sums``' sums: its agencies' and its own (``_site``)."""
    out: dict[str, dict[str, tuple[int, ...]]] = {}
    for site, agency, sums in zip(
        by_agency["site"].tolist(), by_agency["agency"].tolist(), sum_tuples(by_agency),
        strict=True,
    ):  # fmt: skip
        out.setdefault(site, {})[agency] = sums
    for site, sums in zip(by_site["site"].tolist(), sum_tuples(by_site), strict=True):
        out.setdefault(site, {})[SITE_ROW] = sums
    return out


def sum_tuples(frame: pd.DataFrame) -> list[tuple[int, ...]]:
    return list(zip(*(frame[c].tolist() for c in pf.NS_SUMS), strict=True))


def with_sums(frame: pd.DataFrame, sums: dict[str, tuple[int, ...]]) -> pd.DataFrame:
    """``frame`` with the nanosecond sums of each row's spaces (``NS_SUMS``),
    given by row label (``_site``: the site's); 0 for a label without."""
    rows = frame["agency"].tolist()
    none = (0,) * len(pf.NS_SUMS)
    for j, c in enumerate(pf.NS_SUMS):
        frame[c] = np.array([sums.get(a, none)[j] for a in rows], dtype=np.int64)
    return frame


__all__ = ["AtOnce", "efficiency_at_once", "sum_tuples", "with_sums"]
