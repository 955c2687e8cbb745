"""Timing helpers of the benchmarks that ask the real API app (FastAPI
TestClient) for reports: one timed GET, emptying the report caches for a
cold read, and the p95 of a list of timings."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from api import portfolio
from summaries import reader


def timed(client: TestClient, key: str, url: str, params: dict[str, Any]) -> tuple[float, Any]:
    """Seconds of one GET with ``key`` and its JSON body (it must be a 200)."""
    t = time.perf_counter()
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    took = time.perf_counter() - t
    assert r.status_code == 200, r.text[:500]
    return took, r.json()


def cold() -> None:
    """Empty the period-data and portfolio caches: the next read is cold (the
    store's file stays in the OS page cache)."""
    reader.clear_cache()
    portfolio.clear_cache()


def p95(times: list[float]) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
