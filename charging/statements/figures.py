"""What a statement shows besides the lines, computed from the month's charges:
names in the reader's language, the summary chart figures, the header of a
statement that has none yet (a draft), and the links to the raw reports.

Pure functions of ``MonthCharges`` and the registry; the renderers only draw.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from fractions import Fraction
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from charging.charges import BASE_LINE
from charging.header import MonthState, StatementHeader, StatementKind
from charging.statements.messages import t

if TYPE_CHECKING:
    from charging.charges import MonthCharges
    from core.registry import Site


@dataclass(frozen=True)
class Names:
    """Registry names in one language; the id where the registry has none."""

    site: Site | None
    lang: str

    @property
    def tz(self) -> tzinfo:
        return self.site.tz if self.site is not None else UTC

    @property
    def tz_label(self) -> str:
        return self.site.timezone if self.site is not None else "UTC"

    def site_name(self, mc: MonthCharges) -> str:
        if self.site is None:
            return mc.site_name
        return self.site.name_in(self.lang) or mc.site_name

    def agency(self, agency_id: str) -> str:
        if self.site is None or agency_id not in {a.id for a in self.site.agencies}:
            return agency_id
        return self.site.agency(agency_id).name_in(self.lang) or agency_id

    def zone(self, zone_id: str) -> str:
        if self.site is None:
            return zone_id
        try:
            return self.site.zone(zone_id).name_in(self.lang) or zone_id
        except KeyError:
            return zone_id

    def space(self, space_id: str) -> str:
        if self.site is None or not self.site.has_space(space_id):
            return space_id
        return self.site.space(space_id).name_in(self.lang) or space_id

    def line(self, line: str) -> str:
        return t(self.lang, f"line.{line}")

    def business_id(self, agency_id: str) -> str | None:
        if self.site is None or agency_id not in {a.id for a in self.site.agencies}:
            return None
        return self.site.agency(agency_id).business_id

    def cost_centre(self, agency_id: str) -> str | None:
        if self.site is None or agency_id not in {a.id for a in self.site.agencies}:
            return None
        return self.site.agency(agency_id).cost_centre


def statement_header(
    mc: MonthCharges, agency: str, header: StatementHeader | None
) -> StatementHeader:
    """The given header, or that of a draft: no number, no reference, not an invoice."""
    if header is None:
        return StatementHeader(month=mc.month, agency=agency, state=MonthState.DRAFT)
    if header.agency != agency:
        raise ValueError(f"the header is {header.agency!r}'s, the statement {agency!r}'s")
    if header.month != mc.month:
        raise ValueError(f"the header is for {header.month}, the charges for {mc.month}")
    return header


def is_invoice(header: StatementHeader) -> bool:
    """Approved or locked, with a number: something a finance office can book."""
    return (
        header.state is not MonthState.DRAFT
        and not header.provisional
        and header.number is not None
    )


def banner(h: StatementHeader, lang: str) -> str | None:
    """What marks the statement on every page: a credit note, or not an invoice."""
    if h.kind is StatementKind.CREDIT:
        return t(lang, "banner.credit", number=h.references_number or t(lang, "none"))
    if h.provisional:
        return t(lang, "banner.provisional")
    if not is_invoice(h):
        return t(lang, "banner.draft")
    return None


def sign(header: StatementHeader) -> int:
    return -1 if header.kind is StatementKind.CREDIT else 1


def zone_weighted_hours(mc: MonthCharges, agency: str) -> list[tuple[str, Fraction]]:
    """The agency's weighted hours per zone (zones with any use), in zone id order.

    Per space: (its dedicated + booked hours + pool hours x its pool share) x the
    space's weight x its line's scale, plus no-show hours x weight; so the zones
    add up exactly to the weighted hours of the agency's usage lines.
    """
    scale = {ln.line: ln.scale for ln in mc.lines if ln.agency == agency}
    share = next(a.pool_share for a in mc.agencies if a.agency == agency)
    out: dict[str, Fraction] = defaultdict(Fraction)
    for u in mc.spaces:
        if u.space_type not in scale:
            continue  # another agency's dedicated space type
        measured = u.dedicated_h.get(agency, Fraction(0)) + u.booked_h.get(agency, Fraction(0))
        if u.dedicated_to is None:
            measured += u.pool_h * share
        wh = (
            measured * u.weight * scale[u.space_type]
            + u.no_show_h.get(agency, Fraction(0)) * u.weight
        )
        if wh:
            out[u.zone] += wh
    return sorted(out.items())


def week_weighted_hours(mc: MonthCharges, agency: str) -> list[tuple[str, date, Fraction]]:
    return [(w.week, w.first_day, w.weighted_h) for w in mc.weeks if w.agency == agency]


def shares(mc: MonthCharges, agency: str) -> tuple[Fraction, Fraction]:
    """(share of the site's cost, share of the site's headcount) of the agency."""
    total = sum(ln.amount_cents for ln in mc.lines)
    mine = sum(ln.amount_cents for ln in mc.lines if ln.agency == agency)
    htv = sum((a.headcount_htv for a in mc.agencies), Fraction(0))
    own = next(a.headcount_htv for a in mc.agencies if a.agency == agency)
    return (
        Fraction(mine, total) if total else Fraction(0),
        own / htv if htv else Fraction(0),
    )


def usage_weighted_hours(mc: MonthCharges, agency: str) -> Fraction:
    return sum(
        (ln.weighted_hours for ln in mc.lines if ln.agency == agency and ln.line != BASE_LINE),
        Fraction(0),
    )


def report_links(mc: MonthCharges, agency: str, api_url: str | None) -> list[tuple[str, str]]:
    """(message key, URL) of the API reports an auditor recomputes the month from."""
    base = (api_url or "").rstrip("/") + f"/v1/sites/{mc.site}"
    q = {"month": mc.month, "source": "raw"}
    return [
        ("link.spaces", f"{base}/utilisation?" + urlencode({**q, "by": "space", "format": "csv"})),
        (
            "link.agency",
            f"{base}/utilisation?" + urlencode({**q, "by": "agency", "agency": agency}),
        ),
        ("link.charges", f"{base}/charges/{mc.month}?" + urlencode({"agency": agency})),
    ]


def notes(mc: MonthCharges, lang: str) -> list[str]:
    """The month's notes in ``lang``, from the charge's flags (``mc.notes`` is English)."""
    out = []
    if mc.pool_basis == "headcount" and any(u.pool_h for u in mc.spaces):
        out.append(t(lang, "note.pool_headcount"))
    elif mc.pool_basis == "equal" and any(u.pool_h for u in mc.spaces):
        out.append(t(lang, "note.pool_equal"))
    if mc.usage_basis == "headcount" and mc.usage_pot_cents:
        out.append(t(lang, "note.usage_headcount"))
    return out
