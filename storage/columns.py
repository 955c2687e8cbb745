"""Columnar writes: many points of one measurement given as columns, the bulk
path behind ``Store.write_columns``.

Row ``i`` of the columns is the point::

    Point(measurement,
          {key: tags[key][i] for key in tags},
          {key: fields[key][i] for key in fields if that value is present},
          time_ns[i])

and ``write_columns`` of the columns has exactly the effect of ``write`` of
those points (``column_points`` builds them): the same identity, the same field
merge, the same rows refused for the same reasons. The stores' fast paths get
there without a ``Point`` per row: each distinct tag set is resolved once, each
check runs on whole columns, and only the refused rows become ``Point`` objects
(for the ``PartialWriteError``).

A column is a numpy array (or a list, a pandas Series or extension array) of
one value per row, or a single value for every row. Pass a ``pandas.Categorical``
for a column of few distinct strings (the tags, ids): it is what makes a bulk
write cheap. A field value is absent from a row when it is masked
(``numpy.ma.MaskedArray``), ``None`` (object columns and lists) or a missing
category (``Categorical`` code -1); a missing tag value is no tag (the same as
``""``). Field types come from the column: bool, integer, float or str; an
object column must hold one of them (``None`` aside), else the write takes the
``Point`` path, which sorts mixed values out point by point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from storage.base import FieldValue, Point
from storage.frames import BOOLEAN, FLOAT, INTEGER, STRING
from storage.lineprotocol import (
    MAX_TIME_NS,
    MIN_TIME_NS,
    LineProtocolError,
    check_point,
    encode_series,
    escape_field_key,
    escape_measurement,
    format_field_value,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    import pyarrow as pa

    #: A tag column: one string per row, a Categorical, or one string for every row.
    TagColumn: TypeAlias = str | Sequence[str] | np.ndarray | pd.Categorical[Any] | pd.Series[Any]
    #: A field column: one value per row (masked or None where absent), or one value
    #: for every row.
    FieldColumn: TypeAlias = (
        FieldValue | Sequence[FieldValue | None] | np.ndarray | pd.Categorical[Any] | pd.Series[Any]
    )

_INT64_MAX = np.iinfo(np.int64).max
_MAX_FIELDS = 62  # a row's set of present fields is kept as bits of an int64


class Unsupported(Exception):
    """Columns the fast paths do not handle (mixed types in one column, integers
    beyond int64, ...): the caller writes them as points instead."""


@dataclass
class Tags:
    key: str
    codes: np.ndarray  # intp, one per row, into ``values``
    values: list[Any]  # distinct values (str unless the input was bad)

    def value(self, i: int) -> Any:
        return self.values[int(self.codes[i])]


@dataclass
class Field:
    key: str
    kind: str  # float | integer | boolean | string
    values: np.ndarray  # float64 | int64 | bool, or codes into ``categories`` (string)
    present: np.ndarray | None  # bool per row; None: present in every row
    categories: np.ndarray | None = None  # string: the distinct values (object array)

    def value(self, i: int) -> FieldValue:
        if self.categories is not None:
            return str(self.categories[int(self.values[i])])
        value: FieldValue = self.values[i].item()
        return value

    def has(self, i: int) -> bool:
        return self.present is None or bool(self.present[i])

    def python_values(self, rows: np.ndarray) -> list[Any]:
        """The values of ``rows`` as Python objects (what sqlite3 binds)."""
        if self.categories is not None:
            strings: list[Any] = self.categories[self.values[rows]].tolist()
            return strings
        values: list[Any] = self.values[rows].tolist()
        return values


class Columns:
    """Columns checked for shape and type, with their distinct tag sets found."""

    def __init__(
        self,
        measurement: str,
        *,
        time_ns: Sequence[int] | np.ndarray,
        tags: Mapping[str, TagColumn],
        fields: Mapping[str, FieldColumn],
    ) -> None:
        t = np.asarray(time_ns)
        if t.ndim != 1:
            raise ValueError(f"time_ns must be one-dimensional, not of shape {t.shape}")
        n = len(t)
        if n and t.dtype.kind not in "iu":
            raise Unsupported("time_ns is not an integer array")
        if t.dtype.kind == "u" and n and int(t.max()) > _INT64_MAX:
            raise Unsupported("time_ns beyond int64")
        if len(fields) > _MAX_FIELDS:
            raise Unsupported("too many field columns")
        self.measurement = measurement
        self.n = n
        self.time_ns = t.astype(np.int64, copy=False)
        self.tags = [_tag_column(k, v, n) for k, v in tags.items()]
        self.fields = [_field_column(k, v, n) for k, v in fields.items()]
        self.series_of_row, self.series_row = self._series()

    def _series(self) -> tuple[np.ndarray, np.ndarray]:
        """A series number per row and a row of each series (all rows of a series
        have the same tag values). Tag codes are combined into one integer key:
        a dense table when the combinations are few, else sorted."""
        n = self.n
        if not self.tags or n == 0:
            return np.zeros(n, np.intp), np.zeros(1 if n else 0, np.intp)
        key = np.zeros(n, np.int64)
        radix = 1
        for col in self.tags:
            size = max(len(col.values), 1)
            if radix * size >= 2**62:
                stacked = np.stack([c.codes for c in self.tags], axis=1)
                _, first, inverse = np.unique(
                    stacked, axis=0, return_index=True, return_inverse=True
                )
                return inverse.reshape(-1).astype(np.intp), first.astype(np.intp)
            key += col.codes.astype(np.int64) * radix
            radix *= size
        if radix <= max(4 * n, 1 << 20):
            seen = np.zeros(radix, bool)
            seen[key] = True
            distinct = np.flatnonzero(seen)
            lookup = np.empty(radix, np.intp)
            lookup[distinct] = np.arange(len(distinct))
            inverse = lookup[key]
            row = np.empty(len(distinct), np.intp)
            row[inverse] = np.arange(n)
            return inverse, row
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return inverse.astype(np.intp), first.astype(np.intp)

    # -- rows as points -------------------------------------------------------

    def tagset(self, series: int) -> dict[str, Any]:
        """The tags of a series as given (empty values kept)."""
        row = int(self.series_row[series])
        return {c.key: c.value(row) for c in self.tags}

    def point(self, i: int) -> Point:
        return Point(
            self.measurement,
            {c.key: c.value(i) for c in self.tags},
            {f.key: f.value(i) for f in self.fields if f.has(i)},
            int(self.time_ns[i]),
        )

    # -- checks -----------------------------------------------------------------

    def invalid_rows(self) -> dict[int, str]:
        """Rows line protocol cannot carry, by row, with ``check_point``'s reason.
        Suspect rows are found on whole columns; only they are checked one by one."""
        n = self.n
        try:
            escape_measurement(self.measurement)
            suspect = np.zeros(n, bool)
        except LineProtocolError:
            suspect = np.ones(n, bool)
        n_series = len(self.series_row)
        bad_series = np.zeros(n_series, bool)
        for s in range(n_series):
            try:
                encode_series(self.measurement, self.tagset(s))
            except LineProtocolError:
                bad_series[s] = True
        if bad_series.any():
            suspect |= bad_series[self.series_of_row]
        n_present = np.zeros(n, np.int64)
        tag_of = {c.key: c for c in self.tags}
        for f in self.fields:
            present = f.present if f.present is not None else np.ones(n, bool)
            n_present += present
            try:
                if f.key == "time":
                    raise LineProtocolError("time")
                escape_field_key(f.key)
            except LineProtocolError:
                suspect |= present
            tag = tag_of.get(f.key)
            if tag is not None:  # a tag and a field of one name, where the tag is set
                set_values = np.array([v != "" for v in tag.values], bool)
                suspect |= present & set_values[tag.codes]
            if f.kind == FLOAT:
                suspect |= present & ~np.isfinite(f.values)
            elif f.kind == STRING and f.categories is not None:
                unencodable = np.array([not _utf8(v) for v in f.categories], bool)
                if unencodable.any():
                    suspect |= present & unencodable[f.values]
        suspect |= n_present == 0
        suspect |= (self.time_ns < MIN_TIME_NS) | (self.time_ns > MAX_TIME_NS)
        reasons: dict[int, str] = {}
        for i in np.flatnonzero(suspect).tolist():
            try:
                check_point(self.point(i))
            except LineProtocolError as exc:
                reasons[i] = str(exc)
        return reasons

    # -- line protocol ------------------------------------------------------------

    def line_protocol(self, rows: np.ndarray) -> tuple[memoryview, np.ndarray]:
        """Line protocol of ``rows`` (checked valid), built on whole columns:
        the bytes, and where each line starts (``len(rows) + 1`` offsets)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        series = self.series_of_row[rows]
        texts = [""] * len(self.series_row)  # series of refused rows only stay ""
        for s in np.unique(series).tolist():
            texts[s] = encode_series(self.measurement, self.tagset(s))
        prefix = pa.array(texts, pa.string()).take(pa.array(series))
        pieces = []
        for f in self.fields:
            pieces.append(_field_text(f, rows, escape_field_key(f.key) + "=", pa, pc))
        fields = pc.binary_join_element_wise(*pieces, ",", null_handling="skip")
        times = pc.binary_join_element_wise(
            pc.cast(pa.array(self.time_ns[rows]), pa.string()), "\n", ""
        )
        lines = pc.binary_join_element_wise(prefix, fields, times, " ")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        lines = lines.cast(pa.large_string())
        offsets = np.frombuffer(lines.buffers()[1], np.int64)[
            lines.offset : lines.offset + len(lines) + 1
        ]
        return memoryview(lines.buffers()[2]), offsets


