"""The statement's detail pages: what was measured, how it was priced, what
was estimated, bookings and no-shows, and the audit (every line recomputed in
words, with links to the raw reports)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from charging.charges import BASE_LINE, MonthCharges
from charging.header import StatementHeader
from charging.statements.figures import Names, notes, report_links, sign
from charging.statements.messages import local_time, money, number, percent, t
from charging.statements.text import MUTED, h2, link, para, table


def _agency(mc: MonthCharges, agency: str) -> Any:
    return next(a for a in mc.agencies if a.agency == agency)


def measured(pdf: Any, mc: MonthCharges, agency: str, lang: str, names: Names) -> None:
    a = _agency(mc, agency)
    h2(pdf, t(lang, "s1"))
    para(pdf, t(lang, "s1.text", share=percent(a.pool_share, lang)))
    usage = [ln for ln in mc.lines if ln.agency == agency and ln.line != BASE_LINE]
    cols = ["col.line", "col.dedicated", "col.booked", "col.pool", "col.no_show", "col.coverage"]
    table(
        pdf,
        [t(lang, c) for c in cols],
        [
            [
                names.line(ln.line),
                number(ln.hours_dedicated, lang),
                number(ln.hours_booked, lang),
                number(ln.hours_pool, lang),
                number(ln.hours_no_show, lang),
                percent(ln.coverage, lang),
            ]
            for ln in usage
        ],
        [50, 26, 26, 26, 26, 26],
    )


def _pricing_text(mc: MonthCharges, lang: str, names: Names) -> str:
    """The tariff in words, with the month's pots and totals."""
    p = mc.pricing
    if p.unit_prices is not None:
        up = p.unit_prices
        return t(
            lang,
            "s2.unit",
            tariff=mc.tariff_name,
            version=mc.tariff_version,
            base=money(Decimal(str(up.base_eur_per_htv)), lang),
            usage=money(Decimal(str(up.usage_eur_per_weighted_hour)), lang),
        )
    weights = ", ".join(
        f"{names.line(k.value)} {number(Decimal(str(v)), lang, 2)}"
        for k, v in sorted(p.weights.items(), key=lambda kv: kv[0].value)
    )
    total_htv = sum((x.headcount_htv for x in mc.agencies), Fraction(0))
    per_wh = mc.usage_pot_cents / mc.total_weighted_h / 100 if mc.total_weighted_h else None
    return t(
        lang,
        "s2.cost",
        tariff=mc.tariff_name,
        version=mc.tariff_version,
        cost=money(Fraction(mc.cost_cents, 100), lang),
        base_share=percent(Decimal(str(p.base_share)), lang, 0),
        base_pot=money(mc.base_pot_cents / 100, lang),
        htv=number(total_htv, lang, 1),
        usage_pot=money(mc.usage_pot_cents / 100, lang),
        wh=number(mc.total_weighted_h, lang, 1),
        per_wh=t(lang, "none") if per_wh is None else money(per_wh, lang),
        basis=p.weight_basis.value,
        weights=weights,
    )


def priced(pdf: Any, mc: MonthCharges, h: StatementHeader, lang: str, names: Names) -> None:
    h2(pdf, t(lang, "s2"))
    para(pdf, _pricing_text(mc, lang, names))
    s = sign(h)
    mine = [ln for ln in mc.lines if ln.agency == h.agency]
    rows = [
        [
            names.line(ln.line),
            f"{number(ln.headcount_htv, lang, 1)} htv"
            if ln.line == BASE_LINE
            else number(ln.hours, lang),
            "" if ln.weight is None else number(ln.weight, lang, 2),
            "" if ln.line == BASE_LINE else number(ln.weighted_hours, lang),
            money(Fraction(s * ln.amount_cents, 100), lang),
        ]
        for ln in mine
    ]
    total = money(Fraction(s * sum(ln.amount_cents for ln in mine), 100), lang)
    cols = ["col.line", "col.hours", "col.weight", "col.weighted", "col.amount"]
    table(
        pdf,
        [t(lang, c) for c in cols],
        rows,
        [60, 30, 25, 30, 35],
        total=[t(lang, "total"), "", "", "", total],
    )
    for note in notes(mc, lang):
        para(pdf, note)


