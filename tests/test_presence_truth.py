"""Agency use rate against the simulator's ground truth (docs/metrics.md,
"Agency presence and use rate", "Checked against the truth").

A month of the example site (March 2026, the default scenario with its random
sensor faults) is backfilled into SQLite through the marking store and
summarised; each agency's mean use rate from ``/efficiency``'s function is
compared with the truth: the people model knows who sat at which desk
(``DayPeople.sittings``), so an agency's true daily peak is the most of its
people at desks at once, divided by its headcount (htv) and averaged over the
open days. Each agency must be within 3 percentage points.

Run as a script to print the table of docs/metrics.md:
``python -m tests.test_presence_truth``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from charging.bookings import Booking, check_bookings
from core.calendar import is_closed, local_day_bounds
from core.registry import Site
from metrics.efficiency import efficiency_from
from simulators.backfill import backfill
from simulators.layout import build_layout, from_ms
from simulators.people import simulate_day
from simulators.scenario import Scenario
from simulators.truth import agency_presence_peaks
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
#: the simulator's seed of the month
SEED = 11
TOLERANCE = 0.03
#: who book the shared desk they sit at (``People.shared_desk_booking``)
DESK_BOOKING = 0.7


def scenario(desk_booking: float) -> Scenario:
    base = Scenario(seed=SEED)
    people = base.people.model_copy(update={"shared_desk_booking": desk_booking})
    return base.model_copy(update={"people": people})


def simulated_days(
    site: Site, sc: Scenario, first: date = FIRST, last: date = LAST
) -> tuple[dict[str, float], list[Booking]]:
    """Mean over the open days first..last of each agency's true daily peak /
    htv, and the simulated bookings (rooms and desks) as the booking records
    hold them."""
    layout = build_layout(site, sc)
    peaks: dict[str, list[int]] = {a.id: [] for a in site.agencies}
    bookings = []
    day = first
    while day <= last:
        if not is_closed(site, day):
            people = simulate_day(layout, day)
            got = agency_presence_peaks(people.sittings)
            for a in peaks:
                peaks[a].append(got.get(a, 0))
            bookings += [
                Booking(
                    id=b.booking_id,
                    site=site.id,
                    space=b.space_id,
                    agency=b.agency_id,
                    start=from_ms(b.start_ms),
                    end=from_ms(b.end_ms),
                )
                for b in people.bookings
            ]
        day += timedelta(days=1)
    rates = {a.id: sum(peaks[a.id]) / len(peaks[a.id]) / a.headcount_htv for a in site.agencies}
    return rates, check_bookings(bookings, site=site)


def measured_and_truth(site: Site, folder: Path, *, desk_booking: float) -> pd.DataFrame:
    """Per agency: the measured mean use rate (summaries, with the simulated
    bookings as the summariser's booking source) and the truth's."""
    sc = scenario(desk_booking)
    truth, bookings = simulated_days(site, sc)

    def source(s: Site, start: datetime, end: datetime) -> list[Booking]:
        return [b for b in bookings if b.start < end and b.end > start]

    folder.mkdir(parents=True, exist_ok=True)
    store = MarkingStore(SQLiteStore(folder / "month.db"), {site.id: site.tz})
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, LAST)[1]
    backfill(site, sc, store, start, end, collect=False)
    params = SummaryParams()
    now = end + timedelta(days=1)
    refresh_site(store, site, params, now=now, bookings=source)
    data = PeriodData(store=store, site=site, start=start, end=end, params=params, now=now)
    assert data.meta()["days_from_raw"] == []
    report = efficiency_from(
        cells=data.day_cells(),
        presence=data.presence_pairs(),
        site_desk_peaks=data.daily_peaks(level="site", types="desk", view="*"),
        site=site,
    ).set_index("agency")
    rows = [
        {
            "agency": a.id,
            "headcount_htv": a.headcount_htv,
            "dedicated_desks": int(report.at[a.id, "desks"]),
            "pool_share": float(report.at[a.id, "pool_share"]),
            "measured": float(report.at[a.id, "use_rate_mean"]),
            "truth": truth[a.id],
        }
        for a in site.agencies
    ]
    out = pd.DataFrame(rows)
    out["error_pp"] = 100 * (out["measured"] - out["truth"])
    return out


def test_agency_use_rate_within_three_points_of_the_truth(
    example_site: Site, tmp_path: Path
) -> None:
    table = measured_and_truth(example_site, tmp_path, desk_booking=DESK_BOOKING)
    assert len(table) == len(example_site.agencies)
    assert (table["error_pp"].abs() <= 100 * TOLERANCE).all(), table.to_string()
    # staff at shared desks count for their agency: no agency's figure is
    # capped at its dedicated desks / headcount any more
    capped = table["dedicated_desks"] / table["headcount_htv"]
    assert (table["measured"] > capped).any(), table.to_string()


if __name__ == "__main__":  # pragma: no cover - prints the table of docs/metrics.md
    import tempfile

    from core.registry import load_site
    from tests.conftest import EXAMPLE_SITES

    site = load_site(EXAMPLE_SITES / "virastotalo.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        for share in (DESK_BOOKING, 0.0):
            print(f"shared desks booked by {share:.0%} of their users")
            table = measured_and_truth(site, Path(tmp) / f"{share}", desk_booking=share)
            print(table.to_string(index=False))
