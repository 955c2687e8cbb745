"""Events from the live state (``api.live``): ``space.state`` (debounced) and
``zone.threshold`` (with hysteresis).

Board listeners run on the MQTT thread, so they only note the change; the
decisions are made by ``tick(now)``, called by the live-events thread (or a
test with its own clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from api.live import LiveBoard, SpaceLive
from webhooks.events import SPACE_STATE, ZONE_THRESHOLD, Event, EventSink


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t is not None else None


class SpaceStates:
    """``space.state`` once a new state has held for ``debounce_s``: a desk
    flickering between free and occupied in a minute sends nothing."""

    def __init__(self, boards: Iterable[LiveBoard], sink: EventSink, *, debounce_s: float):
        self.sink = sink
        self.debounce = timedelta(seconds=debounce_s)
        self._lock = threading.Lock()
        self._boards = {b.site.id: b for b in boards}
        self._announced: dict[tuple[str, str], str] = {}
        self._pending: dict[tuple[str, str], SpaceLive] = {}
        for board in self._boards.values():
            for s in board.spaces():
                self._announced[(board.site.id, s.space)] = s.state
            board.add_listener(self._listener(board.site.id))

    def _listener(self, site_id: str) -> Callable[[SpaceLive], None]:
        def noted(item: SpaceLive) -> None:
            with self._lock:
                self._pending[(site_id, item.space)] = item

        return noted

    def tick(self, now: datetime) -> None:
        with self._lock:
            due = [
                (key, item)
                for key, item in self._pending.items()
                if item.since is None or item.since + self.debounce <= now
            ]
            for key, _ in due:
                del self._pending[key]
        for (site_id, space), item in due:
            before = self._announced.get((site_id, space))
            if item.state == before:
                continue  # it went back before the debounce ran out
            self._announced[(site_id, space)] = item.state
            site = self._boards[site_id].site
            self.sink.publish(
                Event(
                    type=SPACE_STATE,
                    site=site_id,
                    occurred_at=item.since or now,
                    agency=site.zone(item.zone).agency,
                    data={
                        "space": space,
                        "zone": item.zone,
                        "floor": item.floor,
                        "space_type": item.space_type,
                        "state": item.state,
                        "previous": before,
                        "since": _iso(item.since),
                        "reason": item.reason,
                    },
                )
            )


class ZoneThresholds:
    """``zone.threshold``: ``state: above`` when a zone's occupied share (of all
    its spaces) reaches ``threshold_pct``, ``state: below`` once it falls under
    ``threshold_pct - hysteresis_pct``. Zones above at start-up are taken as
    known, not announced."""

    def __init__(
        self,
        boards: Iterable[LiveBoard],
        sink: EventSink,
        *,
        threshold_pct: float,
        hysteresis_pct: float,
    ):
        self.sink = sink
        self.threshold = threshold_pct
        self.clear_below = threshold_pct - hysteresis_pct
        self._boards = list(boards)
        self._above: dict[tuple[str, str], bool] = {}
        for board in self._boards:
            for zone, c in board.counts("zone").items():
                self._above[(board.site.id, zone)] = self._share(c) >= self.threshold

    @staticmethod
    def _share(c: dict[str, int]) -> float:
        return 100.0 * c["occupied"] / c["total"] if c["total"] else 0.0

    def tick(self, now: datetime) -> None:
        for board in self._boards:
            for zone, c in board.counts("zone").items():
                key = (board.site.id, zone)
                share = self._share(c)
                above = self._above.get(key, False)
                if not above and share >= self.threshold:
                    self._above[key] = True
                elif above and share < self.clear_below:
                    self._above[key] = False
                else:
                    continue
                self.sink.publish(
                    Event(
                        type=ZONE_THRESHOLD,
                        site=board.site.id,
                        occurred_at=now,
                        agency=board.site.zone(zone).agency,
                        data={
                            "zone": zone,
                            "floor": board.site.zone(zone).floor,
                            "state": "above" if self._above[key] else "below",
                            "occupied": c["occupied"],
                            "total": c["total"],
                            "occupied_pct": round(share, 1),
                            "threshold_pct": self.threshold,
                            "clear_below_pct": self.clear_below,
                        },
                    )
                )
