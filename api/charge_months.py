"""A month's life cycle in the records: draft, approved, locked, corrected
(docs/charging.md, "Life cycle").

A draft is recomputed at will. Approval freezes the month (its figures,
inputs hash, tariff and registry versions, bookings and coverage) and issues
one numbered statement per agency; lock forbids anything but corrections; a
correction issues, per agency whose amount changed, a credit note for the
statement in force and a new debit, each with its own number. Every
transition records who, when and why.

Statement numbers come from a counter row that the issuing transaction
increments first: the increment takes the row's write lock (SQLite: the
database's; PostgreSQL: the row's, as ``SELECT ... FOR UPDATE`` would), so
concurrent issuers queue, and a rolled-back issue gives its numbers back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from api.records import ChargeMonth, ChargeRun, ChargeTransition, Counter, StatementRecord
from charging.bookings import Booking
from charging.charges import BASE_LINE, ChargeLine, MonthCharges
from charging.frozen import freeze
from charging.header import MonthState, StatementKind
from charging.reference import statement_reference
from charging.rounding import dec, eur
from webhooks.events import CHARGES_APPROVED, Event, EventSink


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a transition: the API key's name and role."""

    name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings approval applies (api/config.py)."""

    min_coverage: Fraction
    payment_term_days: int
    reference_kind: str  # rf | national


class LifecycleError(Exception):
    """A transition the month's state does not allow (HTTP 409)."""

    status = 409


class Refused(LifecycleError):
    """Figures that must not be issued as they are (HTTP 422)."""

    status = 422


def low_coverage(mc: MonthCharges, threshold: Fraction) -> list[ChargeLine]:
    """The usage lines whose sensor coverage is below ``threshold``."""
    return [ln for ln in mc.lines if ln.line != BASE_LINE and ln.coverage < threshold]


def check_issuable(mc: MonthCharges, policy: Policy, override: str | None) -> str | None:
    """Refuses a provisional month, and low coverage without an override
    reason; returns the override reason to record (None when not needed)."""
    if mc.provisional:
        raise Refused(
            f"{mc.month} is in progress: it can only be a provisional draft, "
            "approved after the month has ended"
        )
    low = low_coverage(mc, policy.min_coverage)
    if not low:
        return None
    if override is None or not override.strip():
        listed = ", ".join(f"{ln.agency} {ln.line} {dec(ln.coverage * 100, 2)} %" for ln in low)
        raise Refused(
            f"sensor coverage below {dec(policy.min_coverage * 100, 0)} % on {len(low)} "
            f"line(s): {listed}; approval needs an override reason "
            "(coverage_override) from finance"
        )
    return override.strip()


# ---- records -------------------------------------------------------------------


@contextmanager
def _transaction(sessions: sessionmaker) -> Iterator[Session]:
    try:
        with sessions() as session, session.begin():
            yield session
    except (IntegrityError, StaleDataError):
        # another transition of the same month committed first
        raise LifecycleError("the month was changed at the same time; retry") from None


def _month_row(session: Session, site: str, month: str) -> ChargeMonth | None:
    # FOR UPDATE on PostgreSQL; SQLite already holds the database's write lock
    query = select(ChargeMonth).where(ChargeMonth.site == site, ChargeMonth.month == month)
    return session.scalars(query.with_for_update()).one_or_none()


