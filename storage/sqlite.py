"""``SQLiteStore``: the embedded default, one file in WAL mode, so the platform
runs on a fresh machine with no services installed.

It keeps InfluxDB's data model, so the contract tests hold for both stores:

* A point's identity is (measurement, tag set, time). Re-writing it merges the
  fields: a field given again is overwritten, the others are kept.
* A field's type is fixed by its first write; a point that changes it is
  refused (``PartialWriteError``), as InfluxDB does. Points line protocol could
  not carry are refused too (``storage.lineprotocol.check_point``).
* An empty tag value is no tag.

Layout: ``series`` holds each (measurement, tag set) once; every measurement has
its own table ``points_<id>`` keyed by (series, time), with one typed column per
field key (added as new keys appear). A query picks its series by tag in
Python (hundreds to tens of thousands of them, cached per process), then reads
each series' time range through the primary key: that is the index the API's
queries need, by site and time and "last per space".

Threads share one store (each gets its own connection); processes share the
file (WAL: readers never block the writer; writers queue on a 30 s busy
timeout). ``synchronous=FULL``: a committed write survives power loss, which is
what "durable" promises the ingest.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.base import (
    FieldValue,
    PartialWriteError,
    Point,
    RejectedPoint,
    Store,
    StoreError,
    StoreMissing,
    StoreUnavailable,
    TagFilter,
)
from storage.frames import BOOLEAN, FLOAT, INTEGER, STRING
from storage.lineprotocol import LineProtocolError, canonical_tags, check_point, is_bool
from storage.query import filter_values, to_ns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from storage import blocks
    from storage.columns import Columns, FieldColumn, TagColumn

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_S = 30.0
# Page cache of a connection while it bulk-loads (KiB). The default 2 MB holds
# the tail pages of a few hundred series; a site has thousands.
BULK_CACHE_KIB = 256 * 1024
BULK_ROWS = 50_000
# A ``write_columns`` of at least this many rows is kept as one column block
# (``storage.blocks``), not as B-tree rows.
BLOCK_ROWS = 1_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS measurements(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS field_keys(
    measurement_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('float', 'integer', 'boolean', 'string')),
    col INTEGER NOT NULL,
    PRIMARY KEY (measurement_id, name)
);
CREATE TABLE IF NOT EXISTS series(
    id INTEGER PRIMARY KEY,
    measurement_id INTEGER NOT NULL,
    tagset TEXT NOT NULL,
    UNIQUE (measurement_id, tagset)
);
"""


_TYPE_OF = {bool: BOOLEAN, int: INTEGER, float: FLOAT, str: STRING}


def field_type(value: FieldValue) -> str:
    kind = _TYPE_OF.get(type(value))
    if kind is not None:
        return kind
    if is_bool(value):
        return BOOLEAN
    if isinstance(value, Integral):
        return INTEGER
    if isinstance(value, str):
        return STRING
    return FLOAT


def _sql_value(value: FieldValue, kind: str) -> int | float | str:
    if kind == BOOLEAN:
        return 1 if value else 0
    if kind == INTEGER:
        return int(value)
    if kind == FLOAT:
        return float(value)
    return value


def _tagset_key(tags: list[tuple[str, str]]) -> str:
    return json.dumps(tags, ensure_ascii=False, separators=(",", ":"))


#: up to this many series, a read finds its blocks by key (``_block_ids``)
_FEW_SERIES = 16


@dataclass
class _Measurement:
    id: int
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (col, type)

    @property
    def table(self) -> str:
        return f"points_{self.id}"

    @property
    def blocks(self) -> str:
        return f"blocks_{self.id}"

    @property
    def block_series(self) -> str:
        return f"block_series_{self.id}"


@dataclass
class _SeriesIndex:
    """The series of one measurement known to this process (series are never
    deleted, so the index only grows: refreshed by id > the highest seen)."""

    max_id: int = 0
    tags: dict[int, dict[str, str]] = field(default_factory=dict)
    #: (tag key, value) -> the series with it: a filter on one site of a
    #: portfolio looks at that site's series, not at every site's
    having: dict[tuple[str, str], set[int]] = field(default_factory=dict)


