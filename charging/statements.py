"""Charge statements as CSV, XLSX, JSON and PDF, byte-identical for the same inputs.

With ``agency=None`` a document covers the whole site (finance); with an agency
id it holds only what that agency may see: its own lines, the spaces it used,
its no-shows and the site totals needed to recompute its amounts.

Nothing here reads a clock: every date in a document is the month's own, so
rerunning a month gives the same bytes (XLSX and PDF embed creation times,
which are pinned to the start of the month).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from charging.charges import LINE_FIELDS, MonthCharges
from charging.header import StatementHeader

FORMATS = ("csv", "json", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(
    mc: MonthCharges, fmt: str, *, agency: str | None = None, header: StatementHeader | None = None
) -> bytes:
    """The charges of ``mc`` in ``fmt`` (one of ``FORMATS``); ``header``: what
    the statement says about itself (number, dates, state; charging/header.py)."""
    renderers: dict[str, Callable[..., bytes]] = {
        "csv": render_csv,
        "json": render_json,
        "xlsx": render_xlsx,
        "pdf": render_pdf,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fmt == "json":
        return render_json(mc, agency=agency, header=header)
    return renderers[fmt](mc, agency=agency)


def render_json(
    mc: MonthCharges, *, agency: str | None = None, header: StatementHeader | None = None
) -> bytes:
    d = mc.to_dict(agency=agency)
    if header is not None:
        d["statement"] = header_dict(header)
    return (json.dumps(d, indent=2, ensure_ascii=False) + "\n").encode()


def header_dict(h: StatementHeader) -> dict[str, Any]:
    return {
        "number": h.number,
        "state": h.state.value,
        "kind": h.kind.value,
        "provisional": h.provisional,
        "issue_date": None if h.issue_date is None else h.issue_date.isoformat(),
        "due_date": None if h.due_date is None else h.due_date.isoformat(),
        "reference": h.reference,
        "references_number": h.references_number,
        "run": h.run_id,
        "revision": h.revision,
        "inputs_hash": h.inputs_hash,
        "approved_by": h.approved_by,
        "approved_at": None if h.approved_at is None else h.approved_at.isoformat(),
        "amount_eur": None if h.amount_eur is None else f"{h.amount_eur:.2f}",
    }


def render_csv(mc: MonthCharges, *, agency: str | None = None) -> bytes:
    """One row per charge line (``LINE_FIELDS``); amounts in EUR with a point."""
    lines = mc.to_dict(agency=agency)["lines"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LINE_FIELDS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow({**line, "estimated": int(line["estimated"])})
    return buf.getvalue().encode()


# ---- XLSX ------------------------------------------------------------------------

_NUMERIC = {
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
    "quota_eur",
    "amount_eur",
    "opening_hours",
    "observed_hours",
    "occupied_hours",
    "pool_hours",
    "booked_hours",
    "charged_hours",
}


def _cell(key: str, value: Any) -> Any:
    if key in _NUMERIC and isinstance(value, str) and value:
        return Decimal(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return "; ".join(f"{k} {v}" for k, v in value.items())
    return value


def render_xlsx(mc: MonthCharges, *, agency: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    d = mc.to_dict(agency=agency)
    wb = Workbook()
    bold = Font(bold=True)
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    for row in _summary_rows(d):
        summary.append(list(row))
    summary.append([])
    summary.append(["agency", "name", "headcount_htv", "amount_eur", "bookings", "no_shows"])
    for a in d["agencies"]:
        summary.append(
            [
                a["agency"],
                a["name"],
                Decimal(a["headcount_htv"]),
                Decimal(a["amount_eur"]),
                a["bookings"],
                a["no_shows"],
            ]
        )
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 40

    tables = [
        ("Lines", LINE_FIELDS, d["lines"]),
        ("Spaces", list(d["spaces"][0]) if d["spaces"] else ["space"], d["spaces"]),
        (
            "No-shows",
            [
                "booking_id",
                "agency",
                "space",
                "start",
                "end",
                "status",
                "booked_hours",
                "charged_hours",
            ],
            d["no_shows"],
        ),
    ]
    for title, header, rows in tables:
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([_cell(k, row[k]) for k in header])
        ws.freeze_panes = "A2"
    when = mc.period_start.astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "occupancy charges"
    wb.properties.created = when
    buf = io.BytesIO()
    wb.save(buf)
    return _pin_zip(buf.getvalue(), when)


def _pin_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip with fixed entry times and a fixed 'modified' property,
    which openpyxl sets to the wall clock on every save."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    body,
                )
            pinned = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            dst.writestr(pinned, body)
    return out.getvalue()


def _summary_rows(d: dict[str, Any]) -> list[tuple[str, Any]]:
    t, tot = d["tariff"], d["totals"]
    return [
        ("site", f"{d['site']} ({d['site_name']})"),
        ("month", d["month"]),
        ("agency", d["agency"] or "all agencies"),
        ("cost to recover (EUR)", Decimal(tot["cost_eur"])),
        ("base pot by headcount (EUR)", Decimal(tot["base_pot_eur"])),
        ("usage pot by weighted hours (EUR)", Decimal(tot["usage_pot_eur"])),
        ("total weighted hours", Decimal(tot["total_weighted_hours"])),
        ("EUR per weighted hour", tot["eur_per_weighted_hour"] or "-"),
        ("total headcount (htv)", Decimal(tot["total_headcount_htv"])),
        ("shared pool allocated by", tot["pool_basis"]),
        ("usage allocated by", tot["usage_basis"]),
        ("tariff", f"{t['name']} version {t['version']}"),
        ("tariff sha256", t["sha256"]),
        ("registry version", d["registry_version"]),
        ("inputs hash (sha256)", d["inputs_hash"]),
    ]


# ---- PDF -------------------------------------------------------------------------

_REPLACE = {"€": "EUR", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."}


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw: they cover Latin-1 (so ä, ö, å, é are
    fine); anything else is transliterated, or '?' as a last resort."""
    out = []
    for ch in str(text):
        if ord(ch) < 256:
            out.append(ch)
        elif ch in _REPLACE:
            out.append(_REPLACE[ch])
        else:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def render_pdf(mc: MonthCharges, *, agency: str | None = None) -> bytes:
    """A statement an agency can read: what was measured, how it was priced,
    what was estimated and its no-shows. For finance (no agency): a site page,
    then one statement per agency."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(mc.period_start.astimezone(UTC))
    pdf.set_title(latin1(f"Charges {mc.site} {mc.month}"))
    pdf.set_author("occupancy charges")
    pdf.set_auto_page_break(auto=True, margin=15)
    if agency is None:
        _site_page(pdf, mc.to_dict())
        for a in mc.agency_ids:
            _statement(pdf, mc.to_dict(agency=a))
    else:
        _statement(pdf, mc.to_dict(agency=agency))
    return bytes(pdf.output())


def _h1(pdf: Any, text: str) -> None:
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _h2(pdf: Any, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _para(pdf: Any, text: str) -> None:
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(0, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: Any, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    pdf.set_font("helvetica", "B", 8)
    for text, w in zip(header, widths, strict=True):
        pdf.cell(w, 5, latin1(text), border="B")
    pdf.ln()
    pdf.set_font("helvetica", "", 8)
    for row in rows:
        for i, (text, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 4.5, latin1(text), align="L" if i == 0 else "R")
        pdf.ln()


def _site_page(pdf: Any, d: dict[str, Any]) -> None:
    pdf.add_page()
    _h1(pdf, f"Usage-based charges, {d['site_name']} ({d['site']}), {d['month']}")
    _para(pdf, "Site summary for finance. Each agency's statement follows on its own page.")
    _h2(pdf, "Totals")
    _table(
        pdf,
        ["item", "value"],
        [[k, str(v)] for k, v in _summary_rows(d) if k not in {"agency"}],
        [70, 110],
    )
    _h2(pdf, "Agencies")
    _table(
        pdf,
        ["agency", "headcount htv", "bookings", "no-shows", "amount EUR"],
        [
            [
                a["agency"],
                a["headcount_htv"],
                str(a["bookings"]),
                str(a["no_shows"]),
                a["amount_eur"],
            ]
            for a in d["agencies"]
        ]
        + [["total", "", "", "", d["totals"]["lines_sum_eur"]]],
        [50, 35, 30, 30, 35],
    )
    for note in d["notes"]:
        _para(pdf, note)


def _statement(pdf: Any, d: dict[str, Any]) -> None:
    a = d["agencies"][0]
    t, tot = d["tariff"], d["totals"]
    lines = d["lines"]
    usage = [ln for ln in lines if ln["line"] != "base"]
    base = next(ln for ln in lines if ln["line"] == "base")
    pdf.add_page()
    _h1(pdf, f"Charge statement {d['month']}: {a['name']} ({a['agency']})")
    _para(
        pdf,
        f"Site {d['site_name']} ({d['site']}), period {d['period_start']} to "
        f"{d['period_end']} (local calendar month). Amount due: {a['amount_eur']} "
        f"{d['currency']}.",
    )

    _h2(pdf, "1. What was measured")
    _para(
        pdf,
        "Occupied hours inside opening hours, from presence sensors. Dedicated: "
        "spaces in your zones. Booked: shared spaces during your bookings. Pool: "
        "your share of unbooked use of shared spaces, in proportion to your "
        f"attributed use ({_pct(a['pool_share'])} this month). Coverage: the share "
        "of opening time the sensors observed.",
    )
    _table(
        pdf,
        ["line", "dedicated h", "booked h", "pool h", "no-show h", "coverage"],
        [
            [
                ln["line"],
                ln["hours_dedicated"],
                ln["hours_booked"],
                ln["hours_pool"],
                ln["hours_no_show"],
                _pct(ln["coverage"]),
            ]
            for ln in usage
        ],
        [40, 28, 28, 28, 28, 28],
    )

    _h2(pdf, "2. How it was priced")
    if t["pricing"] == "cost_to_recover":
        _para(
            pdf,
            f"Tariff '{t['name']}' version {t['version']}. The site's cost to recover is "
            f"{tot['cost_eur']} EUR: {_pct(t['base_share'])} by headcount "
            f"({tot['base_pot_eur']} EUR over {tot['total_headcount_htv']} htv) and the "
            f"rest by weighted hours ({tot['usage_pot_eur']} EUR over "
            f"{tot['total_weighted_hours']} weighted hours, "
            f"{tot['eur_per_weighted_hour'] or '-'} EUR each). Weights "
            f"({t['weight_basis']}): "
            + ", ".join(f"{k} {v}" for k, v in t["weights"].items())
            + ". Amounts are rounded to the cent by the largest-remainder method, so the "
            "lines of all agencies sum exactly to the cost.",
        )
    else:
        up = t["unit_prices"]
        _para(
            pdf,
            f"Tariff '{t['name']}' version {t['version']}: {up['base_eur_per_htv']} EUR per "
            f"htv and {up['usage_eur_per_weighted_hour']} EUR per weighted hour.",
        )
    _table(
        pdf,
        ["line", "hours", "weight", "weighted h", "exact EUR", "amount EUR"],
        [
            [
                "base (headcount)",
                f"{base['headcount_htv']} htv",
                "",
                "",
                base["quota_eur"],
                base["amount_eur"],
            ]
        ]
        + [
            [
                ln["line"],
                ln["hours"],
                ln["weight"],
                ln["weighted_hours"],
                ln["quota_eur"],
                ln["amount_eur"],
            ]
            for ln in usage
        ]
        + [["total", "", "", "", "", a["amount_eur"]]],
        [40, 28, 22, 30, 30, 30],
    )

    _h2(pdf, "3. What was estimated")
    estimated = [ln for ln in usage if ln["estimated"]]
    if estimated:
        _para(
            pdf,
            f"Lines whose coverage is below {_pct(t['min_coverage'])} are estimated: their "
            "measured hours are divided by the coverage (the unobserved time is assumed "
            "to have been used at the observed rate).",
        )
        for ln in estimated:
            _para(pdf, f"- {ln['line']}: coverage {_pct(ln['coverage'])}, scale {ln['scale']}")
    else:
        _para(pdf, f"Nothing: every line had coverage of at least {_pct(t['min_coverage'])}.")

    _h2(pdf, "4. Bookings and no-shows")
    window = t["no_show_window_minutes"]
    charged = "are" if t["no_show_charge_booked_hours"] else "are not"
    _para(
        pdf,
        f"{a['bookings']} bookings started this month; {a['no_shows']} were no-shows (no "
        f"presence in the first {window} minutes), {a['no_show_hours']} booked hours. "
        f"Unused booked hours of no-shows {charged} charged. {a['unverified_no_shows']} "
        "bookings could not be verified (sensor not observing) and are not counted.",
    )
    if d["no_shows"]:
        _table(
            pdf,
            ["booking", "space", "start", "status", "booked h", "charged h"],
            [
                [
                    n["booking_id"][:30],
                    n["space"],
                    n["start"][:16],
                    n["status"],
                    n["booked_hours"],
                    n["charged_hours"],
                ]
                for n in d["no_shows"]
            ],
            [50, 28, 36, 22, 22, 22],
        )

    _h2(pdf, "5. Audit trail")
    _para(
        pdf,
        f"Tariff version {t['version']} (sha256 {t['sha256']}); registry version "
        f"{d['registry_version']}; inputs hash {d['inputs_hash']}. The JSON statement "
        "lists the hours per space; see docs/charging.md for recomputing each line.",
    )


def _pct(value: str) -> str:
    return f"{Decimal(value) * 100:.1f} %"
