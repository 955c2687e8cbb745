"""History import: rows of past presence (CSV or JSON lines) to contract
messages and stored points, without MQTT (``occupancy import``, docs/integrations.md).

Each row becomes a ``Presence`` message of the space's bound sensor and
agent, checked by the contract's own rules (the model, then
``core.validation``: registry, sensor binding, not in the future). Only the
ingest's age limit is not applied: loading old data is the point.

Heartbeats. A space's state holds from one point to the next only while the
sensor is not silent for longer than ``silence_factor`` x the point's ``hb``
field (``metrics.intervals``). A live sensor repeats itself every ``hb``
seconds; a file has a row per minute, or a row per change hours apart. So
each imported point carries, as ``hb``, the gap to the space's next row when
that gap is at most ``max_gap_s``: the state then holds exactly until the
next row, for any silence factor of 1 or more, with no synthetic points. A
longer gap means the source stopped recording: the point carries
``heartbeat_s`` (the source's sampling period) and the state goes unknown
after ``silence_factor`` x ``heartbeat_s``, as for a live sensor that fell
silent. The last row of a space carries ``heartbeat_s`` too.

Identity. A point is (measurement, tags, time); the tags are the space's, so
importing the same file again writes the same points with the same fields
(``seq`` is the row's line number, ``hb`` depends only on the file): nothing
is duplicated.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from core.messages import Presence, PresenceKind
from core.registry import Site
from core.validation import Window, message_problem

Format = Literal["csv", "jsonl"]

OCCUPIED_VALUES = ("1", "true", "yes", "occupied", "on")
FREE_VALUES = ("0", "false", "no", "free", "vacant", "unoccupied", "off")
#: no age limit for an import; the future limit is the ingest's default
IMPORT_WINDOW = Window(max_future=timedelta(minutes=5), max_age=timedelta(days=365_000))


class RowError(ValueError):
    """Why one row cannot be imported (the reason written to the rejects file)."""


class NaiveTime(RowError):
    """A time without a zone and no ``--timezone``: the whole file is refused,
    since every row of it will be the same (an offset is never guessed)."""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds what. Exactly one of ``space``, ``sensor`` and
    ``fixed_space`` names the space."""

    time: str
    occupied: str
    space: str | None = None
    sensor: str | None = None
    count: str | None = None
    fixed_space: str | None = None


@dataclass(frozen=True, slots=True)
class ImportOptions:
    columns: ColumnMap
    timezone: tzinfo | None = None  # for naive timestamps; None: refuse them
    time_format: str | None = None  # strptime format; None: ISO 8601
    heartbeat_s: float = 300.0
    max_gap_s: float = 3600.0
    occupied_values: tuple[str, ...] = OCCUPIED_VALUES
    free_values: tuple[str, ...] = FREE_VALUES


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    space: str
    time: datetime  # UTC
    occupied: bool
    count: int | None


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str
    raw: str = ""


@dataclass
class Parsed:
    messages: list[Presence] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the source line of each message
    bad: list[BadRow] = field(default_factory=list)
    duplicates: int = 0  # rows repeating another row exactly (same space, time, state)


# ---- reading -----------------------------------------------------------------
def read_records(path: Path, fmt: Format) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    """(line number, record) per data row; a record that cannot be read is its
    raw text (a str), reported as a bad row by the caller."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if fmt == "csv":
            reader = csv.DictReader(fh)
            for record in reader:
                if None in record:  # more values than header names
                    yield reader.line_num, "more values than the header has columns"
                    continue
                yield reader.line_num, record
            return
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON: {exc.msg} at column {exc.colno}"
                continue
            yield number, data if isinstance(data, dict) else "not a JSON object"


def missing_columns(path: Path, cols: ColumnMap) -> tuple[list[str], list[str]]:
    """For a CSV file: the mapped columns its header lacks, and the header."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    wanted = [c for c in (cols.time, cols.occupied, cols.space, cols.sensor, cols.count) if c]
    return [c for c in wanted if c not in header], header


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


# ---- one row -----------------------------------------------------------------
def parse_time(text: str, *, timezone: tzinfo | None, time_format: str | None) -> datetime:
    try:
        if time_format:
            t = datetime.strptime(text, time_format)
        else:
            t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        want = time_format or "ISO 8601, e.g. 2026-03-02T08:00:00+02:00"
        raise RowError(f"time {text!r} is not {want} ({exc})") from None
    if t.tzinfo is not None:
        return t.astimezone(UTC)
    if timezone is None:
        raise NaiveTime(
            f"time {text!r} has no time zone: give --timezone (e.g. Europe/Helsinki) "
            "or times with an offset"
        )
    return _localise(t, timezone, text)


def _localise(naive: datetime, tz: tzinfo, text: str) -> datetime:
    """A local wall time to UTC, refusing the ones the zone's clock changes make
    ambiguous (the repeated hour) or impossible (the skipped hour)."""
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        back = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != naive:
            raise RowError(f"time {text!r} does not exist in {tz} (the clock skips it)")
        raise RowError(f"time {text!r} is ambiguous in {tz} (the clock repeats it): add an offset")
    return early.astimezone(UTC)


def _cell(record: Mapping[str, Any], column: str) -> str:
    if column not in record:
        raise RowError(f"no column {column!r}")
    value = record[column]
    return "" if value is None else str(value).strip()


def _occupied(text: str, opts: ImportOptions, column: str) -> bool:
    low = text.lower()
    if low in opts.occupied_values:
        return True
    if low in opts.free_values:
        return False
    raise RowError(
        f"{column} {text!r} is neither occupied ({', '.join(opts.occupied_values)}) "
        f"nor free ({', '.join(opts.free_values)})"
    )


