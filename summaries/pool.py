"""Summarising runs of days in worker processes, for rebuilds of long ranges.

A run's computation is independent of every other run's (its figures depend
only on its own raw points and each space's last point before it), so runs
can be summarised side by side; each worker opens the store itself from the
settings (a store connection must not cross a process boundary). Only the
cascade into the days after a run needs the runs' results in order, and
``refresh_site`` does that afterwards in the calling process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

from core.registry import Site
from storage import Store, StoreError, StoreSettings, open_store
from summaries.presence import BookingSource, no_bookings

if TYPE_CHECKING:
    from summaries.summariser import SummaryParams

_store: Store | None = None


def _open(settings: StoreSettings) -> None:
    global _store
    _store = open_store(settings)


def _summarise(
    site: Site, first: date, last: date, params: SummaryParams, bookings: BookingSource
) -> dict[date, str]:
    from summaries.summariser import summarise_run

    assert _store is not None, "worker store not opened"
    try:
        return summarise_run(_store, site, first, last, params, bookings)
    except StoreError as exc:
        # A store error's own arguments may not survive pickling: keep its message.
        raise StoreError(f"{first}..{last}: {exc}") from None


def _reporter(
    run: tuple[date, date], done: Callable[[tuple[date, date]], None]
) -> Callable[[Future[dict[date, str]]], None]:
    def report(f: Future[dict[date, str]]) -> None:
        if not f.cancelled() and f.exception() is None:
            done(run)

    return report


class RunPool:
    """``workers`` processes (spawned, not forked: no inherited connections),
    each with its own store opened from ``settings``."""

    def __init__(self, settings: StoreSettings, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open,
            initargs=(settings,),
        )

    def summarise(
        self,
        site: Site,
        runs: Sequence[tuple[date, date]],
        params: SummaryParams,
        *,
        done: Callable[[tuple[date, date]], None] | None = None,
        bookings: BookingSource = no_bookings,
    ) -> list[dict[date, str]]:
        """Each run's carried-state digests, in the order of ``runs``; ``done``
        is called as each run finishes. The first failure is raised once every
        submitted run has ended (no half-cancelled writes are left behind)."""
        futures: list[Future[dict[date, str]]] = []
        for run in runs:
            # the source goes to the worker by pickling: a module-level function
            # or a small object that opens its own connection
            f = self._pool.submit(_summarise, site, run[0], run[1], params, bookings)
            if done is not None:
                f.add_done_callback(_reporter(run, done))
            futures.append(f)
        errors = [f.exception() for f in futures]
        first_error = next((e for e in errors if e is not None), None)
        if first_error is not None:
            raise first_error
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> RunPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["RunPool"]
