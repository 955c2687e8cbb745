"""Monthly charges per agency and site that add up exactly to the cost to recover.

``compute_month`` turns a month's state intervals, bookings, the tariff and the
site registry into charge lines: per agency a ``base`` line (headcount share)
and one line per space type (usage share by weighted occupied hours). All
arithmetic is exact (``fractions.Fraction`` over integer nanoseconds) until the
final rounding to cents by the largest-remainder method, so the lines of a
site and month always sum to the cost to the cent and the same inputs give the
same output, byte for byte (see docs/charging.md for the model and the audit trail).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

import pandas as pd

from charging.attribution import (
    BOOKING,
    DEDICATED,
    NO_SHOW,
    UNVERIFIED,
    attribute,
    clip_to_opening_hours,
    find_no_shows,
    opening_ns,
    to_ns,
)
from charging.bookings import Booking, check_bookings
from charging.tariff import SitePricing, Tariff, TariffVersion, WeightBasis, tariff_hash
from charging.weekly import WeekUse, weekly_weighted_hours
from core.calendar import month_bounds
from core.registry import Site, SpaceType

NS_PER_HOUR = 3_600_000_000_000
BASE_LINE = "base"
#: version of the canonical serialisation hashed into ``inputs_hash``
HASH_SCHEME = "occupancy-charges/1"

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[int, int]:
    m = _MONTH_RE.match(month)
    if not m:
        raise ValueError(f"month {month!r} is not like 2026-11")
    return int(m.group(1)), int(m.group(2))


# ---- rounding ------------------------------------------------------------------


def largest_remainder(quotas: Sequence[Fraction], total: int) -> list[int]:
    """Whole units (cents) for exact ``quotas`` that sum to ``total`` exactly.

    Every share is its quota rounded down, plus one for the shares with the
    largest fractional parts until the total is reached; ties go to the earlier
    share in the given order (callers order lines by agency id, then line), so
    the result is deterministic. Requires ``sum(quotas) == total``, quotas >= 0.
    """
    if any(q < 0 for q in quotas):
        raise ValueError("negative quota")
    if sum(quotas, Fraction(0)) != total:
        raise ValueError(f"quotas sum to {float(sum(quotas, Fraction(0)))}, not {total}")
    floors = [q.numerator // q.denominator for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def allocate(total: int, weights: Sequence[Fraction]) -> list[Fraction]:
    """Exact quotas of ``total`` in proportion to ``weights`` (equal if all are 0)."""
    s = sum(weights, Fraction(0))
    if s == 0:
        return [Fraction(total, len(weights))] * len(weights) if weights else []
    return [Fraction(total) * w / s for w in weights]


# ---- results -------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceUse:
    """One space's month: the audit trail below a charge line."""

    space: str
    space_type: str
    zone: str
    dedicated_to: str | None
    weight: Fraction
    opening_h: Fraction
    observed_h: Fraction
    occupied_h: Fraction
    #: agency -> hours, by basis (dedicated / booking); the pool hours are shared
    dedicated_h: Mapping[str, Fraction]
    booked_h: Mapping[str, Fraction]
    pool_h: Fraction
    no_show_h: Mapping[str, Fraction]

    @property
    def coverage(self) -> Fraction:
        return self.observed_h / self.opening_h if self.opening_h else Fraction(1)


@dataclass(frozen=True)
class ChargeLine:
    agency: str
    line: str  # "base" or a space type
    hours_dedicated: Fraction
    hours_booked: Fraction
    hours_pool: Fraction
    hours_no_show: Fraction
    #: 1, or 1/coverage for an estimated line
    scale: Fraction
    hours: Fraction
    weighted_hours: Fraction
    coverage: Fraction
    estimated: bool
    headcount_htv: Fraction
    quota_cents: Fraction
    amount_cents: int
    spaces: tuple[str, ...]

    @property
    def weight(self) -> Fraction | None:
        return self.weighted_hours / self.hours if self.hours else None


@dataclass(frozen=True)
class NoShowRecord:
    booking_id: str
    agency: str
    space: str
    start: datetime
    end: datetime
    status: str  # no_show | unverified
    booked_h: Fraction  # inside opening hours of the month
    charged_h: Fraction


