"""Time-series storage: the store interface and its two implementations.

``from storage import open_store, StoreSettings`` gives a service its store;
``InfluxStore`` (``storage.influx``) and ``SQLiteStore`` (``storage.sqlite``)
load only when opened, so importing this package stays light.
"""

from storage.base import (
    AGENT_HEALTH,
    AGENT_STATUS,
    CHARGES,
    DEAD_LETTERS,
    EFFICIENCY,
    ENTRANCE_COUNTS,
    PRESENCE,
    RAW_MEASUREMENTS,
    RAW_RETENTION_POLICY,
    SENSOR_HEALTH,
    UTILISATION,
    FieldValue,
    PartialWriteError,
    Point,
    RejectedPoint,
    Store,
    StoreError,
    StoreUnavailable,
    TagFilter,
)
from storage.config import StoreSettings, open_store

__all__ = [
    "AGENT_HEALTH",
    "AGENT_STATUS",
    "CHARGES",
    "DEAD_LETTERS",
    "EFFICIENCY",
    "ENTRANCE_COUNTS",
    "PRESENCE",
    "RAW_MEASUREMENTS",
    "RAW_RETENTION_POLICY",
    "SENSOR_HEALTH",
    "UTILISATION",
    "FieldValue",
    "PartialWriteError",
    "Point",
    "RejectedPoint",
    "Store",
    "StoreError",
    "StoreSettings",
    "StoreUnavailable",
    "TagFilter",
    "open_store",
]
