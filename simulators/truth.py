"""Ground truth: what really happened, for tests and reports to compare against.

* ``occupied``: when a space really had someone in it (the people model);
* ``sensed``: what a fault-free sensor reports about it (latency and hold time
  applied) - what a correct pipeline must reproduce exactly;
* bookings (also exported as iCalendar and CSV for the booking import);
* injected faults, with the spaces they touch and their time spans.

The JSON is written deterministically (sorted keys, fixed formatting), so the
same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.calendar import is_closed
from simulators.layout import MS, Layout, from_ms, iso_ms, to_ms
from simulators.people import WEEKDAY_CODES, Booking, Series
from simulators.scenario import FaultKind
from simulators.sensors import DEFAULT_PARAM, DayPlan, FaultInstance
from simulators.visits import day_visit_truth

FORMAT = "occupancy-sim-truth/1"
Interval = tuple[int, int, int]  # start ms, end ms, count (-1: not counted)


@dataclass(frozen=True)
class FaultRecord:
    kind: str
    target: str
    agent: str
    spaces: tuple[str, ...]
    start_ms: int
    end_ms: int
    param: float | None


@dataclass
class Truth:
    site_id: str
    seed: int
    start_ms: int
    end_ms: int
    heartbeat_s: float
    space_ids: list[str]
    occupied: dict[str, list[Interval]]
    sensed: dict[str, list[Interval]]
    bookings: list[Booking]
    series: list[Series]
    faults: list[FaultRecord]
    timezone: str = "UTC"
    stats: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------ queries
    def fault_windows(self, *, pad_s: float | None = None) -> dict[str, list[tuple[int, int]]]:
        """Per space, the spans (UTC ms) to leave out when comparing with the
        truth: each fault widened by one heartbeat after it (the state is unknown
        until the sensor next reports) and by its clock skew on both sides."""
        pad = round((self.heartbeat_s if pad_s is None else pad_s) * MS)
        out: dict[str, list[tuple[int, int]]] = {}
        for f in self.faults:
            skew = (
                round(
                    abs(f.param if f.param is not None else DEFAULT_PARAM[FaultKind.CLOCK_SKEW])
                    * MS
                )
                if f.kind == FaultKind.CLOCK_SKEW.value
                else 0
            )
            for s in f.spaces:
                out.setdefault(s, []).append((f.start_ms - skew, f.end_ms + pad + skew))
        return {s: _union(v) for s, v in out.items()}

    def visits_per_day(self) -> dict[str, int]:
        """People in through the service point's door per local day (the door
        counter's in count, error-free; a party of two is two)."""
        return {d["day"]: int(d.get("visits", 0)) for d in self.stats.get("days", [])}

    def counter_busy_seconds(self) -> dict[str, dict[str, float]]:
        """Per local day, the seconds each service counter really served someone."""
        return {d["day"]: dict(d.get("counter_busy_s", {})) for d in self.stats.get("days", [])}

    def intervals(
        self, basis: Literal["sensed", "occupied"] = "sensed"
    ) -> dict[str, list[Interval]]:
        return self.sensed if basis == "sensed" else self.occupied


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _overlap_ms(intervals: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> int:
    total = 0
    for a, b in intervals:
        for x, y in spans:
            lo, hi = max(a, x), min(b, y)
            if lo < hi:
                total += hi - lo
    return total


def _minus(intervals: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        pieces = [(a, b)]
        for x, y in cut:
            nxt = []
            for p, q in pieces:
                if y <= p or x >= q:
                    nxt.append((p, q))
                    continue
                if p < x:
                    nxt.append((p, x))
                if y < q:
                    nxt.append((y, q))
            pieces = nxt
        out.extend(pieces)
    return out


def occupied_seconds(
    truth: Truth,
    *,
    start: datetime,
    end: datetime,
    basis: Literal["sensed", "occupied"] = "sensed",
    exclude_faults: bool = True,
    windows: Sequence[tuple[datetime, datetime]] | None = None,
    spaces: Iterable[str] | None = None,
) -> dict[str, float]:
    """Occupied seconds per space within [start, end) (and inside ``windows``,
    e.g. the opening intervals, when given), leaving out every fault window of
    the space when ``exclude_faults``. ``basis="sensed"`` is what a correct
    pipeline reproduces; ``"occupied"`` is the physical truth."""
    lo, hi = to_ms(start), to_ms(end)
    win = [(to_ms(a), to_ms(b)) for a, b in windows] if windows is not None else [(lo, hi)]
    win = [(max(a, lo), min(b, hi)) for a, b in win if min(b, hi) > max(a, lo)]
    cuts = truth.fault_windows() if exclude_faults else {}
    data = truth.intervals(basis)
    out: dict[str, float] = {}
    for s in spaces if spaces is not None else truth.space_ids:
        spans = _minus(win, cuts.get(s, [])) if s in cuts else win
        ivs = [(a, b) for a, b, _ in data.get(s, [])]
        out[s] = _overlap_ms(ivs, spans) / MS
    return out


# ------------------------------------------------------------- collecting


class TruthCollector:
    def __init__(self, layout: Layout, start_ms: int, end_ms: int):
        self.layout = layout
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.occupied: dict[int, list[Interval]] = {}
        self.sensed: dict[int, list[Interval]] = {}
        self.bookings: list[Booking] = []
        self.faults: dict[tuple[str, str, int, int], FaultInstance] = {}
        self.days: list[dict[str, Any]] = []
        self._seen_days: set[str] = set()

    def add(self, plan: DayPlan) -> None:
        key = plan.day.isoformat()
        if key in self._seen_days:
            return
        self._seen_days.add(key)
        lo, hi = self.start_ms, self.end_ms
        for target, spells in ((self.occupied, plan.people.spells), (self.sensed, plan.sensed)):
            st = np.maximum(spells.start, lo)
            en = np.minimum(spells.end, hi)
            keep = st < en
            for s, a, b, c in zip(
                spells.space[keep].tolist(),
                st[keep].tolist(),
                en[keep].tolist(),
                spells.count[keep].tolist(),
                strict=True,
            ):
                target.setdefault(s, []).append((a, b, c))
        self.bookings.extend(b for b in plan.people.bookings if lo <= b.start_ms < hi)
        for f in plan.faults:
            if f.overlaps(lo, hi):
                self.faults[(f.kind.value, f.target, f.start_ms, f.end_ms)] = f
        if plan.people.present or plan.people.visitors:
            self.days.append(
                {
                    "day": key,
                    "present": dict(sorted(plan.people.present.items())),
                    "overflow": plan.people.overflow,
                    "visitors": plan.people.visitors,
                    "bookings": len(plan.people.bookings),
                    **day_visit_truth(self.layout, plan, lo, hi),
                }
            )

    def truth(self, series: list[Series], *, end_ms: int | None = None) -> Truth:
        """The truth so far; ``end_ms`` clips it earlier (a live run stopped midway)."""
        lay = self.layout
        ids = lay.space_ids
        hi = self.end_ms if end_ms is None else min(self.end_ms, end_ms)

        def clip(ivs: dict[int, list[Interval]]) -> dict[str, list[Interval]]:
            out: dict[str, list[Interval]] = {}
            for s, v in sorted(ivs.items()):
                kept = [(a, min(b, hi), c) for a, b, c in v if a < hi]
                if kept:
                    out[ids[s]] = kept
            return out

        faults = [
            FaultRecord(
                f.kind.value,
                f.target,
                lay.agent_ids[f.agent],
                tuple(ids[s] for s in f.spaces),
                f.start_ms,
                f.end_ms,
                f.param,
            )
            for f in sorted(
                self.faults.values(), key=lambda f: (f.start_ms, f.kind.value, f.target)
            )
            if f.start_ms < hi
        ]
        return Truth(
            site_id=lay.site.id,
            seed=lay.scenario.seed,
            start_ms=self.start_ms,
            end_ms=hi,
            heartbeat_s=lay.hb_ms / MS,
            space_ids=list(ids),
            occupied=clip(self.occupied),
            sensed=clip(self.sensed),
            bookings=sorted(
                (b for b in self.bookings if b.start_ms < hi),
                key=lambda b: (b.start_ms, b.space_id, b.booking_id),
            ),
            series=series,
            faults=faults,
            timezone=lay.site.timezone,
            stats={"days": self.days},
        )


def agency_presence_peaks(sittings: Iterable[tuple[int, int, int, str]]) -> dict[str, int]:
    """Each agency's most people at desks at once in a day's sittings
    (``DayPeople.sittings``: desk, start ms, end ms, agency): the true agency
    presence that ``metrics.presence`` estimates from the sensors. An end
    comes before a start at the same instant (sittings are half-open)."""
    events: dict[str, list[tuple[int, int]]] = {}
    for _desk, a, b, agency in sittings:
        if b > a:
            events.setdefault(agency, []).extend([(a, 1), (b, -1)])
    out = {}
    for agency, ev in events.items():
        level = best = 0
        for _t, d in sorted(ev):
            level += d
            best = max(best, level)
        out[agency] = best
    return out


def collect_truth(layout: Layout, start: datetime, end: datetime) -> Truth:
    """The truth of [start, end) without generating any messages."""
    from simulators.engine import Engine

    lo, hi = to_ms(start), to_ms(end)
    engine = Engine(layout, lo)
    collector = TruthCollector(layout, lo, hi)
    for plan in engine.days(hi):
        collector.add(plan)
    return collector.truth(engine.series)


# ------------------------------------------------------------------- JSON


def _iv(v: list[Interval]) -> list[list[Any]]:
    return [[iso_ms(a), iso_ms(b), None if c < 0 else c] for a, b, c in v]


def _parse_iso(text: str) -> int:
    return to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


def truth_to_json(truth: Truth, scenario: dict[str, Any] | None = None) -> str:
    doc = {
        "format": FORMAT,
        "site": truth.site_id,
        "seed": truth.seed,
        "start": iso_ms(truth.start_ms),
        "end": iso_ms(truth.end_ms),
        "timezone": truth.timezone,
        "heartbeat_s": truth.heartbeat_s,
        "spaces": {
            s: {"occupied": _iv(truth.occupied.get(s, [])), "sensed": _iv(truth.sensed.get(s, []))}
            for s in truth.space_ids
        },
        "bookings": [
            {
                "booking_id": b.booking_id,
                "space_id": b.space_id,
                "agency_id": b.agency_id,
                "start": iso_ms(b.start_ms),
                "end": iso_ms(b.end_ms),
                "title": b.title,
                "attendees": b.attendees,
                "no_show": b.no_show,
                "series_id": b.series_id,
            }
            for b in truth.bookings
        ],
        "series": [
            {
                "series_id": s.series_id,
                "space_id": s.space_id,
                "agency_id": s.agency_id,
                "weekday": WEEKDAY_CODES[s.weekday],
                "start": s.start.isoformat(timespec="minutes"),
                "minutes": s.minutes,
                "title": s.title,
                "attendees": s.attendees,
            }
            for s in truth.series
        ],
        "faults": [
            {
                "kind": f.kind,
                "target": f.target,
                "agent": f.agent,
                "spaces": list(f.spaces),
                "start": iso_ms(f.start_ms),
                "end": iso_ms(f.end_ms),
                "param": f.param,
            }
            for f in truth.faults
        ],
        "stats": truth.stats,
    }
    if scenario is not None:
        doc["scenario"] = scenario
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_truth(truth: Truth, path: Path | str, scenario: dict[str, Any] | None = None) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(truth_to_json(truth, scenario), encoding="utf-8")
    return p


def load_truth(path: Path | str) -> Truth:
    from datetime import time as dtime

    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a simulator truth file (format {doc.get('format')!r})")

    def ivs(rows: list[list[Any]]) -> list[Interval]:
        return [(_parse_iso(a), _parse_iso(b), -1 if c is None else int(c)) for a, b, c in rows]

    return Truth(
        site_id=doc["site"],
        seed=doc["seed"],
        start_ms=_parse_iso(doc["start"]),
        end_ms=_parse_iso(doc["end"]),
        heartbeat_s=doc["heartbeat_s"],
        space_ids=list(doc["spaces"]),
        occupied={s: ivs(v["occupied"]) for s, v in doc["spaces"].items()},
        sensed={s: ivs(v["sensed"]) for s, v in doc["spaces"].items()},
        bookings=[
            Booking(
                b["booking_id"],
                b["space_id"],
                b["agency_id"],
                _parse_iso(b["start"]),
                _parse_iso(b["end"]),
                b["title"],
                b["attendees"],
                b["no_show"],
                b["series_id"],
            )
            for b in doc["bookings"]
        ],
        series=[
            Series(
                s["series_id"],
                s["space_id"],
                s["agency_id"],
                WEEKDAY_CODES.index(s["weekday"]),
                dtime.fromisoformat(s["start"]),
                s["minutes"],
                s["title"],
                s["attendees"],
            )
            for s in doc["series"]
        ],
        faults=[
            FaultRecord(
                f["kind"],
                f["target"],
                f["agent"],
                tuple(f["spaces"]),
                _parse_iso(f["start"]),
                _parse_iso(f["end"]),
                f["param"],
            )
            for f in doc["faults"]
        ],
        timezone=doc.get("timezone", "UTC"),
        stats=doc.get("stats", {}),
    )


# --------------------------------------------------------- bookings export

CSV_COLUMNS = ("booking_id", "space_id", "agency_id", "start", "end", "title")


def bookings_csv(truth: Truth, tz_name: str | None = None) -> str:
    """One row per booking (recurring occurrences included), local time with offset."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name or truth.timezone)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for b in truth.bookings:
        w.writerow(
            [
                b.booking_id,
                b.space_id,
                b.agency_id,
                from_ms(b.start_ms).astimezone(tz).isoformat(),
                from_ms(b.end_ms).astimezone(tz).isoformat(),
                b.title,
            ]
        )
    return buf.getvalue()


def bookings_ics(truth: Truth, site: Any) -> bytes:
    """iCalendar: a VEVENT per single booking (UTC times) and one per recurring
    series (RRULE weekly in the site's time zone, EXDATE for closed days)."""
    from icalendar import Calendar, Event

    tz = site.tz
    cal = Calendar()
    cal.add("prodid", "-//occupancy-platform//simulator//EN")
    cal.add("version", "2.0")
    stamp = from_ms(truth.start_ms)
    for b in truth.bookings:
        if b.series_id is not None:
            continue
        ev = Event()
        ev.add("uid", f"{b.booking_id}@{truth.site_id}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", from_ms(b.start_ms))
        ev.add("dtend", from_ms(b.end_ms))
        ev.add("summary", b.title)
        ev.add("location", b.space_id)
        ev.add("categories", [b.agency_id])
        cal.add_component(ev)
    first_local = from_ms(truth.start_ms).astimezone(tz)
    until = from_ms(truth.end_ms)
    for s in truth.series:
        day = first_local.date()
        while day.weekday() != s.weekday or datetime.combine(day, s.start, tzinfo=tz) < first_local:
            day += timedelta(days=1)
        dtstart = datetime.combine(day, s.start, tzinfo=tz)
        if dtstart >= until:
            continue
        ev = Event()
        ev.add("uid", f"{s.series_id}@{truth.site_id}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", dtstart)
        ev.add("dtend", dtstart + timedelta(minutes=s.minutes))
        ev.add("summary", s.title)
        ev.add("location", s.space_id)
        ev.add("categories", [s.agency_id])
        ev.add(
            "rrule",
            {"freq": "weekly", "byday": WEEKDAY_CODES[s.weekday], "until": until.astimezone(UTC)},
        )
        d = day
        while datetime.combine(d, s.start, tzinfo=tz) < until:
            if is_closed(site, d):
                ev.add("exdate", datetime.combine(d, s.start, tzinfo=tz))
            d += timedelta(days=7)
        cal.add_component(ev)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()  # VTIMEZONE for the series' TZID
    return cal.to_ical()


def write_bookings(truth: Truth, site: Any, stem: Path | str) -> tuple[Path, Path]:
    """Write ``<stem>.ics`` and ``<stem>.csv`` beside the truth."""
    base = Path(stem)
    base.parent.mkdir(parents=True, exist_ok=True)
    ics = base.with_suffix(".ics")
    csv_path = base.with_suffix(".csv")
    ics.write_bytes(bookings_ics(truth, site))
    csv_path.write_text(bookings_csv(truth), encoding="utf-8")
    return ics, csv_path
