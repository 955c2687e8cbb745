"""Column blocks of the SQLite store (``storage.blocks``): a large
``write_columns`` kept as one compressed blob per call, and the lookups that
find, decode and merge them with the B-tree rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from storage.sqlite_schema import SQLiteBase, _Measurement

if TYPE_CHECKING:
    import numpy as np

    from storage import blocks
    from storage.columns import Columns

#: up to this many series, a read finds its blocks by key (``_block_ids``)
_FEW_SERIES = 16


class SQLiteBlocks(SQLiteBase):
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
            _create_block_tables(conn, m)
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


def _newest_per_series(sid: np.ndarray, time: np.ndarray) -> Iterator[tuple[int, int]]:
    """(series id, latest time) of each series among the rows."""
    import numpy as np

    if not len(sid):
        return iter(())
    order = np.lexsort((time, sid))
    ends = np.append(np.flatnonzero(np.diff(sid[order])), len(sid) - 1)
    return zip(sid[order][ends].tolist(), time[order][ends].tolist(), strict=True)


def _create_block_tables(conn: sqlite3.Connection, m: _Measurement) -> None:
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
