"""The XLSX statement: Summary (the header, the totals, the agencies), Lines,
Spaces and No-shows, in the reader's language, with numbers and dates as real
cells (number formats, not text), sized columns and a frozen header row."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from charging.charges import BASE_LINE, MonthCharges
from charging.header import StatementHeader, StatementKind
from charging.statements.figures import Names, banner, sign, statement_header
from charging.statements.messages import month_name, t

EUR = '#,##0.00\\ "€"'
EUR_EXACT = '#,##0.000000\\ "€"'
HOURS = "#,##0.00"
HOURS_EXACT = "#,##0.0000"
PERCENT = "0.0%"
FACTOR = "0.000"
COUNT = "0"

#: (field, message key, number format); a format of None is text.
LINE_COLUMNS: list[tuple[str, str, str | None]] = [
    ("agency", "agency", None),
    ("line", "col.line", None),
    ("hours_dedicated", "col.dedicated", HOURS_EXACT),
    ("hours_booked", "col.booked", HOURS_EXACT),
    ("hours_pool", "col.pool", HOURS_EXACT),
    ("hours_no_show", "col.no_show", HOURS_EXACT),
    ("scale", "xl.scale", FACTOR),
    ("hours", "col.hours", HOURS_EXACT),
    ("weight", "col.weight", FACTOR),
    ("weighted_hours", "col.weighted", HOURS_EXACT),
    ("headcount_htv", "col.headcount", HOURS),
    ("coverage", "col.coverage", PERCENT),
    ("estimated", "xl.estimated", None),
    ("quota_eur", "xl.quota", EUR_EXACT),
    ("amount_eur", "col.amount", EUR),
    ("tariff_version", "xl.tariff_version", None),
    ("registry_version", "xl.registry_version", None),
    ("inputs_hash", "xl.inputs_hash", None),
]


def date_format(lang: str) -> str:
    return "yyyy-mm-dd" if lang == "en" else "d.m.yyyy"


def render_xlsx(
    mc: MonthCharges,
    *,
    agency: str | None,
    header: StatementHeader | None,
    lang: str,
    names: Names,
) -> bytes:
    from openpyxl import Workbook

    if agency is None and header is not None:
        agency = header.agency
    d = mc.to_dict(agency=agency)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t(lang, "sheet.summary")
    _summary(ws, mc, d, agency, header, lang, names)
    _lines(wb.create_sheet(t(lang, "sheet.lines")), d, header, lang, names)
    _spaces(wb.create_sheet(t(lang, "sheet.spaces")), d, agency, lang, names)
    _no_shows(wb.create_sheet(t(lang, "sheet.no_shows")), d, lang, names)
    when = mc.period_start.astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "occupancy charges"
    wb.properties.created = when
    wb.properties.language = lang
    buf = io.BytesIO()
    wb.save(buf)
    return _pin_zip(buf.getvalue(), when)


def _table(
    ws: Any,
    columns: Sequence[tuple[str, str | None]],
    rows: Sequence[Sequence[Any]],
    *,
    first_row: int = 1,
    freeze: bool = True,
) -> None:
    """A header row (bold, frozen) and rows, with each column's number format."""
    from openpyxl.styles import Font

    for c, (title, _) in enumerate(columns, start=1):
        ws.cell(row=first_row, column=c, value=title).font = Font(bold=True)
    for r, row in enumerate(rows, start=first_row + 1):
        for c, ((_, fmt), value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if fmt is not None:
                cell.number_format = fmt
    if freeze:
        ws.freeze_panes = ws.cell(row=first_row + 1, column=1).coordinate
    _widths(ws)


def _widths(ws: Any) -> None:
    """Each column as wide as its longest value (as displayed, roughly), 8 to 60."""
    from openpyxl.utils import get_column_letter

    longest: dict[int, int] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            v = cell.value
            if isinstance(v, Decimal | float | int):
                text = f"{v:,.2f}" + (" €" if "€" in cell.number_format else "")
            elif isinstance(v, datetime | date):
                text = "00.00.0000 00:00" if isinstance(v, datetime) else "00.00.0000"
            else:
                text = str(v)
            longest[cell.column] = max(longest.get(cell.column, 0), len(text))
    for col, n in longest.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(n + 2, 8), 60)


