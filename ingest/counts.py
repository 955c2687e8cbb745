"""The checks an entrance count needs beyond the contract: a plausible rate,
and whether the counter's running totals went backwards (a reset).

Pure functions plus one small piece of state (``CounterTotals``) that the
pipeline thread owns; nothing here does I/O.

Reset. A line-crossing counter keeps running totals that restart at 0 when it
reboots or is reset. The interval counts of the message are still right, so
they are stored as given; the point gets ``reset`` 1 instead of anyone ever
computing a negative delta from the totals. Two ways to see one:

* within the message: a total smaller than the interval's own count cannot
  be, unless the totals restarted during the interval (works on any replica,
  after any restart);
* against the previous interval of the same entrance this replica has seen:
  a later message whose total_in or total_out is lower. With several replicas
  behind a shared subscription each replica sees only some intervals, so this
  check catches what it can; whoever reads the stored totals can repeat it
  over the whole series.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from core.messages import EntranceCounts

#: The default ceiling on people per minute through one entrance, in and out
#: together. A wide revolving door or a double door passes about 60 people a
#: minute at a crush; 1000 a minute is far beyond any door, so anything above
#: it is a faulty counter or a bad payload, never a crowd (docs/ingest.md).
DEFAULT_MAX_COUNTS_PER_MINUTE = 1000.0

#: Intervals remembered per entrance, to flag a redelivered message exactly as
#: the first delivery was and to place a late one between its neighbours.
REMEMBERED = 64


def rate_problem(msg: EntranceCounts, *, max_per_minute: float) -> str | None:
    """Why the interval's counts are not believable, or None."""
    per_minute = (msg.in_count + msg.out_count) / (msg.interval_s / 60.0)
    if per_minute > max_per_minute:
        return (
            f"{msg.in_count} in + {msg.out_count} out over {msg.interval_s:g} s is "
            f"{per_minute:.0f} people a minute, over max_counts_per_minute={max_per_minute:g}"
        )
    return None


def reset_within(msg: EntranceCounts) -> bool:
    """A running total below the interval's own count: the totals restarted."""
    return (msg.total_in is not None and msg.total_in < msg.in_count) or (
        msg.total_out is not None and msg.total_out < msg.out_count
    )


Totals = tuple[int | None, int | None]


def went_back(before: Totals, after: Totals) -> bool:
    """A running total lower than an earlier one (both known)."""
    pairs = zip(before, after, strict=True)
    return any(b is not None and a is not None and a < b for b, a in pairs)


@dataclass
class _Entrance:
    times: list[int] = field(default_factory=list)  # event times (ns), ascending
    totals: list[Totals] = field(default_factory=list)
    reset: list[bool] = field(default_factory=list)


class CounterTotals:
    """The last intervals seen per (site, entrance): is a message a reset?

    ``check`` is deterministic for a redelivered message (same event time): it
    returns what it returned the first time, so the overwrite keeps the flag."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self.remembered = remembered
        self._by: dict[tuple[str, str], _Entrance] = {}

    def check(self, site: str, msg: EntranceCounts, time_ns: int) -> bool:
        totals = (msg.total_in, msg.total_out)
        e = self._by.setdefault((site, msg.entrance_id), _Entrance())
        i = bisect.bisect_left(e.times, time_ns)
        if i < len(e.times) and e.times[i] == time_ns:
            return e.reset[i]
        reset = reset_within(msg) or (i > 0 and went_back(e.totals[i - 1], totals))
        if totals == (None, None) and not reset:
            return False  # a counter without totals: nothing to remember
        e.times.insert(i, time_ns)
        e.totals.insert(i, totals)
        e.reset.insert(i, reset)
        if len(e.times) > self.remembered:
            del e.times[0], e.totals[0], e.reset[0]
        return reset
