"""A scripted morning on a three-space site; every message is worked out by hand.

Site ``tiny`` (conftest): d1 (desk) and r1 (meeting room, counts people) on
agent-a, d2 (desk) on agent-b; heartbeat 600 s on an aligned grid, health
every 3600 s. Sensors: latency exactly 2 s, hold 60 s. Monday 2026-01-05,
Helsinki is UTC+2, the run covers 06:00Z..08:00Z.

True spells (UTC):
  d1 06:10:00-06:30:00 and 06:30:30-07:00:00 (a 30 s gap < hold: one sensed spell)
  r1 06:20:00-06:40:00, 4 people
  d2 07:15:00-07:45:00
Sensed: d1 06:10:02-07:01:00, r1 06:20:02-06:41:00 (4), d2 07:15:02-07:46:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.messages import AgentHealth, AgentStatus, Presence
from core.registry import Site
from simulators.layout import build_layout
from simulators.publisher import message_stream
from simulators.scenario import Fault, FaultKind, Scenario, ScriptedSpell, Sensors
from simulators.truth import collect_truth, occupied_seconds


def T(hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, 1, 5, h, m, s, tzinfo=UTC)


def scripted(faults: list[Fault] | None = None) -> Scenario:
    return Scenario(
        seed=3,
        occupancy="script",
        script=[
            ScriptedSpell(space="d1", start=T("06:10:00"), end=T("06:30:00")),
            ScriptedSpell(space="d1", start=T("06:30:30"), end=T("07:00:00")),
            ScriptedSpell(space="r1", start=T("06:20:00"), end=T("06:40:00"), count=4),
            ScriptedSpell(space="d2", start=T("07:15:00"), end=T("07:45:00")),
        ],
        sensors=Sensors(
            latency_s=(2.0, 2.0), hold_s=60.0, heartbeat_phase="aligned", health_interval_s=3600
        ),
        faults=faults or [],
        random_faults=None,
    )


def decoded(
    site: Site, sc: Scenario, start: str = "06:00:00", end: str = "08:00:00"
) -> list[tuple]:
    """(kind, agent, space, time HH:MM:SS, occupied, count, seq, presence kind) per message."""
    out = []
    for m in message_stream(site, sc, T(start), T(end)):
        doc = json.loads(m.payload)
        if m.kind == "presence":
            p = Presence.model_validate(doc)
            out.append(
                (
                    "presence",
                    p.agent_id,
                    p.space_id,
                    p.event_time.strftime("%H:%M:%S"),
                    p.occupied,
                    p.people_count,
                    p.seq,
                    p.kind.value,
                )
            )
        elif m.kind in ("status", "offline"):
            s = AgentStatus.model_validate(doc)
            when = s.event_time.strftime("%H:%M:%S") if s.event_time else None
            out.append((m.kind, s.agent_id, s.state.value, when, m.retain))
        else:
            h = AgentHealth.model_validate(doc)
            out.append(("health", h.agent_id, h.event_time.strftime("%H:%M:%S"), len(h.sensors)))
    return out


def hb(agent: str, space: str, t: str, occ: bool, count: int | None, seq: int) -> tuple:
    return ("presence", agent, space, t, occ, count, seq, "heartbeat")


def ch(agent: str, space: str, t: str, occ: bool, count: int | None, seq: int) -> tuple:
    return ("presence", agent, space, t, occ, count, seq, "change")


def test_every_message_of_the_scripted_morning(tiny_site: Site) -> None:
    got = decoded(tiny_site, scripted())
    expected = [
        ("status", "agent-a", "online", "06:00:00", True),
        ("status", "agent-b", "online", "06:00:00", True),
        hb("agent-a", "d1", "06:00:00", False, None, 0),
        hb("agent-a", "r1", "06:00:00", False, 0, 1),
        hb("agent-b", "d2", "06:00:00", False, None, 0),
        ("health", "agent-a", "06:00:00", 2),
        ("health", "agent-b", "06:00:00", 1),
        hb("agent-a", "d1", "06:10:00", False, None, 2),
        hb("agent-a", "r1", "06:10:00", False, 0, 3),
        hb("agent-b", "d2", "06:10:00", False, None, 1),
        ch("agent-a", "d1", "06:10:02", True, None, 4),
        hb("agent-a", "d1", "06:20:00", True, None, 5),
        hb("agent-a", "r1", "06:20:00", False, 0, 6),
        hb("agent-b", "d2", "06:20:00", False, None, 2),
        ch("agent-a", "r1", "06:20:02", True, 4, 7),
        # the 30 s gap at 06:30 is inside the hold time: no change
        hb("agent-a", "d1", "06:30:00", True, None, 8),
        hb("agent-a", "r1", "06:30:00", True, 4, 9),
        hb("agent-b", "d2", "06:30:00", False, None, 3),
        hb("agent-a", "d1", "06:40:00", True, None, 10),
        hb("agent-a", "r1", "06:40:00", True, 4, 11),
        hb("agent-b", "d2", "06:40:00", False, None, 4),
        ch("agent-a", "r1", "06:41:00", False, 0, 12),
        hb("agent-a", "d1", "06:50:00", True, None, 13),
        hb("agent-a", "r1", "06:50:00", False, 0, 14),
        hb("agent-b", "d2", "06:50:00", False, None, 5),
        hb("agent-a", "d1", "07:00:00", True, None, 15),
        hb("agent-a", "r1", "07:00:00", False, 0, 16),
        hb("agent-b", "d2", "07:00:00", False, None, 6),
        ("health", "agent-a", "07:00:00", 2),
        ("health", "agent-b", "07:00:00", 1),
        ch("agent-a", "d1", "07:01:00", False, None, 17),
        hb("agent-a", "d1", "07:10:00", False, None, 18),
        hb("agent-a", "r1", "07:10:00", False, 0, 19),
        hb("agent-b", "d2", "07:10:00", False, None, 7),
        ch("agent-b", "d2", "07:15:02", True, None, 8),
        hb("agent-a", "d1", "07:20:00", False, None, 20),
        hb("agent-a", "r1", "07:20:00", False, 0, 21),
        hb("agent-b", "d2", "07:20:00", True, None, 9),
        hb("agent-a", "d1", "07:30:00", False, None, 22),
        hb("agent-a", "r1", "07:30:00", False, 0, 23),
        hb("agent-b", "d2", "07:30:00", True, None, 10),
        hb("agent-a", "d1", "07:40:00", False, None, 24),
        hb("agent-a", "r1", "07:40:00", False, 0, 25),
        hb("agent-b", "d2", "07:40:00", True, None, 11),
        ch("agent-b", "d2", "07:46:00", False, None, 12),
        hb("agent-a", "d1", "07:50:00", False, None, 26),
        hb("agent-a", "r1", "07:50:00", False, 0, 27),
        hb("agent-b", "d2", "07:50:00", False, None, 13),
    ]
    assert got == expected


def test_truth_of_the_scripted_morning(tiny_site: Site) -> None:
    truth = collect_truth(build_layout(tiny_site, scripted()), T("06:00:00"), T("08:00:00"))
    physical = occupied_seconds(truth, start=T("06:00:00"), end=T("08:00:00"), basis="occupied")
    sensed = occupied_seconds(truth, start=T("06:00:00"), end=T("08:00:00"))
    # d1: 20 min + 29.5 min; r1: 20 min; d2: 30 min
    assert physical == {"d1": 2970.0, "r1": 1200.0, "d2": 1800.0}
    # d1 06:10:02-07:01:00 = 50 min 58 s; r1 06:20:02-06:41:00; d2 07:15:02-07:46:00
    assert sensed == {"d1": 3058.0, "r1": 1258.0, "d2": 1858.0}
    # a window: 06:30-07:00 only
    part = occupied_seconds(truth, start=T("06:30:00"), end=T("07:00:00"))
    assert part == {"d1": 1800.0, "r1": 660.0, "d2": 0.0}
    assert truth.sensed["r1"] == [
        (int(T("06:20:02").timestamp() * 1000), int(T("06:41:00").timestamp() * 1000), 4)
    ]


def test_faults_change_the_messages_as_configured(tiny_site: Site) -> None:
    faults = [
        # r1 is free 06:45-06:55 in truth: stuck says occupied (count 1) meanwhile
        Fault(kind=FaultKind.STUCK_OCCUPIED, target="r1", start=T("06:45:00"), end=T("06:55:00")),
        # d1 silent 06:15-06:35: its heartbeats at 06:20 and 06:30 are lost
        Fault(kind=FaultKind.SILENT, target="d1", start=T("06:15:00"), end=T("06:35:00")),
        # agent-b offline 07:05-07:12: will at 07:05, its 07:10 heartbeat lost,
        # back online at 07:12 with a snapshot of d2
        Fault(
            kind=FaultKind.AGENT_OFFLINE, target="agent-b", start=T("07:05:00"), end=T("07:12:00")
        ),
    ]
    got = decoded(tiny_site, scripted(faults))
    r1 = [
        g[3:6]
        for g in got
        if g[0] == "presence" and g[2] == "r1" and "06:40:00" <= g[3] <= "07:00:00"
    ]
    assert r1 == [
        ("06:40:00", True, 4),
        ("06:41:00", False, 0),
        ("06:45:00", True, 1),
        ("06:50:00", True, 1),
        ("06:55:00", False, 0),
        ("07:00:00", False, 0),
    ]
    d1 = [g[3] for g in got if g[0] == "presence" and g[2] == "d1" and g[3] < "06:45:00"]
    assert d1 == ["06:00:00", "06:10:00", "06:10:02", "06:40:00"]
    b = [
        g
        for g in got
        if g[0] in ("status", "presence") and g[1] == "agent-b" and "07:00:00" < g[3] < "07:20:00"
    ]
    assert ("offline", "agent-b", "offline", None, True) in got
    assert b == [
        ("status", "agent-b", "online", "07:12:00", True),
        hb("agent-b", "d2", "07:12:00", False, None, 7),
        ch("agent-b", "d2", "07:15:02", True, None, 8),
    ]
    offline_at = [i for i, g in enumerate(got) if g[0] == "offline"]
    assert len(offline_at) == 1
    # the reboot (status and snapshot) is sent when agent-b is back, not before
    back_ms = int(T("07:12:00").timestamp() * 1000)
    reboot = [
        m.pub_ms
        for m in message_stream(tiny_site, scripted(faults), T("06:00:00"), T("08:00:00"))
        if m.kind in ("status", "presence")
        and json.loads(m.payload).get("event_time", "")[:19] == "2026-01-05T07:12:00"
    ]
    assert reboot == [back_ms, back_ms]
    # the will comes between the 07:00 and 07:12 messages of agent-b
    before = [g for g in got[: offline_at[0]] if g[1] == "agent-b"]
    assert before[-1][0] == "health" and before[-1][2] == "07:00:00"
    # and the truth lists the faults with their spaces and spans
    truth = collect_truth(build_layout(tiny_site, scripted(faults)), T("06:00:00"), T("08:00:00"))
    assert [(f.kind, f.spaces) for f in truth.faults] == [
        ("silent", ("d1",)),
        ("stuck_occupied", ("r1",)),
        ("agent_offline", ("d2",)),
    ]


@pytest.mark.parametrize("skew", [90.0, -45.0])
def test_clock_skew_shifts_event_times_only(tiny_site: Site, skew: float) -> None:
    fault = Fault(
        kind=FaultKind.CLOCK_SKEW,
        target="agent-b",
        start=T("07:00:00"),
        end=T("08:00:00"),
        param=skew,
    )
    plain = [g for g in decoded(tiny_site, scripted()) if g[1] == "agent-b" and g[0] == "presence"]
    skewed = [
        g for g in decoded(tiny_site, scripted([fault])) if g[1] == "agent-b" and g[0] == "presence"
    ]
    assert [g[6] for g in plain] == [g[6] for g in skewed]  # same seq
    for a, b in zip(plain, skewed, strict=True):
        ta = datetime.strptime(a[3], "%H:%M:%S")
        tb = datetime.strptime(b[3], "%H:%M:%S")
        assert (tb - ta).total_seconds() == (skew if a[3] >= "07:00:00" else 0)


def test_duplicates_and_out_of_order(tiny_site: Site) -> None:
    dup = Fault(
        kind=FaultKind.DUPLICATES,
        target="agent-a",
        start=T("06:00:00"),
        end=T("08:00:00"),
        param=1.0,
    )
    got = [
        g for g in decoded(tiny_site, scripted([dup])) if g[0] == "presence" and g[1] == "agent-a"
    ]
    seqs = [g[6] for g in got]
    assert sorted(seqs) == sorted(list(range(28)) * 2)  # every message twice, same seq
    late = Fault(
        kind=FaultKind.OUT_OF_ORDER,
        target="agent-a",
        start=T("06:00:00"),
        end=T("08:00:00"),
        param=900.0,
    )
    got = [
        g for g in decoded(tiny_site, scripted([late])) if g[0] == "presence" and g[1] == "agent-a"
    ]
    seqs = [g[6] for g in got]
    assert sorted(seqs) == list(range(28))
    assert seqs != sorted(seqs)  # delivered out of order


def test_scripted_bookings_and_no_shows(tiny_site: Site) -> None:
    from simulators.scenario import ScriptedBooking

    sc = scripted().model_copy(
        update={
            "script_bookings": [
                # r1 is used 06:20-06:40: a kept booking
                ScriptedBooking(space="r1", agency="vero", start=T("06:15:00"), end=T("06:45:00")),
                # nobody comes to r1 at 07:30: a no-show
                ScriptedBooking(space="r1", agency="vero", start=T("07:30:00"), end=T("08:00:00")),
            ]
        }
    )
    truth = collect_truth(build_layout(tiny_site, sc), T("06:00:00"), T("08:00:00"))
    got = [(b.booking_id, b.space_id, b.agency_id, b.no_show) for b in truth.bookings]
    assert got == [("script-1", "r1", "vero", False), ("script-2", "r1", "vero", True)]
