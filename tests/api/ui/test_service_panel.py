"""The customer-service panel of the live page in Debian's headless Chromium,
against a real API (uvicorn, real Mosquitto feed) and a real SQLite store
holding door counts written as the ingest writes them (``counts_point``).

The site is tests/api/data/palvelu.yaml made open around the clock with no
holidays, so the only reset of the in-building count today is local
midnight, whatever the hour the test runs. The expected figures follow the
definition (docs/metrics.md, "Service points"), worked out here from the
intervals written: visits = the in counts of today's ended intervals;
in the building = the running in - out, never below 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from core.messages import EntranceCounts
from core.registry import load_site
from storage import StoreSettings, open_store
from storage.points import counts_point
from tests.api.ui.harness import start_api, wait_feed_connected
from tests.metrics import service_day as day
from tests.servers import MosquittoServer

pytestmark = pytest.mark.browser

# (minutes before now that the interval ends, in, out); each lasts a minute
INTERVALS = [(4, 5, 1), (3, 3, 2), (2, 0, 4), (1, 4, 0)]


def _site_file(tmp_path: Path) -> Path:
    text = day.SITE_FILE.read_text(encoding="utf-8")
    head, rest = text.split("opening_hours:\n", 1)
    rest = rest.split("area_m2:", 1)[1]
    hours = "".join(
        f'  {d}: ["00:00-24:00"]\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    path = tmp_path / "palvelu.yaml"
    path.write_text(f"{head}holidays: none\nopening_hours:\n{hours}area_m2:{rest}", "utf-8")
    return path


def _expected(now: datetime) -> tuple[int, int]:
    midnight = now.astimezone(day.TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    visits, inside = 0, 0
    for before, n_in, n_out in INTERVALS:
        start = now - timedelta(minutes=before + 1)
        if start >= midnight:  # only today's intervals count
            visits += n_in
            inside = max(0, inside + n_in - n_out)
    return visits, inside


def test_service_panel_shows_people_inside_and_visits_today(
    tmp_path: Path, mosquitto: MosquittoServer, browser: Browser, artifacts: Path
) -> None:
    site_file = _site_file(tmp_path)
    site = load_site(site_file)
    now = datetime.now(UTC).replace(microsecond=0)
    store = open_store(StoreSettings(url=f"sqlite:///{tmp_path / 'occupancy.db'}"))
    store.write(
        [
            counts_point(
                site,
                EntranceCounts(
                    entrance_id="ovi",
                    agent_id="ag",
                    sensor_id="c-ovi",
                    in_count=n_in,
                    out_count=n_out,
                    interval_s=60,
                    event_time=now - timedelta(minutes=before),
                    seq=k,
                ),
            )
            for k, (before, n_in, n_out) in enumerate(INTERVALS)
        ]
    )
    store.close()
    visits, inside = _expected(now)
    api = start_api(tmp_path, mosquitto.url, registry_path=site_file)
    try:
        wait_feed_connected(api)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(api.page_url())
        page.wait_for_selector("#service:not([hidden])", timeout=15_000)
        page.wait_for_function("document.querySelector('#service-in').textContent !== '–'")
        assert page.inner_text("#service-in") == str(inside)
        assert page.inner_text("#service-visits") == str(visits)
        line = page.inner_text('#service-zones li[data-zone="asiakas"]')
        assert "Asiakaspalvelu" in line
        assert f"{inside} in the building · {visits} visits today" in line
        assert "Door counts up to" in page.inner_text("#service-note")
        page.locator("#service").screenshot(path=str(artifacts / "service-panel-en.png"))
        page.screenshot(path=str(artifacts / "service-page-en.png"))

        page.click('.langs button[data-lang="fi"]')
        page.wait_for_function(
            "document.querySelector('#service-title').textContent === 'Asiakaspalvelu'"
        )
        assert page.inner_text("#service dt >> nth=0") == "Rakennuksessa nyt"
        assert f"{visits} käyntiä tänään" in page.inner_text(
            '#service-zones li[data-zone="asiakas"]'
        )
        page.click('.langs button[data-lang="sv"]')
        page.wait_for_function(
            "document.querySelector('#service-title').textContent === 'Kundtjänst'"
        )
        assert page.inner_text("#service dt >> nth=1") == "Besök i dag"
        page.locator("#service").screenshot(path=str(artifacts / "service-panel-sv.png"))
        assert errors == []
        context.close()
    finally:
        api.stop()


def test_no_panel_for_a_site_without_counters(
    tmp_path: Path, mosquitto: MosquittoServer, browser: Browser
) -> None:
    # the example site of the other browser tests: its registry has no entrances here
    api = start_api(tmp_path, mosquitto.url)
    try:
        site = api.registry.site("virastotalo")
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(api.page_url())
        page.wait_for_selector('#conn[data-conn="live"]', timeout=15_000)
        page.wait_for_timeout(500)
        assert page.locator("#service").is_hidden() == (not site.entrances)
        context.close()
    finally:
        api.stop()
