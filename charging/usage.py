"""Per space, a month's measured use: opening, observed and occupied hours,
split by basis (dedicated zone, booking, shared pool), and the no-shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction

import pandas as pd

from charging.attribution import BOOKING, DEDICATED, NO_SHOW, UNVERIFIED, opening_ns, to_ns
from charging.bookings import Booking
from charging.results import NoShowRecord, SpaceUse
from charging.tariff import SitePricing, WeightBasis
from core.registry import Site

NS_PER_HOUR = 3_600_000_000_000


def _weight(site: Site, pricing: SitePricing, space_id: str) -> Fraction:
    space = site.space(space_id)
    factor = Fraction(pricing.weight_of(space.type))
    if pricing.weight_basis is WeightBasis.AREA_M2:
        return Fraction(str(space.area_m2)) * factor
    return factor


def space_uses(
    site: Site,
    pricing: SitePricing,
    clipped: pd.DataFrame,
    attributed: pd.DataFrame,
    open_ns: int,
    no_show_h: Mapping[str, Mapping[str, Fraction]],
) -> dict[str, SpaceUse]:
    dur = to_ns(clipped["end"]) - to_ns(clipped["start"]) if len(clipped) else []
    observed: dict[str, int] = defaultdict(int)
    for space, state, d in zip(clipped["space"], clipped["state"], dur, strict=True):
        if state != "unknown":
            observed[space] += int(d)
    a_dur = to_ns(attributed["end"]) - to_ns(attributed["start"]) if len(attributed) else []
    ded: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    bkd: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    pool: dict[str, int] = defaultdict(int)
    for space, agency, basis, d in zip(
        attributed["space"], attributed["agency"], attributed["basis"], a_dur, strict=True
    ):
        if basis == DEDICATED:
            ded[space][agency] += int(d)
        elif basis == BOOKING:
            bkd[space][agency] += int(d)
        else:
            pool[space] += int(d)
    out = {}
    for space in sorted(site.spaces, key=lambda s: s.id):
        sid = space.id
        dedicated = {a: Fraction(v, NS_PER_HOUR) for a, v in sorted(ded[sid].items())}
        booked = {a: Fraction(v, NS_PER_HOUR) for a, v in sorted(bkd[sid].items())}
        pool_h = Fraction(pool[sid], NS_PER_HOUR)
        out[sid] = SpaceUse(
            space=sid,
            space_type=space.type.value,
            zone=space.zone,
            dedicated_to=site.zone(space.zone).agency,
            weight=_weight(site, pricing, sid),
            opening_h=Fraction(open_ns, NS_PER_HOUR),
            observed_h=Fraction(observed[sid], NS_PER_HOUR),
            occupied_h=sum(dedicated.values(), Fraction(0))
            + sum(booked.values(), Fraction(0))
            + pool_h,
            dedicated_h=dedicated,
            booked_h=booked,
            pool_h=pool_h,
            no_show_h={a: h for a, h in sorted(no_show_h.get(sid, {}).items()) if h},
        )
    return out


def no_show_records(
    site: Site,
    pricing: SitePricing,
    statuses: pd.DataFrame,
    bookings: Sequence[Booking],
    attributed: pd.DataFrame,
    start: datetime,
    end: datetime,
) -> list[NoShowRecord]:
    by_id = {b.id: b for b in bookings}
    used: dict[str, int] = defaultdict(int)
    if len(attributed):
        a_dur = to_ns(attributed["end"]) - to_ns(attributed["start"])
        for bid, d in zip(attributed["booking_id"], a_dur, strict=True):
            if bid is not None:
                used[bid] += int(d)
    out = []
    for bid, status in zip(statuses["booking_id"], statuses["status"], strict=True):
        if status not in (NO_SHOW, UNVERIFIED):
            continue
        b = by_id[bid]
        lo, hi = max(b.start, start), min(b.end, end)
        booked_ns = opening_ns(site=site, start=lo, end=hi) if lo < hi else 0
        charged = Fraction(0)
        dedicated = site.zone(site.space(b.space).zone).agency is not None
        if status == NO_SHOW and pricing.no_show.charge_booked_hours and not dedicated:
            # occupied time later in the booking is already charged as booked use
            charged = Fraction(max(booked_ns - used[bid], 0), NS_PER_HOUR)
        out.append(
            NoShowRecord(
                booking_id=bid,
                agency=b.agency,
                space=b.space,
                start=b.start,
                end=b.end,
                status=status,
                booked_h=Fraction(booked_ns, NS_PER_HOUR),
                charged_h=charged,
            )
        )
    return out


def charged_hours(no_shows: Sequence[NoShowRecord]) -> dict[str, dict[str, Fraction]]:
    """Space -> agency -> no-show hours charged."""
    charged: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for ns in no_shows:
        if ns.charged_h:
            charged[ns.space][ns.agency] += ns.charged_h
    return charged