def _num(value: str | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def _statement_rows(
    mc: MonthCharges, agency: str, header: StatementHeader | None, lang: str, names: Names
) -> tuple[str | None, list[tuple[str, Any, str | None]]]:
    """The banner (None on an invoice) and the header rows of one agency's statement."""
    h = statement_header(mc, agency, header)
    none = t(lang, "none")
    state = t(lang, "state.provisional") if h.provisional else t(lang, f"state.{h.state.value}")
    rows: list[tuple[str, Any, str | None]] = [
        (t(lang, "agency"), names.agency(agency), None),
        (t(lang, "business_id"), names.business_id(agency) or none, None),
        (t(lang, "cost_centre"), names.cost_centre(agency) or none, None),
        (t(lang, "number"), h.number or none, None),
        (t(lang, "issue_date"), h.issue_date or none, date_format(lang)),
        (t(lang, "due_date"), h.due_date or none, date_format(lang)),
        (t(lang, "reference"), h.reference or none, None),
        (t(lang, "state"), f"{state}, {t(lang, 'revision', n=h.revision)}", None),
    ]
    credit = h.kind is StatementKind.CREDIT
    if h.references_number:
        rows.append((t(lang, "credits" if credit else "replaces"), h.references_number, None))
    cents = sum(ln.amount_cents for ln in mc.lines if ln.agency == agency)
    amount = h.amount_eur if h.amount_eur is not None else Decimal(sign(h) * cents) / 100
    rows.append((t(lang, "amount_credit" if credit else "amount_due"), amount, EUR))
    return banner(h, lang), rows


def _summary(
    ws: Any,
    mc: MonthCharges,
    d: dict[str, Any],
    agency: str | None,
    header: StatementHeader | None,
    lang: str,
    names: Names,
) -> None:
    from openpyxl.styles import Font

    tot = d["totals"]
    rows: list[tuple[str, Any, str | None]] = [
        (t(lang, "site"), f"{names.site_name(mc)} ({mc.site})", None),
        (t(lang, "period"), month_name(lang, mc.month), None),
    ]
    top: str | None = t(lang, "banner.draft")  # the site summary is never an invoice
    if agency is not None:
        top, own = _statement_rows(mc, agency, header, lang, names)
        rows += own
    rows += [
        (t(lang, "xl.cost"), Decimal(tot["cost_eur"]), EUR),
        (t(lang, "xl.base_pot"), Decimal(tot["base_pot_eur"]), EUR_EXACT),
        (t(lang, "xl.usage_pot"), Decimal(tot["usage_pot_eur"]), EUR_EXACT),
        (t(lang, "xl.total_wh"), Decimal(tot["total_weighted_hours"]), HOURS_EXACT),
        (t(lang, "xl.total_htv"), Decimal(tot["total_headcount_htv"]), HOURS),
        (t(lang, "xl.tariff"), f"{d['tariff']['name']} {d['tariff']['version']}", None),
        (t(lang, "xl.registry_version"), d["registry_version"], None),
        (t(lang, "xl.inputs_hash"), d["inputs_hash"], None),
    ]
    first = 1
    if top is not None:
        ws.cell(row=1, column=1, value=top).font = Font(bold=True, color="AA1E1E", size=12)
        first = 3
    for r, (key, value, fmt) in enumerate(rows, start=first):
        ws.cell(row=r, column=1, value=key).font = Font(bold=True)
        cell = ws.cell(row=r, column=2, value=value)
        if fmt is not None and not isinstance(value, str):
            cell.number_format = fmt
    columns = [
        (t(lang, "agency"), None),
        (t(lang, "col.headcount"), HOURS),
        (t(lang, "col.amount"), EUR),
        (t(lang, "col.bookings"), COUNT),
        (t(lang, "col.no_shows"), COUNT),
    ]
    agencies = [
        [
            names.agency(a["agency"]),
            Decimal(a["headcount_htv"]),
            Decimal(a["amount_eur"]),
            a["bookings"],
            a["no_shows"],
        ]
        for a in d["agencies"]
    ]
    _table(ws, columns, agencies, first_row=first + len(rows) + 1, freeze=False)


def _lines(
    ws: Any, d: dict[str, Any], header: StatementHeader | None, lang: str, names: Names
) -> None:
    s = -1 if header is not None and sign(header) < 0 else 1
    columns = [(t(lang, key), fmt) for _, key, fmt in LINE_COLUMNS]
    rows = []
    for ln in d["lines"]:
        row: list[Any] = []
        for field, _, fmt in LINE_COLUMNS:
            v = ln[field]
            if field == "line":
                v = names.line(v) if v != BASE_LINE else t(lang, "line.base")
            elif field == "estimated":
                v = t(lang, "yes" if v else "no")
            elif fmt is not None:
                v = _num(v)
                if field in ("quota_eur", "amount_eur") and v is not None:
                    v = s * v
            row.append(v)
        rows.append(row)
    _table(ws, columns, rows)


def _spaces(ws: Any, d: dict[str, Any], agency: str | None, lang: str, names: Names) -> None:
    columns = [
        (t(lang, "col.space"), None),
        (t(lang, "xl.name"), None),
        (t(lang, "xl.zone"), None),
        (t(lang, "col.line"), None),
        (t(lang, "col.weight"), FACTOR),
        (t(lang, "xl.opening"), HOURS_EXACT),
        (t(lang, "xl.observed"), HOURS_EXACT),
        (t(lang, "col.coverage"), PERCENT),
        (t(lang, "xl.occupied"), HOURS_EXACT),
        (t(lang, "col.dedicated"), HOURS_EXACT),
        (t(lang, "col.booked"), HOURS_EXACT),
        (t(lang, "xl.pool_all"), HOURS_EXACT),
        (t(lang, "col.no_show"), HOURS_EXACT),
    ]

    def total(hours: dict[str, str]) -> Decimal:
        return sum((Decimal(v) for v in hours.values()), Decimal(0))

    rows = [
        [
            s["space"],
            names.space(s["space"]),
            names.zone(s["zone"]),
            names.line(s["space_type"]),
            Decimal(s["weight"]),
            Decimal(s["opening_hours"]),
            Decimal(s["observed_hours"]),
            Decimal(s["coverage"]),
            Decimal(s["occupied_hours"]),
            total(s["dedicated_hours"]),
            total(s["booked_hours"]),
            Decimal(s["pool_hours"]),
            total(s["no_show_hours"]),
        ]
        for s in d["spaces"]
    ]
    _table(ws, columns, rows)


def _no_shows(ws: Any, d: dict[str, Any], lang: str, names: Names) -> None:
    stamp = date_format(lang) + " hh:mm"
    tz = names.tz_label
    columns = [
        (t(lang, "col.booking"), None),
        (t(lang, "agency"), None),
        (t(lang, "col.space"), None),
        (f"{t(lang, 'col.start')} ({tz})", stamp),
        (f"{t(lang, 'xl.end')} ({tz})", stamp),
        (t(lang, "col.status"), None),
        (t(lang, "col.booked"), HOURS_EXACT),
        (t(lang, "col.charged"), HOURS_EXACT),
    ]

    def local(iso: str) -> datetime:
        # Excel has no time zones: the local wall time, the zone in the header
        return datetime.fromisoformat(iso).astimezone(names.tz).replace(tzinfo=None)

    rows = [
        [
            n["booking_id"],
            names.agency(n["agency"]),
            names.space(n["space"]),
            local(n["start"]),
            local(n["end"]),
            t(lang, f"status.{n['status']}"),
            Decimal(n["booked_hours"]),
            Decimal(n["charged_hours"]),
        ]
        for n in d["no_shows"]
    ]
    _table(ws, columns, rows)


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
