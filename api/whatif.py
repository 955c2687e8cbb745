"""Consolidation what-if over the portfolio (docs/api.md, "Consolidation
what-if"; the maths in ``metrics.whatif``).

A plan is a list of moves: ``move_agency`` (an agency's staff at one site
move to another) and ``close_floor``. For every site a move touches, its
desk and room demand after the moves is the sum, aligned in UTC time, of
the step functions of the presence that stays and the presence moved in,
measured over the period from the clipped state intervals (raw points, as
charges read them); it is set against the desks and rooms left after the
moves. An agency's presence is the occupied desks and rooms of its
dedicated zones plus, by default, its headcount share of the occupied shared
spaces (``shared="headcount_share"``; ``"left_out"`` moves dedicated use
only). Its vacated dedicated zones, and closed floors, are released.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from api.reports import Period, resolve_period
from api.whatif_cache import IntervalCache
from charging.tariff import TariffError, load_tariff_for_site
from core.calendar import local_day_bounds
from core.registry import ROOM_TYPES, Registry, Site, SpaceType
from core.yamlfile import ConfigError
from metrics import whatif as wi
from storage import Store
from summaries.raw import read_opening_intervals
from summaries.summariser import SummaryParams

#: local days of raw points read at a time
READ_DAYS = 28

KINDS = {"desks": {SpaceType.DESK}, "rooms": set(ROOM_TYPES)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoveAgency(_Strict):
    kind: Literal["move_agency"]
    agency: str = Field(description="The agency whose staff move")
    from_site: str
    to_site: str


class CloseFloor(_Strict):
    kind: Literal["close_floor"]
    site: str
    floor: str


Move = Annotated[MoveAgency | CloseFloor, Field(discriminator="kind")]


class WhatIfRequest(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: date = Field(alias="from", description="First local date of the measured period")
    to: date = Field(description="Local date after the last one")
    moves: list[Move] = Field(min_length=1, max_length=50)
    margin: float = Field(default=0.1, ge=0, lt=1, description="Headroom kept free (0.1: 10 %)")
    shared: Literal["headcount_share", "left_out"] = Field(
        default="headcount_share",
        description="How an agency's use of shared desks and rooms moves with it",
    )


class WhatIfError(ValueError):
    """A plan that names what the registry does not hold (answered 422)."""

    def __init__(self, field: str, msg: str):
        super().__init__(msg)
        self.field = field


@dataclass(frozen=True)
class Plan:
    """The moves checked against the registry."""

    moves: list[MoveAgency]
    closed: dict[str, set[str]]  # site -> floors

    @property
    def sites(self) -> list[str]:
        touched = {m.from_site for m in self.moves} | {m.to_site for m in self.moves}
        return sorted(touched | set(self.closed))


def check_plan(registry: Registry, req: WhatIfRequest) -> Plan:
    """The plan, or ``WhatIfError`` naming the first move that does not hold."""
    moves: list[MoveAgency] = []
    closed: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()
    for n, move in enumerate(req.moves):
        where = f"moves[{n}]"
        if isinstance(move, CloseFloor):
            site = _site(registry, move.site, f"{where}.site")
            if move.floor not in {f.id for f in site.floors}:
                floors = ", ".join(f.id for f in site.floors)
                raise WhatIfError(
                    f"{where}.floor", f"site {site.id!r} has no floor {move.floor!r} ({floors})"
                )
            closed.setdefault(site.id, set()).add(move.floor)
            continue
        src = _site(registry, move.from_site, f"{where}.from_site")
        _site(registry, move.to_site, f"{where}.to_site")
        if move.from_site == move.to_site:
            raise WhatIfError(f"{where}.to_site", "to_site must differ from from_site")
        if move.agency not in {a.id for a in src.agencies}:
            raise WhatIfError(
                f"{where}.agency", f"agency {move.agency!r} has no staff at site {src.id!r}"
            )
        if (move.agency, move.from_site) in seen:
            raise WhatIfError(
                f"{where}.agency", f"agency {move.agency!r} moves from {src.id!r} twice"
            )
        seen.add((move.agency, move.from_site))
        moves.append(move)
    for site_id, shut in closed.items():
        if shut == {f.id for f in registry.site(site_id).floors}:
            raise WhatIfError("moves", f"closing every floor of {site_id!r} leaves no desks")
    return Plan(moves, closed)


def _site(registry: Registry, site_id: str, field: str) -> Site:
    site = registry.get(site_id)
    if site is None:
        raise WhatIfError(field, f"no site {site_id!r} in the registry ({', '.join(registry.ids)})")
    return site


# ---- the spaces of an agency and of a site after the moves -------------------------
def _dedicated(site: Site, agency: str | None) -> list[str]:
    """Spaces of ``agency``'s dedicated zones (None: the shared zones)."""
    zones = {z.id for z in site.zones if z.agency == agency}
    return [s.id for s in site.spaces if s.zone in zones]


