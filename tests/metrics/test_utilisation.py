"""Coverage, time utilisation, group utilisation, frequency, intensity, buckets,
heatmap, worked by hand (docs/metrics.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics import clip_to_opening, heatmap, state_intervals, utilisation_table
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence

OFFICE = worked_day.OFFICE_HOURS


@pytest.fixture
def worked() -> tuple:
    site = worked_day.site()
    iv = state_intervals(
        presence=worked_day.presence_frame(site),
        status=worked_day.status_frame(site),
        site=site,
        start=worked_day.DAY_START,
        end=worked_day.DAY_END,
    )
    clipped = clip_to_opening(
        intervals=iv, site=site, start=worked_day.DAY_START, end=worked_day.DAY_END
    )
    return site, clipped


def test_worked_day_per_space(worked: tuple) -> None:
    """docs/metrics.md, "The worked example", per desk (opening 08:00-16:00 = 28,800 s):

    d1: occupied 09:00-11:00 (7,200) + 12:00-12:10 (600) + 12:13-15:00 (10,020)
        = 17,820 s; nothing unknown; utilisation 17,820 / 28,800 = 0.61875.
    d2: occupied 08:00-10:30 = 9,000; unknown 10:30-13:30 = 10,800; observed
        28,800 - 10,800 = 18,000; coverage 18,000 / 28,800 = 0.625; utilisation
        9,000 / 18,000 = 0.5.
    d3: occupied 10:00-11:00 + 11:30-12:20 = 3,600 + 3,000 = 6,600; unknown
        11:00-11:30 = 1,800; observed 27,000; coverage 0.9375; utilisation
        6,600 / 27,000 = 0.2444.
    """
    site, clipped = worked
    t = utilisation_table(intervals=clipped, site=site, by="space").set_index("space")
    assert list(t.index) == ["d1", "d2", "d3"]
    assert list(t["opening_s"]) == [28_800.0] * 3
    assert list(t["unknown_s"]) == [0.0, 10_800.0, 1_800.0]
    assert list(t["observed_s"]) == [28_800.0, 18_000.0, 27_000.0]
    assert list(t["occupied_s"]) == [17_820.0, 9_000.0, 6_600.0]
    assert list(t["coverage"]) == [1.0, 0.625, 0.9375]
    assert list(t["utilisation"]) == [17_820 / 28_800, 0.5, 6_600 / 27_000]
    assert list(t["frequency"]) == [1.0, 1.0, 1.0]  # each used >= 15 min on its one day
    assert t["intensity"].isna().all()  # desks do not count people


def test_worked_day_groups(worked: tuple) -> None:
    """Group utilisation = sum occupied / sum observed, not the mean of ratios.

    Site: occupied 17,820 + 9,000 + 6,600 = 33,420; observed 28,800 + 18,000 +
    27,000 = 73,800; utilisation 33,420 / 73,800 = 0.4528 (the mean of the three
    ratios would be 0.4544); coverage 73,800 / 86,400 = 0.8542.
    Agency a (zone za dedicated: d1, d2): 26,820 / 46,800 = 0.5731. The shared
    zone's d3 is in the group "_shared".
    """
    site, clipped = worked
    s = utilisation_table(intervals=clipped, site=site, by="site").iloc[0]
    assert (s["site"], s["spaces"], s["open_days"]) == ("testsite", 3, 1)
    assert (s["opening_s"], s["unknown_s"], s["observed_s"], s["occupied_s"]) == (
        86_400.0,
        12_600.0,
        73_800.0,
        33_420.0,
    )
    assert s["utilisation"] == 33_420 / 73_800
    assert s["coverage"] == 73_800 / 86_400
    a = utilisation_table(intervals=clipped, site=site, by="agency").set_index("agency")
    assert list(a.index) == ["_shared", "a"]
    assert a.at["a", "occupied_s"] == 26_820.0
    assert a.at["a", "utilisation"] == 26_820 / 46_800
    assert a.at["_shared", "utilisation"] == 6_600 / 27_000
    z = utilisation_table(intervals=clipped, site=site, by="zone").set_index("zone")
    assert z.at["za", "observed_s"] == 46_800.0
    t = utilisation_table(intervals=clipped, site=site, by="space_type")
    assert list(t["space_type"]) == ["desk"]
    assert t["occupied_s"].iloc[0] == 33_420.0


def test_worked_day_hour_bucket(worked: tuple) -> None:
    """10:00-11:00 local: d1 occupied 3,600; d2 occupied 1,800 then unknown 1,800;
    d3 occupied 3,600. Opening 10,800, observed 9,000, occupied 9,000: 100 %."""
    site, clipped = worked
    h = utilisation_table(intervals=clipped, site=site, by="site", bucket="hour")
    assert len(h) == 8  # 08, 09, ..., 15
    row = h.set_index("bucket").loc[pd.Timestamp("2026-03-02 10:00")]
    assert (row["opening_s"], row["observed_s"], row["occupied_s"]) == (10_800.0, 9_000.0, 9_000.0)
    assert row["utilisation"] == 1.0
    assert h["occupied_s"].sum() == 33_420.0
    assert h["frequency"].isna().all()


def test_frequency_and_week_and_month_buckets() -> None:
    """docs/metrics.md, "Frequency": d1, open Mon-Fri 08:00-16:00, Monday 2 to
    Monday 9 March 2026 (6 open days). Occupied Mon 2 Mar 09:00-09:20 (1,200 s:
    counts), Tue 3 Mar 09:00-09:05 and 10:00-10:05 (600 s: does not), Wed 4 Mar
    09:00-09:15 (900 s: counts, the limit is inclusive); nothing else.
    Frequency 2 / 6 = 0.3333; week of 2 March 2 / 5 = 0.4; week of 9 March 0 / 1."""
    site = make_site(spaces=[{"id": "d1"}], opening=OFFICE)
    rows = [(local(f"2026-03-{d:02d} 07:00"), "d1", 0) for d in range(2, 10)]
    rows += [
        (local("2026-03-02 09:00"), "d1", 1),
        (local("2026-03-02 09:20"), "d1", 0),
        (local("2026-03-03 09:00"), "d1", 1),
        (local("2026-03-03 09:05"), "d1", 0),
        (local("2026-03-03 10:00"), "d1", 1),
        (local("2026-03-03 10:05"), "d1", 0),
        (local("2026-03-04 09:00"), "d1", 1),
        (local("2026-03-04 09:15"), "d1", 0),
    ]
    start, end = local("2026-03-02 00:00"), local("2026-03-10 00:00")
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    clipped = clip_to_opening(intervals=iv, site=site, start=start, end=end)
    total = utilisation_table(intervals=clipped, site=site, by="space").iloc[0]
    assert total["open_days"] == 6
    assert total["frequency"] == 2 / 6
    assert total["occupied_s"] == 1_200 + 600 + 900
    weeks = utilisation_table(intervals=clipped, site=site, by="space", bucket="week")
    assert list(weeks["bucket"]) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")]
    assert list(weeks["frequency"]) == [0.4, 0.0]
    assert list(weeks["opening_s"]) == [5 * 28_800.0, 28_800.0]
    assert list(weeks["occupied_s"]) == [2_700.0, 0.0]
    month = utilisation_table(intervals=clipped, site=site, by="site", bucket="month")
    assert list(month["bucket"]) == [pd.Timestamp("2026-03-01")]
    assert month["utilisation"].iloc[0] == 2_700 / (6 * 28_800)
    days = utilisation_table(intervals=clipped, site=site, by="space", bucket="day")
    assert list(days["frequency"]) == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_intensity() -> None:
    """docs/metrics.md, "Intensity": room r1 (capacity 4) holds 2 people
    09:00-09:30 and 4 people 09:30-10:00: mean 3 while occupied, 3 / 4 = 0.75
    (= (2 x 1,800 + 4 x 1,800) / (4 x 3,600)). Room r2 (capacity 2) holds 1
    person 09:00-10:00: 0.5. Both rooms: (10,800 + 3,600) / (14,400 + 7,200)
    = 0.6667. A desk without counts has none and does not dilute the rooms'."""
    site = make_site(
        spaces=[
            {"id": "r1", "type": "meeting_room", "capacity": 4},
            {"id": "r2", "type": "meeting_room", "capacity": 2},
            {"id": "d1"},
        ],
        opening=OFFICE,
    )
    day = "2026-03-02 "
    rows = [
        (local(day + "07:00"), "r1", 0, 0),
        (local(day + "09:00"), "r1", 1, 2),
        (local(day + "09:30"), "r1", 1, 4),
        (local(day + "10:00"), "r1", 0, 0),
        (local(day + "07:00"), "r2", 0, 0),
        (local(day + "09:00"), "r2", 1, 1),
        (local(day + "10:00"), "r2", 0, 0),
        (local(day + "07:00"), "d1", 0),
        (local(day + "09:00"), "d1", 1),
        (local(day + "10:00"), "d1", 0),
    ]
    start, end = worked_day.DAY_START, worked_day.DAY_END
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    clipped = clip_to_opening(intervals=iv, site=site, start=start, end=end)
    per_space = utilisation_table(intervals=clipped, site=site, by="space").set_index("space")
    assert per_space.at["r1", "intensity"] == 0.75
    assert per_space.at["r2", "intensity"] == 0.5
    assert per_space["intensity"].isna()["d1"]
    rooms = utilisation_table(intervals=clipped, site=site, by="space_type").set_index("space_type")
    assert rooms.at["meeting_room", "intensity"] == pytest.approx(14_400 / 21_600, abs=1e-15)
    site_row = utilisation_table(intervals=clipped, site=site, by="site").iloc[0]
    assert site_row["intensity"] == pytest.approx(14_400 / 21_600, abs=1e-15)


def test_heatmap_of_a_group(worked: tuple) -> None:
    """Monday (weekday 0), hour 12 for d1 only: occupied 12:00-12:10 and
    12:13-13:00 = 600 + 2,820 = 3,420 s of 3,600."""
    site, clipped = worked
    cells = heatmap(intervals=clipped, site=site, spaces=["d1"]).set_index(["weekday", "hour"])
    assert len(cells) == 8
    assert cells.at[(0, 12), "occupied_s"] == 3_420.0
    assert cells.at[(0, 12), "utilisation"] == 3_420 / 3_600


def test_bad_arguments() -> None:
    site = make_site(spaces=[{"id": "d1"}])
    empty = pd.DataFrame(columns=["space", "start", "end", "state", "count"])
    with pytest.raises(ValueError, match=r"lacks column.*'day'"):
        utilisation_table(intervals=empty, site=site)
    site2, clipped = (site, empty.assign(day=pd.Series(dtype="datetime64[ns]")))
    with pytest.raises(ValueError, match="by must be one of"):
        utilisation_table(intervals=clipped, site=site2, by="building")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bucket must be one of"):
        utilisation_table(intervals=clipped, site=site2, bucket="year")  # type: ignore[arg-type]
