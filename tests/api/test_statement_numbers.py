"""Statement numbers are unique and gap-free under concurrent approvals.

Threads approve twelve months at once, every month twice, against one records
database (each thread its own connection, as in the API): a SQLite file, and
a real PostgreSQL server (tests/servers.py). Each approval
issues three statements (agencies aa, bb, cc of tests/charging/data/pieni.yaml),
so exactly twelve approvals succeed, the other twelve are refused as already
approved, and the numbers are 1..36 of the year, each once.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date
from fractions import Fraction

from sqlalchemy import select

from api.charge_months import Actor, Issue, LifecycleError, Policy, approve
from api.records import StatementRecord, make_engine, make_sessionmaker
from charging.charges import compute_month
from charging.tariff import load_tariff
from core.registry import load_site
from tests.charging.conftest import DATA
from tests.charging.test_hand_month import BOOKINGS, month_intervals
from webhooks.events import NullSink

ISSUE = Issue(
    actor=Actor(name="finance", role="finance"),
    policy=Policy(min_coverage=Fraction(0), payment_term_days=14, reference_kind="national"),
    today=date(2026, 12, 3),
    reason="month end",
    bookings=BOOKINGS,
)


def test_concurrent_approvals_number_without_gaps(records_url: str) -> None:
    mc = compute_month(
        site=load_site(DATA / "pieni.yaml"),
        month="2026-11",
        intervals=month_intervals(),
        bookings=BOOKINGS,
        tariff=load_tariff(DATA / "pieni-tariff.yaml"),
    )
    engine = make_engine(records_url)
    sessions = make_sessionmaker(engine)
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    barrier = threading.Barrier(2 * len(months))
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(month: str) -> None:
        barrier.wait()
        try:
            approve(
                sessions, mc=dataclasses.replace(mc, month=month), issue=ISSUE, events=NullSink()
            )
            outcome = "approved"
        except LifecycleError as exc:
            outcome = str(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(m,)) for m in months * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("approved") == len(months)
    refused = [o for o in outcomes if o != "approved"]
    assert len(refused) == len(months)
    assert all("is already approved" in o for o in refused), refused
    with sessions() as session:
        rows = session.scalars(select(StatementRecord)).all()
    numbers = sorted(r.number for r in rows)
    assert numbers == [f"2026-{n:06d}" for n in range(1, 3 * len(months) + 1)]
    by_month: dict[str, set[str]] = {}
    for r in rows:
        by_month.setdefault(r.month, set()).add(r.agency)
    assert by_month == {m: {"aa", "bb", "cc"} for m in months}
    # each reference is the number's digits and their 7-3-1 check digit
    assert all(r.reference[:-1] == r.number.replace("-", "") for r in rows)
    engine.dispose()
