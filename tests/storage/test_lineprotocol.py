"""Line-protocol encoding, hand-worked from the InfluxDB line-protocol reference
(escaping table, data types) and checked against the real parser in
``test_lineprotocol_influx.py``."""

from __future__ import annotations

import numpy as np
import pytest

from storage.base import Point
from storage.lineprotocol import (
    LineProtocolError,
    check_point,
    encode_point,
    encode_points,
)


def line(measurement: str, tags: dict[str, str], fields: dict, t: int = 0) -> str:
    return encode_point(Point(measurement, tags, fields, t))


def test_plain_point_with_every_field_type() -> None:
    assert (
        line("presence", {"site": "hq", "space": "d1"}, {"a": 1, "b": 2.5, "c": True, "d": "x"}, 17)
        == 'presence,site=hq,space=d1 a=1i,b=2.5,c=true,d="x" 17'
    )


def test_tags_are_sorted_by_key() -> None:
    assert line("m", {"z": "1", "a": "2", "M": "3"}, {"f": 1}) == "m,M=3,a=2,z=1 f=1i 0"


def test_measurement_escapes_comma_and_space_only() -> None:
    assert line("a b,c=d", {}, {"f": 1}) == "a\\ b\\,c=d f=1i 0"


def test_tag_keys_values_and_field_keys_escape_comma_space_equals() -> None:
    assert (
        line("m", {"k 1,=": "v 1,=x"}, {"f 1,=": 1})
        == "m,k\\ 1\\,\\==v\\ 1\\,\\=x f\\ 1\\,\\==1i 0"
    )


def test_backslashes_in_names_are_literal() -> None:
    # 1.x reads a backslash before an ordinary character as itself.
    assert line("m\\x", {"t": "a\\b"}, {"f": 1}) == "m\\x,t=a\\b f=1i 0"


def test_quotes_in_names_are_literal() -> None:
    assert line("m\"'", {"t": "'q\""}, {"f": 1}) == "m\"',t='q\" f=1i 0"


def test_string_field_escapes_quote_and_backslash() -> None:
    assert line("m", {}, {"s": 'say "hi" \\o/'}) == 'm s="say \\"hi\\" \\\\o/" 0'


def test_string_field_keeps_newlines_and_unicode() -> None:
    assert line("m", {"paikka": "työpiste ä"}, {"s": "rivi\nrivi 🚀"}) == (
        'm,paikka=työpiste\\ ä s="rivi\nrivi 🚀" 0'
    )


def test_line_break_where_the_server_would_cut_the_line_is_refused() -> None:
    # InfluxDB's splitter reads `\\` as an escape pair, so the space after the
    # tag key backslash looks like the start of the fields to it; it then counts
    # the tag value's quote as opening a string and the field's opening quote as
    # closing it, and cuts the point at the break inside the string value. Found
    # against the real server by the round-trip property test.
    point = Point(" |1", {"ä": '"', "\\ ": " "}, {" ": "\n"}, 0)
    with pytest.raises(LineProtocolError, match="line break that InfluxDB would read"):
        check_point(point)
    # The same names without a break in a value, and a break without the names,
    # are carried.
    assert line(" |1", {"ä": '"', "\\ ": " "}, {" ": "x"}) == '\\ |1,\\\\ =\\ ,ä=" \\ ="x" 0'
    assert line("m", {"ä": '"'}, {"s": "a\nb", "t": 'c"\n'}) == 'm,ä=" s="a\nb",t="c\\"\n" 0'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1e-300, "1e-300"),
        (2.0**60, "1.152921504606847e+18"),
        (0.30000000000000004, "0.30000000000000004"),
        (2**63 - 1, "9223372036854775807i"),
        (-(2**63), "-9223372036854775808i"),
        (False, "false"),
        (np.int64(7), "7i"),
        (np.float64(0.5), "0.5"),
        (np.bool_(True), "true"),
    ],
)
def test_field_values(value: object, text: str) -> None:
    assert line("m", {}, {"f": value}) == f"m f={text} 0"


