"""The agency's report as a PDF: a summary page (figures against the target
and the portfolio, the m²/htv trend), a section per site (daily peaks, use
rate by weekday, utilisation by zone, forecast, coverage), then the energy
section when there is one and the definitions. Drawn from ``data.gather``'s
dict with the statements' building blocks (charging/statements/text.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from api.agency_report import charts
from api.agency_report.messages import (
    check_lang,
    day,
    month_name,
    number,
    percent,
    short_month,
    t,
    weekday,
)
from charging.statements.charts import horizontal_bars, vertical_bars
from charging.statements.text import MUTED, StatementPDF, h1, h2, key_values, latin1, para, table

#: The efficiency figures the report prints, in order, with their format:
#: (column, kind) where kind is "num1", "num0", "pct" or "bool". A column the
#: efficiency rows gain is shown by adding it here and its "f.<column>" text.
FIGURES: tuple[tuple[str, str], ...] = (
    ("headcount_htv", "num1"),
    ("desks", "num0"),
    ("area_m2", "num1"),
    ("m2_per_htv", "num1"),
    ("target_m2_per_htv", "num1"),
    ("use_rate_mean", "pct"),
    ("use_rate_p90", "pct"),
    ("use_rate_max", "pct"),
    ("peak_desks", "num1"),
    ("utilisation", "pct"),
    ("coverage", "pct"),
    ("desks_held", "num1"),
    ("desks_needed", "num0"),
    ("releasable_desks", "num0"),
    ("releasable_m2", "num1"),
    ("m2_per_htv_after", "num1"),
)


def fmt_value(value: Any, kind: str, lang: str) -> str:
    if value is None:
        return t(lang, "none")
    if kind == "bool":
        return t(lang, "yes" if value else "no")
    if kind == "pct":
        return percent(Fraction(value), lang)
    return number(Fraction(value), lang, 0 if kind == "num0" else 1)


def period_text(report: dict[str, Any], lang: str) -> str:
    p = report["period"]
    if p["kind"] == "month":
        return month_name(lang, p["label"])
    return t(lang, "year", year=p["label"])


def _figure(fig: dict[str, Any] | None, col: str, kind: str, lang: str) -> str:
    return fmt_value(None if fig is None else fig.get(col), kind, lang)


def _day_label(iso: str, lang: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day}.{d.month}." if lang != "en" else f"{d.month:02d}-{d.day:02d}"


def render_pdf(report: dict[str, Any], *, lang: str) -> bytes:
    lang = check_lang(lang)
    label = f"{report['agency']['name']} - {period_text(report, lang)}"
    pdf = StatementPDF(page_label=t(lang, "page", n="{n}", total="{total}"), footer_text=label)
    pdf.set_title(latin1(f"{t(lang, 'title')}: {label}"))
    pdf.set_author("occupancy agency report")
    pdf.set_lang(lang)
    pdf.set_creation_date(_creation(report))
    pdf.new_page(banner=None, footer=label)
    _summary(pdf, report, lang)
    for site in report["sites"]:
        pdf.add_page()
        _site(pdf, site, lang)
    if report.get("energy"):
        _energy(pdf, report["energy"], lang)
    _coverage_and_definitions(pdf, report, lang)
    return bytes(pdf.output())


def _creation(report: dict[str, Any]) -> datetime:
    # the period's start: the same report gives the same bytes (no clock inside)
    return datetime.fromisoformat(report["period"]["from"]).replace(tzinfo=UTC)


def _summary(pdf: StatementPDF, report: dict[str, Any], lang: str) -> None:
    h1(pdf, t(lang, "title"))
    para(
        pdf,
        t(lang, "subtitle", agency=report["agency"]["name"], period=period_text(report, lang)),
        size=11,
    )
    total = report["total"]
    names = ", ".join(s["name"] for s in report["sites"])
    para(
        pdf, t(lang, "sites_line", sites=names, htv=fmt_value(total["headcount_htv"], "num1", lang))
    )
    h2(pdf, t(lang, "h.summary"))
    fig, whole = total["figures"], report["portfolio"]["figures"]
    rows = [
        [t(lang, f"f.{col}"), _figure(fig, col, kind, lang), _figure(whole, col, kind, lang)]
        for col, kind in FIGURES
    ]
    header = [
        t(lang, "col.figure"),
        t(lang, "col.total"),
        t(lang, "col.portfolio", n=report["portfolio"]["sites"]),
    ]
    table(pdf, header, rows, [80, 50, 50])
    pdf.ln(2)
    if fig is not None and fig.get("m2_per_htv") is not None:
        value, target = fig["m2_per_htv"], fig["target_m2_per_htv"]
        verdict = (
            t(lang, "verdict.meets")
            if value <= target + 1e-9
            else t(lang, "verdict.misses", gap=fmt_value(value - target, "num1", lang))
        )
        para(
            pdf,
            t(
                lang,
                "target_line",
                value=fmt_value(value, "num1", lang),
                target=fmt_value(target, "num1", lang),
                verdict=verdict,
            ),
        )
    if whole is not None and whole.get("m2_per_htv") is not None:
        para(
            pdf,
            t(
                lang,
                "portfolio_line",
                value=fmt_value(whole["m2_per_htv"], "num1", lang),
                target=fmt_value(whole.get("target_m2_per_htv"), "num1", lang),
            ),
        )
    if report["meta"]["agency_key"]:
        para(pdf, t(lang, "agency_key_note"), size=7.5, colour=MUTED)
    _trend(pdf, report["trend"], lang)
    if len(report["sites"]) > 1:  # the total's daily peaks: every site's added up per day
        _daily(pdf, {**report["total"], "heading": t(lang, "h.daily_total")}, lang)


def _trend(pdf: StatementPDF, trend: list[dict[str, Any]], lang: str) -> None:
    if not trend:
        return
    h2(pdf, t(lang, "h.trend"))
    y = pdf.get_y() + 2
    chart = charts.Chart(
        labels=[short_month(lang, r["month"]) for r in trend],
        series=[
            charts.Series([r["m2_per_htv"] if r["measured"] else None for r in trend]),
            charts.Series(
                [None if r["measured"] else r["m2_per_htv"] for r in trend], colour=charts.PALE
            ),
            charts.Series(
                [r["target_m2_per_htv"] for r in trend],
                kind="line",
                colour=charts.TARGET,
                dashed=True,
            ),
            charts.Series(
                [r["portfolio_m2_per_htv"] for r in trend], kind="dot", colour=charts.BAR_2
            ),
        ],
        fmt=lambda v: fmt_value(v, "num1", lang),
    )
    bottom = charts.series_chart(pdf, x=pdf.l_margin, y=y, w=pdf.epw, h=45, chart=chart)
    pdf.set_y(bottom)
    para(pdf, t(lang, "trend_legend"), size=7.5, colour=MUTED)


def _site(pdf: StatementPDF, site: dict[str, Any], lang: str) -> None:
    h1(pdf, t(lang, "h.site", site=site["name"]), size=13)
    place = ", ".join(p for p in (site["municipality"], site["region_name"]) if p)
    para(
        pdf,
        t(lang, "site_line", place=place, tz=site["timezone"]).lstrip(". "),
        size=8,
        colour=MUTED,
    )
    pdf.ln(1)
    fig = site["figures"]
    pairs = [(t(lang, f"f.{col}"), _figure(fig, col, kind, lang)) for col, kind in FIGURES]
    half = (len(pairs) + 1) // 2
    top = pdf.get_y()
    left = key_values(pdf, pairs[:half], x=pdf.l_margin, w=88, key_w=58)
    pdf.set_y(top)
    right = key_values(pdf, pairs[half:], x=pdf.l_margin + 92, w=88, key_w=58)
    pdf.set_y(max(left, right) + 1)
    _daily(pdf, site, lang)
    _weekday_and_zones(pdf, site, lang)
    _forecast(pdf, site, lang)


def _daily(pdf: StatementPDF, site: dict[str, Any], lang: str) -> None:
    _ensure(pdf, 60)
    h2(pdf, site.get("heading") or t(lang, "h.daily"))
    days = site["daily_peaks"]
    para(pdf, t(lang, "daily_caption", n=len(days)), size=7.5, colour=MUTED)
    if not days:
        para(pdf, t(lang, "no_data"))
        return
    peak = {d["day"]: d["peak"] for d in days}
    calendar = sorted({*site["open_days"], *peak})  # open days yet to be summed stay empty
    chart = charts.Chart(
        labels=[_day_label(d, lang) for d in calendar],
        series=[charts.Series([peak.get(d) for d in calendar])],
        # a fractional presence (the pool share): one decimal
        fmt=lambda v: fmt_value(v, "num1", lang),
        integer=True,
    )
    pdf.set_y(
        charts.series_chart(pdf, x=pdf.l_margin, y=pdf.get_y() + 2, w=pdf.epw, h=38, chart=chart)
    )


def _ensure(pdf: StatementPDF, height: float) -> None:
    if pdf.will_page_break(height):
        pdf.add_page()


def _weekday_and_zones(pdf: StatementPDF, site: dict[str, Any], lang: str) -> None:
    zones = site["zones"]
    _ensure(pdf, 14 + max(40, 6 * len(zones)))
    y = pdf.get_y() + 2
    pdf.set_font("helvetica", "B", 10)
    pdf.set_xy(pdf.l_margin, y)
    pdf.cell(80, 6, latin1(t(lang, "h.weekday")))
    pdf.set_xy(pdf.l_margin + 90, y)
    pdf.cell(90, 6, latin1(t(lang, "h.zones")))

    def pct(v: Fraction) -> str:
        return percent(v, lang, 0)

    bars = [
        (weekday(lang, w["weekday"]), Fraction(w["use_rate_mean"] or 0))
        for w in site["weekday_use"]
    ]
    b1 = (
        vertical_bars(pdf, x=pdf.l_margin, y=y + 10, w=80, h=30, bars=bars, fmt=pct)
        if bars
        else y + 10
    )
    rows = [
        (
            t(lang, "shared_zone", zone=z["name"]) if z["shared"] else z["name"],
            Fraction(z["utilisation"] or 0),
        )
        for z in zones
    ]
    b2 = (
        horizontal_bars(pdf, x=pdf.l_margin + 90, y=y + 8, w=90, rows=rows, fmt=pct, label_w=45)
        if rows
        else y + 8
    )
    pdf.set_y(max(b1, b2) + 2)


def _forecast(pdf: StatementPDF, site: dict[str, Any], lang: str) -> None:
    fc = site["forecast"]
    _ensure(pdf, 60)
    h2(pdf, t(lang, "h.forecast"))
    start = date.fromisoformat(fc["forecast_from"])
    para(
        pdf,
        t(lang, "forecast_caption", start=day(start, lang), days=fc["history_days_measured"]),
        size=7.5,
        colour=MUTED,
    )
    rows = fc["rows"]
    if not rows:
        para(pdf, t(lang, "no_data"))
        return
    chart = charts.Chart(
        labels=[_day_label(r["day"], lang) for r in rows],
        series=[charts.Series([r["forecast"] for r in rows], kind="line+dot")],
        band=([r["lower"] for r in rows], [r["upper"] for r in rows]),
        fmt=lambda v: fmt_value(v, "num0", lang),
        integer=True,
    )
    pdf.set_y(
        charts.series_chart(pdf, x=pdf.l_margin, y=pdf.get_y() + 2, w=pdf.epw, h=32, chart=chart)
    )


def _energy(pdf: StatementPDF, energy: dict[str, Any], lang: str) -> None:
    # the energy section's own renderer comes with it; until then its rows as text
    _ensure(pdf, 30)
    h2(pdf, t(lang, "h.energy"))
    for key, value in energy.items():
        para(pdf, f"{key}: {value}", size=8)


def _coverage_and_definitions(pdf: StatementPDF, report: dict[str, Any], lang: str) -> None:
    _ensure(pdf, 70)
    h2(pdf, t(lang, "h.coverage"))
    for site in report["sites"]:
        cov = site["coverage"]
        para(
            pdf,
            t(
                lang,
                "coverage_line",
                site=site["name"],
                coverage=fmt_value(cov["coverage"], "pct", lang),
                summaries=cov["days_from_summaries"],
                raw=len(cov["days_from_raw"]),
            ),
            size=8,
        )
        if cov["missing_days"]:
            para(pdf, t(lang, "coverage_missing", days=", ".join(cov["missing_days"])), size=8)
    h2(pdf, t(lang, "h.definitions"))
    margin = fmt_value(report["meta"]["rightsizing_margin"], "pct", lang)
    for key in ("use_rate", "m2_per_htv", "utilisation", "releasable", "forecast", "portfolio"):
        para(pdf, t(lang, f"def.{key}", margin=margin), size=7.5, colour=MUTED)
