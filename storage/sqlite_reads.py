"""Reads of the SQLite store: ``read``, ``last`` and ``count``, over the
B-tree rows and the column blocks, and the frames they return."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage.base import TagFilter
from storage.query import to_ns
from storage.sqlite_blocks import SQLiteBlocks
from storage.sqlite_schema import _Measurement

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from storage import blocks


class SQLiteReads(SQLiteBlocks):
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
            return self._last_with_blocks(conn, m, series, list(best.values()), holders, rows)

    def _last_with_blocks(
        self,
        conn: sqlite3.Connection,
        m: _Measurement,
        series: dict[int, dict[str, str]],
        best: list[tuple[int, int]],
        holders: list[int],
        rows: list[tuple[Any, ...]],
    ) -> pd.DataFrame:
        """``last``'s frame when some of the chosen points (``best``: time, series)
        are in the blocks ``holders``: their rows there merged with the table's."""
        import numpy as np

        from storage import blocks

        wanted = list(m.fields)
        chosen = blocks.identity_keys(
            np.array([sid for _, sid in best], np.int64),
            np.array([t for t, _ in best], np.int64),
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
        rank = _tag_rank(series, sorted_sids, names)
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


def _wanted_types(m: _Measurement | None, fields: Sequence[str] | None) -> dict[str, str | None]:
    known = m.fields if m is not None else {}
    names = list(known) if fields is None else list(fields)
    return {k: known[k][1] if k in known else None for k in names}


def _tag_rank(
    series: dict[int, dict[str, str]], sorted_sids: list[int], names: list[str]
) -> np.ndarray:
    """The rank of each series (by position in ``sorted_sids``) in the order of
    its tags ``names``, a missing tag first."""
    import numpy as np

    # The documented order - time, then the tags (missing first) - in one
    # numeric sort: a series' tags rank it, and one series has one row a time.
    def tag_order(i: int) -> list[tuple[bool, str]]:
        tags = series[sorted_sids[i]]
        return [(k in tags, tags.get(k, "")) for k in names]

    by_tags = sorted(range(len(sorted_sids)), key=tag_order)
    rank = np.empty(len(sorted_sids), np.int64)
    rank[by_tags] = np.arange(len(sorted_sids))
    return rank
