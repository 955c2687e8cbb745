"""What ``compute_month`` returns: a month's charge lines with the audit trail
below them (spaces, no-shows, agency summaries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from charging.tariff import SitePricing
from charging.weekly import WeekUse


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
    #: a month in progress: figures run to ``period_end`` and the cost is pro
    #: rata, ``elapsed_share`` of the month's opening time
    provisional: bool = False
    elapsed_share: Fraction = Fraction(1)
    #: the statement's weekly chart: the weighted hours split by local week
    weeks: tuple[WeekUse, ...] = field(default=())

    @property
    def agency_ids(self) -> list[str]:
        return [a.agency for a in self.agencies]

    def to_dict(self, *, agency: str | None = None) -> dict[str, Any]:
        """A JSON-ready view; with ``agency``, only what that agency may see
        (its own lines, spaces it used, its no-shows, and site totals)."""
        from charging.serialise import month_dict  # serialise imports this module

        return month_dict(self, agency)