def _space(
    record: Mapping[str, Any], site: Site, cols: ColumnMap, sensors: Mapping[str, str]
) -> str:
    if cols.fixed_space is not None:
        return cols.fixed_space
    if cols.space is not None:
        return _cell(record, cols.space)
    assert cols.sensor is not None
    sensor = _cell(record, cols.sensor)
    if sensor not in sensors:
        raise RowError(f"sensor {sensor!r} is bound to no space of site {site.id!r}")
    return sensors[sensor]


def parse_row(
    line: int,
    record: Mapping[str, Any],
    *,
    site: Site,
    opts: ImportOptions,
    sensors: Mapping[str, str],
) -> Row:
    cols = opts.columns
    t = parse_time(_cell(record, cols.time), timezone=opts.timezone, time_format=opts.time_format)
    occupied = _occupied(_cell(record, cols.occupied), opts, cols.occupied)
    count: int | None = None
    if cols.count is not None and cols.count in record:
        text = _cell(record, cols.count)
        if text:
            try:
                number = float(text)
            except ValueError:
                raise RowError(f"{cols.count} {text!r} is not a number") from None
            if not number.is_integer():
                raise RowError(f"{cols.count} {text!r} is not a whole number of people")
            count = int(number)
    return Row(line, _space(record, site, cols, sensors), t, occupied, count)


def _message(row: Row, site: Site, *, kind: PresenceKind, hb: float) -> Presence:
    """The row as the contract message its sensor would have sent; raises RowError."""
    if not site.has_space(row.space):
        raise RowError(f"space {row.space!r} is not in site {site.id!r}")
    binding = site.space(row.space).sensor
    if binding is None:
        raise RowError(f"space {row.space!r} has no sensor bound")
    try:
        return Presence(
            space_id=row.space,
            agent_id=binding.agent,
            sensor_id=binding.id,
            occupied=row.occupied,
            people_count=row.count,
            event_time=row.time,
            seq=row.line,
            kind=kind,
            heartbeat_interval_s=hb,
        )
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RowError(f"{where}: {err['msg']}") from None


# ---- the whole file ----------------------------------------------------------
def parse_records(
    records: Iterable[tuple[int, Mapping[str, Any] | str]],
    *,
    site: Site,
    opts: ImportOptions,
    now: datetime,
    progress: Any = None,
) -> Parsed:
    """Every good row as a message (sorted by space, then time), every bad row
    with its line and reason. ``progress(n)``: called per record read."""
    out = Parsed()
    sensors = {sp.sensor.id: sp.id for sp in site.spaces if sp.sensor is not None}
    msgs: list[Presence] = []
    for line, record in records:
        if progress is not None:
            progress(1)
        if isinstance(record, str):
            out.bad.append(BadRow(line, record))
            continue
        try:
            row = parse_row(line, record, site=site, opts=opts, sensors=sensors)
            msg = _message(row, site, kind=PresenceKind.CHANGE, hb=opts.heartbeat_s)
        except NaiveTime as exc:
            raise NaiveTime(f"line {line}: {exc}") from None
        except RowError as exc:
            out.bad.append(BadRow(line, str(exc), _raw(record)))
            continue
        problem = message_problem(site, row.space, msg, now=now, window=IMPORT_WINDOW)
        if problem is not None:
            out.bad.append(BadRow(line, f"{problem.code}: {problem.detail}", _raw(record)))
            continue
        msgs.append(msg)
    _assemble(msgs, opts=opts, out=out)
    out.bad.sort(key=lambda b: b.line)
    return out


def _raw(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def _assemble(msgs: list[Presence], *, opts: ImportOptions, out: Parsed) -> None:
    """Duplicates out, then each message's kind and ``hb`` from its neighbours.
    The messages were validated already (``seq`` is the row's line); a copy
    with a kind and a positive ``hb`` of at most a day stays valid
    (``max_gap_s`` and ``heartbeat_s`` are checked at start)."""
    msgs.sort(key=lambda m: (m.space_id, m.event_time, m.seq))
    kept: list[Presence] = []
    for m in msgs:
        prev = kept[-1] if kept else None
        if prev is not None and (prev.space_id, prev.event_time) == (m.space_id, m.event_time):
            if (prev.occupied, prev.people_count) == (m.occupied, m.people_count):
                out.duplicates += 1
            else:
                out.bad.append(
                    BadRow(
                        m.seq,
                        f"space {m.space_id!r} at {m.event_time.isoformat()} already has "
                        f"another state in line {prev.seq}",
                    )
                )
            continue
        kept.append(m)
    msgs.clear()  # each message is held once: a file's rows can be millions
    for i, m in enumerate(kept):
        prev = kept[i - 1] if i > 0 and kept[i - 1].space_id == m.space_id else None
        nxt = kept[i + 1] if i + 1 < len(kept) and kept[i + 1].space_id == m.space_id else None
        hb = opts.heartbeat_s
        if nxt is not None:
            gap = (nxt.event_time - m.event_time).total_seconds()
            if gap <= opts.max_gap_s:
                hb = gap
        same = prev is not None and (prev.occupied, prev.people_count) == (
            m.occupied,
            m.people_count,
        )
        kind = PresenceKind.HEARTBEAT if same else PresenceKind.CHANGE
        kept[i] = m.model_copy(update={"kind": kind, "heartbeat_interval_s": hb})
    out.messages = kept
    out.lines = [m.seq for m in kept]
