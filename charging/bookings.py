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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

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
    return [issue.message for issue in booking_issues(bookings, site=site)]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of ``booking``; ``other`` is the booking it clashes with."""

    booking: Booking
    message: str
    other: Booking | None = None


def booking_issues(bookings: Sequence[Booking], *, site: Site) -> list[Issue]:
    """The problems of ``validate_bookings``, each tied to the booking it is
    about, so an import can reject that row alone."""
    agencies = {a.id for a in site.agencies}
    issues: list[Issue] = []
    seen: dict[str, Booking] = {}
    for b in bookings:
        where = _where(b)
        if b.site != site.id:
            issues.append(Issue(b, f"{where}: site {b.site!r} is not {site.id!r}"))
        if not site.has_space(b.space):
            issues.append(Issue(b, f"{where}: unknown space {b.space!r} (not in site {site.id!r})"))
        if b.agency not in agencies:
            issues.append(
                Issue(
                    b,
                    f"{where}: unknown agency {b.agency!r} (site {site.id!r} has "
                    f"{', '.join(sorted(agencies))})",
                )
            )
        if b.end <= b.start:
            issues.append(Issue(b, f"{where}: ends ({b.end.isoformat()}) before it starts"))
        if b.id in seen:
            first = seen[b.id]
            issues.append(
                Issue(b, f"{where}: booking id {b.id!r} is also used by {_where(first)}", first)
            )
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
                issues.append(
                    Issue(
                        b,
                        f"{_where(b)}: overlaps {_where(latest)} in space {space!r} "
                        f"({b.start.isoformat()} < {latest.end.isoformat()})",
                        latest,
                    )
                )
            if b.end > latest.end:
                latest = b
    return issues


def check_bookings(bookings: Sequence[Booking], *, site: Site) -> list[Booking]:
    """The bookings, unchanged, or ``BookingError`` listing every problem."""
    problems = validate_bookings(bookings, site=site)
    if problems:
        raise BookingError(problems)
    return list(bookings)


def _where(b: Booking) -> str:
    return f"booking {b.id!r} ({b.source})" if b.source else f"booking {b.id!r}"


# ---- CSV ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row (CSV line number) or event (iCalendar UID) that was not used, and why."""

    reason: str
    row: int | None = None
    event: str | None = None
    id: str | None = None


def parse_bookings_csv(text: str, *, site: Site, name: str = "bookings.csv") -> list[Booking]:
    """Bookings of a CSV text; ``BookingError`` naming the line of every problem."""
    out, rejected = csv_rows(text, site=site, name=name)
    problems = [r.reason for r in rejected] + validate_bookings(out, site=site)
    if problems:
        raise BookingError(problems)
    return out


def csv_rows(
    text: str, *, site: Site, name: str = "bookings.csv"
) -> tuple[list[Booking], list[Rejection]]:
    """The bookings of the rows that parse, and the rows that do not.

    Rows are not yet checked against the site or each other (``booking_issues``);
    a file without the header raises ``BookingError``.
    """
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
    rejected: list[Rejection] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            reason = f"{name}:{line}: {len(row)} fields, the header has {len(header)}"
            rejected.append(Rejection(reason, row=line))
            continue
        values = {c: row[i].strip() for c, i in col.items()}
        bid = values["booking_id"]
        if not bid:
            rejected.append(Rejection(f"{name}:{line}: empty booking_id", row=line))
            continue
        problems: list[str] = []
        label = f"{name}:{line}: booking {bid!r}"
        start = _parse_time(values["start"], label, "start", problems)
        end = _parse_time(values["end"], label, "end", problems)
        rejected.extend(Rejection(p, row=line, id=bid) for p in problems)
        if start is None or end is None:
            continue
        out.append(
            Booking(
                id=bid,
                site=site.id,
                space=values["space_id"],
                agency=values["agency_id"],
                start=start,
                end=end,
                title=values["title"],
                source=f"csv:{name}:{line}",
            )
        )
    return out, rejected


def rejection_of(issue: Issue) -> Rejection:
    """The rejection of the row or event an issue is about (from its source)."""
    b = issue.booking
    kind, _, rest = b.source.partition(":")
    _file, _, tail = rest.rpartition(":")
    if kind == "csv" and tail.isdigit():
        return Rejection(issue.message, row=int(tail), id=b.id)
    if kind == "ics":
        return Rejection(issue.message, event=rest.partition(":")[2], id=b.id)
    return Rejection(issue.message, id=b.id)


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
    out, rejected = ics_events(data, site=site, start=start, end=end, name=name)
    problems = [r.reason for r in rejected] + validate_bookings(out, site=site)
    if problems:
        raise BookingError(problems)
    return out


def ics_events(
    data: bytes | str, *, site: Site, start: datetime, end: datetime, name: str = "feed.ics"
) -> tuple[list[Booking], list[Rejection]]:
    """The bookings of the usable events overlapping [start, end), and the
    events that are not usable; a text that is no calendar raises ``BookingError``."""
    import icalendar
    import recurring_ical_events

    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise BookingError([f"{name}: not an iCalendar file: {exc}"]) from exc
    rejected, recurring = _event_problems(calendar, name)
    bad = {r.event for r in rejected}
    # an event that cannot be read is left out, so the others still expand
    calendar.subcomponents = [
        c
        for c in calendar.subcomponents
        if c.name != "VEVENT" or (str(c.get("UID", "")).strip() or None) not in bad
    ]
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
            reason = f"{label}: has no LOCATION (the space id)"
            rejected.append(Rejection(reason, event=uid, id=booking_id))
        if len(matching) != 1:
            reason = (
                f"{label}: CATEGORIES {categories!r} must name exactly one agency of "
                f"site {site.id!r} ({', '.join(sorted(agencies))})"
            )
            rejected.append(Rejection(reason, event=uid, id=booking_id))
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
    return sorted(out, key=lambda b: (b.start, b.space, b.id)), rejected


def _event_problems(calendar: Any, name: str) -> tuple[list[Rejection], set[str]]:
    """Events without a UID or with unusable times, and the UIDs that recur."""
    rejected: list[Rejection] = []
    recurring: set[str] = set()
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip()
        label = f"{name}: event {uid or '(no UID)'}"
        event = uid or None
        if not uid:
            rejected.append(Rejection(f"{label}: has no UID"))
        if "RRULE" in component or "RDATE" in component or "RECURRENCE-ID" in component:
            recurring.add(uid)
        for key in ("DTSTART", "DTEND"):
            prop = component.get(key)
            if prop is None:
                if key == "DTEND" and "DURATION" in component:
                    continue
                rejected.append(Rejection(f"{label}: has no {key}", event=event))
                continue
            value = prop.dt
            if not isinstance(value, datetime):
                reason = f"{label}: {key} is a date (all-day event); a booking needs times"
                rejected.append(Rejection(reason, event=event))
            elif value.tzinfo is None:
                reason = (
                    f"{label}: {key} {value.isoformat()} is a floating time; give a TZID or UTC"
                )
                rejected.append(Rejection(reason, event=event))
    return rejected, recurring


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
