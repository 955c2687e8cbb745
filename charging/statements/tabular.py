"""CSV and JSON statements.

CSV comes in two dialects (``CSV_DIALECTS``): ``locale`` follows the reader's
language (fi and sv: semicolon and decimal comma, as a Finnish or Swedish
Excel opens it; en: comma and decimal point; all UTF-8 with a byte order mark,
without which Excel misreads ä and ö), and ``rfc4180``: comma, decimal point,
CRLF, no BOM, for programs. Column names are the same in both (``LINE_FIELDS``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from charging.charges import LINE_FIELDS, MonthCharges
from charging.header import StatementHeader

CSV_DIALECTS = ("locale", "rfc4180")
DEFAULT_CSV_DIALECT = "locale"

#: Columns holding a decimal number (written with a comma in fi and sv).
NUMERIC_FIELDS = frozenset(
    {
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
    }
)


def check_dialect(dialect: str) -> str:
    if dialect not in CSV_DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r} (use {', '.join(CSV_DIALECTS)})")
    return dialect


def render_json(
    mc: MonthCharges, *, agency: str | None = None, header: StatementHeader | None = None
) -> bytes:
    d = mc.to_dict(agency=agency)
    if header is not None:
        d["statement"] = header_dict(header)
    return (json.dumps(d, indent=2, ensure_ascii=False) + "\n").encode()


def header_dict(h: StatementHeader) -> dict[str, Any]:
    """The header as JSON values (codes, ISO dates; the same in every language)."""
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


def render_csv(
    mc: MonthCharges, *, agency: str | None = None, lang: str = "fi", dialect: str = "locale"
) -> bytes:
    """One row per charge line (``LINE_FIELDS``). ``amount_eur`` has two
    decimals; ``quota_eur`` is the exact share before rounding to the cent."""
    check_dialect(dialect)
    comma = dialect == "locale" and lang in ("fi", "sv")
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf,
        fieldnames=LINE_FIELDS,
        delimiter=";" if comma else ",",
        lineterminator="\r\n",
    )
    writer.writeheader()
    for line in mc.to_dict(agency=agency)["lines"]:
        row = {**line, "estimated": int(line["estimated"])}
        if comma:
            row = {k: v.replace(".", ",") if k in NUMERIC_FIELDS else v for k, v in row.items()}
        writer.writerow(row)
    text = buf.getvalue()
    return ("\ufeff" + text).encode() if dialect == "locale" else text.encode()
