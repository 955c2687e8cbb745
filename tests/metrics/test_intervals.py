"""State intervals, worked by hand (docs/metrics.md, "State intervals")."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from metrics import state_intervals
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence, status, table


def _day(hhmm: str) -> pd.Timestamp:
    return local(f"2026-03-02 {hhmm}")


END = worked_day.DAY_END


def test_worked_day_intervals() -> None:
    """docs/metrics.md, "The worked example": the whole interval table of the day.

    A state holds from one message to the next; 2.5 x 3,600 s = 2 h 30 min after
    a space's last message it becomes unknown; repeated states (heartbeats) fold
    into one interval; before the first message a space is unknown.
    """
    site = worked_day.site()
    got = state_intervals(
        presence=worked_day.presence_frame(site),
        status=worked_day.status_frame(site),
        site=site,
        start=worked_day.DAY_START,
        end=END,
    )
    assert table(got) == [
        ("d1", _day("00:00"), _day("07:30"), "unknown"),  # before the first message
        ("d1", _day("07:30"), _day("09:00"), "free"),
        ("d1", _day("09:00"), _day("11:00"), "occupied"),
        ("d1", _day("11:00"), _day("12:00"), "free"),
        ("d1", _day("12:00"), _day("12:10"), "occupied"),
        ("d1", _day("12:10"), _day("12:13"), "free"),
        ("d1", _day("12:13"), _day("15:00"), "occupied"),  # 14:00 heartbeat folded in
        ("d1", _day("15:00"), _day("19:30"), "free"),  # 17:00 + 2 h 30 min
        ("d1", _day("19:30"), END, "unknown"),
        ("d2", _day("00:00"), _day("08:00"), "unknown"),
        ("d2", _day("08:00"), _day("10:30"), "occupied"),  # 08:00 + 2 h 30 min: silent
        ("d2", _day("10:30"), _day("13:30"), "unknown"),  # until its next message
        ("d2", _day("13:30"), _day("18:00"), "free"),  # 15:30 + 2 h 30 min
        ("d2", _day("18:00"), END, "unknown"),
        ("d3", _day("00:00"), _day("07:45"), "unknown"),
        ("d3", _day("07:45"), _day("10:00"), "free"),
        ("d3", _day("10:00"), _day("11:00"), "occupied"),
        ("d3", _day("11:00"), _day("11:30"), "unknown"),  # agent-2 offline
        ("d3", _day("11:30"), _day("12:20"), "occupied"),  # back online: state resumes
        ("d3", _day("12:20"), _day("16:50"), "free"),  # 14:20 + 2 h 30 min
        ("d3", _day("16:50"), END, "unknown"),
    ]
    assert str(got["start"].dtype) == "datetime64[ns, UTC]"


def test_merge_gap_bridges_short_free_gaps_only() -> None:
    """docs/metrics.md, "Merge gap": with a 300 s merge gap the 180 s gap of d1 at
    12:10-12:13 becomes occupied; the 3,600 s gap at 11:00-12:00 does not."""
    site = worked_day.site()
    got = state_intervals(
        presence=worked_day.presence_frame(site),
        status=worked_day.status_frame(site),
        site=site,
        start=worked_day.DAY_START,
        end=END,
        merge_gap_s=300,
    )
    d1 = [row for row in table(got) if row[0] == "d1"]
    assert d1[2:6] == [
        ("d1", _day("09:00"), _day("11:00"), "occupied"),
        ("d1", _day("11:00"), _day("12:00"), "free"),
        ("d1", _day("12:00"), _day("15:00"), "occupied"),  # 12:00-12:10 + gap + 12:13-15:00
        ("d1", _day("15:00"), _day("19:30"), "free"),
    ]
    # A gap exactly as long as the merge gap is not shorter than it: kept free.
    got = state_intervals(
        presence=worked_day.presence_frame(site),
        status=None,
        site=site,
        start=worked_day.DAY_START,
        end=END,
        merge_gap_s=180,
    )
    assert ("d1", _day("12:10"), _day("12:13"), "free") in table(got)


def test_agent_offline_ends_at_the_next_message_of_the_space() -> None:
    """Agent offline at 11:00 and never back online; the space's next message, at
    11:45 (delivered late from the agent's outbox), ends the unknown spell."""
    site = make_site(spaces=[{"id": "d1"}, {"id": "d2"}])
    pres = presence(
        site,
        [(_day("10:00"), "d1", 1), (_day("11:45"), "d1", 1), (_day("10:00"), "d2", 0)],
    )
    stat = status(site, [(_day("11:00"), "agent-1", 0)])
    got = state_intervals(
        presence=pres, status=stat, site=site, start=_day("10:00"), end=_day("13:00")
    )
    assert table(got) == [
        ("d1", _day("10:00"), _day("11:00"), "occupied"),
        ("d1", _day("11:00"), _day("11:45"), "unknown"),
        ("d1", _day("11:45"), _day("13:00"), "occupied"),
        # d2 sends nothing after the agent went offline: unknown to the end.
        ("d2", _day("10:00"), _day("11:00"), "free"),
        ("d2", _day("11:00"), _day("13:00"), "unknown"),
    ]


def test_state_and_offline_status_from_before_the_window_carry_in() -> None:
    """The caller passes each space's last point before start (Store.last) and
    each agent's last status: a desk occupied at 08:00 is occupied from the
    window start at 09:00; an agent offline since 08:30 keeps d2 unknown until
    its online status at 09:15."""
    site = make_site(spaces=[{"id": "d1", "agent": "agent-1"}, {"id": "d2", "agent": "agent-2"}])
    pres = presence(site, [(_day("08:00"), "d1", 1), (_day("08:00"), "d2", 0)])
    stat = status(site, [(_day("08:30"), "agent-2", 0), (_day("09:15"), "agent-2", 1)])
    got = state_intervals(
        presence=pres, status=stat, site=site, start=_day("09:00"), end=_day("10:00")
    )
    assert table(got) == [
        ("d1", _day("09:00"), _day("10:00"), "occupied"),
        ("d2", _day("09:00"), _day("09:15"), "unknown"),
        ("d2", _day("09:15"), _day("10:00"), "free"),
    ]


def test_heartbeat_interval_falls_back_to_the_site_setting() -> None:
    """No hb field: the site's heartbeat_s (60 s) applies; 2.5 x 60 s = 150 s."""
    site = make_site(spaces=[{"id": "d1"}], heartbeat_s=60)
    pres = presence(site, [(_day("09:00"), "d1", 1)], hb=None)
    got = state_intervals(
        presence=pres, status=None, site=site, start=_day("09:00"), end=_day("09:10")
    )
    assert table(got) == [
        ("d1", _day("09:00"), pd.Timestamp("2026-03-02 07:02:30", tz="UTC"), "occupied"),
        ("d1", pd.Timestamp("2026-03-02 07:02:30", tz="UTC"), _day("09:10"), "unknown"),
    ]


def test_space_without_data_is_unknown_and_foreign_rows_are_ignored() -> None:
    site = make_site(spaces=[{"id": "d1"}, {"id": "d2"}])
    pres = presence(site, [(_day("09:00"), "d1", 0)])
    foreign = pres.assign(space="not-here", agent="agent-9")
    got = state_intervals(
        presence=pd.concat([pres, foreign], ignore_index=True),
        status=status(site, [(_day("09:00"), "agent-9", 0)]),
        site=site,
        start=_day("09:00"),
        end=_day("10:00"),
    )
    assert table(got) == [
        ("d1", _day("09:00"), _day("10:00"), "free"),
        ("d2", _day("09:00"), _day("10:00"), "unknown"),
    ]


def test_people_count_splits_intervals() -> None:
    site = make_site(spaces=[{"id": "r1", "type": "meeting_room", "capacity": 4}])
    pres = presence(
        site,
        [(_day("09:00"), "r1", 1, 2), (_day("09:30"), "r1", 1, 4), (_day("10:00"), "r1", 0, 0)],
    )
    got = state_intervals(
        presence=pres, status=None, site=site, start=_day("09:00"), end=_day("10:30")
    )
    assert list(got["count"].fillna(-1)) == [2.0, 4.0, -1.0]  # a free room has no count
    assert list(got["state"]) == ["occupied", "occupied", "free"]


def test_bad_input_is_refused_with_a_clear_error() -> None:
    site = make_site(spaces=[{"id": "d1"}])
    pres = presence(site, [(_day("09:00"), "d1", 1)])
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        state_intervals(
            presence=pres, status=None, site=site, start=pd.Timestamp("2026-03-02"), end=END
        )
    with pytest.raises(ValueError, match="must be before end"):
        state_intervals(presence=pres, status=None, site=site, start=END, end=END)
    with pytest.raises(ValueError, match=r"lacks column.*'occupied'"):
        state_intervals(
            presence=pres.drop(columns="occupied"),
            status=None,
            site=site,
            start=_day("09:00"),
            end=END,
        )
    naive = pres.assign(time=pres["time"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="'time' must be timezone-aware"):
        state_intervals(presence=naive, status=None, site=site, start=_day("09:00"), end=END)
    with pytest.raises(ValueError, match=r"lacks column.*'online'"):
        state_intervals(
            presence=pres,
            status=status(site, [(_day("09:00"), "agent-1", 0)]).drop(columns="online"),
            site=site,
            start=_day("09:00"),
            end=END,
        )


def test_unordered_input_gives_the_same_intervals() -> None:
    site = worked_day.site()
    pres = worked_day.presence_frame(site)
    args: dict[str, Any] = {
        "status": worked_day.status_frame(site),
        "site": site,
        "start": worked_day.DAY_START,
        "end": END,
    }
    shuffled = pres.sample(frac=1.0, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        state_intervals(presence=shuffled, **args), state_intervals(presence=pres, **args)
    )


def test_merge_gap_never_bridges_local_midnight() -> None:
    """docs/metrics.md, "Merge gap": on a site open round the clock, the 180 s
    gap 23:59-00:02 (Helsinki) touches midnight and stays free with a 600 s
    merge gap; the 120 s gap 00:10-00:12 inside the day is bridged. A gap that
    ends exactly at midnight stays free too."""
    site = make_site(spaces=[{"id": "d1"}, {"id": "d2"}])
    rows = [
        (local("2026-03-09 23:00"), "d1", 1),
        (local("2026-03-09 23:59"), "d1", 0),
        (local("2026-03-10 00:02"), "d1", 1),
        (local("2026-03-10 00:10"), "d1", 0),
        (local("2026-03-10 00:12"), "d1", 1),
        (local("2026-03-10 01:00"), "d1", 0),
        (local("2026-03-09 23:00"), "d2", 1),
        (local("2026-03-09 23:58"), "d2", 0),
        (local("2026-03-10 00:00"), "d2", 1),
        (local("2026-03-10 01:00"), "d2", 0),
    ]
    got = state_intervals(
        presence=presence(site, rows),
        status=None,
        site=site,
        start=local("2026-03-09 22:00"),
        end=local("2026-03-10 02:00"),
        merge_gap_s=600,
    )
    occupied = [(r[0], r[1], r[2]) for r in table(got) if r[3] == "occupied"]
    assert occupied == [
        ("d1", local("2026-03-09 23:00"), local("2026-03-09 23:59")),
        ("d1", local("2026-03-10 00:02"), local("2026-03-10 01:00")),
        ("d2", local("2026-03-09 23:00"), local("2026-03-09 23:58")),
        ("d2", local("2026-03-10 00:00"), local("2026-03-10 01:00")),
    ]
