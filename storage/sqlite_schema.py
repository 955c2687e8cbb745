"""The SQLite store's file: its schema (``meta``, ``measurements``,
``field_keys``, ``series``; a ``points_<id>`` table per measurement), the
per-process caches of that schema, and the connections and transactions every
other part of ``SQLiteStore`` goes through (``storage.sqlite``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

from storage.base import (
    FieldValue,
    Store,
    StoreError,
    StoreMissing,
    StoreUnavailable,
    TagFilter,
)
from storage.frames import BOOLEAN, FLOAT, INTEGER, STRING
from storage.lineprotocol import canonical_tags, is_bool
from storage.query import filter_values

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_S = 30.0
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


class SQLiteBase(Store):
    """Connections, transactions and the schema caches; ``SQLiteStore``
    (``storage.sqlite``) adds the writes, the column blocks and the reads."""

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

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise _mapped(exc, self.path) from exc

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


def _mapped(exc: sqlite3.Error, path: Path) -> StoreError:
    """Locked, busy, full or unreadable: the data may go in later. Anything else
    is a fault in the request or the file."""
    text = str(exc)
    transient = ("locked", "busy", "disk i/o", "full", "unable to open", "readonly")
    if isinstance(exc, sqlite3.OperationalError) and any(t in text.lower() for t in transient):
        return StoreUnavailable(f"SQLite store {path}: {text}")
    return StoreError(f"SQLite store {path}: {text}")
