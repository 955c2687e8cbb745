"""The PDF statement: a one-page summary (header, amount, three charts), then
what was measured, how it was priced, what was estimated, bookings and
no-shows, and the audit section. For finance (no agency): a site page first,
then every agency's statement."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from charging.charges import MonthCharges
from charging.header import StatementHeader, StatementKind
from charging.statements import charts, sections
from charging.statements.figures import (
    Names,
    banner,
    is_invoice,
    notes,
    shares,
    sign,
    statement_header,
    usage_weighted_hours,
    week_weighted_hours,
    zone_weighted_hours,
)
from charging.statements.messages import day, day_span, money, month_name, number, percent, t
from charging.statements.text import (
    MUTED,
    StatementPDF,
    h1,
    h2,
    key_values,
    latin1,
    para,
    table,
)


def render_pdf(
    mc: MonthCharges,
    *,
    agency: str | None,
    header: StatementHeader | None,
    lang: str,
    names: Names,
    api_url: str | None,
) -> bytes:
    if agency is None and header is not None:
        agency = header.agency
    first = _draw(mc, agency, header, lang, names, api_url, None)
    if len(first.sections) == 1:
        return bytes(first.output())
    return bytes(_draw(mc, agency, header, lang, names, api_url, first.sections).output())


def _draw(
    mc: MonthCharges,
    agency: str | None,
    header: StatementHeader | None,
    lang: str,
    names: Names,
    api_url: str | None,
    sections: list[int] | None,
) -> StatementPDF:
    label = f"{names.site_name(mc)} - {month_name(lang, mc.month)}"
    pdf = StatementPDF(
        page_label=t(lang, "page", n="{n}", total="{total}"),
        footer_text=label,
        section_pages=sections,
    )
    pdf.set_creation_date(mc.period_start.astimezone(UTC))
    pdf.set_title(latin1(f"{t(lang, 'title')} {mc.site} {mc.month}"))
    pdf.set_author("occupancy charges")
    pdf.set_lang(lang)
    if agency is None:
        pdf.new_page(banner=t(lang, "banner.draft"), footer=label)
        _site_page(pdf, mc, lang, names)
        for a in mc.agency_ids:
            _statement(pdf, mc, statement_header(mc, a, None), lang, names, api_url)
    else:
        _statement(pdf, mc, statement_header(mc, agency, header), lang, names, api_url)
    return pdf


def _state(h: StatementHeader, lang: str) -> str:
    state = t(lang, "state.provisional") if h.provisional else t(lang, f"state.{h.state.value}")
    return f"{state}, {t(lang, 'revision', n=h.revision)}"


def _amount(mc: MonthCharges, h: StatementHeader) -> Decimal:
    if h.amount_eur is not None:
        return h.amount_eur
    cents = sum(ln.amount_cents for ln in mc.lines if ln.agency == h.agency)
    return Decimal(sign(h) * cents) / 100


def _period(mc: MonthCharges, names: Names, lang: str) -> str:
    first = mc.period_start.astimezone(names.tz).date()
    last = (mc.period_end.astimezone(names.tz) - timedelta(seconds=1)).date()
    return f"{day(first, lang)} - {day(last, lang)}"


def _statement(
    pdf: Any, mc: MonthCharges, h: StatementHeader, lang: str, names: Names, api_url: str | None
) -> None:
    footer = (
        f"{names.agency(h.agency)} - {month_name(lang, mc.month)} - "
        f"{h.number or t(lang, 'state.draft')}"
    )
    pdf.new_page(banner=banner(h, lang), footer=footer)
    _summary_page(pdf, mc, h, lang, names)
    pdf.add_page()
    sections.measured(pdf, mc, h.agency, lang, names)
    sections.priced(pdf, mc, h, lang, names)
    sections.estimated(pdf, mc, h.agency, lang, names)
    sections.bookings(pdf, mc, h.agency, lang, names)
    sections.audit(pdf, mc, h.agency, lang, names, api_url)


def _summary_page(pdf: Any, mc: MonthCharges, h: StatementHeader, lang: str, names: Names) -> None:
    credit = h.kind is StatementKind.CREDIT
    title = t(lang, "title.credit" if credit else "title")
    h1(pdf, f"{title} {month_name(lang, mc.month)}")
    para(pdf, f"{names.site_name(mc)} ({mc.site})", colour=MUTED)
    if h.references_number and not credit:
        para(pdf, t(lang, "banner.correction", number=h.references_number))
    pdf.ln(2)
    none = t(lang, "none")
    left = [
        (t(lang, "recipient"), names.agency(h.agency)),
        (t(lang, "business_id"), names.business_id(h.agency) or none),
        (t(lang, "cost_centre"), names.cost_centre(h.agency) or none),
        (t(lang, "period"), _period(mc, names, lang)),
    ]
    right = [
        (t(lang, "number"), h.number or none),
        (t(lang, "issue_date"), day(h.issue_date, lang)),
        (t(lang, "due_date"), day(h.due_date, lang)),
        (t(lang, "reference"), h.reference or none),
        (t(lang, "state"), _state(h, lang)),
    ]
    if h.references_number:
        right.append((t(lang, "credits" if credit else "replaces"), h.references_number))
    if h.run_id:
        right.append((t(lang, "run"), h.run_id))
    if h.approved_by:
        right.append((t(lang, "approved_by"), h.approved_by))
    top = pdf.get_y()
    bottom_l = key_values(pdf, left, x=pdf.l_margin, w=88, key_w=30)
    pdf.set_y(top)
    bottom_r = key_values(pdf, right, x=pdf.l_margin + 95, w=85, key_w=34)
    pdf.set_y(max(bottom_l, bottom_r) + 3)
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(
        0,
        8,
        latin1(
            f"{t(lang, 'amount_credit' if credit else 'amount_due')}: {money(_amount(mc, h), lang)}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if h.provisional:
        para(pdf, t(lang, "provisional.explain"))
    elif not is_invoice(h) and not credit:
        para(pdf, t(lang, "draft.explain"))
    para(pdf, t(lang, "times_note", tz=names.tz_label), size=8, colour=MUTED)
    _charts(pdf, mc, h.agency, lang, names)


def _charts(pdf: Any, mc: MonthCharges, agency: str, lang: str, names: Names) -> None:
    zones = zone_weighted_hours(mc, agency)
    weeks = week_weighted_hours(mc, agency)
    biggest = max([float(v) for _, v in zones] + [float(v) for *_, v in weeks] + [0.0])
    places = 0 if biggest >= 100 else 1

    def hours_fmt(v: Fraction | float) -> str:
        return number(Decimal(str(float(v))), lang, places)

    h2(pdf, t(lang, "chart.zones"))
    if zones:
        rows = [(names.zone(z), wh) for z, wh in zones]
        pdf.set_y(
            charts.horizontal_bars(
                pdf, x=pdf.l_margin, y=pdf.get_y() + 1, w=pdf.epw, rows=rows, fmt=hours_fmt
            )
            + 1
        )
    else:
        para(pdf, t(lang, "no_usage"))
    h2(pdf, t(lang, "chart.weeks"))
    first_day = mc.period_start.astimezone(names.tz).date()
    last_day = (mc.period_end.astimezone(names.tz) - timedelta(seconds=1)).date()
    bars = []
    for week, monday, wh in weeks:
        span = day_span(max(monday, first_day), min(monday + timedelta(days=6), last_day), lang)
        bars.append((t(lang, "week_short", w=int(week[-2:])) + "\n" + span, wh))
    pdf.set_y(
        charts.vertical_bars(
            pdf, x=pdf.l_margin, y=pdf.get_y() + 5, w=pdf.epw * 0.75, h=38, bars=bars, fmt=hours_fmt
        )
        + 1
    )
    total = usage_weighted_hours(mc, agency)
    para(pdf, t(lang, "chart.note", total=number(total, lang, 1)), size=7.5, colour=MUTED)
    h2(pdf, t(lang, "chart.shares"))
    cost, head = shares(mc, agency)
    rows = [(t(lang, "share.cost"), cost), (t(lang, "share.headcount"), head)]
    pdf.set_y(
        charts.share_bars(
            pdf,
            x=pdf.l_margin,
            y=pdf.get_y() + 1,
            w=pdf.epw,
            rows=rows,
            fmt=lambda v: percent(v, lang),
        )
    )


def _site_page(pdf: Any, mc: MonthCharges, lang: str, names: Names) -> None:
    h1(pdf, t(lang, "site_title", site=names.site_name(mc), month=month_name(lang, mc.month)))
    para(pdf, t(lang, "site_intro"))
    h2(pdf, t(lang, "agencies"))
    cols = ["agency", "col.headcount", "col.bookings", "col.no_shows", "col.amount"]
    rows = [
        [
            names.agency(a.agency)[:56],
            number(a.headcount_htv, lang, 1),
            str(a.bookings),
            str(a.no_shows),
            money(Fraction(a.amount_cents, 100), lang),
        ]
        for a in mc.agencies
    ]
    total = money(Fraction(sum(ln.amount_cents for ln in mc.lines), 100), lang)
    table(
        pdf,
        [t(lang, c) for c in cols],
        rows,
        [82, 18, 22, 23, 35],
        total=[t(lang, "total"), "", "", "", total],
    )
    for note in notes(mc, lang):
        para(pdf, note)
    pdf.ln(2)
    para(
        pdf,
        t(
            lang,
            "s5.versions",
            tariff=mc.tariff_version,
            sha=mc.tariff_hash,
            registry=mc.registry_version,
            inputs=mc.inputs_hash,
        ),
        size=7.5,
        colour=MUTED,
    )
