"""``SQLiteStore.delete_points``: raw retention on SQLite (docs/storage.md,
"Raw retention").

A span's points are deleted except each series' latest point in it: the state
intervals of the first day after the span start from that point (a state
holds until the next message), so keeping it keeps every later day's figures
exactly what they were. A later, longer span that covers this one deletes it
in turn, so what remains of a span is one point per series.

Points live as B-tree rows and as column blocks (``storage.blocks``). Rows go
in transactions of at most ``batch_rows``; a block is rewritten without the
deleted rows (or dropped whole, when nothing of it stays) one per
transaction, so the ingest's writes interleave. The latest point of each
series is worked out again in every transaction, under its write lock: a
point arriving between two transactions is never deleted as "not the latest".
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import numpy as np

from storage import blocks
from storage.base import TagFilter

if TYPE_CHECKING:
    from storage.sqlite import SQLiteStore, _Measurement


def delete_points(
    store: SQLiteStore,
    measurement: str,
    *,
    start_ns: int,
    end_ns: int,
    where: TagFilter | None,
    batch_rows: int,
) -> int:
    if start_ns >= end_ns:
        return 0
    total, done = 0, False
    while not done:
        with store._transaction(write=True) as conn:
            found = _target(store, conn, measurement, where)
            if found is None:
                return total
            m, sids = found
            keep = _latest(store, conn, m, sids, start_ns, end_ns)
            n = _delete_rows(conn, m, keep, start_ns, batch_rows)
        total += n
        done = n < batch_rows
    with store._transaction(write=False) as conn:
        found = _target(store, conn, measurement, where)
        if found is None or not store._has_blocks(conn, found[0]):
            return total
        candidates = store._block_ids(conn, found[0], found[1], start_ns, end_ns)
    for block_id in candidates:
        with store._transaction(write=True) as conn:
            found = _target(store, conn, measurement, where)
            if found is None:
                break
            m, sids = found
            keep = _latest(store, conn, m, sids, start_ns, end_ns)
            total += _prune_block(conn, m, block_id, keep, start_ns)
    return total


def _target(
    store: SQLiteStore, conn: sqlite3.Connection, measurement: str, where: TagFilter | None
) -> tuple[_Measurement, list[int]] | None:
    m = store._load_measurement(conn, measurement)
    if m is None:
        return None
    sids = sorted(store._matching_series(conn, m.id, where))
    return (m, sids) if sids else None


def _latest(
    store: SQLiteStore,
    conn: sqlite3.Connection,
    m: _Measurement,
    sids: list[int],
    start_ns: int,
    end_ns: int,
) -> dict[int, int]:
    """Each series' latest time in [start, end), over the table and the blocks."""
    rows = conn.execute(
        f"SELECT s.value, (SELECT max(time_ns) FROM {m.table} WHERE series_id = s.value "
        "AND time_ns >= ? AND time_ns < ?) FROM json_each(?) AS s",
        (start_ns, end_ns, json.dumps(sids)),
    ).fetchall()
    latest = {int(sid): int(t) for sid, t in rows if t is not None}
    if not store._has_blocks(conn, m):
        return latest
    # A span that ends inside [start, end) ends at a row of it; only a block
    # whose span reaches past ``end`` is decoded (its times only).
    spans = conn.execute(
        f"SELECT s.block_id, s.series_id, s.t_max FROM {m.block_series} AS s "
        "WHERE s.series_id IN (SELECT value FROM json_each(?)) AND s.t_max >= ? AND s.t_min < ?",
        (json.dumps(sids), start_ns, end_ns),
    ).fetchall()
    straddling = set()
    for block_id, sid, t_max in spans:
        if t_max < end_ns:
            latest[sid] = max(t_max, latest.get(sid, t_max))
        else:
            straddling.add(int(block_id))
    for part in store._block_rows(conn, m, sorted(straddling), sids, start_ns, end_ns, {}):
        if len(part):
            order = np.lexsort((part.time, part.sid))
            ends = np.append(np.flatnonzero(np.diff(part.sid[order])), len(order) - 1)
            pairs = zip(
                part.sid[order][ends].tolist(), part.time[order][ends].tolist(), strict=True
            )
            for sid, t in pairs:
                latest[sid] = max(t, latest.get(sid, t))
    return latest


def _delete_rows(
    conn: sqlite3.Connection, m: _Measurement, keep: dict[int, int], start_ns: int, limit: int
) -> int:
    """Delete up to ``limit`` table rows of each series from ``start`` up to
    (not including) its latest point."""
    if not keep:
        return 0
    cur = conn.execute(
        f"DELETE FROM {m.table} WHERE (series_id, time_ns) IN ("
        f"SELECT p.series_id, p.time_ns FROM json_each(?) AS j JOIN {m.table} AS p "
        "ON p.series_id = json_extract(j.value, '$[0]') AND p.time_ns >= ? "
        "AND p.time_ns < json_extract(j.value, '$[1]') LIMIT ?)",
        (json.dumps([[sid, t] for sid, t in keep.items()]), start_ns, limit),
    )
    return int(cur.rowcount)


def _prune_block(
    conn: sqlite3.Connection, m: _Measurement, block_id: int, keep: dict[int, int], start_ns: int
) -> int:
    """Remove from one block the rows of the kept series from ``start`` up to
    their latest point; returns how many it removed."""
    spans = conn.execute(
        f"SELECT series_id, t_min, t_max, n FROM {m.block_series} WHERE block_id = ?", (block_id,)
    ).fetchall()
    limit = {sid: keep.get(sid, start_ns) for sid, *_ in spans}
    if all(t0 >= limit[sid] or t1 < start_ns for sid, t0, t1, _ in spans):
        return 0  # nothing of it is in a span to delete
    if all(t0 >= start_ns and t1 < limit[sid] for sid, t0, t1, _ in spans):
        _drop_block(conn, m, block_id)  # every row goes: no need to decode it
        return int(sum(n for *_, n in spans))
    (data,) = conn.execute(f"SELECT data FROM {m.blocks} WHERE id = ?", (block_id,)).fetchone()
    rows = blocks.decode(data, {col: kind for col, kind in m.fields.values()})
    top = max(limit) + 1
    bound = np.full(top, start_ns, np.int64)
    bound[list(limit)] = list(limit.values())
    sid_in = rows.sid < top
    upper = np.where(sid_in, bound[np.minimum(rows.sid, top - 1)], start_ns)
    gone = (rows.time >= start_ns) & (rows.time < upper)
    removed = int(gone.sum())
    if not removed:
        return 0
    if removed == len(rows):
        _drop_block(conn, m, block_id)
        return removed
    left = rows.take(np.flatnonzero(~gone))
    left.fields = {c: f for c, f in left.fields.items() if f.present.any()}
    conn.execute(
        f"UPDATE {m.blocks} SET t_min = ?, t_max = ?, n = ?, data = ? WHERE id = ?",
        (int(left.time.min()), int(left.time.max()), len(left), blocks.encode(left), block_id),
    )
    conn.execute(f"DELETE FROM {m.block_series} WHERE block_id = ?", (block_id,))
    conn.executemany(
        f"INSERT INTO {m.block_series} VALUES (?, ?, ?, ?, ?)",
        ((block_id, sid, t0, t1, n) for sid, t0, t1, n in blocks.series_spans(left)),
    )
    return removed


def _drop_block(conn: sqlite3.Connection, m: _Measurement, block_id: int) -> None:
    conn.execute(f"DELETE FROM {m.block_series} WHERE block_id = ?", (block_id,))
    conn.execute(f"DELETE FROM {m.blocks} WHERE id = ?", (block_id,))
