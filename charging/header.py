"""What a statement says about itself, besides its lines: its number, dates,
payment reference and place in the month's life cycle (docs/charging.md,
"Statements").

The life cycle (draft, approved, locked, corrected) decides these values; the
statement renderers only print them. A draft or provisional statement has no
number and no reference: it is not an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class StatementKind(StrEnum):
    DEBIT = "debit"  # an ordinary statement, or the new debit of a correction
    CREDIT = "credit"  # a credit note cancelling an earlier statement


class MonthState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    LOCKED = "locked"
    CORRECTED = "corrected"


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """Printed at the top of one agency's statement for one month."""

    month: str  # "2026-11", the site's local calendar month
    agency: str  # agency id; the renderer prints the registry name
    state: MonthState
    kind: StatementKind = StatementKind.DEBIT
    provisional: bool = False  # a month still in progress: figures pro rata
    number: str | None = None  # unique, gap-free; None for drafts
    issue_date: date | None = None
    due_date: date | None = None
    reference: str | None = None  # RF creditor or national reference number
    references_number: str | None = None  # the statement a correction refers to
    run_id: str | None = None  # the charge run the figures come from
    revision: int = 1
    inputs_hash: str | None = None
    approved_by: str | None = None  # "key name (role)"
    approved_at: datetime | None = None
    amount_eur: Decimal | None = None  # the statement's total, signed for credits
