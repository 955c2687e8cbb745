"""Closing a floor on a weekday (metrics.energy_closing) on the energy week,
with a meeting room added to f2 and a customer service point to f1 (both
0 m², so the week's energy hours stand): f1 is never recommended (its
service point); f2's rooms go with it, so a weekday whose room use is above
0 keeps it open. Desk peaks: Mon 2, Tue 1, Wed 1, Fri 0; room peaks (the
upper bound: sum of per-type peaks): Mon 1, else 0."""

from __future__ import annotations

import pandas as pd
import pytest

from core.registry import Site
from metrics.energy_closing import closing_table, floor_weekdays
from tests.metrics.energy_week import week_site
from tests.metrics.test_energy import week_hours

DAYS = pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-06"])


def with_room_and_counter() -> Site:
    data = week_site().model_dump(mode="json", exclude_none=True)
    extra = [("r1", "meeting_room", "zc"), ("sp1", "service_point", "zb")]
    for i, (space, kind, zone) in enumerate(extra):
        data["spaces"].append(
            {"id": space, "type": kind, "zone": zone, "capacity": 4, "area_m2": 0.0,
             "geometry": {"x": 9.0 + i, "y": 0.0, "w": 1.0, "h": 1.0}}
        )  # fmt: skip
    return Site.model_validate(data)


def test_floor_weekdays_by_hand() -> None:
    per = floor_weekdays(hours=week_hours(), site=week_site()).set_index(["floor", "weekday"])
    # f1 on Monday: za and zb 4 h each, 50 m²: 200 m²h; wholly empty 2.5 h
    assert per.loc[("f1", 0), "conditioned_m2h"] == pytest.approx(200.0)
    assert per.loc[("f1", 0), "empty_m2h"] == pytest.approx(125.0)
    assert per.loc[("f2", 3), "conditioned_days"] == 1  # Thursday, a closure day


def test_rooms_and_service_points_keep_a_floor_open() -> None:
    site = with_room_and_counter()
    table = closing_table(
        hours=week_hours(),
        site=site,
        desk_peaks=pd.DataFrame({"day": DAYS, "peak": [2, 1, 1, 0]}),
        room_peaks=pd.DataFrame({"day": DAYS, "peak": [1, 0, 0, 0]}),
        margin=0.1,
        period_days=7,
    )
    rows = {(r["floor"], r["weekday"]): r for r in table.to_dict(orient="records")}
    assert not any(r["recommended"] for (f, _), r in rows.items() if f == "f1")
    assert "customer service point" in rows[("f1", "fri")]["text"]
    mon = rows[("f2", "mon")]
    assert mon["fits"] and not mon["rooms_fit"] and not mon["recommended"]
    assert mon["rooms_left"] == 0 and mon["room_peak_max"] == 1
    assert "meeting-room use" in mon["text"]
    assert rows[("f2", "tue")]["recommended"] and rows[("f2", "thu")]["recommended"]
    # recommended first, then by saving
    assert list(table["recommended"]) == sorted(table["recommended"], reverse=True)