@dataclass(frozen=True)
class AgencySummary:
    agency: str
    name: str
    headcount_htv: Fraction
    amount_cents: int
    bookings: int
    no_shows: int
    no_show_h: Fraction
    unverified: int
    pool_share: Fraction
    attributed_weighted_h: Fraction


@dataclass(frozen=True)
class MonthCharges:
    site: str
    site_name: str
    month: str
    period_start: datetime
    period_end: datetime
    tariff_name: str
    tariff_version: str
    tariff_hash: str
    registry_version: str
    inputs_hash: str
    currency: str
    pricing: SitePricing
    cost_cents: int
    base_pot_cents: Fraction
    usage_pot_cents: Fraction
    total_weighted_h: Fraction
    pool_basis: str  # attributed_use | headcount | equal
    usage_basis: str  # weighted_hours | headcount (no use measured) | unit_prices
    lines: tuple[ChargeLine, ...]
    agencies: tuple[AgencySummary, ...]
    spaces: tuple[SpaceUse, ...]
    no_shows: tuple[NoShowRecord, ...]
    notes: tuple[str, ...] = field(default=())
    weeks: tuple[WeekUse, ...] = field(default=())

    @property
    def agency_ids(self) -> list[str]:
        return [a.agency for a in self.agencies]

    def to_dict(self, *, agency: str | None = None) -> dict[str, Any]:
        """A JSON-ready view; with ``agency``, only what that agency may see
        (its own lines, spaces it used, its no-shows, and site totals)."""
        return _to_dict(self, agency)


# ---- the computation -----------------------------------------------------------


def compute_month(
    *,
    site: Site,
    month: str,
    intervals: pd.DataFrame,
    bookings: Sequence[Booking],
    tariff: Tariff,
) -> MonthCharges:
    """The charges of one site and local calendar month.

    ``intervals``: state spells (space, start, end, state) covering the month,
    not clipped (no-shows need the time outside opening hours; usage is clipped
    here to the opening hours of ``core.calendar``). ``bookings``: the site's
    bookings (any period; those overlapping the month are used), validated.
    """
    year, mon = parse_month(month)
    version, pricing = tariff.pricing(site.id, year, mon)
    start, end = month_bounds(site, year, mon)
    for space in site.spaces:
        pricing.weight_of(space.type)  # every type in use needs a weight: fail early
    bookings = check_bookings([b for b in bookings if b.site == site.id], site=site)
    month_bookings = sorted(
        (b for b in bookings if b.start < end and b.end > start), key=lambda b: b.id
    )
    inputs_hash = hash_inputs(
        site=site,
        month=month,
        intervals=intervals,
        bookings=month_bookings,
        tariff_name=tariff.name,
        version=version,
    )
    clipped = clip_to_opening_hours(intervals=intervals, site=site, start=start, end=end)
    attributed = attribute(intervals=clipped, bookings=month_bookings, site=site)
    starting = [b for b in month_bookings if start <= b.start < end]
    statuses = find_no_shows(
        intervals=intervals,
        bookings=starting,
        site=site,
        window_minutes=pricing.no_show.window_minutes,
    )
    open_ns = opening_ns(site=site, start=start, end=end)
    no_shows = _no_shows(site, pricing, statuses, month_bookings, attributed, start, end)
    charged: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for ns in no_shows:
        if ns.charged_h:
            charged[ns.space][ns.agency] += ns.charged_h
    spaces = _space_uses(site, pricing, clipped, attributed, open_ns, charged)
    priced = _price(
        site=site,
        month=month,
        start=start,
        end=end,
        tariff=tariff,
        version=version,
        pricing=pricing,
        inputs_hash=inputs_hash,
        spaces=spaces,
        no_shows=no_shows,
        statuses=statuses,
    )
    # the statement's weekly chart: the same weighted hours, split by local week
    return replace(
        priced, weeks=weekly_weighted_hours(site=site, attributed=attributed, charges=priced)
    )


def _weight(site: Site, pricing: SitePricing, space_id: str) -> Fraction:
    space = site.space(space_id)
    factor = Fraction(pricing.weight_of(space.type))
    if pricing.weight_basis is WeightBasis.AREA_M2:
        return Fraction(str(space.area_m2)) * factor
    return factor