def _insert_ignore(session: Session, name: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(Counter).values(name=name, value=0).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        session.execute(lite_insert(Counter).values(name=name, value=0).on_conflict_do_nothing())


def allocate_numbers(session: Session, *, year: int, count: int) -> list[str]:
    """``count`` consecutive statement numbers of ``year`` ("2026-000017"),
    taken inside the caller's transaction (its first statement, so the lock
    is held from the start)."""
    name = f"statements-{year}"
    _insert_ignore(session, name)
    last = session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar_one()
    return [f"{year}-{seq:06d}" for seq in range(last - count + 1, last + 1)]


def _reference(number: str, policy: Policy) -> str:
    return statement_reference(number.replace("-", ""), kind=policy.reference_kind)


def _snapshot(mc: MonthCharges, bookings: Sequence[Booking]) -> dict[str, str]:
    lines = {f"{ln.agency}/{ln.line}": dec(ln.coverage, 4) for ln in mc.lines}
    month_bookings = [
        {
            "id": b.id,
            "space": b.space,
            "agency": b.agency,
            "start": b.start.isoformat(),
            "end": b.end.isoformat(),
        }
        for b in sorted(bookings, key=lambda b: b.id)
        if b.start < mc.period_end and b.end > mc.period_start
    ]
    return {
        "amounts_json": json.dumps({a.agency: a.amount_cents for a in mc.agencies}),
        "coverage_json": json.dumps(lines, sort_keys=True),
        "bookings_json": json.dumps(month_bookings),
    }


def _run(
    mc: MonthCharges, actor: Actor, *, kind: str, revision: int, bookings: Sequence[Booking]
) -> ChargeRun:
    return ChargeRun(
        site=mc.site,
        month=mc.month,
        inputs_hash=mc.inputs_hash,
        tariff_version=mc.tariff_version,
        registry_version=mc.registry_version,
        result_json=json.dumps(mc.to_dict(), sort_keys=True, default=str),
        revision=revision,
        kind=kind,
        provisional=mc.provisional,
        created_by=actor.name,
        created_role=actor.role,
        frozen_json=None if kind == "draft" else freeze(mc),
        **_snapshot(mc, bookings),
    )


def _transition(
    session: Session,
    row: ChargeMonth,
    to: MonthState,
    actor: Actor,
    *,
    reason: str,
    run_id: int | None,
    override: str | None = None,
    at: datetime,
) -> None:
    session.add(
        ChargeTransition(
            site=row.site,
            month=row.month,
            run_id=run_id,
            from_state=row.state or None,  # "": the month's first transition
            to_state=to.value,
            at=at,
            by_name=actor.name,
            by_role=actor.role,
            reason=reason,
            coverage_override=override,
        )
    )
    row.state = to.value
    row.updated_at = at


# ---- transitions ---------------------------------------------------------------


def record_draft(
    sessions: sessionmaker, *, mc: MonthCharges, bookings: Sequence[Booking], actor: Actor
) -> ChargeRun:
    """Records a draft computation; refused once the month is approved."""
    with _transaction(sessions) as session:
        row = _month_row(session, mc.site, mc.month)
        if row is None:
            row = ChargeMonth(site=mc.site, month=mc.month, state="", revision=0)
            session.add(row)
        elif row.state not in ("", MonthState.DRAFT.value):
            raise LifecycleError(
                f"{mc.month} is {row.state}: its figures are frozen; new data is shown as a "
                "pending difference and issued as a correction"
            )
        run = _run(mc, actor, kind="draft", revision=row.revision + 1, bookings=bookings)
        row.revision += 1
        session.add(run)
        session.flush()
        _transition(
            session, row, MonthState.DRAFT, actor, reason="recomputed", run_id=run.id, at=_now()
        )
    return run


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Issue:
    """What an approval or correction needs besides the figures."""

    actor: Actor
    policy: Policy
    today: date  # the issue date, in the site's time zone
    reason: str
    bookings: Sequence[Booking]
    coverage_override: str | None = None


def _statement(
    mc: MonthCharges,
    issue: Issue,
    *,
    number: str,
    agency: str,
    kind: StatementKind,
    state: MonthState,
    run: ChargeRun,
    amount_cents: int,
    references: str | None,
    at: datetime,
) -> StatementRecord:
    return StatementRecord(
        number=number,
        site=mc.site,
        month=mc.month,
        agency=agency,
        kind=kind.value,
        state=state.value,
        run_id=run.id,
        revision=run.revision,
        amount_cents=amount_cents,
        references_number=references,
        issue_date=issue.today,
        due_date=issue.today + timedelta(days=issue.policy.payment_term_days),
        reference=_reference(number, issue.policy),
        inputs_hash=run.inputs_hash,
        approved_by=issue.actor.label,
        approved_at=at,
    )


def approve(
    sessions: sessionmaker, *, mc: MonthCharges, issue: Issue, events: EventSink
) -> list[StatementRecord]:
    """Freezes a draft month and issues its statements (one per agency)."""
    override = check_issuable(mc, issue.policy, issue.coverage_override)
    at = _now()
    with _transaction(sessions) as session:
        numbers = allocate_numbers(session, year=issue.today.year, count=len(mc.agencies))
        row = _month_row(session, mc.site, mc.month)
        if row is None:
            row = ChargeMonth(site=mc.site, month=mc.month, state="", revision=0)
            session.add(row)
        if row.state not in ("", MonthState.DRAFT.value):
            raise LifecycleError(f"{mc.month} is already {row.state}")
        run = _run(
            mc, issue.actor, kind="approval", revision=row.revision + 1, bookings=issue.bookings
        )
        session.add(run)
        session.flush()
        issued = [
            _statement(
                mc,
                issue,
                number=n,
                agency=a.agency,
                kind=StatementKind.DEBIT,
                state=MonthState.APPROVED,
                run=run,
                amount_cents=a.amount_cents,
                references=None,
                at=at,
            )
            for n, a in zip(numbers, mc.agencies, strict=True)
        ]
        session.add_all(issued)
        row.revision, row.run_id = row.revision + 1, run.id
        _transition(
            session,
            row,
            MonthState.APPROVED,
            issue.actor,
            reason=issue.reason,
            run_id=run.id,
            override=override,
            at=at,
        )
    _publish(events, issued, at)
    return issued


def lock(sessions: sessionmaker, *, site: str, month: str, actor: Actor, reason: str) -> None:
    with _transaction(sessions) as session:
        row = _month_row(session, site, month)
        state = row.state if row is not None else "not approved"
        if row is None or row.state not in (MonthState.APPROVED, MonthState.CORRECTED):
            raise LifecycleError(f"{month} is {state}: only an approved month can be locked")
        _transition(
            session, row, MonthState.LOCKED, actor, reason=reason, run_id=row.run_id, at=_now()
        )


def in_force(session: Session, site: str, month: str) -> dict[str, StatementRecord]:
    """Per agency, the debit statement now in force (the latest issued)."""
    rows = session.scalars(
        select(StatementRecord)
        .where(StatementRecord.site == site, StatementRecord.month == month)
        .order_by(StatementRecord.number)
    ).all()
    return {s.agency: s for s in rows if s.kind == StatementKind.DEBIT.value}


def differences(current: dict[str, StatementRecord], mc: MonthCharges) -> dict[str, int]:
    """Agency -> cents by which the fresh figures differ from the statement in force."""
    fresh = {a.agency: a.amount_cents for a in mc.agencies}
    out = {}
    for agency in sorted(set(current) | set(fresh)):
        issued = current[agency].amount_cents if agency in current else 0
        if fresh.get(agency, 0) != issued:
            out[agency] = fresh.get(agency, 0) - issued
    return out


def correct(
    sessions: sessionmaker, *, mc: MonthCharges, issue: Issue, events: EventSink
) -> list[StatementRecord]:
    """Issues the pending difference: per agency whose amount changed, a credit
    note cancelling the statement in force and a new debit, both referring to it."""
    at = _now()
    with _transaction(sessions) as session:
        row = _month_row(session, mc.site, mc.month)
        if row is None or row.state == MonthState.DRAFT.value:
            raise LifecycleError(f"{mc.month} is not approved: recompute the draft instead")
        override = check_issuable(mc, issue.policy, issue.coverage_override)
        current = in_force(session, mc.site, mc.month)
        diff = differences(current, mc)
        if not diff:
            raise LifecycleError(f"{mc.month} has no pending difference to correct")
        numbers = iter(allocate_numbers(session, year=issue.today.year, count=2 * len(diff)))
        run = _run(
            mc, issue.actor, kind="correction", revision=row.revision + 1, bookings=issue.bookings
        )
        session.add(run)
        session.flush()
        fresh = {a.agency: a.amount_cents for a in mc.agencies}
        issued = []
        for agency in diff:
            pair = _correction_pair(
                mc, issue, current[agency], fresh.get(agency, 0), run, numbers, at
            )
            issued += pair
        session.add_all(issued)
        row.revision, row.run_id = row.revision + 1, run.id
        _transition(
            session,
            row,
            MonthState.CORRECTED,
            issue.actor,
            reason=issue.reason,
            run_id=run.id,
            override=override,
            at=at,
        )
    _publish(events, issued, at)
    return issued


def _correction_pair(
    mc: MonthCharges,
    issue: Issue,
    old: StatementRecord,
    new_cents: int,
    run: ChargeRun,
    numbers: Iterator[str],
    at: datetime,
) -> list[StatementRecord]:
    """A credit note for ``old`` (printing its figures) and the new debit."""
    common: dict[str, Any] = dict(
        agency=old.agency, state=MonthState.CORRECTED, run=run, references=old.number, at=at
    )
    credit = _statement(
        mc,
        issue,
        number=next(numbers),
        kind=StatementKind.CREDIT,
        amount_cents=-old.amount_cents,
        **common,
    )
    credit.run_id, credit.inputs_hash = old.run_id, old.inputs_hash
    debit = _statement(
        mc, issue, number=next(numbers), kind=StatementKind.DEBIT, amount_cents=new_cents, **common
    )
    return [credit, debit]


def _publish(events: EventSink, issued: Sequence[StatementRecord], at: datetime) -> None:
    # after the commit: a subscriber never hears of a statement that was rolled back
    for s in issued:
        events.publish(
            Event(
                type=CHARGES_APPROVED,
                site=s.site,
                occurred_at=at,
                agency=s.agency,
                data=statement_dict(s),
            )
        )


def statement_dict(s: StatementRecord) -> dict[str, Any]:
    return {
        "number": s.number,
        "month": s.month,
        "agency": s.agency,
        "kind": s.kind,
        "state": s.state,
        "amount_eur": eur(s.amount_cents),
        "references": s.references_number,
        "issue_date": s.issue_date.isoformat(),
        "due_date": s.due_date.isoformat(),
        "reference": s.reference,
        "run": s.run_id,
        "revision": s.revision,
        "approved_by": s.approved_by,
    }
