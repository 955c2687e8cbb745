"""iCalendar booking feeds subscribed by URL and polled (issue 16, item 4).

A poll is a conditional GET (If-None-Match with the last ETag,
If-Modified-Since with the last Last-Modified): a 304 changes nothing; a new
calendar is reconciled with the feed's bookings (``api.booking_import``:
created, updated, cancelled when the event is gone). A failing feed (HTTP
error, not a calendar, unreachable) keeps its error on its record, is logged
once per new error and is retried with exponential backoff.

Feed URLs come from API users, so they are fetched through
``core.outbound_http``: an internal address (and a redirect to one) is
refused by the outbound address policy, at subscription and at each poll.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.booking_changes import Actor
from api.booking_import import FeedScope, import_bookings
from api.bookings import _aware
from api.config import ApiSettings
from api.records import BookingFeed
from charging.bookings import BookingError, ics_events
from core.outbound import OutboundPolicy, OutboundRefused
from core.outbound_http import guarded_client
from core.registry import Registry, Site

log = logging.getLogger(__name__)


class FeedError(ValueError):
    """A feed request that cannot be accepted (bad URL, unknown feed)."""


@dataclass(frozen=True, slots=True)
class PollSettings:
    interval_s: float
    timeout_s: float
    max_backoff_s: float
    past_days: int
    future_days: int
    max_bytes: int
    outbound: OutboundPolicy

    @classmethod
    def of(cls, s: ApiSettings) -> PollSettings:
        return cls(
            interval_s=s.feeds_poll_interval_s or 900,
            timeout_s=s.feeds_timeout_s,
            max_backoff_s=s.feeds_max_backoff_s,
            past_days=s.feeds_past_days,
            future_days=s.feeds_future_days,
            max_bytes=s.feeds_max_bytes,
            outbound=s.outbound_policy(),
        )

    def client(self) -> httpx.Client:
        """The client polls go through (redirects followed, each hop checked)."""
        return guarded_client(self.outbound, timeout=self.timeout_s, follow_redirects=True)


def check_url(url: str, outbound: OutboundPolicy) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"url: give an http:// or https:// address, not {url!r}")
    try:
        outbound.check_url(url)
    except OutboundRefused as exc:
        raise FeedError(f"url: {exc}") from None
    return url


def add_feed(
    session: Session,
    *,
    site: Site,
    url: str,
    name: str,
    interval_s: float | None,
    actor: Actor,
    outbound: OutboundPolicy,
) -> BookingFeed:
    row = BookingFeed(
        site=site.id,
        url=check_url(url, outbound),
        name=name,
        interval_s=interval_s,
        created_by=f"{actor.name} ({actor.role})",
        failures=0,
    )
    session.add(row)
    session.commit()
    return row


def list_feeds(session: Session, *, site: Site | None = None) -> list[BookingFeed]:
    q = select(BookingFeed).order_by(BookingFeed.id)
    if site is not None:
        q = q.where(BookingFeed.site == site.id)
    return list(session.scalars(q))


def get_feed(session: Session, *, site: Site, feed_id: int) -> BookingFeed:
    row = session.get(BookingFeed, feed_id)
    if row is None or row.site != site.id:
        raise FeedError(f"no booking feed {feed_id} in site {site.id!r}")
    return row


def delete_feed(session: Session, *, site: Site, feed_id: int) -> None:
    """Stop polling a feed; its bookings stay as they are."""
    session.delete(get_feed(session, site=site, feed_id=feed_id))
    session.commit()


def feed_json(row: BookingFeed) -> dict[str, Any]:
    def at(v: datetime | None) -> str | None:
        return _aware(v).isoformat() if v is not None else None

    return {
        "id": row.id,
        "site": row.site,
        "url": row.url,
        "name": row.name,
        "interval_s": row.interval_s,
        "created_at": at(row.created_at),
        "created_by": row.created_by,
        "etag": row.etag,
        "last_modified": row.last_modified,
        "last_polled_at": at(row.last_polled_at),
        "last_changed_at": at(row.last_changed_at),
        "last_status": row.last_status,
        "last_error": row.last_error,
        "failures": row.failures,
        "next_poll_at": at(row.next_poll_at),
        "last_summary": json.loads(row.last_summary_json) if row.last_summary_json else None,
    }


def _window(site: Site, now: datetime, cfg: PollSettings) -> tuple[datetime, datetime]:
    from core.calendar import local_day_bounds

    today = now.astimezone(site.tz).date()
    start = local_day_bounds(site, today - timedelta(days=cfg.past_days))[0]
    end = local_day_bounds(site, today + timedelta(days=cfg.future_days))[0]
    return start, end


def _fetch(client: httpx.Client, row: BookingFeed, cfg: PollSettings) -> httpx.Response | bytes:
    """The 304 response, or the body of a 200 (capped at ``max_bytes``)."""
    headers = {"Accept": "text/calendar"}
    if row.etag:
        headers["If-None-Match"] = row.etag
    if row.last_modified:
        headers["If-Modified-Since"] = row.last_modified
    with client.stream("GET", row.url, headers=headers, timeout=cfg.timeout_s) as resp:
        if resp.status_code == 304:
            return resp
        if resp.status_code != 200:
            raise FeedError(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
        body = bytearray()
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > cfg.max_bytes:
                raise FeedError(f"the feed is larger than {cfg.max_bytes} bytes")
        row.etag = resp.headers.get("ETag")
        row.last_modified = resp.headers.get("Last-Modified")
        return bytes(body)


def poll_feed(
    session: Session,
    row: BookingFeed,
    *,
    site: Site,
    client: httpx.Client,
    cfg: PollSettings,
    now: datetime | None = None,
) -> str:
    """Poll one feed and record the outcome on its row; returns its status."""
    now = now or datetime.now(UTC)
    row.last_polled_at = now
    interval = row.interval_s or cfg.interval_s
    etag, modified = row.etag, row.last_modified
    try:
        got = _fetch(client, row, cfg)
        if isinstance(got, httpx.Response):
            row.last_status = "not modified (304)"
        else:
            start, end = _window(site, now, cfg)
            name = f"feed-{row.id}"
            new, rejected = ics_events(got, site=site, start=start, end=end, name=name)
            summary = import_bookings(
                session,
                site=site,
                candidates=new,
                rejected=rejected,
                actor=Actor(name=f"feed {row.id}", role="feed"),
                via=f"feed:{row.id}",
                feed=FeedScope(row.id, start, end),
            )
            s = summary.as_json(limit=20)
            row.last_summary_json = json.dumps(s)
            row.last_status = ", ".join(
                f"{s[k]} {k}" for k in ("created", "updated", "unchanged", "cancelled", "rejected")
            )
            row.last_changed_at = now
    except (FeedError, BookingError, OutboundRefused, httpx.HTTPError, IntegrityError) as exc:
        session.rollback()
        row.etag, row.last_modified = etag, modified  # retry the whole feed next time
        row.last_polled_at = now
        return _failed(session, row, exc, now=now, interval=interval, cfg=cfg)
    row.failures = 0
    row.last_error = None
    row.next_poll_at = now + timedelta(seconds=interval)
    session.commit()
    return row.last_status or ""


def _failed(
    session: Session,
    row: BookingFeed,
    exc: Exception,
    *,
    now: datetime,
    interval: float,
    cfg: PollSettings,
) -> str:
    if isinstance(exc, BookingError):
        error = "not a usable calendar: " + "; ".join(exc.problems)[:1000]
    elif isinstance(exc, IntegrityError):  # another poll stored the same bookings first
        error = "changed at the same time by another poll or import; retried"
    elif isinstance(exc, OutboundRefused):
        error = f"refused by the outbound address policy: {exc}"[:1000]
    elif isinstance(exc, httpx.HTTPError):
        error = f"unreachable: {type(exc).__name__}: {exc}"[:1000]
    else:
        error = str(exc)
    if error != row.last_error:  # once per new error, not once per retry
        log.warning("booking feed %s (%s) failed: %s", row.id, row.url, error)
    row.failures = (row.failures or 0) + 1
    row.last_error = error
    row.last_status = "failed"
    backoff = min(interval * 2 ** (row.failures - 1), cfg.max_backoff_s)
    row.next_poll_at = now + timedelta(seconds=backoff)
    session.commit()
    return "failed"


def poll_due(
    sessions: sessionmaker,
    registry: Registry,
    cfg: PollSettings,
    *,
    client: httpx.Client,
    now: datetime | None = None,
    every: bool = False,
) -> dict[int, str]:
    """Poll the feeds that are due (with ``every``: all); feed id -> status."""
    now = now or datetime.now(UTC)
    out: dict[int, str] = {}
    with sessions() as session:
        ids = [
            (f.id, f.site)
            for f in list_feeds(session)
            if every or f.next_poll_at is None or _aware(f.next_poll_at) <= now
        ]
    for feed_id, site_id in ids:
        site = registry.get(site_id)
        if site is None:
            continue
        with sessions() as session:
            row = session.get(BookingFeed, feed_id)
            if row is not None:
                out[feed_id] = poll_feed(session, row, site=site, client=client, cfg=cfg, now=now)
    return out


class FeedPoller(threading.Thread):
    """Polls the due feeds in the API process, off the request path."""

    def __init__(self, sessions: sessionmaker, registry: Registry, cfg: PollSettings):
        super().__init__(name="api-booking-feeds", daemon=True)
        self.sessions = sessions
        self.registry = registry
        self.cfg = cfg
        self.stopped = threading.Event()
        # wakes often enough for a feed's own shorter interval
        self.tick_s = min(5.0, cfg.interval_s)

    def run(self) -> None:
        with self.cfg.client() as client:
            while not self.stopped.is_set():
                try:
                    poll_due(self.sessions, self.registry, self.cfg, client=client)
                except Exception:  # a broken cycle must not end the poller
                    log.exception("booking feed poll cycle failed")
                self.stopped.wait(self.tick_s)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.cfg.timeout_s + 5)
