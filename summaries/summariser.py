"""Keeping the daily summaries up to date: which days are dirty, and
recomputing them from raw points, in runs of consecutive days.

A closed local day (before today in the site's time zone) is dirty when it
has no commit, when its commit was computed with other parameters, or when
its dirty mark has changed since its commit. After a run is rewritten, the
day after it is recomputed too if the state carried out of the run changed
(a late offline status, say, reaches into the next days); the cascade stops
at the first day whose carried state is unchanged.

A day whose raw points are gone (``summaries.retention``) is never computed
again, dirty or not: it is *held*, its summary kept as it is. Each cycle also
drops the raw points of the summarised days beyond ``raw_retention_days``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from core.calendar import local_day_bounds
from core.registry import Site
from core.timeutil import utcnow
from metrics.rollups import day_rollup_batches
from storage import Store
from summaries.compute import summarise
from summaries.counts import read_raw_counts
from summaries.presence import BookingSource, no_bookings
from summaries.raw import read_inputs
from summaries.retention import apply_retention, gone_days
from summaries.schema import EPOCH, Commit, params_digest, read_commits, read_marks, write_summaries
from webhooks.events import SUMMARIES_DAY_CLOSED, Event, EventSink

if TYPE_CHECKING:
    from summaries.pool import RunPool

log = logging.getLogger(__name__)
#: the longest run of days computed from one raw read (bounds memory)
MAX_RUN_DAYS = 14


@dataclass(frozen=True, slots=True)
class SummaryParams:
    silence_factor: float = 2.5
    merge_gap_s: float = 0.0

    def digest(self, site: Site) -> str:
        return params_digest(site, silence_factor=self.silence_factor, merge_gap_s=self.merge_gap_s)


@dataclass(frozen=True, slots=True)
class SiteStatus:
    site: str
    summarised: int  # closed days with a valid commit
    dirty: list[date]  # to be recomputed
    first_day: date | None
    #: dirty days whose raw points are gone: not recomputed, their summary (if
    #: any) kept as it is
    held: list[date] = field(default_factory=list)


def today_of(site: Site, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(site.tz).date()


def _far_end() -> datetime:
    return utcnow() + timedelta(days=2)


def site_status(
    store: Store,
    site: Site,
    params: SummaryParams,
    *,
    now: datetime | None = None,
    raw_retention_days: int | None = None,
) -> SiteStatus:
    """Which closed days of a site are summarised, which are dirty, and which
    of those are held (their raw points gone)."""
    end = _far_end()
    marks = read_marks(store, site, EPOCH, end)
    commits = read_commits(store, site, EPOCH, end)
    known = set(marks) | set(commits)
    if not known:
        return SiteStatus(site.id, 0, [], None)
    first, today = min(known), today_of(site, now)
    digest = params.digest(site)
    dirty = [
        day
        for day in _dates(first, today - timedelta(days=1))
        if _is_dirty(day, commits.get(day), marks, digest)
    ]
    summarised = sum(1 for d, c in commits.items() if d < today and c.params == digest)
    summarised -= len(set(dirty) & {d for d, c in commits.items() if c.params == digest})
    gone = set(
        gone_days(
            store,
            site,
            dirty[0] if dirty else today,
            today - timedelta(days=1),
            raw_retention_days=raw_retention_days,
            now=now,
        )
    )
    return SiteStatus(
        site.id,
        summarised,
        [d for d in dirty if d not in gone],
        first,
        [d for d in dirty if d in gone],
    )


def _is_dirty(day: date, commit: Commit | None, marks: dict[date, int], digest: str) -> bool:
    # a commit from before summary_presence or summary_counts: summarise again,
    # so that raw retention never drops raw points those rows would be made of
    if commit is None or commit.params != digest or commit.presence < 0 or commit.counts < 0:
        return True
    return day in marks and marks[day] != commit.mark


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def runs(days: list[date], max_len: int = MAX_RUN_DAYS) -> list[tuple[date, date]]:
    """Sorted days grouped into runs of consecutive days, each at most ``max_len`` long."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + timedelta(days=1) and (day - out[-1][0]).days < max_len:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def summarise_run(
    store: Store,
    site: Site,
    first: date,
    last: date,
    params: SummaryParams,
    bookings: BookingSource = no_bookings,
) -> dict[date, str]:
    """Recompute and rewrite the days first..last; returns their carried-state
    digests. ``bookings``: where the site's bookings come from (the agency
    presence attributes shared desks by them)."""
    start = local_day_bounds(site, first)[0]
    end = local_day_bounds(site, last)[1]
    # The marks first, then the raw points: a write after this read changes the
    # mark again, so the day stays dirty (storage/marks.py).
    marks = read_marks(store, site, start, end)
    raw = read_inputs(store=store, site=site, start=start, end=end)
    result = summarise(
        raw=raw,
        site=site,
        first=first,
        last=last,
        silence_factor=params.silence_factor,
        merge_gap_s=params.merge_gap_s,
        bookings=bookings(site, start, end),
        counts=read_raw_counts(store, site, start, end),
    )
    write_summaries(
        store, site, result, gen=time.time_ns(), marks=marks, params=params.digest(site)
    )
    # Grafana's rollups of those days, so late data reaches the dashboards too
    for batch in day_rollup_batches(intervals=result.clipped, site=site):
        store.write_columns(
            batch.measurement, time_ns=batch.time_ns, tags=batch.tags, fields=batch.fields
        )
    return result.carry