def _field_text(f: Field, rows: np.ndarray, key_eq: str, pa: Any, pc: Any) -> pa.Array:
    """``key=value`` per row as an Arrow string array, null where absent."""
    if f.kind == STRING:
        assert f.categories is not None
        texts = pa.array([key_eq + format_field_value(str(c)) for c in f.categories], pa.string())
        text = texts.take(pa.array(f.values[rows]))
    elif f.kind == BOOLEAN:
        texts = pa.array([key_eq + "false", key_eq + "true"], pa.string())
        text = texts.take(pa.array(f.values[rows].astype(np.int8)))
    else:
        # Arrow prints a float as the shortest text that reads back as the same
        # double (as repr does), an integer in decimal.
        number = pc.cast(pa.array(f.values[rows]), pa.string())
        text = pc.binary_join_element_wise(key_eq, number, "i" if f.kind == INTEGER else "", "")
    if f.present is not None:
        text = pc.if_else(pa.array(f.present[rows]), text, pa.scalar(None, pa.string()))
    return text


def _utf8(value: Any) -> bool:
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unwrap(value: Any) -> Any:
    if isinstance(value, pd.Series | pd.Index):
        return value.array
    return value


def _tag_column(key: str, value: Any, n: int) -> Tags:
    value = _unwrap(value)
    if isinstance(value, str):
        return Tags(key, np.zeros(n, np.intp), [value])
    if isinstance(value, pd.Categorical):
        _check_length(key, len(value), n)
        codes = np.asarray(value.codes, np.intp)
        values = list(value.categories)
        if (codes < 0).any():  # a missing value is no tag
            codes = np.where(codes < 0, len(values), codes)
            values.append("")
        return Tags(key, codes, values)
    arr = _as_1d(key, value, n)
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    values = list(uniques)
    codes = np.asarray(codes, np.intp)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append("")
    return Tags(key, codes, values)


