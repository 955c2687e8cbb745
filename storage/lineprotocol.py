"""InfluxDB line protocol: the encoder behind ``InfluxStore`` and the one set of
rules on what a point may contain (``SQLiteStore`` checks points with it too, so
both stores refuse exactly the same points).

Escaping follows the InfluxDB line-protocol reference and the Go parser that
InfluxDB 1.x and 2.x run:

=============  ==========================================
element        escaped with a backslash
=============  ==========================================
measurement    comma, space
tag key/value  comma, space, equals sign
field key      comma, space, equals sign
string value   double quote, backslash (value is quoted)
=============  ==========================================

Any other backslash is literal (1.x and 2.x read it so; 3.x reads a doubled
backslash as one, see docs/storage.md). Some values cannot be written at all,
and are refused with a ``LineProtocolError`` naming the part at fault rather
than sent and silently mangled (each rule was found against the real 1.x
parser by the property test in ``tests/storage``): control characters (line
breaks, tabs, NUL) in measurements, keys and tag values; a measurement, key or
tag value ending in a backslash (read as escaping the delimiter after it); in a
measurement or field key, a backslash before a comma, space, equals sign or
double quote (1.x stores such a point where no query finds it, or renames the
field); a measurement starting with ``#`` (a comment line); the key ``time``;
one key both a tag and a field; NaN and infinite floats; integers outside
int64; times outside InfluxDB's range. String field values may hold anything,
line breaks included, except where the server's line splitter would cut the
line at such a break (see ``_check_line_end``).

A tag whose value is the empty string is left out, as InfluxDB does: a point
without a tag and a point with an empty tag are the same series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real

from storage.base import FieldValue, Point

# InfluxDB's timestamp range: int64 minus the two values it reserves.
MIN_TIME_NS = -9_223_372_036_854_775_806
MAX_TIME_NS = 9_223_372_036_854_775_806
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\="})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})

# Escaped names repeat for every point of a batch (the same sites, spaces and
# field keys), so they are computed once. The caches are bounded by clearing:
# cheap, and cardinality is low by design (DESIGN.md: no per-event tags).
_CACHE_LIMIT = 100_000
_tag_cache: dict[str, str] = {}
_field_key_cache: dict[str, str] = {}
_prefix_cache: dict[tuple[object, ...], str] = {}


class LineProtocolError(ValueError):
    """A point that line protocol cannot carry faithfully. Retrying will not help:
    the point belongs in a dead-letter record."""


def _check_name(value: str, what: str, unsafe_after_backslash: str = "") -> None:
    if not isinstance(value, str):
        raise LineProtocolError(f"{what} must be a string, not {type(value).__name__}")
    if not value:
        raise LineProtocolError(f"{what} is empty")
    for ch in value:
        if ch < " " or ch == "\x7f":
            raise LineProtocolError(
                f"{what} {value!r} contains the control character {ch!r}; "
                "line protocol cannot carry it"
            )
    if value.endswith("\\"):
        raise LineProtocolError(
            f"{what} {value!r} ends with a backslash, which InfluxDB would read as escaping "
            "the delimiter that follows"
        )
    for ch in unsafe_after_backslash:
        if "\\" + ch in value:
            raise LineProtocolError(
                f"{what} {value!r} has a backslash before {ch!r}, which InfluxDB would read "
                "as an escape"
            )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LineProtocolError(f"{what} {value!r} is not valid Unicode: {exc}") from None


def escape_tag(text: str, what: str = "tag") -> str:
    """A tag key or tag value, escaped (and checked)."""
    escaped = _tag_cache.get(text)
    if escaped is None:
        _check_name(text, what)
        escaped = text.translate(_KEY_ESCAPES)
        if len(_tag_cache) >= _CACHE_LIMIT:
            _tag_cache.clear()
        _tag_cache[text] = escaped
    return escaped


def escape_field_key(key: str) -> str:
    """A field key, escaped (and checked). The field parser takes a backslash and
    the character after it as a pair, and then unescapes quotes too, so a
    backslash before a comma, space, equals sign or quote cannot be carried."""
    escaped = _field_key_cache.get(key)
    if escaped is None:
        _check_name(key, "field key", ', ="')
        escaped = key.translate(_KEY_ESCAPES)
        if len(_field_key_cache) >= _CACHE_LIMIT:
            _field_key_cache.clear()
        _field_key_cache[key] = escaped
    return escaped


def escape_measurement(name: str) -> str:
    # 1.x stores such a name under one key and looks it up under another: the
    # point is written and never found.
    _check_name(name, "measurement", ', "=')
    if name.startswith("#"):
        raise LineProtocolError(f"measurement {name!r} starts with '#', which marks a comment")
    return name.translate(_MEASUREMENT_ESCAPES)


def canonical_tags(tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """The tag set that identifies a series: sorted by key (InfluxDB sorts by the
    keys' bytes; for UTF-8 that is code-point order, which is how Python sorts
    ``str``), empty values left out."""
    return sorted((k, v) for k, v in tags.items() if v != "")


def _prefix(point: Point) -> str:
    """``measurement,tag=value,...`` for a point, checked and escaped."""
    tags = point.tags
    cache_key: tuple[object, ...] | None = (point.measurement, *tags.items())
    try:
        prefix = _prefix_cache.get(cache_key)  # type: ignore[arg-type]
    except TypeError:  # an unhashable tag value: refused below
        prefix = cache_key = None
    if prefix is not None:
        return prefix
    parts = [escape_measurement(point.measurement)]
    for key, value in tags.items():
        if not isinstance(value, str):
            raise LineProtocolError(
                f"tag {key!r} must be a string, not {type(value).__name__} ({value!r})"
            )
    for key, value in canonical_tags(tags):
        if key == "time":
            raise LineProtocolError("'time' cannot be a tag key: InfluxDB reserves it")
        parts.append(f"{escape_tag(key, 'tag key')}={escape_tag(value, f'tag {key!r} value')}")
    prefix = ",".join(parts)
    if cache_key is not None:
        if len(_prefix_cache) >= _CACHE_LIMIT:
            _prefix_cache.clear()
        _prefix_cache[cache_key] = prefix
    return prefix


def encode_series(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...`` for a series, checked and escaped (the part
    of a line before the fields; raises ``LineProtocolError``)."""
    return _prefix(Point(measurement, tags, {}, 0))