def _of_kind(site: Site, spaces: Iterable[str], kind: str) -> list[str]:
    return [s for s in spaces if site.space(s).type in KINDS[kind]]


def _share(site: Site, agency: str, shared: str) -> float:
    if shared == "left_out":
        return 0.0
    total = sum(a.headcount_htv for a in site.agencies)
    return site.agency(agency).headcount_htv / total if total > 0 else 0.0


def _released(site: Site, plan: Plan) -> tuple[set[str], float]:
    """The spaces the plan takes away from ``site`` and the area released:
    the vacated agencies' dedicated spaces and the closed floors (a floor's
    registry area, else its spaces' area)."""
    gone: set[str] = set()
    for m in plan.moves:
        if m.from_site == site.id:
            gone |= set(_dedicated(site, m.agency))
    area = sum(site.space(s).area_m2 for s in gone)
    for floor_id in plan.closed.get(site.id, set()):
        on_floor = {s.id for s in site.spaces if site.floor_of(s.id).id == floor_id}
        floor = site.floor(floor_id)
        fresh = on_floor - gone
        area += (
            floor.area_m2 - sum(site.space(s).area_m2 for s in on_floor & gone)
            if floor.area_m2 is not None
            else sum(site.space(s).area_m2 for s in fresh)
        )
        gone |= on_floor
    return gone, max(area, 0.0)


# ---- the answer ---------------------------------------------------------------------
def what_if(
    *,
    store: Store,
    registry: Registry,
    params: SummaryParams,
    req: WhatIfRequest,
    tariffs: Path | None,
    cache: IntervalCache | None = None,
) -> dict[str, Any]:
    """The answer of ``POST /v1/portfolio/what-if`` (raises ``WhatIfError``,
    ``api.reports.PeriodError``); ``cache`` keeps the clipped intervals of
    summarised days between calls (``api.whatif_cache``), same answer."""
    plan = check_plan(registry, req)
    periods = {
        sid: resolve_period(registry.site(sid), from_=req.from_, to=req.to, month=None)
        for sid in plan.sites
    }
    intervals = {
        sid: _read(store, registry.site(sid), periods[sid], params, cache) for sid in plan.sites
    }
    sites = [
        _site_answer(registry, registry.site(sid), plan, req, intervals, periods, tariffs)
        for sid in plan.sites
    ]
    return {
        "sites": sites,
        "meta": {
            "from": req.from_.isoformat(),
            "to": req.to.isoformat(),
            "margin": req.margin,
            "shared": req.shared,
            "shared_rule": _SHARED_RULES[req.shared],
            "source": "raw",
            "aligned": "combined peak = daily peak of the presence series summed in UTC "
            "time, not the sum of the sources' peaks",
            "periods": {sid: p.meta() for sid, p in periods.items()},
        },
    }


_SHARED_RULES = {
    "headcount_share": "an agency's presence is its dedicated desks and rooms in use plus "
    "its headcount share (htv / site htv) of the shared desks and rooms in use",
    "left_out": "an agency's presence is its dedicated desks and rooms in use only; "
    "its use of shared desks and rooms stays at the source site",
}


