"""Bookings: who reserved which space when, from iCalendar feeds, CSV files or the API.

Formats (docs/charging.md, "Bookings"):

* CSV with the header ``booking_id,space_id,agency_id,start,end,title``; times
  ISO 8601 with a UTC offset (``2026-11-02T09:00:00+02:00``).
* iCalendar: one VEVENT per booking, ``LOCATION`` = space id, ``CATEGORIES`` =
  agency id, DTSTART/DTEND with a time zone (TZID or UTC); recurring events
  (RRULE, RDATE, EXDATE, moved occurrences) are expanded over the requested period.

Every problem is collected and reported at once, each naming the CSV line or the
event UID, so a bad file is fixed in one round.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.registry import Site
from core.yamlfile import ConfigError

CSV_COLUMNS = ("booking_id", "space_id", "agency_id", "start", "end", "title")


class Booking(BaseModel):
    """One reservation of one space by one agency, [start, end)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    site: str
    space: str
    agency: str
    start: AwareDatetime
    end: AwareDatetime
    title: str = ""
    #: where it came from, e.g. "csv:bookings.csv:12", "ics:feed.ics:UID", "api"
    source: str = "api"


class BookingError(ConfigError):
    """Bookings that cannot be used; ``problems`` holds one message per row or event."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def validate_bookings(bookings: Sequence[Booking], *, site: Site) -> list[str]:
    """Problems of a set of bookings of one site (empty when all is well).

    Checks: the site, a known space and agency, end after start, unique ids and
    no two bookings of the same space overlapping (touching is fine).
    """
    agencies = {a.id for a in site.agencies}
    problems: list[str] = []
    seen: dict[str, Booking] = {}
    for b in bookings:
        where = _where(b)
        if b.site != site.id:
            problems.append(f"{where}: site {b.site!r} is not {site.id!r}")
        if not site.has_space(b.space):
            problems.append(f"{where}: unknown space {b.space!r} (not in site {site.id!r})")
        if b.agency not in agencies:
            problems.append(
                f"{where}: unknown agency {b.agency!r} (site {site.id!r} has "
                f"{', '.join(sorted(agencies))})"
            )
        if b.end <= b.start:
            problems.append(f"{where}: ends ({b.end.isoformat()}) before it starts")
        if b.id in seen:
            problems.append(f"{where}: booking id {b.id!r} is also used by {_where(seen[b.id])}")
        seen.setdefault(b.id, b)
    by_space: dict[str, list[Booking]] = defaultdict(list)
    for b in bookings:
        if b.end > b.start:
            by_space[b.space].append(b)
    for space in sorted(by_space):
        items = sorted(by_space[space], key=lambda b: (b.start, b.end, b.id))
        latest = items[0]
        for b in items[1:]:
            if b.start < latest.end:
                problems.append(
                    f"{_where(b)}: overlaps {_where(latest)} in space {space!r} "
                    f"({b.start.isoformat()} < {latest.end.isoformat()})"
                )
            if b.end > latest.end:
                latest = b
    return problems


def check_bookings(bookings: Sequence[Booking], *, site: Site) -> list[Booking]:
    """The bookings, unchanged, or ``BookingError`` listing every problem."""
    problems = validate_bookings(bookings, site=site)
    if problems:
        raise BookingError(problems)
    return list(bookings)


def _where(b: Booking) -> str:
    return f"booking {b.id!r} ({b.source})" if b.source else f"booking {b.id!r}"


# ---- CSV ---------------------------------------------------------------------


def parse_bookings_csv(text: str, *, site: Site, name: str = "bookings.csv") -> list[Booking]:
    """Bookings of a CSV text; ``BookingError`` naming the line of every problem."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        header_text = ",".join(CSV_COLUMNS)
        raise BookingError([f"{name}: empty file (expected the header {header_text})"]) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise BookingError(
            [f"{name}:1: missing column(s) {', '.join(missing)} (need {','.join(CSV_COLUMNS)})"]
        )
    col = {c: header.index(c) for c in CSV_COLUMNS}
    out: list[Booking] = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"{name}:{line}: {len(row)} fields, the header has {len(header)}")
            continue
        values = {c: row[i].strip() for c, i in col.items()}
        label = f"{name}:{line}: booking {values['booking_id']!r}"
        if not values["booking_id"]:
            problems.append(f"{name}:{line}: empty booking_id")
            continue
        start = _parse_time(values["start"], label, "start", problems)
        end = _parse_time(values["end"], label, "end", problems)
        if start is None or end is None:
            continue
        out.append(
            Booking(
                id=values["booking_id"],
                site=site.id,
                space=values["space_id"],
                agency=values["agency_id"],
                start=start,
                end=end,
                title=values["title"],
                source=f"csv:{name}:{line}",
            )
        )
    problems.extend(validate_bookings(out, site=site))
    if problems:
        raise BookingError(problems)
    return out


def _parse_time(text: str, label: str, column: str, problems: list[str]) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}: {column} {text!r} is not an ISO 8601 time")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problems.append(
            f"{label}: {column} {text!r} has no UTC offset (write e.g. {text}+02:00 or {text}Z)"
        )
        return None
    return value