def is_bool(value: object) -> bool:
    """``bool`` or numpy's boolean scalar (which is neither ``bool`` nor ``int``)."""
    kind = type(value)
    return kind is bool or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"))


def format_field_value(value: FieldValue, key: str = "field") -> str:
    kind = type(value)
    if kind is int:
        if not _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            raise LineProtocolError(f"field {key!r}: integer {value} is outside int64")
        return f"{value}i"
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise LineProtocolError(f"field {key!r}: {value} cannot be stored (not finite)")
        # repr is the shortest string that reads back as the same double.
        return repr(value)
    if kind is str:
        if not value.isascii():  # type: ignore[union-attr]
            try:
                value.encode("utf-8")  # type: ignore[union-attr]
            except UnicodeEncodeError as exc:
                raise LineProtocolError(f"field {key!r}: not valid Unicode: {exc}") from None
        return '"' + value.translate(_STRING_ESCAPES) + '"'  # type: ignore[union-attr]
    if kind is bool:
        return "true" if value else "false"
    # numpy scalars and other numeric types: by what they are, not their class.
    if is_bool(value):
        return "true" if value else "false"
    if isinstance(value, Integral):
        return format_field_value(int(value), key)
    if isinstance(value, Real):
        return format_field_value(float(value), key)
    raise LineProtocolError(
        f"field {key!r}: {type(value).__name__} {value!r} is not a float, int, bool or str"
    )


def encode_point(point: Point) -> str:
    """One line of line protocol, without the trailing newline."""
    prefix = _prefix(point)
    fields = point.fields
    if not fields:
        raise LineProtocolError(f"point of {point.measurement!r} has no fields")
    tags = point.tags
    parts = []
    for key, value in fields.items():
        if key == "time":
            raise LineProtocolError("'time' cannot be a field key: InfluxDB reserves it")
        if key in tags and tags[key] != "":
            raise LineProtocolError(
                f"{key!r} is both a tag and a field; a query could not tell them apart"
            )
        parts.append(f"{escape_field_key(key)}={format_field_value(value, key)}")
    t = point.time_ns
    if type(t) is not int:
        if isinstance(t, Integral) and not isinstance(t, bool):
            t = int(t)
        else:
            raise LineProtocolError(f"time_ns must be an integer, not {type(t).__name__}")
    if not MIN_TIME_NS <= t <= MAX_TIME_NS:
        raise LineProtocolError(f"time_ns {t} is outside InfluxDB's range")
    line = f"{prefix} {','.join(parts)} {t}"
    if "\n" in line:
        _check_line_end(line)
    return line


def _check_line_end(line: str) -> None:
    """Refuse a line that InfluxDB's line splitter (``scanLine`` in its Go
    ``models/points.go``, 1.x and 2.x) would end before its end.

    The splitter ends a line at a line break outside a quoted string, but it
    reads every backslash as escaping the next byte and counts quotes only after
    the first unescaped space. A tag key of a backslash and a space (written as
    two backslashes and a space: a literal backslash, then the escaped space)
    makes it see the fields start early, miscount the quotes of a string value,
    and cut the point at a line break inside that value (found by the round-trip
    property test). So the splitter is replayed here, on the bytes the server
    reads, for the rare line that holds a break at all.
    """
    buf = (line + "\n").encode("utf-8")
    end = len(buf) - 1
    i, quoted, fields, equals, commas = 0, False, False, 0, 0
    while i < len(buf):
        c = buf[i]
        if c == 0x5C and i + 2 < len(buf):  # backslash: skip it and the next byte
            i += 2
            continue
        if c == 0x20:
            fields = True
        if fields and not quoted and c in (0x3D, 0x2C):  # '=' or ','
            equals += c == 0x3D
            commas += c == 0x2C
        elif fields and c == 0x22 and equals > commas:  # '"'
            quoted = not quoted
        elif c == 0x0A and not quoted:
            break
        i += 1
    if i != end:
        raise LineProtocolError(
            "a string field holds a line break that InfluxDB would read as the end of the "
            "point, because a name before it has a backslash before an escaped character"
        )


def check_point(point: Point) -> None:
    """Raise ``LineProtocolError`` unless the point can be stored faithfully."""
    encode_point(point)


def encode_points(points: Iterable[Point]) -> bytes:
    """Line protocol for many points, one per line (UTF-8, newline-terminated).
    Raises ``LineProtocolError`` naming the first point that cannot be encoded."""
    lines = []
    for i, point in enumerate(points):
        try:
            lines.append(encode_point(point))
        except LineProtocolError as exc:
            raise LineProtocolError(f"point {i}: {exc}") from None
    if not lines:
        return b""
    lines.append("")
    return "\n".join(lines).encode("utf-8")