def _as_1d(key: str, value: Any, n: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, pd.api.extensions.ExtensionArray):
        arr = np.asarray(value.to_numpy(dtype=object, na_value=None))  # type: ignore[arg-type]
    else:
        seq = list(value)
        arr = np.empty(len(seq), object)
        arr[:] = seq
    if arr.ndim != 1:
        raise ValueError(f"column {key!r} must be one-dimensional, not of shape {arr.shape}")
    _check_length(key, len(arr), n)
    return arr


def _check_length(key: str, length: int, n: int) -> None:
    if length != n:
        raise ValueError(f"column {key!r} has {length} values for {n} rows (len(time_ns))")


def _scalar_kind(value: Any) -> str | None:
    from storage.sqlite import field_type

    if isinstance(value, bool | int | float | str | np.bool_ | np.integer | np.floating):
        return field_type(value)  # type: ignore[arg-type]  # numpy scalars: by what they are
    return None


def _field_column(key: str, value: Any, n: int) -> Field:
    value = _unwrap(value)
    kind = _scalar_kind(value)
    if kind is not None:  # one value for every row
        if kind == STRING:
            return Field(key, STRING, np.zeros(n, np.intp), None, _objects([str(value)]))
        if kind == INTEGER and not -(2**63) <= int(value) <= _INT64_MAX:
            raise Unsupported(f"field {key!r}: integer {value} beyond int64")
        dtype = {BOOLEAN: bool, INTEGER: np.int64, FLOAT: np.float64}[kind]
        return Field(key, kind, np.full(n, value, dtype=dtype), None)
    if isinstance(value, pd.Categorical):
        _check_length(key, len(value), n)
        categories = list(value.categories)
        if not all(isinstance(c, str) for c in categories):
            raise Unsupported(f"field {key!r}: categories that are not strings")
        codes = np.asarray(value.codes, np.intp)
        has = codes >= 0
        return Field(
            key,
            STRING,
            np.where(has, codes, 0),
            None if has.all() else has,
            _objects(categories),
        )
    present: np.ndarray | None = None
    if isinstance(value, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(value)
        present = None if not mask.any() else ~mask
        value = np.ma.getdata(value)
    arr = _as_1d(key, value, n)
    dk = arr.dtype.kind
    if dk == "b":
        return Field(key, BOOLEAN, arr.astype(bool, copy=False), present)
    if dk == "i":
        return Field(key, INTEGER, arr.astype(np.int64, copy=False), present)
    if dk == "u":
        if len(arr) and int(arr.max()) > _INT64_MAX:
            raise Unsupported(f"field {key!r}: integers beyond int64")
        return Field(key, INTEGER, arr.astype(np.int64), present)
    if dk == "f":
        return Field(key, FLOAT, arr.astype(np.float64, copy=False), present)
    if dk == "U":
        codes, uniques = pd.factorize(arr)
        return Field(key, STRING, np.asarray(codes, np.intp), present, _objects(list(uniques)))
    if dk != "O":
        raise Unsupported(f"field {key!r}: dtype {arr.dtype}")
    # Python objects: None is absent; the rest must be of one type.
    is_none = np.frompyfunc(lambda v: v is None, 1, 1)(arr).astype(bool)
    if present is not None:
        is_none |= ~present
    values = arr[~is_none]
    kinds = {_scalar_kind(v) for v in values.tolist()}
    if len(kinds) > 1 or None in kinds:
        raise Unsupported(f"field {key!r}: values of several types")
    some: np.ndarray | None = None if not is_none.any() else ~is_none
    kind = next((k for k in kinds if k is not None), FLOAT)
    if kind == STRING:
        strings = np.where(is_none, "", arr).astype(object)
        codes, uniques = pd.factorize(strings)
        return Field(key, STRING, np.asarray(codes, np.intp), some, _objects(list(uniques)))
    return _numeric(key, kind, np.where(is_none, 0, arr), some)


def _numeric(key: str, kind: str, arr: np.ndarray, present: np.ndarray | None) -> Field:
    try:
        if kind == BOOLEAN:
            return Field(key, kind, np.array([bool(v) for v in arr.tolist()], bool), present)
        if kind == INTEGER:
            return Field(key, kind, np.array([int(v) for v in arr.tolist()], np.int64), present)
        return Field(key, kind, np.array(arr.tolist(), np.float64), present)
    except OverflowError as exc:
        raise Unsupported(f"field {key!r}: {exc}") from None


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), object)
    out[:] = [str(v) for v in values]
    return out


