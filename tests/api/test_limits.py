"""Expensive reports are limited per key and per server (issue 20: six
concurrent month peak reports from one agency took 152 s each and 5 GB)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import reports
from api.limits import ConcurrencyLimiter, FailureLimiter, LimitReached
from tests.api.served import served_api

PEAKS = "/v1/sites/pieni/peaks"


def _wait(cond: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_reports_beyond_the_key_and_server_limits_answer_429(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real = reports.period_data

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(20)  # holds the report open, as a long month would
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "period_data", held)
    with (
        served_api(tmp_path, reports_per_key=1, reports_per_server=2) as api,
        httpx.Client(base_url=api.base_url, timeout=30) as http,
        ThreadPoolExecutor(2) as pool,
    ):
        limiter = api.app.state.ctx.reports

        def report(role: str) -> httpx.Response:
            return http.get(PEAKS, headers=api.headers(role), params={"month": "2026-11"})

        first = pool.submit(report, "facility")
        _wait(lambda: limiter.running == 1)
        same_key = report("facility")
        assert same_key.status_code == 429 and same_key.headers["Retry-After"] == "5"
        assert "this key" in same_key.json()["detail"]
        assert same_key.headers["content-type"] == "application/problem+json"
        second = pool.submit(report, "finance")
        _wait(lambda: limiter.running == 2)
        full = report("agency:aa")
        assert full.status_code == 429 and "the server" in full.json()["detail"]
        # cheap routes are not limited
        assert http.get("/v1/sites/pieni/live", headers=api.headers("facility")).status_code == 200
        gate.set()
        assert first.result().status_code == 200 and second.result().status_code == 200
        _wait(lambda: limiter.running == 0)
        assert report("facility").status_code == 200


def test_a_failed_report_frees_its_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(reports, "period_data", broken)
    with (
        served_api(tmp_path, reports_per_key=1, reports_per_server=1) as api,
        httpx.Client(base_url=api.base_url, timeout=30) as http,
    ):
        for _ in range(3):
            resp = http.get(PEAKS, headers=api.headers("facility"), params={"month": "2026-11"})
            assert resp.status_code == 500
        assert api.app.state.ctx.reports.running == 0


def test_concurrency_limiter_counts() -> None:
    lim = ConcurrencyLimiter(per_key=2, per_server=3)
    lim.acquire("a")
    lim.acquire("a")
    with pytest.raises(LimitReached) as exc:
        lim.acquire("a")
    assert exc.value.scope == "key"
    lim.acquire("b")
    with pytest.raises(LimitReached) as exc:
        lim.acquire("c")
    assert exc.value.scope == "server"
    lim.release("a")
    lim.acquire("c")
    assert lim.running == 3


def test_failure_limiter_window(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import limits

    clock = [1000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: clock[0])
    lim = FailureLimiter(per_window=3, window_s=60, max_clients=2)
    for _ in range(3):
        assert lim.retry_after("x") is None
        lim.failed("x")
    assert lim.retry_after("x") == 60
    clock[0] += 30
    assert lim.retry_after("x") == 30
    clock[0] += 30.01
    assert lim.retry_after("x") is None
    lim.failed("y")
    lim.failed("z")  # over max_clients: the oldest address is forgotten
    assert len(lim._failures) <= 2
