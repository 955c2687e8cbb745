"""space.state (debounced) and zone.threshold (hysteresis) from the live
board, with the test's own clock; expected events worked by hand."""

from __future__ import annotations

from datetime import timedelta

from api.live import LiveHub
from core.registry import Registry, load_site
from tests.webhooks.conftest import SMALL_SITE
from tests.webhooks.test_no_shows import T0, Collected, presence
from webhooks.live_events import SpaceStates, ZoneThresholds

S = timedelta(seconds=1)


def _board():  # type: ignore[no-untyped-def]
    site = load_site(SMALL_SITE)
    return LiveHub(Registry({site.id: site})).board("pieni")


def test_space_state_waits_for_the_debounce() -> None:
    board = _board()
    sink = Collected()
    states = SpaceStates([board], sink, debounce_s=60)
    board.apply_presence(presence("a1", True, T0, 1))
    states.tick(T0 + 59 * S)
    assert sink.events == []
    states.tick(T0 + 60 * S)
    [first] = sink.events
    assert (first.agency, first.occurred_at) == ("aa", T0)  # a1 is in aa's zone
    assert {k: first.data[k] for k in ("space", "zone", "state", "previous")} == {
        "space": "a1",
        "zone": "za",
        "state": "occupied",
        "previous": "unknown",
    }
    # a flicker shorter than the debounce: nothing
    board.apply_presence(presence("a1", False, T0 + 120 * S, 2))
    board.apply_presence(presence("a1", True, T0 + 150 * S, 3))
    states.tick(T0 + 240 * S)
    assert len(sink.events) == 1
    board.apply_presence(presence("a1", False, T0 + 300 * S, 4))
    board.apply_presence(presence("s1", True, T0 + 300 * S, 5))
    states.tick(T0 + 360 * S)
    assert [(e.data["space"], e.data["state"], e.agency) for e in sink.events[1:]] == [
        ("a1", "free", "aa"),
        ("s1", "occupied", None),  # a shared space: no agency
    ]


def test_zone_threshold_with_hysteresis() -> None:
    board = _board()
    sink = Collected()
    # zs has 4 spaces: above at 3 (75 %), clear only below 50 %
    zones = ZoneThresholds([board], sink, threshold_pct=75, hysteresis_pct=25)
    seq = iter(range(100))

    def occupy(space: str, occupied: bool, at: int) -> None:
        board.apply_presence(presence(space, occupied, T0 + at * S, next(seq)))
        zones.tick(T0 + at * S)

    occupy("s1", True, 1)
    occupy("s2", True, 2)
    assert sink.events == []
    occupy("s3", True, 3)  # 3 of 4
    occupy("r1", True, 4)  # 4 of 4: still above, no new event
    occupy("r1", False, 5)  # 75 %
    occupy("s3", False, 6)  # 50 %: not below the clearing level
    assert [e.data["state"] for e in sink.events] == ["above"]
    occupy("s2", False, 7)  # 25 %
    occupy("s2", True, 8)  # 50 %
    occupy("s3", True, 9)  # 75 %
    assert [(e.data["state"], e.data["occupied"], e.occurred_at) for e in sink.events] == [
        ("above", 3, T0 + 3 * S),
        ("below", 1, T0 + 7 * S),
        ("above", 3, T0 + 9 * S),
    ]
    assert all(e.data["zone"] == "zs" and e.agency is None for e in sink.events)
    assert sink.events[0].data["occupied_pct"] == 75.0
