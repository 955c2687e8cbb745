"""A simulated month: the charges' attributed hours agree with the ground truth.

The simulator backfills October 2026 (with the autumn DST change) of the
example site into a real SQLite store, together with its bookings as CSV.
The charges computed from the store attribute to every agency the same
dedicated and booked hours, within 1 %, as the truth's own occupied intervals
attributed under the same rules; and they sum to the cost to the cent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from charging import attribute, clip_to_opening_hours, load_tariff, parse_bookings_csv
from charging.monthrun import charge_month
from core.calendar import month_bounds
from simulators.backfill import backfill
from simulators.scenario import Scenario, Sensors
from simulators.truth import bookings_csv
from storage import StoreSettings, open_store
from tests.conftest import REPO


def test_month_charges_agree_with_truth(example_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = example_site
    start, end = month_bounds(site, 2026, 10)
    store = open_store(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"))
    # hourly heartbeats keep the month small; no random faults, so the truth
    # is what a correct pipeline must reproduce everywhere
    scenario = Scenario(seed=5, sensors=Sensors(heartbeat_s=3600), random_faults=None)
    result = backfill(site, scenario, store, start, end)
    truth = result.truth
    bookings = parse_bookings_csv(bookings_csv(truth), site=site, name="truth.csv")
    assert len(bookings) > 100

    tariff = load_tariff(REPO / "examples" / "tariffs" / "virastotalo.yaml")
    mc = charge_month(store=store, site=site, month="2026-10", tariff=tariff, bookings=bookings)

    rows = [
        {"space": space, "start": a, "end": b, "state": "occupied"}
        for space, spells in truth.intervals("sensed").items()
        for a, b, _ in spells
    ]
    truth_iv = pd.DataFrame(rows)
    truth_iv["start"] = pd.to_datetime(truth_iv["start"], unit="ms", utc=True)
    truth_iv["end"] = pd.to_datetime(truth_iv["end"], unit="ms", utc=True)
    clipped = clip_to_opening_hours(intervals=truth_iv, site=site, start=start, end=end)
    pieces = attribute(intervals=clipped, bookings=bookings, site=site)
    pieces["hours"] = (pieces["end"] - pieces["start"]).dt.total_seconds() / 3600
    truth_hours = pieces[pieces["agency"].notna()].groupby("agency")["hours"].sum()

    measured: dict[str, float] = {}
    for line in mc.lines:
        measured[line.agency] = measured.get(line.agency, 0.0) + float(
            line.hours_dedicated + line.hours_booked
        )
    for agency in (a.id for a in site.agencies):
        want = float(truth_hours.get(agency, 0.0))
        assert want > 50, f"{agency} should have used the premises in a month"
        assert abs(measured[agency] - want) <= 0.01 * want, (agency, measured[agency], want)

    total = sum(Decimal(line["amount_eur"]) for line in mc.to_dict()["lines"])
    assert total == Decimal("120300.00")  # tariff version 2026.2, in force from July
    assert mc.period_start == datetime(2026, 9, 30, 21, tzinfo=UTC)