def refresh_site(
    store: Store,
    site: Site,
    params: SummaryParams,
    *,
    days: list[date] | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    run_days: int = MAX_RUN_DAYS,
    pool: RunPool | None = None,
    raw_retention_days: int | None = None,
    bookings: BookingSource = no_bookings,
) -> list[date]:
    """Summarise ``days`` (default: the site's dirty days) and whatever the
    cascade reaches; returns every day rewritten. With a ``pool``, the runs of
    ``days`` are summarised in its worker processes, then the cascade here.
    Days whose raw points are gone are left as they are
    (``summaries.retention``: callers that were asked for them refuse first)."""
    today = today_of(site, now)
    if days is None:
        days = site_status(
            store, site, params, now=now, raw_retention_days=raw_retention_days
        ).dirty
    todo = sorted(d for d in days if d < today)
    gone = _gone_of(store, site, todo, today, raw_retention_days, now)
    todo = [d for d in todo if d not in gone]
    if not todo:
        return []
    old = read_commits(store, site, local_day_bounds(site, todo[0])[0], _far_end())
    done: list[date] = []
    queue = runs(todo, max_len=run_days)

    def finished(run: tuple[date, date], carry: dict[date, str], pending: set[date]) -> None:
        first, last = run
        done.extend(_dates(first, last))
        nxt = last + timedelta(days=1)
        before = old.get(last)
        if (
            nxt < today
            and nxt not in gone
            and nxt not in pending
            and nxt in old
            and (before is None or before.carry != carry[last])
        ):
            queue.insert(0, (nxt, nxt))

    if pool is not None and len(queue) > 1:
        batch, queue[:] = list(queue), []
        tick = None if progress is None else lambda r: progress((r[1] - r[0]).days + 1)
        carries = pool.summarise(site, batch, params, done=tick, bookings=bookings)
        for run, carry in zip(batch, carries, strict=True):
            finished(run, carry, set(todo))
    while queue:
        run = queue.pop(0)
        carry = summarise_run(store, site, run[0], run[1], params, bookings)
        if progress is not None:
            progress((run[1] - run[0]).days + 1)
        finished(run, carry, {d for r in queue for d in _dates(*r)})
    return done


def _gone_of(
    store: Store,
    site: Site,
    todo: list[date],
    today: date,
    raw_retention_days: int | None,
    now: datetime | None,
) -> set[date]:
    """The days from the first of ``todo`` to yesterday whose raw points are gone."""
    if not todo:
        return set()
    gone = set(
        gone_days(
            store,
            site,
            todo[0],
            today - timedelta(days=1),
            raw_retention_days=raw_retention_days,
            now=now,
        )
    )
    if gone & set(todo):
        log.warning(
            "not recomputing %d day(s) of %s: their raw points are gone (raw_retention_days)",
            len(gone & set(todo)),
            site.id,
        )
    return gone