def column_points(
    measurement: str,
    *,
    time_ns: Sequence[int] | np.ndarray,
    tags: Mapping[str, TagColumn],
    fields: Mapping[str, FieldColumn],
) -> list[Point]:
    """The points the columns stand for (what ``write_columns`` writes), one per row.
    Columns the fast paths leave to points (mixed types) are taken value by value."""
    try:
        cols = Columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
    except Unsupported:
        return _slow_points(measurement, time_ns=time_ns, tags=tags, fields=fields)
    return [cols.point(i) for i in range(cols.n)]


def _slow_points(
    measurement: str,
    *,
    time_ns: Sequence[int] | np.ndarray,
    tags: Mapping[str, TagColumn],
    fields: Mapping[str, FieldColumn],
) -> list[Point]:
    t = np.asarray(time_ns)
    n = len(t)
    tag_cols = {k: _tag_column(k, v, n) for k, v in tags.items()}
    field_cols: dict[str, tuple[list[Any], np.ndarray | None]] = {}
    for key, value in fields.items():
        value = _unwrap(value)
        if _scalar_kind(value) is not None:
            field_cols[key] = ([value] * n, None)
            continue
        present = None
        if isinstance(value, pd.Categorical):
            present = np.asarray(value.codes) >= 0
            value = np.asarray(value.astype(object))
        elif isinstance(value, np.ma.MaskedArray):
            present = ~np.ma.getmaskarray(value)
            value = np.ma.getdata(value)
        arr = _as_1d(key, value, n)
        values = arr.tolist()
        if present is None:
            present = np.array([v is not None for v in values], bool)
        field_cols[key] = (values, present)
    times = t.tolist()
    points = []
    for i in range(n):
        row_fields = {
            k: vals[i] for k, (vals, present) in field_cols.items() if present is None or present[i]
        }
        row_tags = {k: c.value(i) for k, c in tag_cols.items()}
        points.append(Point(measurement, row_tags, row_fields, times[i]))
    return points
