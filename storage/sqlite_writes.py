"""Writes of the SQLite store: ``write`` (points) and ``write_columns``
(columns, kept as B-tree rows or, when large, as one column block)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from storage.base import PartialWriteError, Point, RejectedPoint
from storage.lineprotocol import LineProtocolError, check_point
from storage.sqlite_blocks import SQLiteBlocks
from storage.sqlite_schema import _TYPE_OF, _Measurement, _sql_value, field_type

if TYPE_CHECKING:
    import numpy as np

    from storage.columns import Columns, FieldColumn, TagColumn

# Page cache of a connection while it bulk-loads (KiB). The default 2 MB holds
# the tail pages of a few hundred series; a site has thousands.
BULK_CACHE_KIB = 256 * 1024
BULK_ROWS = 50_000


class SQLiteWrites(SQLiteBlocks):
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
            series, sid_of = self._column_series_ids(conn, m, cols, rows, new_series)
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

    def _column_series_ids(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        cols: Columns,
        rows: np.ndarray,
        new_series: dict[tuple[int, str], int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The series numbers (of ``cols``) that ``rows`` write, and the store's
        series id of each series number (0 for those not written); new series
        are added to ``new_series``."""
        import numpy as np

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
        return series, sid_of

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