def _space_uses(
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


def _no_shows(
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


def _price(
    *,
    site: Site,
    month: str,
    start: datetime,
    end: datetime,
    tariff: Tariff,
    version: TariffVersion,
    pricing: SitePricing,
    inputs_hash: str,
    spaces: Mapping[str, SpaceUse],
    no_shows: Sequence[NoShowRecord],
    statuses: pd.DataFrame,
) -> MonthCharges:
    agencies = sorted(site.agencies, key=lambda a: a.id)
    ids = [a.id for a in agencies]
    htv = {a.id: Fraction(str(a.headcount_htv)) for a in agencies}
    notes: list[str] = []

    # Pool shares: in proportion to the weighted use attributed by zone or booking.
    attributed_wh = {a: Fraction(0) for a in ids}
    for use in spaces.values():
        for a, h in (*use.dedicated_h.items(), *use.booked_h.items()):
            attributed_wh[a] += h * use.weight
    pool_wh_total = sum((u.pool_h * u.weight for u in spaces.values()), Fraction(0))
    if sum(attributed_wh.values()):
        pool_basis = "attributed_use"
        shares = dict(zip(ids, allocate(1, [attributed_wh[a] for a in ids]), strict=True))
    else:
        pool_basis = "headcount" if sum(htv.values()) else "equal"
        shares = dict(zip(ids, allocate(1, [htv[a] for a in ids]), strict=True))
        if pool_wh_total:
            notes.append(
                "No use was attributed by zone or booking, so the shared pool is "
                f"allocated by {'headcount' if pool_basis == 'headcount' else 'equal shares'}."
            )

    min_cov = Fraction(pricing.min_coverage)
    usage_lines: list[dict[str, Any]] = []
    for a in ids:
        for space_type in SpaceType:
            members = [
                u
                for u in spaces.values()
                if u.space_type == space_type.value and u.dedicated_to in (a, None)
            ]
            if not members:
                continue
            opening = sum((u.opening_h for u in members), Fraction(0))
            observed = sum((u.observed_h for u in members), Fraction(0))
            coverage = observed / opening if opening else Fraction(1)
            estimated = coverage < min_cov
            scale = 1 / coverage if estimated and coverage > 0 else Fraction(1)
            h_ded = sum((u.dedicated_h.get(a, Fraction(0)) for u in members), Fraction(0))
            h_bkd = sum((u.booked_h.get(a, Fraction(0)) for u in members), Fraction(0))
            h_pool = sum((u.pool_h for u in members), Fraction(0)) * shares[a]
            h_ns = sum((u.no_show_h.get(a, Fraction(0)) for u in members), Fraction(0))
            wh_measured = sum(
                (
                    (
                        u.dedicated_h.get(a, Fraction(0))
                        + u.booked_h.get(a, Fraction(0))
                        + u.pool_h * shares[a]
                    )
                    * u.weight
                    for u in members
                ),
                Fraction(0),
            )
            wh_ns = sum((u.no_show_h.get(a, Fraction(0)) * u.weight for u in members), Fraction(0))
            used = [
                u.space
                for u in members
                if u.dedicated_h.get(a)
                or u.booked_h.get(a)
                or u.no_show_h.get(a)
                or (u.pool_h and shares[a])
            ]
            usage_lines.append(
                dict(
                    agency=a,
                    line=space_type.value,
                    hours_dedicated=h_ded,
                    hours_booked=h_bkd,
                    hours_pool=h_pool,
                    hours_no_show=h_ns,
                    scale=scale,
                    hours=(h_ded + h_bkd + h_pool) * scale + h_ns,
                    weighted_hours=wh_measured * scale + wh_ns,
                    coverage=coverage,
                    estimated=estimated,
                    spaces=tuple(used),
                )
            )
    total_wh = sum((ln["weighted_hours"] for ln in usage_lines), Fraction(0))

    # Exact quotas in cents for every line, then the largest-remainder rounding.
    if pricing.unit_prices is not None:
        prices = pricing.unit_prices
        base_quota = {a: htv[a] * Fraction(prices.base_eur_per_htv) * 100 for a in ids}
        for ln in usage_lines:
            ln["quota"] = ln["weighted_hours"] * Fraction(prices.usage_eur_per_weighted_hour) * 100
        base_pot = sum(base_quota.values(), Fraction(0))
        usage_pot = sum((ln["quota"] for ln in usage_lines), Fraction(0))
        usage_basis = "unit_prices"
        cost_cents = 0  # the sum of the rounded lines, set below
        cost_cents = 0  # the sum of the rounded lines, set below
    else:
        assert pricing.cost_to_recover_eur is not None and pricing.base_share is not None
        cost_cents = int(pricing.cost_to_recover_eur * 100)
        base_pot = Fraction(cost_cents) * Fraction(pricing.base_share)
        usage_pot = Fraction(cost_cents) - base_pot
        if total_wh:
            usage_basis = "weighted_hours"
            for ln in usage_lines:
                ln["quota"] = usage_pot * ln["weighted_hours"] / total_wh
            head_pot = base_pot
        else:
            usage_basis = "headcount"
            for ln in usage_lines:
                ln["quota"] = Fraction(0)
            head_pot = Fraction(cost_cents)
            if usage_pot:
                notes.append(
                    "No weighted use was measured this month, so the usage share is "
                    "allocated by headcount together with the base share."
                )
        if sum(htv.values()) == 0 and head_pot:
            notes.append("The site's agencies have no headcount: the base share is split equally.")
        base_quota = dict(zip(ids, allocate(1, [htv[a] for a in ids]), strict=True))
        base_quota = {a: head_pot * s for a, s in base_quota.items()}

    ordered: list[dict[str, Any]] = []
    for a in ids:
        ordered.append(
            dict(
                agency=a,
                line=BASE_LINE,
                hours_dedicated=Fraction(0),
                hours_booked=Fraction(0),
                hours_pool=Fraction(0),
                hours_no_show=Fraction(0),
                scale=Fraction(1),
                hours=Fraction(0),
                weighted_hours=Fraction(0),
                coverage=Fraction(1),
                estimated=False,
                spaces=(),
                quota=base_quota[a],
            )
        )
        ordered.extend(ln for ln in usage_lines if ln["agency"] == a)
    if pricing.unit_prices is not None:
        # Unit prices: each line is its own price, rounded half up to the cent;
        # the site's total is by definition the sum of its lines.
        cents = [_round_half_up(ln["quota"]) for ln in ordered]
        cost_cents = sum(cents)
    else:
        cents = largest_remainder([ln["quota"] for ln in ordered], cost_cents)
    lines = tuple(
        ChargeLine(
            agency=ln["agency"],
            line=ln["line"],
            hours_dedicated=ln["hours_dedicated"],
            hours_booked=ln["hours_booked"],
            hours_pool=ln["hours_pool"],
            hours_no_show=ln["hours_no_show"],
            scale=ln["scale"],
            hours=ln["hours"],
            weighted_hours=ln["weighted_hours"],
            coverage=ln["coverage"],
            estimated=ln["estimated"],
            headcount_htv=htv[ln["agency"]] if ln["line"] == BASE_LINE else Fraction(0),
            quota_cents=ln["quota"],
            amount_cents=c,
            spaces=ln["spaces"],
        )
        for ln, c in zip(ordered, cents, strict=True)
    )
    if any(ln.estimated for ln in lines):
        notes.append(
            f"Lines with coverage below {_dec(min_cov * 100, 0)} % are estimated: their "
            "measured hours are divided by their coverage."
        )
    starting = statuses
    summaries = []
    for agency in agencies:
        a = agency.id
        mine = [ns for ns in no_shows if ns.agency == a]
        summaries.append(
            AgencySummary(
                agency=a,
                name=agency.name,
                headcount_htv=htv[a],
                amount_cents=sum(ln.amount_cents for ln in lines if ln.agency == a),
                bookings=int((starting["agency"] == a).sum()) if len(starting) else 0,
                no_shows=sum(1 for ns in mine if ns.status == NO_SHOW),
                no_show_h=sum((ns.booked_h for ns in mine if ns.status == NO_SHOW), Fraction(0)),
                unverified=sum(1 for ns in mine if ns.status == UNVERIFIED),
                pool_share=shares[a],
                attributed_weighted_h=attributed_wh[a],
            )
        )
    return MonthCharges(
        site=site.id,
        site_name=site.name,
        month=month,
        period_start=start,
        period_end=end,
        tariff_name=tariff.name,
        tariff_version=version.version,
        tariff_hash=tariff_hash(version),
        registry_version=site.version,
        inputs_hash=inputs_hash,
        currency=tariff.currency,
        pricing=pricing,
        cost_cents=cost_cents,
        base_pot_cents=base_pot,
        usage_pot_cents=usage_pot,
        total_weighted_h=total_wh,
        pool_basis=pool_basis,
        usage_basis=usage_basis,
        lines=lines,
        agencies=tuple(summaries),
        spaces=tuple(spaces[k] for k in sorted(spaces)),
        no_shows=tuple(sorted(no_shows, key=lambda n: (n.start, n.space, n.booking_id))),
        notes=tuple(notes),
    )


# ---- hashing -------------------------------------------------------------------


def hash_inputs(
    *,
    site: Site,
    month: str,
    intervals: pd.DataFrame,
    bookings: Iterable[Booking],
    tariff_name: str,
    version: TariffVersion,
) -> str:
    """sha256 over a canonical text of everything a charge depends on.

    The text (docs/charging.md, "Audit trail"): a JSON header line (scheme, site,
    month, registry version, tariff name and version content), then one line per
    interval ``space<TAB>start_ns<TAB>end_ns<TAB>state`` sorted, then one JSON
    line per booking (id, space, agency, start and end in UTC ns) sorted by id.
    """
    h = hashlib.sha256()
    header = {
        "scheme": HASH_SCHEME,
        "site": site.id,
        "month": month,
        "registry_version": site.version,
        "tariff_name": tariff_name,
        "tariff": json.loads(version.canonical()),
    }
    h.update(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    if len(intervals):
        df = pd.DataFrame(
            {
                "space": intervals["space"].astype(str).to_numpy(),
                "s": to_ns(intervals["start"]),
                "e": to_ns(intervals["end"]),
                "state": intervals["state"].astype(str).to_numpy(),
            }
        ).sort_values(["space", "s", "e", "state"], kind="stable")
        text = "".join(
            f"{sp}\t{s}\t{e}\t{st}\n"
            for sp, s, e, st in zip(df["space"], df["s"], df["e"], df["state"], strict=True)
        )
        h.update(text.encode())
    for b in sorted(bookings, key=lambda b: b.id):
        row = {
            "id": b.id,
            "space": b.space,
            "agency": b.agency,
            "start_ns": int(pd.Timestamp(b.start).value),
            "end_ns": int(pd.Timestamp(b.end).value),
        }
        h.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


# ---- formatting ----------------------------------------------------------------


def _dec(x: Fraction, places: int) -> str:
    """A fraction as a decimal string, rounded half-even to ``places``."""
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        q = Decimal(1).scaleb(-places)
        return str(d.quantize(q, rounding=ROUND_HALF_EVEN))


def _round_half_up(x: Fraction) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def eur(cents: int | Fraction, places: int = 2) -> str:
    return _dec(Fraction(cents) / 100, places)


def hours(x: Fraction) -> str:
    return _dec(x, 4)


def _to_dict(mc: MonthCharges, agency: str | None) -> dict[str, Any]:
    if agency is not None and agency not in mc.agency_ids:
        raise KeyError(f"agency {agency!r} is not charged at site {mc.site!r}")
    p = mc.pricing
    weights = {t.value: str(w) for t, w in sorted(p.weights.items(), key=lambda kv: kv[0].value)}
    lines = [ln for ln in mc.lines if agency is None or ln.agency == agency]
    agencies = [a for a in mc.agencies if agency is None or a.agency == agency]
    used_spaces = {s for ln in lines for s in ln.spaces}
    spaces = []
    for u in mc.spaces:
        if agency is not None and u.space not in used_spaces:
            continue
        spaces.append(
            {
                "space": u.space,
                "space_type": u.space_type,
                "zone": u.zone,
                "dedicated_to": u.dedicated_to,
                "weight": _dec(u.weight, 4),
                "opening_hours": hours(u.opening_h),
                "observed_hours": hours(u.observed_h),
                "coverage": _dec(u.coverage, 4),
                "occupied_hours": hours(u.occupied_h),
                "dedicated_hours": {
                    a: hours(h) for a, h in u.dedicated_h.items() if agency in (None, a)
                },
                "booked_hours": {a: hours(h) for a, h in u.booked_h.items() if agency in (None, a)},
                "pool_hours": hours(u.pool_h),
                "no_show_hours": {
                    a: hours(h) for a, h in u.no_show_h.items() if agency in (None, a)
                },
            }
        )
    return {
        "site": mc.site,
        "site_name": mc.site_name,
        "month": mc.month,
        "period_start": mc.period_start.isoformat(),
        "period_end": mc.period_end.isoformat(),
        "currency": mc.currency,
        "agency": agency,
        "tariff": {
            "name": mc.tariff_name,
            "version": mc.tariff_version,
            "sha256": mc.tariff_hash,
            "pricing": "unit_prices" if p.unit_prices is not None else "cost_to_recover",
            "cost_to_recover_eur": eur(mc.cost_cents),
            "base_share": None if p.base_share is None else str(p.base_share),
            "unit_prices": None if p.unit_prices is None else p.unit_prices.model_dump(mode="json"),
            "weight_basis": p.weight_basis.value,
            "weights": weights,
            "no_show_window_minutes": p.no_show.window_minutes,
            "no_show_charge_booked_hours": p.no_show.charge_booked_hours,
            "min_coverage": str(p.min_coverage),
        },
        "registry_version": mc.registry_version,
        "inputs_hash": mc.inputs_hash,
        "totals": {
            "cost_eur": eur(mc.cost_cents),
            "base_pot_eur": eur(mc.base_pot_cents, 6),
            "usage_pot_eur": eur(mc.usage_pot_cents, 6),
            "total_weighted_hours": _dec(mc.total_weighted_h, 6),
            "eur_per_weighted_hour": (
                eur(mc.usage_pot_cents / mc.total_weighted_h, 8) if mc.total_weighted_h else None
            ),
            "total_headcount_htv": _dec(sum((a.headcount_htv for a in mc.agencies), Fraction()), 4),
            "pool_basis": mc.pool_basis,
            "usage_basis": mc.usage_basis,
            "lines_sum_eur": eur(sum(ln.amount_cents for ln in mc.lines)),
        },
        "agencies": [
            {
                "agency": a.agency,
                "name": a.name,
                "headcount_htv": _dec(a.headcount_htv, 4),
                "amount_eur": eur(a.amount_cents),
                "bookings": a.bookings,
                "no_shows": a.no_shows,
                "no_show_hours": hours(a.no_show_h),
                "unverified_no_shows": a.unverified,
                "attributed_weighted_hours": _dec(a.attributed_weighted_h, 6),
                "pool_share": _dec(a.pool_share, 8),
            }
            for a in agencies
        ],
        "lines": [line_dict(mc, ln) for ln in lines],
        "spaces": spaces,
        "no_shows": [
            {
                "booking_id": n.booking_id,
                "agency": n.agency,
                "space": n.space,
                "start": n.start.isoformat(),
                "end": n.end.isoformat(),
                "status": n.status,
                "booked_hours": hours(n.booked_h),
                "charged_hours": hours(n.charged_h),
            }
            for n in mc.no_shows
            if agency is None or n.agency == agency
        ],
        "notes": list(mc.notes),
    }


LINE_FIELDS = [
    "site",
    "month",
    "agency",
    "line",
    "hours_dedicated",
    "hours_booked",
    "hours_pool",
    "hours_no_show",
    "scale",
    "hours",
    "weight",
    "weighted_hours",
    "headcount_htv",
    "coverage",
    "estimated",
    "quota_eur",
    "amount_eur",
    "tariff_version",
    "registry_version",
    "inputs_hash",
]


def line_dict(mc: MonthCharges, ln: ChargeLine) -> dict[str, Any]:
    """One line as strings and flags, in ``LINE_FIELDS`` order (CSV and JSON share it)."""
    weight = ln.weight
    return {
        "site": mc.site,
        "month": mc.month,
        "agency": ln.agency,
        "line": ln.line,
        "hours_dedicated": hours(ln.hours_dedicated),
        "hours_booked": hours(ln.hours_booked),
        "hours_pool": hours(ln.hours_pool),
        "hours_no_show": hours(ln.hours_no_show),
        "scale": _dec(ln.scale, 6),
        "hours": hours(ln.hours),
        "weight": "" if weight is None else _dec(weight, 4),
        "weighted_hours": _dec(ln.weighted_hours, 6),
        "headcount_htv": _dec(ln.headcount_htv, 4),
        "coverage": _dec(ln.coverage, 4),
        "estimated": ln.estimated,
        "quota_eur": eur(ln.quota_cents, 6),
        "amount_eur": eur(ln.amount_cents),
        "tariff_version": mc.tariff_version,
        "registry_version": mc.registry_version,
        "inputs_hash": mc.inputs_hash,
    }