def _read(
    store: Store,
    site: Site,
    period: Period,
    params: SummaryParams,
    cache: IntervalCache | None = None,
) -> pd.DataFrame:
    """The period's clipped intervals (only the columns the steps use): the
    days the cache holds from it, the others from raw points."""
    if cache is None:
        return _read_raw(store, site, period, params, period.first_day, period.last_day)
    return cache.intervals(
        store=store,
        site=site,
        period=period,
        params=params,
        read=lambda first, last: _read_raw(store, site, period, params, first, last),
    )


def _read_raw(
    store: Store, site: Site, period: Period, params: SummaryParams, first: date, last: date
) -> pd.DataFrame:
    """The clipped intervals of local days first..last of ``period`` from raw
    points, read in runs of ``READ_DAYS`` local days: a year of raw points at
    once is gigabytes, its intervals are not. Each run starts from the last
    point before it, and intervals are clipped per day, so the runs join
    exactly."""
    parts = []
    day = first
    while day <= last:
        nxt = min(day + timedelta(days=READ_DAYS), last + timedelta(days=1))
        start = local_day_bounds(site, day)[0]
        end = min(local_day_bounds(site, nxt)[0], period.end)
        if start >= end:
            break
        part = read_opening_intervals(
            store=store,
            site=site,
            start=start,
            end=end,
            silence_factor=params.silence_factor,
            merge_gap_s=params.merge_gap_s,
        )
        parts.append(part[["space", "state", "start", "end"]])
        day = nxt
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _sources(
    registry: Registry,
    site: Site,
    plan: Plan,
    req: WhatIfRequest,
    intervals: dict[str, pd.DataFrame],
    kind: str,
) -> list[wi.Steps]:
    """The step functions of ``site``'s ``kind`` demand after the plan."""
    tz = site.tz
    leaving = [m.agency for m in plan.moves if m.from_site == site.id]
    stays = [s.id for s in site.spaces if s.zone not in _zones_of(site, leaving)]
    shared = set(_dedicated(site, None))
    own = intervals[site.id]
    kept = 1.0 - sum(_share(site, a, req.shared) for a in leaving)
    out = [
        wi.occupied_steps(intervals=own, spaces=_of_kind(site, set(stays) - shared, kind), tz=tz),
        wi.occupied_steps(
            intervals=own, spaces=_of_kind(site, shared, kind), tz=tz, weight=max(kept, 0.0)
        ),
    ]
    for m in plan.moves:
        if m.to_site != site.id:
            continue
        src = registry.site(m.from_site)
        moved = intervals[src.id]
        out.append(
            wi.occupied_steps(
                intervals=moved, spaces=_of_kind(src, _dedicated(src, m.agency), kind), tz=tz
            )
        )
        out.append(
            wi.occupied_steps(
                intervals=moved,
                spaces=_of_kind(src, _dedicated(src, None), kind),
                tz=tz,
                weight=_share(src, m.agency, req.shared),
            )
        )
    return out


def _zones_of(site: Site, agencies: list[str]) -> set[str]:
    return {z.id for z in site.zones if z.agency is not None and z.agency in agencies}


