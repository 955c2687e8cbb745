"""Grafana's substitution of template variables into InfluxQL, for running a
panel's query outside Grafana (tests, cross-checks against the api).

Follows the InfluxDB datasource's rules: inside a regex (``=~ /^$site$/``) a
value is regex-escaped, several values become ``(a|b)``, "All" becomes the
variable's ``allValue`` (``.*`` here); ``$timeFilter`` becomes
``time >= <from>ms and time <= <to>ms``; ``$__interval`` the panel's interval.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from dashboards.model import ALL_VALUE


class _All:
    """A variable set to "All". Its repr is fixed so that test ids naming it are
    the same in every process (pytest-xdist workers must collect the same ids)."""

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()
VarValue = str | Sequence[str] | object

_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_VAR = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_DURATION = re.compile(r"^(\d+)([smhdwMy])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class InterpolationError(ValueError):
    """A query uses a variable that was not given a value."""


def escape_regex(value: str) -> str:
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def format_value(value: VarValue, *, all_value: str = ALL_VALUE) -> str:
    if value is ALL:
        return all_value
    if isinstance(value, str):
        return escape_regex(value)
    values = list(value)  # type: ignore[call-overload]
    if len(values) == 1:
        return escape_regex(values[0])
    return "(" + "|".join(escape_regex(v) for v in values) + ")"


def parse_duration(text: str) -> timedelta:
    """Grafana's relative spans as used in ``timeFrom`` ("13m", "30d")."""
    m = _DURATION.match(text)
    if not m or m.group(2) not in _UNIT_S:
        raise ValueError(f"unsupported duration {text!r}")
    return timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2)])


def time_range(
    *, end: datetime, time_from: str | None, start: datetime
) -> tuple[datetime, datetime]:
    """The range a panel queries: its own ``timeFrom`` overrides the dashboard's."""
    if time_from:
        return end - parse_duration(time_from), end
    return start, end


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def interpolate(
    query: str,
    *,
    variables: Mapping[str, VarValue],
    start: datetime,
    end: datetime,
    interval: str = "1h",
    textboxes: Mapping[str, str] | None = None,
    all_values: Mapping[str, str] | None = None,
) -> str:
    """``variables`` are the regex-matched tag variables (site, floor, zone,
    agency); ``textboxes`` are substituted verbatim (tz); ``all_values`` are
    the variables' ``allValue`` (see ``all_values_of``)."""
    text = query.replace("$timeFilter", f"time >= {_ms(start)}ms and time <= {_ms(end)}ms")
    text = text.replace("$__interval", interval)
    verbatim = dict(textboxes or {})

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name.startswith("tag_"):  # an alias pattern, not a variable
            return m.group(0)
        if name in verbatim:
            return verbatim[name]
        if name not in variables:
            raise InterpolationError(f"no value for ${name} in {query!r}")
        return format_value(variables[name], all_value=(all_values or {}).get(name, ALL_VALUE))

    return _VAR.sub(sub, text)


def all_values_of(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """The ``allValue`` of each variable of a dashboard model."""
    return {
        v["name"]: v["allValue"]
        for v in dashboard.get("templating", {}).get("list", [])
        if v.get("allValue")
    }
