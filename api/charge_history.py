"""Reading a month's life cycle: its runs, transitions, statements and the
pending difference between what was issued and what the data say now.

An agency sees only its own statements and amounts; the transitions (who,
when, why) hold no figures and are shown to it as they are.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.charge_months import differences, in_force, statement_dict
from api.records import ChargeMonth, ChargeRun, ChargeTransition, StatementRecord
from charging.charges import MonthCharges
from charging.frozen import thaw
from charging.header import MonthState, StatementHeader, StatementKind
from charging.rounding import eur


def month_record(session: Session, site: str, month: str) -> ChargeMonth | None:
    return session.scalars(
        select(ChargeMonth).where(ChargeMonth.site == site, ChargeMonth.month == month)
    ).one_or_none()


def is_frozen(row: ChargeMonth | None) -> bool:
    return row is not None and row.state != MonthState.DRAFT.value


def frozen_charges(session: Session, run_id: int) -> MonthCharges:
    run = session.get(ChargeRun, run_id)
    if run is None or run.frozen_json is None:
        raise LookupError(f"run {run_id} holds no frozen figures")
    return thaw(run.frozen_json)


def statement(session: Session, number: str) -> StatementRecord | None:
    return session.get(StatementRecord, number)


def issued_view(
    session: Session, site: str, month: str, agency: str | None
) -> tuple[str, MonthCharges, StatementHeader | None] | None:
    """An approved month as issued: (state, frozen figures, the agency's header
    of its statement in force); None for a draft month."""
    row = month_record(session, site, month)
    if row is None or not is_frozen(row) or row.run_id is None:
        return None
    if agency is None:
        return row.state, frozen_charges(session, row.run_id), None
    stmt = in_force(session, site, month).get(agency)
    if stmt is None:
        raise LookupError(f"no statement was issued to {agency!r} for {month}")
    return row.state, frozen_charges(session, stmt.run_id), header_for(stmt)


def header_for(s: StatementRecord) -> StatementHeader:
    """What an issued statement prints about itself: fixed at issue, so the
    statement renders the same bytes whatever happens to the month later."""
    return StatementHeader(
        month=s.month,
        agency=s.agency,
        state=MonthState(s.state),
        kind=StatementKind(s.kind),
        number=s.number,
        issue_date=s.issue_date,
        due_date=s.due_date,
        reference=s.reference,
        references_number=s.references_number,
        run_id=str(s.run_id),
        revision=s.revision,
        inputs_hash=s.inputs_hash,
        approved_by=s.approved_by,
        approved_at=s.approved_at,
        amount_eur=_decimal_eur(s.amount_cents),
    )


def draft_header(mc: MonthCharges, agency: str, row: ChargeMonth | None) -> StatementHeader:
    """A draft's header: no number, no reference; provisional while the month runs."""
    mine = next((a.amount_cents for a in mc.agencies if a.agency == agency), 0)
    return StatementHeader(
        month=mc.month,
        agency=agency,
        state=MonthState.DRAFT,
        provisional=mc.provisional,
        revision=row.revision if row is not None else 0,
        inputs_hash=mc.inputs_hash,
        amount_eur=_decimal_eur(mine),
    )


def _decimal_eur(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def pending_difference(
    session: Session, site: str, month: str, fresh: MonthCharges, agency: str | None
) -> dict[str, Any]:
    """The fresh figures against the statements in force: visible as soon as
    the inputs differ; ``issuable`` when an amount changed."""
    row = month_record(session, site, month)
    frozen_hash = None
    if row is not None and row.run_id is not None:
        run = session.get(ChargeRun, row.run_id)
        frozen_hash = run.inputs_hash if run is not None else None
    current = in_force(session, site, month)
    diff = differences(current, fresh)
    fresh_amounts = {a.agency: a.amount_cents for a in fresh.agencies}
    rows = {
        a: {
            "issued_eur": eur(current[a].amount_cents) if a in current else None,
            "issued_number": current[a].number if a in current else None,
            "now_eur": eur(fresh_amounts.get(a, 0)),
            "difference_eur": eur(diff.get(a, 0)),
        }
        for a in sorted(set(current) | set(fresh_amounts))
        if agency is None or a == agency
    }
    return {
        "inputs_hash_frozen": frozen_hash,
        "inputs_hash_now": fresh.inputs_hash,
        "inputs_changed": frozen_hash is not None and frozen_hash != fresh.inputs_hash,
        "issuable": any(agency is None or a == agency for a in diff),
        "difference_eur": eur(sum(d for a, d in diff.items() if agency is None or a == agency)),
        "agencies": rows,
    }


def _amounts(run: ChargeRun, agency: str | None) -> dict[str, str] | None:
    if run.amounts_json is None:
        return None
    amounts: dict[str, int] = json.loads(run.amounts_json)
    return {a: eur(c) for a, c in sorted(amounts.items()) if agency is None or a == agency}


def run_dict(run: ChargeRun, agency: str | None) -> dict[str, Any]:
    return {
        "run": run.id,
        "month": run.month,
        "revision": run.revision,
        "kind": run.kind,
        "provisional": run.provisional,
        "inputs_hash": run.inputs_hash,
        "tariff_version": run.tariff_version,
        "registry_version": run.registry_version,
        "created_at": run.created_at.isoformat(),
        "created_by": (
            None if run.created_by is None else {"name": run.created_by, "role": run.created_role}
        ),
        "amounts_eur": _amounts(run, agency),
    }


def runs(session: Session, site: str, agency: str | None) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ChargeRun).where(ChargeRun.site == site).order_by(ChargeRun.id)
    ).all()
    return [run_dict(r, agency) for r in rows]


def _frozen(session: Session, row: ChargeMonth | None, agency: str | None) -> dict[str, Any] | None:
    if row is None or row.run_id is None:
        return None
    run = session.get(ChargeRun, row.run_id)
    if run is None:
        return None
    coverage = json.loads(run.coverage_json or "{}")
    bookings = json.loads(run.bookings_json or "[]")
    return {
        **run_dict(run, agency),
        "coverage": {
            k: v for k, v in coverage.items() if agency is None or k.startswith(f"{agency}/")
        },
        "bookings": [b for b in bookings if agency is None or b["agency"] == agency],
    }


def history(
    session: Session,
    site: str,
    month: str,
    agency: str | None,
    fresh: MonthCharges | None,
) -> dict[str, Any]:
    row = month_record(session, site, month)
    transitions = session.scalars(
        select(ChargeTransition)
        .where(ChargeTransition.site == site, ChargeTransition.month == month)
        .order_by(ChargeTransition.id)
    ).all()
    statements = session.scalars(
        select(StatementRecord)
        .where(StatementRecord.site == site, StatementRecord.month == month)
        .order_by(StatementRecord.number)
    ).all()
    return {
        "site": site,
        "month": month,
        "state": row.state if row is not None else None,
        "revision": row.revision if row is not None else 0,
        "run": row.run_id if row is not None else None,
        "frozen": _frozen(session, row, agency),
        "transitions": [
            {
                "at": t.at.isoformat(),
                "from": t.from_state,
                "to": t.to_state,
                "run": t.run_id,
                "by": {"name": t.by_name, "role": t.by_role},
                "reason": t.reason,
                "coverage_override": t.coverage_override,
            }
            for t in transitions
        ],
        "statements": [
            statement_dict(s) for s in statements if agency is None or s.agency == agency
        ],
        "pending_difference": (
            pending_difference(session, site, month, fresh, agency)
            if fresh is not None and is_frozen(row)
            else None
        ),
    }
