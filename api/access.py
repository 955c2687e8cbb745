"""What an agency key may see (DESIGN.md, "Security and privacy").

An agency sees its own agency's figures: its dedicated zones and their spaces,
its own agency row and statement. Beyond that only aggregates over groups of
at least ``min_group`` spaces that are not another agency's dedicated zones
(those would be another agency's internals, and small groups could single a
person out). Other roles see everything their role allows.
"""

from __future__ import annotations

import pandas as pd

from api.auth import Principal
from core.registry import Site
from metrics import utilisation as utilisation_m


class AccessDenied(Exception):
    pass


def agency_spaces(site: Site, agency: str) -> set[str]:
    zones = {z.id for z in site.zones if z.agency == agency}
    return {s.id for s in site.spaces if s.zone in zones}


def restrict_rows(
    frame: pd.DataFrame, *, by: str, principal: Principal, site: Site, min_group: int
) -> pd.DataFrame:
    """What an agency key may see of a grouped report.

    Its own dedicated spaces and zones, its own agency row, and other groups
    only as aggregates over at least ``min_group`` spaces that are not another
    agency's dedicated zones (those would be another agency's internals).
    """
    agency = principal.agency
    if agency is None or frame.empty:
        return frame
    own = agency_spaces(site, agency)
    if by == "space":
        return frame[frame["space"].isin(own)]
    if by == "agency":
        return frame[frame["agency"] == agency]
    if by == "zone":
        zone_agency = {z.id: z.agency for z in site.zones}
        size = _group_sizes(site, "zone")
        keep = frame["zone"].map(
            lambda z: (
                zone_agency.get(z) == agency
                or (zone_agency.get(z) is None and size.get(z, 0) >= min_group)
            )
        )
        return frame[keep.astype(bool)]
    size = _group_sizes(site, by)
    return frame[frame[by].map(lambda g: size.get(g, 0) >= min_group).astype(bool)]


def _group_sizes(site: Site, by: str) -> dict[str, int]:
    groups = utilisation_m.group_of(site=site, by=by)  # type: ignore[arg-type]
    sizes: dict[str, int] = {}
    for g in groups.values():
        sizes[g] = sizes.get(g, 0) + 1
    return sizes


def check_group_filter(
    *, principal: Principal, site: Site, zone: str | None, floor: str | None, min_group: int
) -> list[str] | None:
    """Spaces a heatmap or peak filter selects, or None for the whole site.
    Raises AccessDenied when an agency asks for a group it may not see."""
    spaces = None
    if zone is not None:
        spaces = [s.id for s in site.spaces if s.zone == zone]
    elif floor is not None:
        zones = {z.id for z in site.zones if z.floor == floor}
        spaces = [s.id for s in site.spaces if s.zone in zones]
    if principal.agency is not None:
        chosen = set(spaces) if spaces is not None else {s.id for s in site.spaces}
        own = agency_spaces(site, principal.agency)
        others = {
            s.id for s in site.spaces if site.zone(s.zone).agency not in (None, principal.agency)
        }
        if zone is not None and site.zone(zone).agency not in (None, principal.agency):
            raise AccessDenied("an agency key sees only its own agency's zones")
        if not chosen <= own and len(chosen - others) < min_group:
            raise AccessDenied("this group is too small for an agency to see")
        if spaces is not None and not chosen <= own:
            spaces = sorted(chosen - others)
    return spaces


def visible_group(
    *, site: Site, principal: Principal, by: str, group: str, size: int, min_group: int
) -> bool:
    """Whether an aggregate over ``group`` (of ``size`` spaces) may be shown."""
    agency = principal.agency
    if agency is None:
        return True
    if by == "zone":
        owner = site.zone(group).agency
        return owner == agency or (owner is None and size >= min_group)
    if by == "agency":
        return group == agency
    return size >= min_group
