"""Column blocks: how ``SQLiteStore`` keeps a bulk load (``write_columns`` of
many rows) - one compressed Parquet blob per call instead of a B-tree row per
point, as a time-series database keeps its data in compressed column blocks.

Why: a year of one 1,000-desk site is 120 million presence points, 98.6 % of
them heartbeats that repeat the state before. As B-tree rows that is 7.9 GB and
at best ~290-650 k rows/s (``benchmarks/simulator_backfill.py``); as Parquet
(dictionary-coded strings, delta-coded series, times and integers, zstd) a
simulated day of 281 k rows is about 1 MB and encodes in ~15 ms.

This module holds the pure parts: a block's rows as columns (``Rows``), their
Parquet encoding, and ``merge``, which a read applies to the rows of the blocks
and the table given oldest first (InfluxDB's identity rule): one row per
(series, time), each field from the newest row that carries it. The store
decides which rows go where (``storage.sqlite``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storage.frames import BOOLEAN, FLOAT, INTEGER, STRING

_DTYPE = {FLOAT: np.float64, INTEGER: np.int64, BOOLEAN: np.bool_}


@dataclass
class Column:
    """One field over the rows: ``values`` (float64, int64, bool, or an object
    array of str) where ``present``; whatever is elsewhere is not a value. A
    string column on its way to ``encode`` may hold codes into the categories
    given there instead."""

    kind: str
    values: np.ndarray
    present: np.ndarray  # bool per row

    def take(self, idx: np.ndarray) -> Column:
        return Column(self.kind, self.values[idx], self.present[idx])


@dataclass
class Rows:
    """Points of one measurement as columns: series id and time per row, and the
    fields by their store column number (``f<n>``)."""

    sid: np.ndarray  # int64
    time: np.ndarray  # int64 ns
    fields: dict[int, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sid)

    def take(self, idx: np.ndarray) -> Rows:
        return Rows(self.sid[idx], self.time[idx], {c: f.take(idx) for c, f in self.fields.items()})


def absent(kind: str, n: int) -> Column:
    """A column with no value in any of ``n`` rows."""
    values = np.empty(n, object) if kind == STRING else np.zeros(n, _DTYPE[kind])
    return Column(kind, values, np.zeros(n, bool))


def from_values(kind: str, values: Sequence[Any]) -> Column:
    """A column from Python values, ``None`` where absent (what sqlite3 returns)."""
    present = np.fromiter((v is not None for v in values), bool, len(values))
    if kind == STRING:
        out = np.empty(len(values), object)
        out[:] = values
        return Column(kind, out, present)
    filled = [0 if v is None else v for v in values]
    return Column(kind, np.asarray(filled, dtype=_DTYPE[kind]).reshape(-1), present)


def concat(parts: Sequence[Rows], kinds: Mapping[int, str]) -> Rows:
    """The rows of ``parts`` one after the other, with every column of ``kinds``
    (absent in the parts that lack it)."""
    sid = np.concatenate([p.sid for p in parts]) if parts else np.zeros(0, np.int64)
    time = np.concatenate([p.time for p in parts]) if parts else np.zeros(0, np.int64)
    fields: dict[int, Column] = {}
    for col, kind in kinds.items():
        pieces = [p.fields.get(col) or absent(kind, len(p)) for p in parts]
        if not pieces:
            fields[col] = absent(kind, 0)
            continue
        values = np.concatenate([c.values for c in pieces])
        if kind == STRING:
            values = values.astype(object, copy=False)
        fields[col] = Column(kind, values, np.concatenate([c.present for c in pieces]))
    return Rows(sid.astype(np.int64, copy=False), time.astype(np.int64, copy=False), fields)


def merge(rows: Rows) -> Rows:
    """One row per (series, time), sorted by series then time; each field's value
    comes from the last row (in the given order) that carries it - the rule by
    which a re-written point keeps the fields it is not given again."""
    n = len(rows)
    order = _order(rows.sid, rows.time)
    sid, time = rows.sid[order], rows.time[order]
    new = np.ones(n, bool)
    if n > 1:
        new[1:] = (sid[1:] != sid[:-1]) | (time[1:] != time[:-1])
    if new.all():
        in_order = len(order) == 0 or bool((order == np.arange(n)).all())
        return rows if in_order else rows.take(order)
    # Most identities occur once: each takes its only row. The fields of the
    # few written more than once are worked out on their rows alone.
    starts = np.flatnonzero(new)
    group_end = np.append(starts[1:], n) - 1
    pick = order[starts]
    repeated = np.flatnonzero(group_end > starts)  # groups of two rows or more
    group = np.cumsum(new) - 1  # of each sorted row
    sub_rows = np.flatnonzero((group_end > starts)[group])  # sorted rows in them
    in_repeated = group[sub_rows]
    rows_of = order[sub_rows]
    local = np.arange(len(rows_of))
    local_start = np.searchsorted(in_repeated, repeated)
    local_end = np.append(local_start[1:], len(rows_of)) - 1
    fields: dict[int, Column] = {}
    for col, c in rows.fields.items():
        values, present = c.values[pick], c.present[pick]
        sub = c.present[rows_of]
        # the last row of each repeated identity that carries the field, or none
        last = np.maximum.accumulate(np.where(sub, local, -1))[local_end]
        has = last >= local_start
        present[repeated] = has
        values[repeated[has]] = c.values[rows_of[last[has]]]
        fields[col] = Column(c.kind, values, present)
    return Rows(sid[starts], time[starts], fields)


def _order(sid: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Stable order by (series, time), in one or two integer sorts rather than a
    lexsort. A day of a few thousand series fits one int64 key; longer spans (a
    year's read) take a stable sort by time, then one by series rank, which numpy
    radix-sorts when the ranks fit 16 bits (the rows come nearly in time order,
    block after block, which its time sort also likes)."""
    n = len(sid)
    if n == 0:
        return np.zeros(0, np.intp)
    t_min, t_max = int(time.min()), int(time.max())
    s_min, s_max = int(sid.min()), int(sid.max())
    span_bits = max(t_max - t_min, 1).bit_length()
    if span_bits + max(s_max - s_min, 1).bit_length() <= 62:
        key = ((sid - s_min) << span_bits) | (time - t_min)
        if n < 2 or bool((key[1:] >= key[:-1]).all()):  # already in order
            return np.arange(n)
        return np.argsort(key, kind="stable")
    by_time = np.argsort(time, kind="stable")
    # series ids are the store's small integers: their ranks from a table, no sort
    seen = np.zeros(s_max - s_min + 1, bool)
    seen[sid - s_min] = True
    ranks = np.cumsum(seen) - 1
    narrow = np.int16 if ranks[-1] < 1 << 15 else np.int64
    rank = ranks.astype(narrow)[sid[by_time] - s_min]
    return by_time[np.argsort(rank, kind="stable")]