class SQLiteStore(Store):
    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        block_rows: int = BLOCK_ROWS,
        create: bool = True,
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file::memory:"):
            raise ValueError(
                "SQLiteStore needs a file: an in-memory database is not shared between "
                "threads or processes"
            )
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.block_rows = max(1, block_rows)
        self._with_blocks: set[int] = set()
        if not create:
            _require_store(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the folder of {self.path}: {exc}") from exc
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._measurements: dict[str, _Measurement] = {}
        self._series_ids: dict[tuple[int, str], int] = {}
        self._series_index: dict[int, _SeriesIndex] = {}
        self._tagsets: dict[tuple[tuple[str, str], ...], str] = {}
        self._closed = False
        # Readers (a CLI, the API) must open the file while a writer holds the
        # write lock, so the schema is only created under that lock when missing.
        if self._schema_version() is None:
            with self._transaction(write=True) as conn:
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        version = self._schema_version()
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has store schema {version}; this version reads {SCHEMA_VERSION}"
            )

    def _schema_version(self) -> str | None:
        with self._transaction(write=False) as conn:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            if not exists:
                return None
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            return None if row is None else str(row[0])

    # -- connections and transactions ---------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the store is closed")
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=self.busy_timeout_s,
                    isolation_level=None,  # transactions are explicit below
                    check_same_thread=False,  # only so close() can close every thread's
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                raise _mapped(exc, self.path) from exc
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """IMMEDIATE for writes: the write lock is taken up front, so two writers
        queue on the busy timeout instead of failing to upgrade a read lock."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise _mapped(exc, self.path) from exc
        try:
            yield conn
        except BaseException as exc:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _mapped(exc, self.path) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise _mapped(exc, self.path) from exc

    # -- schema ----------------------------------------------------------------

    def _load_measurement(self, conn: sqlite3.Connection, name: str) -> _Measurement | None:
        row = conn.execute("SELECT id FROM measurements WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        m = _Measurement(row[0])
        for key, kind, col in conn.execute(
            "SELECT name, type, col FROM field_keys WHERE measurement_id = ?", (m.id,)
        ):
            m.fields[key] = (col, kind)
        return m

    def _refresh_series(self, conn: sqlite3.Connection, mid: int) -> _SeriesIndex:
        with self._lock:
            index = self._series_index.setdefault(mid, _SeriesIndex())
        rows = conn.execute(
            "SELECT id, tagset FROM series WHERE measurement_id = ? AND id > ? ORDER BY id",
            (mid, index.max_id),
        ).fetchall()
        if rows:
            with self._lock:
                for sid, tagset in rows:
                    if sid > index.max_id:
                        index.tags[sid] = dict(json.loads(tagset))
                        for pair in index.tags[sid].items():
                            index.having.setdefault(pair, set()).add(sid)
                        index.max_id = sid
        return index

    def _matching_series(
        self, conn: sqlite3.Connection, mid: int, where: TagFilter | None
    ) -> dict[int, dict[str, str]]:
        index = self._refresh_series(conn, mid)
        wanted: list[tuple[str, set[str]]] = []
        for key, values in (where or {}).items():
            wanted.append((key, set(filter_values(key, values))))
        # A series without the tag has it empty, as in InfluxQL (`"t" = ''` matches it),
        # so only a filter that does not allow "" narrows by the index.
        narrowing = [allowed for _, allowed in wanted if "" not in allowed]
        with self._lock:
            if narrowing:
                key = next(k for k, allowed in wanted if "" not in allowed)
                ids = set().union(*(index.having.get((key, v), set()) for v in narrowing[0]))
                items = [(sid, index.tags[sid]) for sid in sorted(ids)]
            else:
                items = list(index.tags.items())
        return {
            sid: tags
            for sid, tags in items
            if all(tags.get(key, "") in allowed for key, allowed in wanted)
        }

    # -- Store -------------------------------------------------------------------

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise _mapped(exc, self.path) from exc

    def write(self, points: Sequence[Point]) -> None:
        rejected: list[RejectedPoint] = []
        valid: list[Point] = []
        for point in points:
            try:
                check_point(point)
                valid.append(point)
            except LineProtocolError as exc:
                rejected.append(RejectedPoint(point, str(exc)))
        if valid:
            rejected += self._write_valid(valid)
        if rejected:
            raise PartialWriteError(rejected, written=len(points) - len(rejected))

    def _write_valid(self, points: list[Point]) -> list[RejectedPoint]:
        rejected: list[RejectedPoint] = []
        # New schema and series become visible to the cache only after COMMIT:
        # a rolled-back id must never be reused from the cache.
        new_measurements: dict[str, _Measurement] = {}
        new_series: dict[tuple[int, str], int] = {}
        groups: dict[tuple[str, tuple[int, ...]], list[tuple[Any, ...]]] = {}
        with self._transaction(write=True) as conn:
            for point in points:
                name = point.measurement
                m = new_measurements.get(name) or self._measurements.get(name)
                if m is None or not m.fields.keys() >= point.fields.keys():
                    m = self._measurement_for_write(conn, name)
                    new_measurements[name] = m
                conflict = None
                columns: list[int] = []
                row: list[Any] = [0, int(point.time_ns)]
                for key, value in point.fields.items():
                    kind = _TYPE_OF.get(type(value)) or field_type(value)
                    known = m.fields.get(key)
                    if known is None:
                        known = self._add_field(conn, m, key, kind)
                    if known[1] != kind:
                        conflict = (
                            f"field type conflict: input field {key!r} on measurement "
                            f"{name!r} is type {kind}, already exists as type {known[1]}"
                        )
                        break
                    columns.append(known[0])
                    # sqlite3 binds the built-in types as they are (bool as 0/1).
                    row.append(value if type(value) in _TYPE_OF else _sql_value(value, kind))
                if conflict:
                    rejected.append(RejectedPoint(point, conflict))
                    continue
                tagset = self._tagset(point.tags)
                skey = (m.id, tagset)
                sid = new_series.get(skey) or self._series_ids.get(skey)
                if sid is None:
                    sid = self._series_id(conn, m.id, tagset)
                    new_series[skey] = sid
                row[0] = sid
                groups.setdefault((m.table, tuple(columns)), []).append(tuple(row))
            for (table, cols), rows in groups.items():
                names = [f"f{c}" for c in cols]
                conn.executemany(
                    f"INSERT INTO {table} (series_id, time_ns, {', '.join(names)}) "
                    f"VALUES (?, ?{', ?' * len(names)}) "
                    "ON CONFLICT (series_id, time_ns) DO UPDATE SET "
                    + ", ".join(f"{n} = excluded.{n}" for n in names),
                    rows,
                )
        with self._lock:
            self._measurements.update(new_measurements)
            self._series_ids.update(new_series)
        return rejected

    def write_columns(
        self,
        measurement: str,
        *,
        time_ns: Sequence[int] | np.ndarray,
        tags: Mapping[str, TagColumn],
        fields: Mapping[str, FieldColumn],
    ) -> None:
        """``write`` of the columns' points in one transaction, without a ``Point``
        per row: series resolved once per distinct tag set, rows sorted by the
        primary key (series, time) so that they append to each series' B-tree
        pages, and bound from the numpy columns by ``executemany``."""
        import numpy as np

        from storage.columns import Columns, Unsupported

        try:
            cols = Columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
        except Unsupported:
            super().write_columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
            return
        if cols.n == 0:
            return
        invalid = cols.invalid_rows()
        ok = np.ones(cols.n, bool)
        ok[list(invalid)] = False
        conflicts: dict[int, str] = {}
        if ok.any():
            conflicts = self._write_column_rows(cols, ok)
        rejected = [RejectedPoint(cols.point(i), why, i) for i, why in invalid.items()]
        rejected += [RejectedPoint(cols.point(i), why, i) for i, why in sorted(conflicts.items())]
        if rejected:
            raise PartialWriteError(rejected, written=cols.n - len(rejected))

    def _write_column_rows(self, cols: Columns, ok: np.ndarray) -> dict[int, str]:
        """Write the rows ``ok`` selects; return the rows refused for a field type
        conflict, as ``_write_valid`` would refuse their points."""
        import numpy as np

        name = cols.measurement
        fields = cols.fields
        n_fields = len(fields)
        present = [f.present if f.present is not None else np.ones(cols.n, bool) for f in fields]
        conflicts: dict[int, str] = {}
        new_series: dict[tuple[int, str], int] = {}
        with self._transaction(write=True) as conn:
            m = self._measurements.get(name)
            wanted = {f.key for f, p in zip(fields, present, strict=True) if (p & ok).any()}
            fresh = m is None or not m.fields.keys() >= wanted
            if fresh:
                m = self._measurement_for_write(conn, name)
            assert m is not None
            # A point is refused at its first field (in order) whose type differs
            # from the stored one; fields before it are added to the schema.
            first_conflict = np.full(cols.n, n_fields, np.int64)
            reason: dict[int, str] = {}
            for j in reversed(range(n_fields)):
                f = fields[j]
                known = m.fields.get(f.key)
                if known is not None and known[1] != f.kind:
                    first_conflict[present[j] & ok] = j
                    reason[j] = (
                        f"field type conflict: input field {f.key!r} on measurement "
                        f"{name!r} is type {f.kind}, already exists as type {known[1]}"
                    )
            for j, f in enumerate(fields):
                if f.key not in m.fields and (present[j] & ok & (first_conflict > j)).any():
                    self._add_field(conn, m, f.key, f.kind)
            for i in np.flatnonzero(ok & (first_conflict < n_fields)).tolist():
                conflicts[i] = reason[int(first_conflict[i])]
            written = ok & (first_conflict == n_fields)
            rows = np.flatnonzero(written)
            if not len(rows):
                return conflicts
            # Series in the order of their first written row (ids as ``write`` gives them).
            # (series numbers are dense: a first-row table, no sort of the rows)
            first = np.full(len(cols.series_row), cols.n, np.int64)
            np.minimum.at(first, cols.series_of_row[rows], rows)
            series = np.flatnonzero(first < cols.n)
            sid_of = np.zeros(len(cols.series_row), np.int64)
            for s in series[np.argsort(first[series], kind="stable")].tolist():
                tagset = self._tagset(cols.tagset(s))
                skey = (m.id, tagset)
                sid = new_series.get(skey) or self._series_ids.get(skey)
                if sid is None:
                    sid = self._series_id(conn, m.id, tagset)
                    new_series[skey] = sid
                sid_of[s] = sid
            sids = sid_of[cols.series_of_row]
            if len(rows) >= self.block_rows:
                rows = self._write_block(conn, m, cols, rows, sids, present, sid_of[series])
            if len(rows):
                self._insert_rows(conn, m, cols, rows, sids, present)
        with self._lock:
            if fresh:
                self._measurements[name] = m
            self._series_ids.update(new_series)
        return conflicts

    def _insert_rows(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        cols: Columns,
        rows: np.ndarray,
        sids: np.ndarray,
        present: list[np.ndarray],
    ) -> None:
        """``rows`` of the columns as B-tree rows (upserts that merge the fields)."""
        import numpy as np

        fields = cols.fields
        # Rows with the same fields present share a statement; statements run
        # in the order of their first row, rows in order within one (as ``write``).
        pattern = np.zeros(cols.n, np.int64)
        for j in range(len(fields)):
            pattern |= present[j].astype(np.int64) << j
        pattern = pattern[rows]
        patterns, first = np.unique(pattern, return_index=True)
        big = len(rows) >= BULK_ROWS
        if big:
            cache = conn.execute("PRAGMA cache_size").fetchone()[0]
            conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            for bits in patterns[np.argsort(first, kind="stable")].tolist():
                group = rows[pattern == bits]
                group = group[np.lexsort((cols.time_ns[group], sids[group]))]  # stable
                used = [j for j in range(len(fields)) if bits >> j & 1]
                names = [f"f{m.fields[fields[j].key][0]}" for j in used]
                values = [sids[group].tolist(), cols.time_ns[group].tolist()]
                values += [fields[j].python_values(group) for j in used]
                conn.executemany(
                    f"INSERT INTO {m.table} (series_id, time_ns, {', '.join(names)}) "
                    f"VALUES (?, ?{', ?' * len(names)}) "
                    "ON CONFLICT (series_id, time_ns) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in names),
                    zip(*values, strict=True),
                )
        finally:
            if big:
                conn.execute(f"PRAGMA cache_size = {int(cache)}")

    # -- column blocks (storage.blocks) --------------------------------------------
    #
    # Invariant: a point's version in ``points_<id>`` is newer than any version of it
    # in a block. A block therefore never takes a row whose identity is already in
    # the table (that row is upserted there instead), and a read merges the blocks
    # in the order they were written, then the table's rows, field by field.

    def _has_blocks(self, conn: sqlite3.Connection, m: _Measurement) -> bool:
        if m.id in self._with_blocks:
            return True
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (m.blocks,)
        ).fetchone()
        if found:
            with self._lock:
                self._with_blocks.add(m.id)
        return found is not None

    def _write_block(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        cols: Columns,
        rows: np.ndarray,
        sids: np.ndarray,
        present: list[np.ndarray],
        series: np.ndarray,
    ) -> np.ndarray:
        """Store ``rows`` (of the series ids ``series``) as one block; return those
        that must go to the table instead (their identity is already there)."""
        import numpy as np

        from storage import blocks

        every = len(rows) == cols.n  # then no copy of the columns is needed
        times = cols.time_ns if every else cols.time_ns[rows]
        lo, hi = int(times.min()), int(times.max())
        taken = conn.execute(
            f"SELECT series_id, time_ns FROM {m.table} WHERE series_id IN "
            f"({','.join(map(str, series.tolist()))}) AND time_ns BETWEEN ? AND ?",
            (lo, hi),
        ).fetchall()
        to_table = np.zeros(0, np.intp)
        if taken:
            t_sid, t_time = (np.array(c, np.int64) for c in zip(*taken, strict=True))
            known = blocks.identity_keys(t_sid, t_time)
            in_table = blocks.identities_in(sids[rows], times, known)
            to_table, rows = rows[in_table], rows[~in_table]
            if not len(rows):
                return to_table
            every = False
        pick = slice(None) if every else rows
        data = blocks.Rows(sids[pick], cols.time_ns[pick])
        categories: dict[int, np.ndarray] = {}
        for j, f in enumerate(cols.fields):
            if f.key not in m.fields:  # absent from every row written (never added)
                continue
            col = m.fields[f.key][0]
            data.fields[col] = blocks.Column(f.kind, f.values[pick], present[j][pick])
            if f.categories is not None:
                categories[col] = f.categories
        # Kept in the order given: reads merge by identity anyway (rows of one
        # block in order, later ones winning), so sorting here would be work twice.
        if not self._has_blocks(conn, m):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {m.blocks} (id INTEGER PRIMARY KEY, "
                "t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, n INTEGER NOT NULL, "
                "data BLOB NOT NULL)"
            )
            # Keyed by block first, so that a block's spans append at the end of
            # the B-tree: keyed by series, every bulk write would dirty a page
            # per series (measured: 4.3 GB written for a 126 MB year).
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {m.block_series} (block_id INTEGER NOT NULL, "
                "series_id INTEGER NOT NULL, t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, "
                "n INTEGER NOT NULL, PRIMARY KEY (block_id, series_id)) WITHOUT ROWID"
            )
        payload = blocks.encode(data, categories)
        cur = conn.execute(
            f"INSERT INTO {m.blocks} (t_min, t_max, n, data) VALUES (?, ?, ?, ?)",
            (
                lo if every else int(data.time.min()),
                hi if every else int(data.time.max()),
                len(data),
                payload,
            ),
        )
        block_id = cur.lastrowid
        conn.executemany(
            f"INSERT INTO {m.block_series} VALUES (?, ?, ?, ?, ?)",
            ((block_id, sid, t0, t1, n) for sid, t0, t1, n in blocks.series_spans(data)),
        )
        return to_table

    def _block_ids(
        self, conn: sqlite3.Connection, m: _Measurement, series: Iterable[int], lo: int, hi: int
    ) -> list[int]:
        """Blocks holding rows of ``series`` with lo <= time < hi, oldest first:
        blocks by their time span (a few hundred a year), then their series."""
        wanted = list(series)
        ids = ",".join(map(str, wanted))
        # A few series: from each block in the time range, look them up by the
        # key (block_id, series_id); SQLite's own plan scans every span, which
        # in a store of many sites (a portfolio: millions) costs more than the
        # read. CROSS JOIN keeps the blocks as the outer loop.
        join = "CROSS JOIN" if len(wanted) <= _FEW_SERIES else "JOIN"
        found = conn.execute(
            f"SELECT DISTINCT s.block_id FROM {m.blocks} AS b {join} {m.block_series} AS s "
            f"ON s.block_id = b.id AND s.series_id IN ({ids}) "
            "WHERE b.t_max >= ? AND b.t_min < ? AND s.t_max >= ? AND s.t_min < ? "
            "ORDER BY s.block_id",
            (lo, hi, lo, hi),
        ).fetchall()
        return [int(r[0]) for r in found]

    def _block_rows(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        block_ids: Sequence[int],
        series: Iterable[int],
        lo: int,
        hi: int,
        kinds: Mapping[int, str],
        select: blocks.Select | None = None,
    ) -> list[blocks.Rows]:
        """The rows of these blocks in ``series`` with lo <= time < hi (and that
        ``select`` picks), block by block."""
        import numpy as np

        from storage import blocks

        wanted = np.fromiter(series, np.int64)

        def pick(sid: np.ndarray, time: np.ndarray) -> np.ndarray:
            mask = np.isin(sid, wanted) & (time >= lo) & (time < hi)
            return mask if select is None else mask & select(sid, time)

        parts = []
        for block_id in block_ids:
            sql = f"SELECT data FROM {m.blocks} WHERE id = ?"
            (data,) = conn.execute(sql, (block_id,)).fetchone()
            parts.append(blocks.decode(data, kinds, pick))
        return parts

    def _table_rows(
        self, m: _Measurement, found: list[tuple[Any, ...]], cols: Sequence[int]
    ) -> blocks.Rows:
        """``SELECT series_id, time_ns, f<c>...`` results as ``Rows``."""
        import numpy as np

        from storage import blocks

        columns: list[Sequence[Any]] = (
            list(zip(*found, strict=True)) if found else [() for _ in range(2 + len(cols))]
        )
        kind_of = {c: k for c, k in m.fields.values()}
        return blocks.Rows(
            np.array(columns[0], np.int64),
            np.array(columns[1], np.int64),
            {c: blocks.from_values(kind_of[c], columns[2 + i]) for i, c in enumerate(cols)},
        )

    def _merged_frame(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        series: dict[int, dict[str, str]],
        parts: list[blocks.Rows],
        wanted: list[str],
        fields: Sequence[str] | None,
    ) -> pd.DataFrame:
        """The frame of rows given oldest first (blocks, then the table's rows):
        merged by identity; with ``fields``, only points that have one of them."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from storage import blocks
        from storage.frames import frame_from_columns

        known = {k: m.fields[k] for k in wanted if k in m.fields}
        kinds = {col: kind for col, kind in known.values()}
        data = blocks.merge(blocks.concat(parts, kinds))
        if fields is not None and len(data):
            keep = np.zeros(len(data), bool)
            for col in kinds:
                keep |= data.fields[col].present
            data = data.take(np.flatnonzero(keep))
        tag_keys: set[str] = set()
        for tags in self._refresh_series(conn, m.id).tags.values():
            tag_keys.update(tags)
        types = _wanted_types(m, wanted)
        tag_keys -= set(types)
        names = sorted(tag_keys)
        sorted_sids = sorted(series)
        position = np.searchsorted(np.array(sorted_sids, np.int64), data.sid)

        # The documented order - time, then the tags (missing first) - in one
        # numeric sort: a series' tags rank it, and one series has one row a time.
        def tag_order(i: int) -> list[tuple[bool, str]]:
            tags = series[sorted_sids[i]]
            return [(k in tags, tags.get(k, "")) for k in names]

        by_tags = sorted(range(len(sorted_sids)), key=tag_order)
        rank = np.empty(len(sorted_sids), np.int64)
        rank[by_tags] = np.arange(len(sorted_sids))
        order = np.lexsort((rank[position], data.time))
        data, position = data.take(order), position[order]
        tag_cols: dict[str, Any] = {}
        for key in names:
            # large_string: what pandas keeps its "str" columns in (no cast of every row)
            dictionary = pa.array([series[s].get(key) for s in sorted_sids], pa.large_string())
            tag_cols[key] = pc.take(dictionary, pa.array(position))  # no str object per row
        field_cols = {}
        for key in wanted:
            if key in known:
                c = data.fields[known[key][0]]
                field_cols[key] = (c.values, c.present)
            else:
                field_cols[key] = (np.empty(len(data), object), np.zeros(len(data), bool))
        return frame_from_columns(
            times=data.time, tags=tag_cols, fields=field_cols, field_types=types
        )

    def _tagset(self, tags: Mapping[str, str]) -> str:
        """The canonical tag set, cached by the tags as given (they repeat)."""
        items = tuple(tags.items())
        tagset = self._tagsets.get(items)
        if tagset is None:
            tagset = _tagset_key(canonical_tags(tags))
            with self._lock:
                if len(self._tagsets) >= 100_000:
                    self._tagsets.clear()
                self._tagsets[items] = tagset
        return tagset

    def _measurement_for_write(self, conn: sqlite3.Connection, name: str) -> _Measurement:
        m = self._load_measurement(conn, name)
        if m is None:
            cur = conn.execute("INSERT INTO measurements (name) VALUES (?)", (name,))
            assert cur.lastrowid is not None
            m = _Measurement(cur.lastrowid)
            conn.execute(
                f"CREATE TABLE {m.table} (series_id INTEGER NOT NULL, time_ns INTEGER NOT NULL, "
                "PRIMARY KEY (series_id, time_ns)) WITHOUT ROWID"
            )
        return m

    def _add_field(
        self, conn: sqlite3.Connection, m: _Measurement, key: str, kind: str
    ) -> tuple[int, str]:
        col = max((c for c, _ in m.fields.values()), default=0) + 1
        conn.execute(
            "INSERT INTO field_keys (measurement_id, name, type, col) VALUES (?, ?, ?, ?)",
            (m.id, key, kind, col),
        )
        conn.execute(f"ALTER TABLE {m.table} ADD COLUMN f{col}")
        m.fields[key] = (col, kind)
        return m.fields[key]

    def _series_id(self, conn: sqlite3.Connection, mid: int, tagset: str) -> int:
        conn.execute(
            "INSERT OR IGNORE INTO series (measurement_id, tagset) VALUES (?, ?)", (mid, tagset)
        )
        row = conn.execute(
            "SELECT id FROM series WHERE measurement_id = ? AND tagset = ?", (mid, tagset)
        ).fetchone()
        return int(row[0])

    def _empty(
        self, conn: sqlite3.Connection, m: _Measurement | None, fields: Sequence[str] | None
    ) -> pd.DataFrame:
        from storage.frames import empty_frame

        tag_keys: set[str] = set()
        if m is not None:
            for tags in self._refresh_series(conn, m.id).tags.values():
                tag_keys.update(tags)
        types = _wanted_types(m, fields)
        return empty_frame(sorted(tag_keys - set(types)), types)

    def _frame(
        self,
        m: _Measurement,
        series: dict[int, dict[str, str]],
        rows: list[tuple[Any, ...]],
        wanted: list[str],
        conn: sqlite3.Connection,
    ) -> pd.DataFrame:
        from storage.frames import build_frame

        types = _wanted_types(m, wanted)
        tag_keys: set[str] = set()
        for tags in self._refresh_series(conn, m.id).tags.values():
            tag_keys.update(tags)
        tag_keys -= set(types)
        columns: list[Sequence[Any]] = (
            list(zip(*rows, strict=True)) if rows else [() for _ in range(2 + len(wanted))]
        )
        sids = columns[0]
        tag_cols: dict[str, list[str | None]] = {}
        for key in sorted(tag_keys):
            lookup = {sid: tags.get(key) for sid, tags in series.items()}
            tag_cols[key] = [lookup[sid] for sid in sids]
        field_cols = {key: list(columns[2 + i]) for i, key in enumerate(wanted)}
        return build_frame(times=columns[1], tags=tag_cols, fields=field_cols, field_types=types)

    def read(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        start_ns, end_ns = to_ns(start), to_ns(end)
        with self._transaction(write=False) as conn:
            m = self._load_measurement(conn, measurement)
            series = self._matching_series(conn, m.id, where) if m else {}
            wanted = list(m.fields) if fields is None and m else list(fields or [])
            known = [k for k in wanted if m and k in m.fields]
            if m is None or not series or not known or start_ns >= end_ns:
                return self._empty(conn, m, fields)
            cols = {k: f"f{m.fields[k][0]}" for k in known}
            ids = ",".join(map(str, series))
            in_blocks = (
                self._block_ids(conn, m, series, start_ns, end_ns)
                if self._has_blocks(conn, m)
                else []
            )
            from storage.sqlite_columns import table_columns

            kinds = {m.fields[k][0]: m.fields[k][1] for k in known}
            span = f"series_id IN ({ids}) AND time_ns >= ? AND time_ns < ?"
            table = table_columns(conn, m.table, span, (start_ns, end_ns), kinds)
            if table is not None:
                parts = self._block_rows(conn, m, in_blocks, series, start_ns, end_ns, kinds)
                parts.append(table)
                return self._merged_frame(conn, m, series, parts, wanted, fields)
            if in_blocks:
                numbers = [m.fields[k][0] for k in known]
                found = conn.execute(
                    f"SELECT series_id, time_ns, {', '.join(cols.values())} FROM {m.table} "
                    f"WHERE series_id IN ({ids}) AND time_ns >= ? AND time_ns < ?",
                    (start_ns, end_ns),
                ).fetchall()
                parts = self._block_rows(conn, m, in_blocks, series, start_ns, end_ns, kinds)
                parts.append(self._table_rows(m, found, numbers))
                return self._merged_frame(conn, m, series, parts, wanted, fields)
            select = ", ".join(cols.get(k, "NULL") for k in wanted)
            sql = (
                f"SELECT series_id, time_ns, {select} FROM {m.table} "
                f"WHERE series_id IN ({ids}) AND time_ns >= ? AND time_ns < ?"
            )
            if fields is not None:
                # As InfluxDB: a row is a point that has at least one selected field.
                sql += " AND (" + " OR ".join(f"{c} IS NOT NULL" for c in cols.values()) + ")"
            rows = conn.execute(sql, (start_ns, end_ns)).fetchall()
            return self._frame(m, series, rows, wanted, conn)

    def last(
        self,
        measurement: str,
        *,
        by: str,
        before: datetime | None = None,
        where: TagFilter | None = None,
    ) -> pd.DataFrame:
        import numpy as np

        from storage import blocks

        before_ns = None if before is None else to_ns(before)
        with self._transaction(write=False) as conn:
            m = self._load_measurement(conn, measurement)
            series = self._matching_series(conn, m.id, where) if m else {}
            series = {sid: tags for sid, tags in series.items() if tags.get(by)}
            if m is None or not series:
                return self._empty(conn, m, None)
            bound = "" if before_ns is None else f" AND time_ns < {before_ns}"
            # One index seek per series (max over the primary key), not a scan.
            latest = conn.execute(
                f"SELECT s.value, (SELECT max(time_ns) FROM {m.table} "
                f"WHERE series_id = s.value{bound}) FROM json_each(?) AS s",
                (json.dumps(list(series)),),
            ).fetchall()
            newest = {sid: t for sid, t in latest if t is not None}
            spans: dict[int, list[tuple[int, int, int]]] = {}
            if self._has_blocks(conn, m):
                spans = self._newest_in_blocks(conn, m, list(series), before_ns, newest)
            best: dict[str, tuple[int, int]] = {}
            for sid, t in newest.items():
                value = series[sid][by]
                if value not in best or (t, sid) > best[value]:
                    best[value] = (t, sid)
            wanted = list(m.fields)
            if not best:
                return self._empty(conn, m, None)
            select = ", ".join(f"f{m.fields[k][0]}" for k in wanted)
            pairs = ",".join(f"({sid},{t})" for t, sid in best.values())
            rows = conn.execute(
                f"SELECT series_id, time_ns, {select} FROM {m.table} "
                f"WHERE (series_id, time_ns) IN (VALUES {pairs})"
            ).fetchall()
            time_of = {sid: t for t, sid in best.values()}
            holders = [
                block_id
                for block_id, found in spans.items()
                if any(t0 <= time_of.get(sid, t0 - 1) <= t1 for sid, t0, t1 in found)
            ]
            if not holders:
                return self._frame(m, series, rows, wanted, conn)
            chosen = blocks.identity_keys(
                np.array([sid for _, sid in best.values()], np.int64),
                np.array([t for t, _ in best.values()], np.int64),
            )
            parts = self._block_rows(
                conn,
                m,
                sorted(holders),
                series,
                -(1 << 63),
                (1 << 63) - 1,
                {col: kind for col, kind in m.fields.values()},
                select=lambda sid, t: blocks.identities_in(sid, t, chosen),
            )
            parts.append(self._table_rows(m, rows, [m.fields[k][0] for k in wanted]))
            return self._merged_frame(conn, m, series, parts, wanted, None)

    def _newest_in_blocks(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        sids: list[int],
        before_ns: int | None,
        newest: dict[int, int],
    ) -> dict[int, list[tuple[int, int, int]]]:
        """Raise ``newest`` (series id -> latest time before ``before_ns``) by the
        blocks' rows; return the spans (series, first, last) of the blocks read.

        Blocks are visited newest first and the walk stops once every series
        has a point newer than anything the next block can hold. A span that
        ends before ``before_ns`` gives its series' latest time as it is; only
        a block that straddles ``before_ns`` is decoded (times only)."""
        limit = (1 << 63) - 1 if before_ns is None else before_ns - 1
        order = conn.execute(
            f"SELECT id, min(t_max, ?) AS bound FROM {m.blocks} WHERE t_min <= ? "
            "ORDER BY bound DESC, id DESC",
            (limit, limit),
        ).fetchall()
        wanted = json.dumps(sids)
        visited: dict[int, list[tuple[int, int, int]]] = {}
        straddling: list[int] = []
        for block_id, bound in order:
            if len(newest) == len(sids) and min(newest.values()) > bound:
                break
            found = conn.execute(
                f"SELECT series_id, t_min, t_max FROM {m.block_series} WHERE block_id = ? "
                "AND series_id IN (SELECT value FROM json_each(?)) AND t_min <= ?",
                (block_id, wanted, limit),
            ).fetchall()
            visited[block_id] = found
            for sid, t0, t1 in found:
                # t_min is the time of a row of the series: a lower bound at least
                t = t1 if t1 <= limit else t0
                newest[sid] = max(t, newest.get(sid, t))
                if t1 > limit and block_id not in straddling:
                    straddling.append(block_id)
        for part in self._block_rows(conn, m, straddling, sids, -(1 << 63), limit + 1, {}):
            for sid, t in _newest_per_series(part.sid, part.time):
                newest[sid] = max(t, newest.get(sid, t))
        return visited

    def count(self, measurement: str, *, where: TagFilter | None = None) -> int:
        import numpy as np

        from storage import blocks

        with self._transaction(write=False) as conn:
            m = self._load_measurement(conn, measurement)
            if m is None:
                return 0
            with_blocks = self._has_blocks(conn, m)
            if not where and not with_blocks:
                return int(conn.execute(f"SELECT count(*) FROM {m.table}").fetchone()[0])
            series = self._matching_series(conn, m.id, where)
            if not series:
                return 0
            ids = ",".join(map(str, series))
            if not with_blocks:
                sql = f"SELECT count(*) FROM {m.table} WHERE series_id IN ({ids})"
                return int(conn.execute(sql).fetchone()[0])
            # A point may be in the table and in blocks: count identities once.
            found = conn.execute(
                f"SELECT series_id, time_ns FROM {m.table} WHERE series_id IN ({ids})"
            ).fetchall()
            in_blocks = self._block_ids(conn, m, series, -(1 << 63), (1 << 63) - 1)
            parts = self._block_rows(conn, m, in_blocks, series, -(1 << 63), (1 << 63) - 1, {})
            parts.append(self._table_rows(m, found, []))
            data = blocks.concat(parts, {})
            return len(np.unique(blocks.identity_keys(data.sid, data.time)))

    def delete_points(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        batch_rows: int = 20_000,
    ) -> int:
        from storage.sqlite_prune import delete_points

        return delete_points(
            self,
            measurement,
            start_ns=to_ns(start),
            end_ns=to_ns(end),
            where=where,
            batch_rows=max(1, batch_rows),
        )

    def close(self) -> None:
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()


def _require_store(path: Path) -> None:
    """For readers: a mistyped path must say so, not read (and leave behind) an
    empty store. Checked read-only, so not even a file header is written."""
    if not path.is_file():
        raise StoreMissing(f"no store at {path}: the file does not exist")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as ro:
            found = ro.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
    except sqlite3.Error as exc:
        raise StoreMissing(f"{path} is not an occupancy store ({exc})") from exc
    if not found:
        raise StoreMissing(f"{path} is not an occupancy store (it has no schema)")


def _newest_per_series(sid: np.ndarray, time: np.ndarray) -> Iterator[tuple[int, int]]:
    """(series id, latest time) of each series among the rows."""
    import numpy as np

    if not len(sid):
        return iter(())
    order = np.lexsort((time, sid))
    ends = np.append(np.flatnonzero(np.diff(sid[order])), len(sid) - 1)
    return zip(sid[order][ends].tolist(), time[order][ends].tolist(), strict=True)


def _wanted_types(m: _Measurement | None, fields: Sequence[str] | None) -> dict[str, str | None]:
    known = m.fields if m is not None else {}
    names = list(known) if fields is None else list(fields)
    return {k: known[k][1] if k in known else None for k in names}


def _mapped(exc: sqlite3.Error, path: Path) -> StoreError:
    """Locked, busy, full or unreadable: the data may go in later. Anything else
    is a fault in the request or the file."""
    text = str(exc)
    transient = ("locked", "busy", "disk i/o", "full", "unable to open", "readonly")
    if isinstance(exc, sqlite3.OperationalError) and any(t in text.lower() for t in transient):
        return StoreUnavailable(f"SQLite store {path}: {text}")
    return StoreError(f"SQLite store {path}: {text}")
