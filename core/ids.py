"""Identifier rules shared by topics, registry and messages.

Ids appear as MQTT topic levels and as InfluxDB tag values, so they must not
contain MQTT wildcards or separators; keeping them short and plain also keeps
them readable in Grafana variables.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))