def test_negative_and_large_times() -> None:
    assert line("m", {}, {"f": 1}, -5) == "m f=1i -5"
    assert line("m", {}, {"f": 1}, 9_223_372_036_854_775_806).endswith(" 9223372036854775806")


def test_empty_tag_value_is_no_tag() -> None:
    assert line("m", {"a": "", "b": "x"}, {"f": 1}) == "m,b=x f=1i 0"


def test_encode_points_joins_lines_with_newlines() -> None:
    points = [Point("m", {}, {"f": 1}, 1), Point("m", {}, {"f": 2}, 2)]
    assert encode_points(points) == b"m f=1i 1\nm f=2i 2\n"
    assert encode_points([]) == b""


def test_encode_points_is_utf8() -> None:
    assert encode_points([Point("m", {"t": "ä"}, {"f": 1}, 0)]) == "m,t=ä f=1i 0\n".encode()


def test_cached_encoding_matches_fresh_encoding() -> None:
    p = Point("m", {"t": "a b"}, {"f": 1}, 5)
    assert encode_point(p) == encode_point(p) == "m,t=a\\ b f=1i 5"


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (Point("m", {}, {}), "no fields"),
        (Point("", {}, {"f": 1}), "measurement is empty"),
        (Point("#m", {}, {"f": 1}), "comment"),
        (Point("m\n", {}, {"f": 1}), "control character"),
        (Point("m", {"t": "a\nb"}, {"f": 1}), "control character"),
        (Point("m", {"t": "a\tb"}, {"f": 1}), "control character"),
        (Point("m", {"t\r": "a"}, {"f": 1}), "control character"),
        (Point("m", {}, {"f\n": 1}), "control character"),
        (Point("m", {"t": "a\\"}, {"f": 1}), "ends with a backslash"),
        (Point("m\\", {}, {"f": 1}), "ends with a backslash"),
        (Point("m", {}, {"f\\": 1}), "ends with a backslash"),
        (Point("m", {"": "x"}, {"f": 1}), "tag key is empty"),
        (Point("m", {}, {"": 1}), "field key is empty"),
        (Point("m", {"time": "x"}, {"f": 1}), "'time' cannot be a tag key"),
        (Point("m", {}, {"time": 1}), "'time' cannot be a field key"),
        (Point("m", {"f": "x"}, {"f": 1}), "both a tag and a field"),
        (Point("m", {}, {"f": float("nan")}), "not finite"),
        (Point("m", {}, {"f": float("inf")}), "not finite"),
        (Point("m", {}, {"f": 2**63}), "outside int64"),
        (Point("m", {}, {"f": None}), "not a float, int, bool or str"),  # type: ignore[dict-item]
        (Point("m", {}, {"f": [1]}), "not a float, int, bool or str"),  # type: ignore[dict-item]
        (Point("m", {"t": 5}, {"f": 1}), "must be a string"),  # type: ignore[dict-item]
        (Point("m", {"t": ["x"]}, {"f": 1}), "must be a string"),  # type: ignore[dict-item]
        (Point("m", {}, {"f": "\ud800"}), "not valid Unicode"),
        (Point("m", {}, {"f": 1}, 2**63), "outside InfluxDB's range"),
        (Point("m", {}, {"f": 1}, -(2**63) + 1), "outside InfluxDB's range"),
        (Point("m", {}, {"f": 1}, 1.5), "time_ns must be an integer"),  # type: ignore[arg-type]
    ],
)
def test_points_line_protocol_cannot_carry_are_refused(point: Point, message: str) -> None:
    with pytest.raises(LineProtocolError, match=message):
        check_point(point)


def test_encode_points_names_the_bad_point() -> None:
    with pytest.raises(LineProtocolError, match=r"point 1: .*no fields"):
        encode_points([Point("m", {}, {"f": 1}), Point("m", {}, {})])
