"""What an agency key may see: the disclosure rule (docs/api.md, "Disclosure rule").

An agency key sees its own dedicated spaces and the spaces of shared zones: its
*visible spaces*. Every aggregate it is shown (a group row, a bucket, a live
count, a heatmap cell, a peak, an efficiency figure) is computed over its
visible spaces only; another agency's dedicated spaces never enter any figure
it can read. Subtracting one aggregate from another can then only ever yield
a sum over visible spaces, never a foreign one (tests/api/test_disclosure.py
proves this with a rank test over every endpoint and grouping).

On top of that, a group is shown only when its visible part is wholly the
agency's own, or has at least ``min_group`` spaces (small groups could single
a person out). Other roles see everything their role allows.

Reports apply the rule by filtering their input intervals with
``restrict_intervals`` before the metric functions run, then dropping groups
with ``restrict_rows``.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from api.auth import Principal
from core.registry import Site
from metrics import utilisation as utilisation_m
from summaries.compute import view_spaces


class AccessDenied(Exception):
    pass


def agency_spaces(site: Site, agency: str) -> set[str]:
    zones = {z.id for z in site.zones if z.agency == agency}
    return {s.id for s in site.spaces if s.zone in zones}


def visible_spaces(site: Site, principal: Principal) -> frozenset[str] | None:
    """The spaces whose data may enter a figure shown to ``principal``; None: all.

    An agency: its own dedicated spaces plus every space of a shared zone,
    never a space of a zone dedicated to another agency."""
    if principal.agency is None:
        return None
    return view_spaces(site, principal.agency)


def restrict_intervals(iv: pd.DataFrame, site: Site, principal: Principal) -> pd.DataFrame:
    """The input of every report an agency key reads: only its visible spaces."""
    visible = visible_spaces(site, principal)
    if visible is None:
        return iv
    return iv[iv["space"].isin(visible)]


def group_members(
    site: Site, by: str, principal: Principal, space_type: str | None = None
) -> dict[str, frozenset[str]]:
    """Group label -> the visible spaces it aggregates (every group of kind ``by``;
    only spaces of ``space_type`` when given, as a typed peak report counts)."""
    visible = visible_spaces(site, principal)
    out: dict[str, set[str]] = {}
    for space, group in utilisation_m.group_of(site=site, by=by).items():  # type: ignore[arg-type]
        if space_type is not None and site.space(space).type.value != space_type:
            continue
        if visible is None or space in visible:
            out.setdefault(group, set()).add(space)
    return {g: frozenset(m) for g, m in out.items()}


def group_shown(
    site: Site,
    principal: Principal,
    *,
    by: str,
    group: str,
    members: Collection[str],
    min_group: int,
) -> bool:
    """Whether an aggregate over ``members`` (the visible spaces of ``group``) may be shown."""
    agency = principal.agency
    if agency is None:
        return True
    if not members:
        return False
    if by == "agency":
        return group == agency
    own = agency_spaces(site, agency)
    if set(members) <= own:
        return True  # wholly its own: nothing of anyone else in it
    return by != "space" and len(members) >= min_group


def restrict_rows(
    frame: pd.DataFrame,
    *,
    by: str,
    principal: Principal,
    site: Site,
    min_group: int,
    space_type: str | None = None,
) -> pd.DataFrame:
    """The rows of a grouped report (computed over visible spaces) an agency may see.

    Keeps the groups ``group_shown`` allows and makes a ``spaces`` column
    count the visible spaces the row aggregates, not the registry's group."""
    if principal.agency is None or frame.empty:
        return frame
    members = group_members(site, by, principal, space_type)

    def shown(g: object) -> bool:
        m = members.get(str(g), frozenset())
        return group_shown(site, principal, by=by, group=str(g), members=m, min_group=min_group)

    out = frame[frame[by].map(shown).astype(bool)].copy()
    if "spaces" in out.columns and by != "space":
        out["spaces"] = out[by].map(lambda g: len(members[str(g)])).astype(int)
    return out


def check_group_filter(
    *, principal: Principal, site: Site, zone: str | None, floor: str | None, min_group: int
) -> list[str] | None:
    """Spaces a heatmap filter selects (visible ones only), or None for all of them.
    Raises AccessDenied when an agency asks for a group it may not see."""
    by, group = ("zone", zone) if zone is not None else ("floor", floor)
    if group is None:
        by, group = "site", site.id
    members = group_members(site, by, principal).get(group, frozenset())
    if principal.agency is not None:
        if by == "zone" and site.zone(group).agency not in (None, principal.agency):
            raise AccessDenied("an agency key sees only its own agency's zones")
        if not group_shown(
            site, principal, by=by, group=group, members=members, min_group=min_group
        ):
            raise AccessDenied("this group is too small for an agency to see")
    if by == "site" and principal.agency is None:
        return None
    return sorted(members)


#: Efficiency columns that come from occupancy; the rest come from the registry.
_SITE_OCCUPANCY_COLUMNS = (
    "peak_desks",
    "p90_peak_desks",
    "use_rate",
    "utilisation",
    "coverage",
    "releasable_desks",
    "releasable_m2",
    "m2_per_htv_after",
    "peak_presence_mean",
    "peak_presence_p90",
    "peak_presence_max",
    "use_rate_mean",
    "use_rate_p90",
    "use_rate_max",
    "desks_needed",
)


def area_weights(site: Site, principal: Principal) -> dict[str, float] | None:
    """How an agency key's efficiency report splits the shared area: by headcount.

    The default split is by every agency's use, so the agency's own area would
    disclose the other agencies' total use; headcount is registry data."""
    if principal.agency is None:
        return None
    return {a.id: a.headcount_htv for a in site.agencies}


def restrict_efficiency(
    frame: pd.DataFrame, principal: Principal, *, total: str = "_site"
) -> pd.DataFrame:
    """An agency key sees its own row and the ``_site`` row's registry figures only:
    the site's occupancy figures would include other agencies' dedicated desks
    (its visible site figures are in ``/utilisation?by=site`` and ``/peaks``).
    ``total``: the label of the total row (the portfolio's is ``_portfolio``)."""
    if principal.agency is None:
        return frame
    out = frame[frame["agency"].isin([principal.agency, total])].copy()
    site_row = out["agency"] == total
    for col in _SITE_OCCUPANCY_COLUMNS:
        out[col] = out[col].astype(object)  # keeps the own row's integers integers
        out.loc[site_row, col] = None
    return out


def visible_group(
    *, site: Site, principal: Principal, by: str, group: str, size: int, min_group: int
) -> bool:
    """Whether a live aggregate over the visible spaces of ``group`` may be shown
    (``size``: how many visible spaces it counts)."""
    members = group_members(site, by, principal).get(group, frozenset())
    return len(members) == size and group_shown(
        site, principal, by=by, group=group, members=members, min_group=min_group
    )
