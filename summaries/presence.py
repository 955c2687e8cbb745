"""The agency presence pairs in the daily summaries (docs/storage.md, "Daily
summaries"; the pairs are ``metrics.presence.presence_pairs``).

One row per Pareto-maximal pair of an agency and local day in
``summary_presence``: tags site, agency and k (the pair's rank in the day, so
every pair has its own identity); time = local midnight; fields a, p, at_ns
(-1 for NaT), use_ns and the day's generation ``gen``. The day's commit counts
them (field ``presence``); a commit written before this measurement existed
has none, and that day is read from raw points and summarised again.

Bookings are an input of these rows, so the summariser is given a
``BookingSource`` (the records' bookings, ``api.booking_source``); it never
opens the API's records itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from charging.bookings import Booking
from core.registry import Site
from metrics.presence import PAIR_COLUMNS, empty_pairs
from storage import Store

PRESENCE = "summary_presence"

#: the bookings of a site overlapping [start, end), validated
BookingSource = Callable[[Site, datetime, datetime], Sequence[Booking]]


def no_bookings(site: Site, start: datetime, end: datetime) -> Sequence[Booking]:
    """The source of a deployment without booking records."""
    return ()


def write_presence(
    store: Store, site: Site, pairs: pd.DataFrame, *, gen: int, day_ns: np.ndarray
) -> None:
    """Write ``pairs`` (``day_ns``: each row's local midnight in UTC ns)."""
    if not len(pairs):
        return
    rank = pairs.groupby(["agency", "day"], sort=False).cumcount().to_numpy()
    at = pd.DatetimeIndex(pairs["at"])
    store.write_columns(
        PRESENCE,
        time_ns=day_ns,
        tags={
            "site": site.id,
            "agency": pd.Categorical(pairs["agency"].astype(str)),
            "k": pd.Categorical(rank.astype(str)),
        },
        fields={
            "a": pairs["a"].to_numpy(dtype=np.int64),
            "p": pairs["p"].to_numpy(dtype=np.int64),
            "at_ns": np.where(at.isna(), -1, at.as_unit("ns").asi8).astype(np.int64),
            "use_ns": pairs["use_ns"].to_numpy(dtype=np.int64),
            "gen": gen,
        },
    )


def pairs_of_rows(rows: pd.DataFrame | None) -> pd.DataFrame:
    """Stored rows (``summaries.schema.read_rows``, with ``day``) as pairs."""
    if rows is None or not len(rows):
        return empty_pairs()
    at = rows["at_ns"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "agency": pd.Series(rows["agency"].astype(str).to_numpy(dtype=object), dtype=object),
            "day": rows["day"].to_numpy(dtype="datetime64[ns]"),
            "a": rows["a"].to_numpy(dtype=np.int64),
            "p": rows["p"].to_numpy(dtype=np.int64),
            "at": pd.to_datetime(np.where(at < 0, np.iinfo(np.int64).min, at), utc=True, unit="ns"),
            "use_ns": rows["use_ns"].to_numpy(dtype=np.int64),
        }
    )
    return frame[list(PAIR_COLUMNS)]


def sort_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """The order ``presence_pairs`` gives, whatever mix of stored and raw parts
    (agency, day, a descending: a day's pairs have distinct a, so no ties)."""
    if not len(frame):
        return frame.reset_index(drop=True)[list(PAIR_COLUMNS)]
    agency = np.unique(frame["agency"].to_numpy(dtype=str), return_inverse=True)[1]
    day = frame["day"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((-frame["a"].to_numpy(dtype=np.int64), day, agency.ravel()))
    return frame.take(order).reset_index(drop=True)[list(PAIR_COLUMNS)]


__all__ = [
    "PRESENCE",
    "BookingSource",
    "no_bookings",
    "pairs_of_rows",
    "sort_pairs",
    "write_presence",
]