@dataclass
class Summariser:
    """Runs ``refresh_site`` for every site each cycle. A site whose refresh
    fails stays dirty and is retried with exponential backoff; the failure is
    logged once until the site recovers."""

    store: Store
    sites: list[Site]
    params: SummaryParams
    interval_s: float = 60.0
    max_backoff_s: float = 900.0
    raw_retention_days: int | None = None
    on_cycle: Callable[[Summariser], None] | None = None
    #: told ``summaries.day_closed`` for each day summarised for the first time
    events: EventSink | None = None
    #: the sites' bookings (``summaries.presence.BookingSource``)
    bookings: BookingSource = no_bookings
    failures: dict[str, int] = field(default_factory=dict)
    retry_at: dict[str, float] = field(default_factory=dict)
    dirty_since: dict[str, float] = field(default_factory=dict)
    status: dict[str, SiteStatus] = field(default_factory=dict)
    waiting: dict[str, list[date]] = field(default_factory=dict)
    failed_total: int = 0
    days_total: int = 0
    pruned_days_total: int = 0
    pruned_points_total: int = 0

    def cycle(self, *, now: datetime | None = None) -> int:
        """One pass over every site; returns the number of days rewritten."""
        rewritten = 0
        clock = time.monotonic()
        for site in self.sites:
            if self.retry_at.get(site.id, 0.0) > clock:
                continue
            keep = self.raw_retention_days
            try:
                status = site_status(
                    self.store, site, self.params, now=now, raw_retention_days=keep
                )
                self.status[site.id] = status
                if status.dirty:
                    self.dirty_since.setdefault(site.id, time.time())
                    before = self._committed(site, status.dirty[0])
                    done = refresh_site(
                        self.store,
                        site,
                        self.params,
                        days=status.dirty,
                        now=now,
                        raw_retention_days=keep,
                        bookings=self.bookings,
                    )
                    rewritten += len(done)
                    self.days_total += len(done)
                    self._announce(site, done, before)
                self._retention(site, now)
                self.status[site.id] = site_status(
                    self.store, site, self.params, now=now, raw_retention_days=keep
                )
                if not self.status[site.id].dirty:
                    self.dirty_since.pop(site.id, None)
                if self.failures.pop(site.id, 0):
                    log.info("summaries of %s recovered", site.id)
                self.retry_at.pop(site.id, None)
            except Exception as exc:
                n = self.failures.get(site.id, 0) + 1
                self.failures[site.id] = n
                self.failed_total += 1
                self.dirty_since.setdefault(site.id, time.time())
                self.retry_at[site.id] = clock + min(
                    self.interval_s * 2 ** (n - 1), self.max_backoff_s
                )
                if n == 1:
                    log.warning("summaries of %s failed, will retry: %s", site.id, exc)
        if self.on_cycle is not None:
            self.on_cycle(self)
        return rewritten

    def _committed(self, site: Site, first: date) -> set[date] | None:
        """The days from ``first`` on that had a summary already (None: no one listens)."""
        if self.events is None:
            return None
        return set(read_commits(self.store, site, local_day_bounds(site, first)[0], _far_end()))

    def _announce(self, site: Site, done: list[date], before: set[date] | None) -> None:
        if self.events is None or before is None:
            return
        for day in sorted(set(done) - before):
            self.events.publish(
                Event(
                    type=SUMMARIES_DAY_CLOSED,
                    site=site.id,
                    occurred_at=utcnow(),
                    data={"day": day.isoformat()},
                )
            )

    def _retention(self, site: Site, now: datetime | None) -> None:
        result = apply_retention(
            self.store,
            site,
            digest=self.params.digest(site),
            raw_retention_days=self.raw_retention_days,
            now=now,
        )
        self.pruned_days_total += len(result.pruned)
        self.pruned_points_total += result.points
        if result.waiting and result.waiting != self.waiting.get(site.id):
            log.warning(
                "%d day(s) of %s (%s..%s) are beyond raw_retention_days=%s without a valid "
                "summary: %s",
                len(result.waiting),
                site.id,
                result.waiting[0],
                result.waiting[-1],
                self.raw_retention_days,
                "their raw points expire with the retention policy all the same"
                if self.store.expires_raw
                else "their raw points are kept; raise raw_retention_days to summarise them",
            )
        self.waiting[site.id] = result.waiting

    def dirty_days(self) -> int:
        return sum(len(s.dirty) for s in self.status.values())

    def held_days(self) -> int:
        return sum(len(s.held) for s in self.status.values())

    def waiting_days(self) -> int:
        return sum(len(w) for w in self.waiting.values())

    def lag_s(self) -> float:
        """Seconds since the oldest dirty site was first seen dirty (0 when clean)."""
        if not self.dirty_since:
            return 0.0
        return max(0.0, time.time() - min(self.dirty_since.values()))


def utc_day_start(site: Site, day: date) -> datetime:
    return local_day_bounds(site, day)[0].astimezone(UTC)


__all__ = [
    "MAX_RUN_DAYS",
    "SiteStatus",
    "Summariser",
    "SummaryParams",
    "refresh_site",
    "runs",
    "site_status",
    "summarise_run",
]