def _site_answer(
    registry: Registry,
    site: Site,
    plan: Plan,
    req: WhatIfRequest,
    intervals: dict[str, pd.DataFrame],
    periods: dict[str, Period],
    tariffs: Path | None,
) -> dict[str, Any]:
    gone, released_m2 = _released(site, plan)
    days = wi.days_of(intervals=intervals[site.id], tz=site.tz)
    fit: dict[str, Any] = {}
    for kind in KINDS:
        left = [s.id for s in site.spaces if s.id not in gone and s.type in KINDS[kind]]
        sources = _sources(registry, site, plan, req, intervals, kind)
        aligned = wi.summed_daily_peaks(sources=sources, days=days)
        naive = wi.sum_of_daily_peaks(sources=sources, days=days)
        table = wi.fit_by_day_type(peaks=aligned, capacity=len(left), margin=req.margin)
        overall = table[table["day_type"] == wi.ALL_DAYS].iloc[0]
        fit[kind] = {
            "capacity": len(left),
            "fits": bool(overall["fits"]),
            "max_peak": float(overall["max_peak"]),
            "sum_of_peaks_max": float(naive["peak"].max()) if len(naive) else 0.0,
            "by_day_type": _records(table),
        }
    role = (
        "target"
        if any(m.to_site == site.id for m in plan.moves) or site.id in plan.closed
        else "source"
    )
    return {
        "site": site.id,
        "role": role,
        "days": len(days),
        **fit,
        "released_m2": released_m2,
        "released_floors": sorted(plan.closed.get(site.id, set())),
        "released_spaces": len(gone),
        "cost_released": _cost_released(site, released_m2, periods[site.id], tariffs),
        "agencies": _agencies_after(registry, site, plan, released_m2, gone),
    }


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in table.to_dict(orient="records"):
        rows.append(
            {
                str(k): (None if isinstance(v, float) and np.isnan(v) else _plain(v))
                for k, v in rec.items()
            }
        )
    return rows


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _agencies_after(
    registry: Registry, site: Site, plan: Plan, released_m2: float, gone: set[str]
) -> list[dict[str, Any]]:
    """m²/htv per agency at ``site`` after the plan: its remaining dedicated
    area plus a headcount share of the rest of the site's remaining area."""
    htv: dict[str, float] = {a.id: a.headcount_htv for a in site.agencies}
    for m in plan.moves:
        if m.from_site == site.id:
            htv.pop(m.agency, None)
        if m.to_site == site.id:
            moved = registry.site(m.from_site).agency(m.agency).headcount_htv
            htv[m.agency] = htv.get(m.agency, 0.0) + moved
    area = max(site.area_m2 - released_m2, 0.0)
    dedicated = {
        a: sum(site.space(s).area_m2 for s in _dedicated(site, a) if s not in gone) for a in htv
    }
    rest = max(area - sum(dedicated.values()), 0.0)
    total = sum(htv.values())
    rows = []
    for a in sorted(htv):
        share = rest * htv[a] / total if total > 0 else 0.0
        own = dedicated[a] + share
        rows.append(
            {
                "agency": a,
                "headcount_htv": htv[a],
                "area_m2": own,
                "m2_per_htv": own / htv[a] if htv[a] > 0 else None,
            }
        )
    rows.append(
        {
            "agency": "_site",
            "headcount_htv": total,
            "area_m2": area,
            "m2_per_htv": area / total if total > 0 else None,
            "target_m2_per_htv": site.target_m2_per_htv,
        }
    )
    return rows


def _cost_released(
    site: Site, released_m2: float, period: Period, tariffs: Path | None
) -> dict[str, Any]:
    """The monthly cost the released area stops costing: the tariff's monthly
    cost to recover (the version in force in the period's last month) times
    the released share of the site's area."""
    if tariffs is None:
        return {"eur_per_month": None, "note": "no tariff is configured (OCCUPANCY_API_TARIFFS)"}
    last = period.last_day
    try:
        version, pricing = load_tariff_for_site(tariffs, site.id).pricing(
            site.id, last.year, last.month
        )
    except (TariffError, ConfigError, OSError) as exc:
        return {"eur_per_month": None, "note": f"no cost figure: {exc}"}
    if pricing.cost_to_recover_eur is None:
        return {
            "eur_per_month": None,
            "note": f"tariff version {version.version!r} prices {site.id!r} by unit "
            "prices, not a cost to recover",
        }
    cost = float(pricing.cost_to_recover_eur)
    share = released_m2 / site.area_m2 if site.area_m2 > 0 else 0.0
    return {
        "eur_per_month": round(cost * share, 2),
        "site_cost_eur_per_month": cost,
        "tariff_version": version.version,
        "note": "cost_to_recover_eur x released m² / site m²",
    }
