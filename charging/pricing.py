"""From measured use to priced lines: pool shares, one usage line per agency and
space type, exact quotas in cents, and the rounding that makes the lines sum to
the cost to the cent (docs/charging.md, "The model")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import pandas as pd

from charging.attribution import NO_SHOW, UNVERIFIED
from charging.results import AgencySummary, ChargeLine, MonthCharges, NoShowRecord, SpaceUse
from charging.rounding import allocate, dec, largest_remainder, round_half_up
from charging.tariff import SitePricing, Tariff, TariffVersion, tariff_hash
from core.registry import Agency, Site, SpaceType

BASE_LINE = "base"
_ZERO = Fraction(0)


@dataclass(frozen=True)
class PoolShares:
    """How the shared pool's hours are split: by attributed use when there is
    any, else by headcount (or equally without headcount)."""

    attributed_wh: dict[str, Fraction]
    shares: dict[str, Fraction]
    basis: str  # attributed_use | headcount | equal
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Quotas:
    cost_cents: int  # 0 for unit prices: the sum of the rounded lines
    base_quota: dict[str, Fraction]
    base_pot: Fraction
    usage_pot: Fraction
    usage_basis: str
    notes: tuple[str, ...]


def use_shares(
    *, ids: Sequence[str], attributed: Mapping[str, Fraction], htv: Mapping[str, Fraction]
) -> tuple[dict[str, Fraction], str]:
    """The shared pool's split and its basis: in proportion to ``attributed``
    use when there is any, else by headcount (or equally without headcount).
    Charging passes weighted hours; agency presence (``metrics.presence``)
    attributed desk-seconds: one rule for both."""
    if sum(attributed.get(a, _ZERO) for a in ids):
        weights = [Fraction(attributed.get(a, _ZERO)) for a in ids]
        return dict(zip(ids, allocate(1, weights), strict=True)), "attributed_use"
    basis = "headcount" if sum(htv.get(a, _ZERO) for a in ids) else "equal"
    weights = [Fraction(htv.get(a, _ZERO)) for a in ids]
    return dict(zip(ids, allocate(1, weights), strict=True)), basis


def pool_shares(
    *, ids: Sequence[str], htv: Mapping[str, Fraction], spaces: Mapping[str, SpaceUse]
) -> PoolShares:
    attributed_wh = {a: _ZERO for a in ids}
    for use in spaces.values():
        for a, h in (*use.dedicated_h.items(), *use.booked_h.items()):
            attributed_wh[a] += h * use.weight
    pool_wh_total = sum((u.pool_h * u.weight for u in spaces.values()), _ZERO)
    shares, basis = use_shares(ids=ids, attributed=attributed_wh, htv=htv)
    notes: tuple[str, ...] = ()
    if basis != "attributed_use" and pool_wh_total:
        notes = (
            "No use was attributed by zone or booking, so the shared pool is "
            f"allocated by {'headcount' if basis == 'headcount' else 'equal shares'}.",
        )
    return PoolShares(attributed_wh, shares, basis, notes)


def usage_lines(
    *,
    ids: Sequence[str],
    spaces: Mapping[str, SpaceUse],
    shares: Mapping[str, Fraction],
    min_coverage: Fraction,
) -> list[dict[str, Any]]:
    """One line per agency and space type it may use (its own zones and the
    shared ones), in agency order, then space type order."""
    out = []
    for a in ids:
        for space_type in SpaceType:
            members = [
                u
                for u in spaces.values()
                if u.space_type == space_type.value and u.dedicated_to in (a, None)
            ]
            if members:
                out.append(_usage_line(a, space_type, members, shares[a], min_coverage))
    return out


def _usage_line(
    a: str, space_type: SpaceType, members: Sequence[SpaceUse], share: Fraction, min_cov: Fraction
) -> dict[str, Any]:
    opening = sum((u.opening_h for u in members), _ZERO)
    observed = sum((u.observed_h for u in members), _ZERO)
    coverage = observed / opening if opening else Fraction(1)
    estimated = coverage < min_cov
    scale = 1 / coverage if estimated and coverage > 0 else Fraction(1)
    h_ded = sum((u.dedicated_h.get(a, _ZERO) for u in members), _ZERO)
    h_bkd = sum((u.booked_h.get(a, _ZERO) for u in members), _ZERO)
    h_pool = sum((u.pool_h for u in members), _ZERO) * share
    h_ns = sum((u.no_show_h.get(a, _ZERO) for u in members), _ZERO)
    wh_measured = sum(
        (
            (u.dedicated_h.get(a, _ZERO) + u.booked_h.get(a, _ZERO) + u.pool_h * share) * u.weight
            for u in members
        ),
        _ZERO,
    )
    wh_ns = sum((u.no_show_h.get(a, _ZERO) * u.weight for u in members), _ZERO)
    used = [
        u.space
        for u in members
        if u.dedicated_h.get(a) or u.booked_h.get(a) or u.no_show_h.get(a) or (u.pool_h and share)
    ]
    return dict(
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


def quotas(
    *,
    pricing: SitePricing,
    ids: Sequence[str],
    htv: Mapping[str, Fraction],
    lines: list[dict[str, Any]],
    cost_fraction: Fraction,
) -> Quotas:
    """Exact quotas in cents: sets ``quota`` on every usage line and returns the
    base quota per agency. ``cost_fraction`` < 1 for a month in progress: the
    elapsed share of its opening time, so the cost is pro rata."""
    if pricing.unit_prices is not None:
        prices = pricing.unit_prices
        base_quota = {
            a: htv[a] * Fraction(prices.base_eur_per_htv) * 100 * cost_fraction for a in ids
        }
        for ln in lines:
            ln["quota"] = ln["weighted_hours"] * Fraction(prices.usage_eur_per_weighted_hour) * 100
        base_pot = sum(base_quota.values(), _ZERO)
        usage_pot = sum((ln["quota"] for ln in lines), _ZERO)
        return Quotas(0, base_quota, base_pot, usage_pot, "unit_prices", ())
    return _cost_quotas(pricing=pricing, ids=ids, htv=htv, lines=lines, fraction=cost_fraction)


def _cost_quotas(
    *,
    pricing: SitePricing,
    ids: Sequence[str],
    htv: Mapping[str, Fraction],
    lines: list[dict[str, Any]],
    fraction: Fraction,
) -> Quotas:
    assert pricing.cost_to_recover_eur is not None and pricing.base_share is not None
    cost_cents = int(pricing.cost_to_recover_eur * 100)
    if fraction != 1:
        cost_cents = round_half_up(cost_cents * fraction)
    base_pot = Fraction(cost_cents) * Fraction(pricing.base_share)
    usage_pot = Fraction(cost_cents) - base_pot
    total_wh = sum((ln["weighted_hours"] for ln in lines), _ZERO)
    notes = []
    if total_wh:
        usage_basis = "weighted_hours"
        for ln in lines:
            ln["quota"] = usage_pot * ln["weighted_hours"] / total_wh
        head_pot = base_pot
    else:
        usage_basis = "headcount"
        for ln in lines:
            ln["quota"] = _ZERO
        head_pot = Fraction(cost_cents)
        if usage_pot:
            notes.append(
                "No weighted use was measured this month, so the usage share is "
                "allocated by headcount together with the base share."
            )
    if sum(htv.values()) == 0 and head_pot:
        notes.append("The site's agencies have no headcount: the base share is split equally.")
    shares = dict(zip(ids, allocate(1, [htv[a] for a in ids]), strict=True))
    base_quota = {a: head_pot * s for a, s in shares.items()}
    return Quotas(cost_cents, base_quota, base_pot, usage_pot, usage_basis, tuple(notes))


def _base_line(agency: str, quota: Fraction) -> dict[str, Any]:
    return dict(
        agency=agency,
        line=BASE_LINE,
        hours_dedicated=_ZERO,
        hours_booked=_ZERO,
        hours_pool=_ZERO,
        hours_no_show=_ZERO,
        scale=Fraction(1),
        hours=_ZERO,
        weighted_hours=_ZERO,
        coverage=Fraction(1),
        estimated=False,
        spaces=(),
        quota=quota,
    )


def charge_lines(
    *,
    pricing: SitePricing,
    ids: Sequence[str],
    htv: Mapping[str, Fraction],
    usage: Sequence[dict[str, Any]],
    q: Quotas,
) -> tuple[tuple[ChargeLine, ...], int]:
    """The rounded lines, ordered by agency (base line first), and the cost."""
    ordered: list[dict[str, Any]] = []
    for a in ids:
        ordered.append(_base_line(a, q.base_quota[a]))
        ordered.extend(ln for ln in usage if ln["agency"] == a)
    if pricing.unit_prices is not None:
        # Unit prices: each line is its own price, rounded half up to the cent;
        # the site's total is by definition the sum of its lines.
        cents = [round_half_up(ln["quota"]) for ln in ordered]
        cost_cents = sum(cents)
    else:
        cost_cents = q.cost_cents
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
            headcount_htv=htv[ln["agency"]] if ln["line"] == BASE_LINE else _ZERO,
            quota_cents=ln["quota"],
            amount_cents=c,
            spaces=ln["spaces"],
        )
        for ln, c in zip(ordered, cents, strict=True)
    )
    return lines, cost_cents


def agency_summaries(
    *,
    agencies: Sequence[Agency],
    htv: Mapping[str, Fraction],
    lines: Sequence[ChargeLine],
    no_shows: Sequence[NoShowRecord],
    statuses: pd.DataFrame,
    pool: PoolShares,
) -> tuple[AgencySummary, ...]:
    out = []
    for agency in agencies:
        a = agency.id
        mine = [ns for ns in no_shows if ns.agency == a]
        out.append(
            AgencySummary(
                agency=a,
                name=agency.name,
                headcount_htv=htv[a],
                amount_cents=sum(ln.amount_cents for ln in lines if ln.agency == a),
                bookings=int((statuses["agency"] == a).sum()) if len(statuses) else 0,
                no_shows=sum(1 for ns in mine if ns.status == NO_SHOW),
                no_show_h=sum((ns.booked_h for ns in mine if ns.status == NO_SHOW), _ZERO),
                unverified=sum(1 for ns in mine if ns.status == UNVERIFIED),
                pool_share=pool.shares[a],
                attributed_weighted_h=pool.attributed_wh[a],
            )
        )
    return tuple(out)


def price(
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
    cost_fraction: Fraction = Fraction(1),
) -> MonthCharges:
    agencies = sorted(site.agencies, key=lambda a: a.id)
    ids = [a.id for a in agencies]
    htv = {a.id: Fraction(str(a.headcount_htv)) for a in agencies}
    pool = pool_shares(ids=ids, htv=htv, spaces=spaces)
    min_cov = Fraction(pricing.min_coverage)
    usage = usage_lines(ids=ids, spaces=spaces, shares=pool.shares, min_coverage=min_cov)
    total_wh = sum((ln["weighted_hours"] for ln in usage), _ZERO)
    q = quotas(pricing=pricing, ids=ids, htv=htv, lines=usage, cost_fraction=cost_fraction)
    lines, cost_cents = charge_lines(pricing=pricing, ids=ids, htv=htv, usage=usage, q=q)
    notes = [*pool.notes, *q.notes]
    if any(ln.estimated for ln in lines):
        notes.append(
            f"Lines with coverage below {dec(min_cov * 100, 0)} % are estimated: their "
            "measured hours are divided by their coverage."
        )
    provisional = cost_fraction != 1
    if provisional:
        notes.insert(
            0,
            f"PROVISIONAL: the month is in progress. The figures run to {end.isoformat()} "
            f"and the cost is pro rata, {dec(cost_fraction * 100, 2)} % of the month's "
            "opening time. This is not an invoice.",
        )
    summaries = agency_summaries(
        agencies=agencies, htv=htv, lines=lines, no_shows=no_shows, statuses=statuses, pool=pool
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
        base_pot_cents=q.base_pot,
        usage_pot_cents=q.usage_pot,
        total_weighted_h=total_wh,
        pool_basis=pool.basis,
        usage_basis=q.usage_basis,
        lines=lines,
        agencies=summaries,
        spaces=tuple(spaces[k] for k in sorted(spaces)),
        no_shows=tuple(sorted(no_shows, key=lambda n: (n.start, n.space, n.booking_id))),
        notes=tuple(notes),
        provisional=provisional,
        elapsed_share=cost_fraction,
    )