def estimated(pdf: Any, mc: MonthCharges, agency: str, lang: str, names: Names) -> None:
    h2(pdf, t(lang, "s3"))
    min_cov = percent(Decimal(str(mc.pricing.min_coverage)), lang, 0)
    estimated = [ln for ln in mc.lines if ln.agency == agency and ln.estimated]
    if not estimated:
        para(pdf, t(lang, "s3.none", min=min_cov))
        return
    para(pdf, t(lang, "s3.some", min=min_cov))
    for ln in estimated:
        para(
            pdf,
            t(
                lang,
                "s3.line",
                line=names.line(ln.line),
                coverage=percent(ln.coverage, lang),
                scale=number(ln.scale, lang, 3),
            ),
        )


def bookings(pdf: Any, mc: MonthCharges, agency: str, lang: str, names: Names) -> None:
    a = _agency(mc, agency)
    ns = mc.pricing.no_show
    h2(pdf, t(lang, "s4"))
    para(
        pdf,
        t(
            lang,
            "s4.text",
            bookings=a.bookings,
            no_shows=a.no_shows,
            window=ns.window_minutes,
            hours=number(a.no_show_h, lang),
            charged=t(lang, "s4.charged" if ns.charge_booked_hours else "s4.not_charged"),
            unverified=a.unverified,
        ),
    )
    mine = [n for n in mc.no_shows if n.agency == agency]
    if not mine:
        return
    cols = ["col.booking", "col.space", "col.start", "col.status", "col.booked", "col.charged"]
    table(
        pdf,
        [t(lang, c) for c in cols],
        [
            [
                n.booking_id[:28],
                names.space(n.space)[:30],
                local_time(n.start, lang, names.tz),
                t(lang, f"status.{n.status}"),
                number(n.booked_h, lang),
                number(n.charged_h, lang),
            ]
            for n in mine
        ],
        [42, 47, 33, 20, 19, 19],
        text_columns=4,
    )


def audit(
    pdf: Any, mc: MonthCharges, agency: str, lang: str, names: Names, api_url: str | None
) -> None:
    h2(pdf, t(lang, "s5"))
    total_htv = sum((x.headcount_htv for x in mc.agencies), Fraction(0))
    for ln in (x for x in mc.lines if x.agency == agency):
        para(pdf, _audit_line(mc, ln, lang, names, total_htv), size=8.5)
        pdf.ln(0.8)
    if mc.pricing.unit_prices is None:
        para(pdf, t(lang, "s5.rounding"), size=8.5)
    pdf.ln(1)
    para(pdf, t(lang, "s5.raw"), size=8.5)
    for key, url in report_links(mc, agency, api_url):
        link(pdf, t(lang, key), url)
    pdf.ln(1)
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


def _audit_line(mc: MonthCharges, ln: Any, lang: str, names: Names, total_htv: Fraction) -> str:
    amount = money(Fraction(ln.amount_cents, 100), lang)
    quota = money(ln.quota_cents / 100, lang)
    up = mc.pricing.unit_prices
    if up is not None:
        if ln.line == BASE_LINE:
            qty, price = f"{number(ln.headcount_htv, lang, 1)} htv", up.base_eur_per_htv
        else:
            qty, price = f"{number(ln.weighted_hours, lang)} h", up.usage_eur_per_weighted_hour
        return t(
            lang,
            "s5.unit_line",
            line=names.line(ln.line),
            quantity=qty,
            price=money(Decimal(str(price)), lang),
            amount=amount,
        )
    if ln.line == BASE_LINE:
        return t(
            lang,
            "s5.base",
            line=names.line(ln.line),
            base_pot=money(mc.base_pot_cents / 100, lang),
            htv=number(ln.headcount_htv, lang, 1),
            total_htv=number(total_htv, lang, 1),
            quota=quota,
            amount=amount,
        )
    return t(
        lang,
        "s5.usage",
        line=names.line(ln.line),
        ded=number(ln.hours_dedicated, lang),
        bkd=number(ln.hours_booked, lang),
        pool=number(ln.hours_pool, lang),
        scale=number(ln.scale, lang, 3),
        ns=number(ln.hours_no_show, lang),
        hours=number(ln.hours, lang),
        wh=number(ln.weighted_hours, lang),
        usage_pot=money(mc.usage_pot_cents / 100, lang),
        total_wh=number(mc.total_weighted_h, lang),
        quota=quota,
        amount=amount,
    )