def identity_keys(sid: np.ndarray, time: np.ndarray) -> np.ndarray:
    """(series, time) pairs as one sortable structured array, for set operations."""
    keys = np.empty(len(sid), dtype=[("sid", np.int64), ("time", np.int64)])
    keys["sid"], keys["time"] = sid, time
    return keys


def identities_in(sid: np.ndarray, time: np.ndarray, of: np.ndarray) -> np.ndarray:
    """Which (sid, time) pairs are among the ``identity_keys`` ``of``. The times
    are matched first (a plain integer ``isin``): sorting structured values is
    slow, so only the few rows with a matching time are compared as pairs."""
    mask = np.isin(time, of["time"])
    maybe = np.flatnonzero(mask)
    if len(maybe):
        mask[maybe] = np.isin(identity_keys(sid[maybe], time[maybe]), of)
    return mask


def encode(rows: Rows, categories: Mapping[int, np.ndarray] | None = None) -> bytes:
    """Parquet of the rows, in their order.
    A string column may be given as codes into ``categories[col]`` (int), which
    then become the Parquet dictionary as they are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays: dict[str, Any] = {"sid": pa.array(rows.sid), "time": pa.array(rows.time)}
    delta = ["sid", "time"]
    for col, c in rows.fields.items():
        mask = ~c.present
        name = f"f{col}"
        if c.kind == STRING and categories is not None and col in categories:
            codes = pa.array(c.values.astype(np.int32), mask=mask)
            dictionary = pa.array(categories[col], pa.string())
            arrays[name] = pa.DictionaryArray.from_arrays(codes, dictionary)
        elif c.kind == STRING:
            arrays[name] = pa.array(c.values, pa.string(), mask=mask)
        else:
            arrays[name] = pa.array(c.values, mask=mask)
            if c.kind == INTEGER:
                delta.append(name)  # sequence numbers, counts: small steps
    table = pa.table(arrays)
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        use_dictionary=[
            n
            for n, a in arrays.items()
            if pa.types.is_string(a.type) or pa.types.is_dictionary(a.type)
        ],
        column_encoding={n: "DELTA_BINARY_PACKED" for n in delta},
        write_statistics=False,
    )
    return sink.getvalue()


#: picks rows of a block by their (series ids, times): a boolean mask
Select = Callable[[np.ndarray, np.ndarray], np.ndarray]


def decode(data: bytes, kinds: Mapping[int, str], select: Select | None = None) -> Rows:
    """The rows of a block (those ``select`` picks, in order), with the columns of
    ``kinds`` (absent where the block has none of a column). Rows are picked
    before any value becomes a Python object, so a few rows of a big block
    cost little."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # one footer parse, and no dataset layer: a block is one small file (a
    # summary read decodes a hundred of them; read_table costs twice as much)
    block = pq.ParquetFile(pa.BufferReader(data))
    have = set(block.schema_arrow.names)
    wanted = ["sid", "time", *(f"f{c}" for c in kinds if f"f{c}" in have)]
    table = block.read(columns=wanted)
    sid = table.column("sid").to_numpy().astype(np.int64, copy=False)
    time = table.column("time").to_numpy().astype(np.int64, copy=False)
    if select is not None:
        mask = np.asarray(select(sid, time), bool)
        if not mask.all():
            table = table.filter(pa.array(mask))
            sid, time = sid[mask], time[mask]
    n = table.num_rows
    rows = Rows(sid, time)
    for col, kind in kinds.items():
        name = f"f{col}"
        if name not in have:
            rows.fields[col] = absent(kind, n)
            continue
        arr = table.column(name).combine_chunks()
        present = arr.is_valid().to_numpy(zero_copy_only=False)
        if kind == STRING:
            values = np.asarray(arr.cast("string").to_numpy(zero_copy_only=False), object)
        else:
            values = arr.fill_null(False if kind == BOOLEAN else 0).to_numpy(zero_copy_only=False)
            values = values.astype(_DTYPE[kind], copy=False)
        rows.fields[col] = Column(kind, values, present)
    return rows


def series_spans(rows: Rows) -> Iterable[tuple[int, int, int, int]]:
    """(series id, first time, last time, rows) of each series in ``rows`` (in
    any order), by series id."""
    if not len(rows):
        return []
    size = int(rows.sid.max()) + 1  # series ids are the store's small integers
    n = np.bincount(rows.sid, minlength=size)
    first = np.full(size, np.iinfo(np.int64).max, np.int64)
    last = np.full(size, np.iinfo(np.int64).min, np.int64)
    np.minimum.at(first, rows.sid, rows.time)
    np.maximum.at(last, rows.sid, rows.time)
    sids = np.flatnonzero(n)
    return zip(
        sids.tolist(), first[sids].tolist(), last[sids].tolist(), n[sids].tolist(), strict=True
    )
