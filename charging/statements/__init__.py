"""Charge statements as CSV, XLSX, JSON and PDF, in Finnish, Swedish or
English (docs/charging.md, "Statements"), byte-identical for the same inputs.

With ``agency=None`` a document covers the whole site (finance); with an agency
id it holds only what that agency may see: its own lines, the spaces it used,
its no-shows and the site totals needed to recompute its amounts.

``header`` (charging.header) is what the month's life cycle says about the
statement: its number, dates, payment reference and state. Without one the
statement is a draft and says so on every page: it is not an invoice.

Nothing here reads a clock: every date in a document is the month's own or the
header's, so rerunning a month gives the same bytes (XLSX and PDF embed
creation times, which are pinned to the start of the month).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from charging.statements.figures import Names
from charging.statements.messages import DEFAULT_LANG, LANGS, check_lang
from charging.statements.tabular import (
    CSV_DIALECTS,
    DEFAULT_CSV_DIALECT,
    check_dialect,
    render_csv,
    render_json,
)
from charging.statements.text import latin1

if TYPE_CHECKING:
    from charging.charges import MonthCharges
    from charging.header import StatementHeader
    from core.registry import Site

FORMATS = ("csv", "json", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}

__all__ = [
    "CSV_DIALECTS",
    "DEFAULT_CSV_DIALECT",
    "DEFAULT_LANG",
    "FORMATS",
    "LANGS",
    "MEDIA_TYPES",
    "latin1",
    "render",
]


def render(
    charges: MonthCharges,
    fmt: str,
    *,
    agency: str | None = None,
    header: StatementHeader | None = None,
    lang: str = DEFAULT_LANG,
    site: Site | None = None,
    csv_dialect: str = DEFAULT_CSV_DIALECT,
    api_url: str | None = None,
) -> bytes:
    """The charges in ``fmt`` (one of ``FORMATS``).

    ``site``: the registry the charges were computed from, for names in
    ``lang`` and the local time zone (without it: ids and UTC). ``api_url``:
    the API's address, for the audit section's links to the raw reports
    (without it the links are paths). ``csv_dialect``: see
    charging.statements.tabular. A ``header`` given without ``agency`` is that
    agency's statement.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    check_lang(lang)
    check_dialect(csv_dialect)
    if header is not None and agency is not None and header.agency != agency:
        raise ValueError(f"the header is {header.agency!r}'s, the statement {agency!r}'s")
    if agency is None and header is not None:
        agency = header.agency
    if agency is not None and agency not in charges.agency_ids:
        raise KeyError(f"agency {agency!r} is not charged at site {charges.site!r}")
    if site is not None and site.id != charges.site:
        raise ValueError(f"the registry is site {site.id!r}, the charges {charges.site!r}'s")
    names = Names(site=site, lang=lang)
    if fmt == "json":
        return render_json(charges, agency=agency, header=header)
    if fmt == "csv":
        return render_csv(charges, agency=agency, lang=lang, dialect=csv_dialect)
    if fmt == "xlsx":
        from charging.statements.xlsx import render_xlsx

        return render_xlsx(charges, agency=agency, header=header, lang=lang, names=names)
    from charging.statements.pdf import render_pdf

    return render_pdf(
        charges, agency=agency, header=header, lang=lang, names=names, api_url=api_url
    )
