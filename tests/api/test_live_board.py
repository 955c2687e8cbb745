"""The live board applies the metric rules to the current state (hand-worked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.live import LiveBoard
from core.messages import AgentStatus, Presence
from tests.core.test_calendar import make_site

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def site_with_two_desks():  # type: ignore[no-untyped-def]
    return make_site(
        heartbeat_s=60,
        spaces=[
            {
                "id": f"d{i}",
                "type": "desk",
                "zone": "z",
                "capacity": 1,
                "area_m2": 1,
                "geometry": {"x": i, "y": 0, "w": 1, "h": 1},
                "sensor": {"id": f"s{i}", "agent": "ag"},
            }
            for i in (1, 2)
        ],
    )


def presence(space: str, occupied: bool, at: datetime, seq: int, kind: str = "change") -> Presence:
    return Presence(
        space_id=space,
        agent_id="ag",
        sensor_id=f"s{space[1:]}",
        occupied=occupied,
        event_time=at,
        seq=seq,
        kind=kind,
    )  # type: ignore[arg-type]


def test_states_since_and_listeners() -> None:
    board = LiveBoard(site_with_two_desks())
    seen = []
    board.add_listener(lambda s: seen.append((s.space, s.state)))
    assert {s.state for s in board.spaces()} == {"unknown"}  # no data yet
    board.apply_presence(presence("d1", True, T0, 1))
    board.apply_presence(presence("d1", True, T0 + timedelta(seconds=60), 2, "heartbeat"))
    d1 = next(s for s in board.spaces() if s.space == "d1")
    assert d1.state == "occupied" and d1.since == T0  # a heartbeat does not restart the state
    assert d1.last_seen == T0 + timedelta(seconds=60)
    assert seen == [("d1", "occupied")]  # the heartbeat changed nothing visible
    assert board.counts("zone")["z"] == {"occupied": 1, "free": 0, "unknown": 1, "total": 2}


def test_out_of_order_message_is_ignored() -> None:
    board = LiveBoard(site_with_two_desks())
    board.apply_presence(presence("d1", False, T0 + timedelta(minutes=5), 2))
    assert board.apply_presence(presence("d1", True, T0, 1)) is None
    assert next(s for s in board.spaces() if s.space == "d1").state == "free"


def test_silence_beyond_two_and_a_half_heartbeats_is_unknown() -> None:
    board = LiveBoard(site_with_two_desks(), silence_factor=2.5)
    board.apply_presence(presence("d1", True, T0, 1))
    # heartbeat 60 s -> unknown after 150 s of silence, not before
    assert board.sweep(T0 + timedelta(seconds=150)) == []
    changed = board.sweep(T0 + timedelta(seconds=151))
    assert [(c.space, c.state, c.since, c.reason) for c in changed] == [
        ("d1", "unknown", T0 + timedelta(seconds=150), "silent")
    ]


def test_agent_offline_makes_its_spaces_unknown_until_next_message() -> None:
    board = LiveBoard(site_with_two_desks())
    board.apply_presence(presence("d1", True, T0, 1))
    board.apply_presence(presence("d2", False, T0, 2))
    will = AgentStatus(agent_id="ag", state="offline")  # type: ignore[arg-type]
    board.apply_status(will, received_at=T0 + timedelta(seconds=30))
    assert {s.state for s in board.spaces()} == {"unknown"}
    assert board.agents() == {"ag": False}
    board.apply_presence(presence("d2", True, T0 + timedelta(seconds=40), 3))
    d2 = next(s for s in board.spaces() if s.space == "d2")
    assert d2.state == "occupied" and board.agents() == {"ag": True}


def test_health_reports_silent_low_battery_and_stuck_sensors() -> None:
    from api.health import sensor_problems

    board = LiveBoard(site_with_two_desks())
    board.apply_presence(presence("d1", True, T0, 1))
    board.apply_presence(presence("d2", False, T0, 2))
    later = T0 + timedelta(hours=13)
    board.apply_presence(presence("d2", False, later, 3, "heartbeat"))
    board.sweep(later)  # d1 silent for 13 h -> unknown; d2 heard just now
    report = sensor_problems(
        board.spaces(),
        batteries={"s2": 9.0},
        now=later,
        low_battery_pct=15,
        stuck_after_s=12 * 3600,
    )
    assert {(r["space"], tuple(r["problems"])) for r in report} == {
        ("d1", ("silent",)),
        ("d2", ("low battery",)),
    }
    board.apply_presence(presence("d1", True, later, 4, "heartbeat"))  # occupied since T0 + 13 h
    stuck = sensor_problems(
        board.spaces(),
        batteries={},
        now=later + timedelta(hours=12, seconds=1),
        low_battery_pct=15,
        stuck_after_s=12 * 3600,
    )
    assert [(r["space"], r["problems"]) for r in stuck] == [("d1", ["stuck occupied"])]