def read_bookings_csv(file: Path | str, *, site: Site) -> list[Booking]:
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BookingError([f"{path}: cannot read file: {exc.strerror}"]) from exc
    return parse_bookings_csv(text, site=site, name=path.name)


def bookings_to_csv(bookings: Sequence[Booking]) -> str:
    """The CSV format, in the order given (the inverse of ``parse_bookings_csv``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in bookings:
        writer.writerow([b.id, b.space, b.agency, b.start.isoformat(), b.end.isoformat(), b.title])
    return buf.getvalue()


# ---- iCalendar ---------------------------------------------------------------


def parse_bookings_ics(
    data: bytes | str, *, site: Site, start: datetime, end: datetime, name: str = "feed.ics"
) -> list[Booking]:
    """Bookings of the events of a calendar that overlap [start, end).

    A recurring event becomes one booking per occurrence, with the id
    ``UID/occurrence start (UTC)``; a single event keeps its UID as id.
    """
    import icalendar
    import recurring_ical_events

    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise BookingError([f"{name}: not an iCalendar file: {exc}"]) from exc
    problems: list[str] = []
    recurring: set[str] = set()
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip()
        label = f"{name}: event {uid or '(no UID)'}"
        if not uid:
            problems.append(f"{label}: has no UID")
        if "RRULE" in component or "RDATE" in component or "RECURRENCE-ID" in component:
            recurring.add(uid)
        for key in ("DTSTART", "DTEND"):
            prop = component.get(key)
            if prop is None:
                if key == "DTEND" and "DURATION" in component:
                    continue
                problems.append(f"{label}: has no {key}")
                continue
            value = prop.dt
            if not isinstance(value, datetime):
                problems.append(f"{label}: {key} is a date (all-day event); a booking needs times")
            elif value.tzinfo is None:
                problems.append(
                    f"{label}: {key} {value.isoformat()} is a floating time; give a TZID or UTC"
                )
    if problems:
        raise BookingError(problems)
    try:
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the library raises several kinds on bad rules
        raise BookingError([f"{name}: cannot expand recurring events: {exc}"]) from exc
    agencies = {a.id for a in site.agencies}
    out: list[Booking] = []
    for event in events:
        uid = str(event.get("UID", "")).strip()
        ev_start = event["DTSTART"].dt
        ev_end = event["DTEND"].dt if "DTEND" in event else ev_start + event["DURATION"].dt
        occurrence = _utc(ev_start)
        booking_id = f"{uid}/{occurrence:%Y%m%dT%H%M%SZ}" if uid in recurring else uid
        label = f"{name}: event {booking_id}"
        location = str(event.get("LOCATION", "")).strip()
        categories = _categories(event)
        matching = [c for c in categories if c in agencies]
        if not location:
            problems.append(f"{label}: has no LOCATION (the space id)")
        if len(matching) != 1:
            problems.append(
                f"{label}: CATEGORIES {categories!r} must name exactly one agency of "
                f"site {site.id!r} ({', '.join(sorted(agencies))})"
            )
        if not location or len(matching) != 1:
            continue
        out.append(
            Booking(
                id=booking_id,
                site=site.id,
                space=location,
                agency=matching[0],
                start=ev_start,
                end=ev_end,
                title=str(event.get("SUMMARY", "")),
                source=f"ics:{name}:{uid}",
            )
        )
    problems.extend(validate_bookings(out, site=site))
    if problems:
        raise BookingError(problems)
    return sorted(out, key=lambda b: (b.start, b.space, b.id))


def _categories(event: object) -> list[str]:
    raw = event.get("CATEGORIES")  # type: ignore[attr-defined]
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        cats = getattr(item, "cats", None)
        if cats is None:
            out.extend(s.strip() for s in str(item).split(",") if s.strip())
        else:
            out.extend(str(c).strip() for c in cats if str(c).strip())
    return out


def _utc(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError("date-only value")
    return value.astimezone(UTC)


def read_bookings_ics(
    file: Path | str, *, site: Site, start: datetime, end: datetime
) -> list[Booking]:
    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BookingError([f"{path}: cannot read file: {exc.strerror}"]) from exc
    return parse_bookings_ics(data, site=site, start=start, end=end, name=path.name)


def read_bookings(
    files: Sequence[Path | str], *, site: Site, start: datetime, end: datetime
) -> list[Booking]:
    """Bookings of several files (``.ics`` or ``.csv``) overlapping [start, end),
    validated together (an overlap between two files is an error too)."""
    out: list[Booking] = []
    problems: list[str] = []
    for file in files:
        path = Path(file)
        try:
            if path.suffix.lower() in {".ics", ".ical", ".ifb"}:
                out.extend(read_bookings_ics(path, site=site, start=start, end=end))
            elif path.suffix.lower() == ".csv":
                got = read_bookings_csv(path, site=site)
                out.extend(b for b in got if b.start < end and b.end > start)
            else:
                problems.append(f"{path}: unknown bookings format (use .ics or .csv)")
        except BookingError as exc:
            problems.extend(exc.problems)
    if problems:
        raise BookingError(problems)
    return check_bookings(out, site=site)
