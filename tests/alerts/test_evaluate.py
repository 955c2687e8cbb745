"""The pure evaluation on hand-worked timelines (times in seconds from T0)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.evaluate import Reading, Track, evaluate
from alerts.observe import SiteView, coverage_pct, known_pct, readings, trim
from alerts.rules import Kind, Rule
from api.live import SpaceLive
from core.registry import load_site
from tests.api.conftest import SMALL_SITE

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SITE = load_site(SMALL_SITE)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def run(rule: Rule, timeline: list[tuple[float, float]]) -> list[tuple[float, str]]:
    """Feed (second, value) readings of one subject; the (second, change) list."""
    state: dict = {}
    out = []
    for s, value in timeline:
        state, transitions = evaluate(
            rules={rule.id: rule},
            readings=[Reading(rule.id, "pieni", "x", value)],
            state=state,
            now=at(s),
        )
        out += [(s, t.change) for t in transitions]
    return out


def test_battery_min_duration_and_hysteresis() -> None:
    rule = Rule(id="bat", kind=Kind.BATTERY_LOW, threshold=20, clear=30, for_s=60)
    timeline = [
        (0, 25),  # fine
        (10, 19),  # breach: pending from 10
        (40, 18),  # 30 s < 60 s: still pending
        (70, 19),  # 60 s of breach: fires
        (100, 25),  # above the threshold but below clear (30): stays firing
        (130, 19),  # breach again: no second firing
        (160, 29.9),  # still below clear
        (190, 31),  # past clear: resolves
    ]
    assert run(rule, timeline) == [(70, "fired"), (190, "resolved")]


def test_an_interrupted_breach_starts_its_minimum_duration_again() -> None:
    rule = Rule(id="bat", kind=Kind.BATTERY_LOW, threshold=20, for_s=60)
    timeline = [(0, 19), (30, 21), (60, 19), (90, 19), (119, 19), (120, 19)]
    # pending from 0, broken at 30, pending again from 60: 60 s are reached at 120
    assert run(rule, timeline) == [(120, "fired")]


def test_wobbling_around_the_threshold_fires_once_with_hysteresis() -> None:
    rule = Rule(id="lag", kind=Kind.SUMMARISER_LAG, threshold=600, clear=300)
    values = [601, 599, 601, 599, 601, 299]
    assert run(rule, list(enumerate(values))) == [(0, "fired"), (5, "resolved")]
    # without hysteresis the same values flap on every tick
    plain = Rule(id="lag", kind=Kind.SUMMARISER_LAG, threshold=600)
    assert len(run(plain, list(enumerate(values)))) == 6  # fired, resolved, three times


def test_recovery_needs_its_minimum_duration_too() -> None:
    rule = Rule(id="lag", kind=Kind.SUMMARISER_LAG, threshold=600, clear_for_s=120)
    timeline = [(0, 700), (60, 100), (120, 700), (180, 100), (299, 100), (300, 100)]
    # fires at 0; recovery from 60 broken at 120; recovery from 180 holds 120 s at 300
    assert run(rule, timeline) == [(0, "fired"), (300, "resolved")]


def test_no_reading_keeps_the_state_and_a_removed_rule_resolves() -> None:
    rule = Rule(id="bat", kind=Kind.BATTERY_LOW, threshold=20)
    state, out = evaluate(
        rules={"bat": rule}, readings=[Reading("bat", "pieni", "x", 5)], state={}, now=at(0)
    )
    assert [t.change for t in out] == ["fired"]
    state, out = evaluate(rules={"bat": rule}, readings=[], state=state, now=at(10))
    assert out == [] and state[("bat", "pieni", "x")] == Track(True, None, 5)
    state, out = evaluate(rules={}, readings=[], state=state, now=at(20))
    assert [(t.change, t.subject) for t in out] == [("resolved", "x")] and state == {}


def space(sid: str = "a1", **kw: object) -> SpaceLive:
    base = {"space": sid, "zone": "za", "floor": "f1", "space_type": "desk", "agent": "ag"}
    return SpaceLive(**{**base, "sensor": f"s-{sid}", **kw})  # type: ignore[arg-type]


def view(spaces: list[SpaceLive], **kw: object) -> SiteView:
    base = {"agents": {"ag": True}, "agent_since": {}}
    return SiteView(site=SITE, spaces=spaces, **{**base, **kw})  # type: ignore[arg-type]


def tick(rule: Rule, v: SiteView, s: float, state: dict) -> tuple[dict, list[str]]:
    found = readings(rule, v, now=at(s))
    state, out = evaluate(rules={rule.id: rule}, readings=found, state=state, now=at(s))
    return state, [f"{t.change}:{t.subject}" for t in out]


def test_sensor_silent_from_the_live_state() -> None:
    rule = Rule(id="silent", kind=Kind.SENSOR_SILENT, threshold=600)
    seen = space(state="free", last_seen=at(0))
    never = space("a2", state="unknown", reason="no data")  # never reported: no reading
    state, out = tick(rule, view([seen, never]), 600, {})
    assert out == []  # 600 s is not longer than 600 s
    state, out = tick(rule, view([seen, never]), 601, state)
    assert out == ["fired:a1"]
    state, out = tick(rule, view([seen, never]), 900, state)
    assert out == []
    back = space(state="free", last_seen=at(950))
    state, out = tick(rule, view([back, never]), 960, state)
    assert out == ["resolved:a1"]


def test_stuck_occupied_in_hours() -> None:
    rule = Rule(id="stuck", kind=Kind.STUCK_OCCUPIED, threshold=12)
    occupied = space(state="occupied", since=at(0), last_seen=at(0))
    state, out = tick(rule, view([occupied]), 12 * 3600, {})
    assert out == []
    state, out = tick(rule, view([occupied]), 12 * 3600 + 36, state)  # 12.01 h
    assert out == ["fired:a1"]
    # unknown tells nothing: still firing; free ends it
    unknown = space(state="unknown", since=at(13 * 3600), reason="silent")
    state, out = tick(rule, view([unknown]), 13 * 3600, state)
    assert out == []
    free = space(state="free", since=at(14 * 3600), last_seen=at(14 * 3600))
    state, out = tick(rule, view([free]), 14 * 3600, state)
    assert out == ["resolved:a1"]


def test_agent_offline_counts_from_its_status_message() -> None:
    rule = Rule(id="agent", kind=Kind.AGENT_OFFLINE, threshold=120)
    v = view([], agents={"ag": False}, agent_since={"ag": at(0)})
    state, out = tick(rule, v, 100, {})
    assert out == []
    state, out = tick(rule, v, 121, state)
    assert out == ["fired:ag"]
    state, out = tick(rule, view([], agents={"ag": True}, agent_since={"ag": at(200)}), 200, state)
    assert out == ["resolved:ag"]


def test_battery_readings_only_for_sensors_that_reported_one() -> None:
    rule = Rule(id="bat", kind=Kind.BATTERY_LOW, threshold=15, zone="za")
    spaces = [space("a1"), space("a2"), space("b1", zone="zb")]
    v = view(spaces, batteries={"s-a1": 14.0, "s-a2": 80.0, "s-b1": 3.0})
    found = readings(rule, v, now=at(0))
    # b1 is outside the rule's zone; a1's reading carries its zone's agency
    assert sorted((r.subject, r.value, r.agency) for r in found) == [
        ("a1", 14.0, "aa"),
        ("a2", 80.0, "aa"),
    ]


def test_zone_coverage_is_time_weighted_over_the_window() -> None:
    h = 3600
    samples = [(at(0), 100.0), (at(6 * h), 50.0), (at(12 * h), 100.0)]
    day = timedelta(hours=24)
    # (6 h x 100 + 6 h x 50 + 12 h x 100) / 24 h
    assert coverage_pct(samples, now=at(24 * h), window=day) == 87.5
    # window 06:00..30:00: 6 h x 50 + 18 h x 100
    assert coverage_pct(samples, now=at(30 * h), window=day) == (6 * 50 + 18 * 100) / 24
    # trimming keeps the sample that holds at the window's start
    assert trim(samples, now=at(30 * h), window=day) == samples[1:]
    assert (
        coverage_pct(trim(samples, now=at(36 * h), window=day), now=at(36 * h), window=day) == 100
    )
    # before a whole window: the mean over the time there is (3 h x 100 + 1 h x 50) / 4 h
    assert coverage_pct([(at(0), 100.0), (at(3 * h), 50.0)], now=at(4 * h), window=day) == 87.5


def test_zone_coverage_rule_fires_below_its_level() -> None:
    rule = Rule(id="cov", kind=Kind.ZONE_COVERAGE, threshold=90, clear=95)
    spaces = [space("a1", state="free"), space("a2"), space("s1", zone="zs", state="free")]
    pct = known_pct(spaces)
    assert pct == {"za": 50.0, "zs": 100.0}
    state, out = tick(rule, view(spaces, coverage={"za": 87.5, "zs": 100.0}), 0, {})
    assert out == ["fired:za"]
    state, out = tick(rule, view(spaces, coverage={"za": 94.0, "zs": 100.0}), 60, state)
    assert out == []  # between threshold and clear
    state, out = tick(rule, view(spaces, coverage={"za": 95.0, "zs": 100.0}), 120, state)
    assert out == ["resolved:za"]
