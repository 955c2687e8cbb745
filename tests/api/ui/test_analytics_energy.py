"""The Energy tab of the analytics page (api/ui/analytics.html) in Debian's
headless Chromium against a real API (uvicorn, SQLite store) holding the
hand-worked energy week (tests/metrics/energy_week.py): the chart's shares
are the API's, the totals are the hand-worked 1820 m²h, 182 kWh and 36.4 kg
CO2 by zone (1575 m²h by floor), and the recommended closings are listed in
the page's language. Screenshots in English and Finnish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry
from storage import AGENT_STATUS, PRESENCE, Point, StoreSettings, open_store
from tests.api.served import Served, run_uvicorn
from tests.api.ui.test_analytics_pages import no_serious_axe, series
from tests.metrics.conftest import local
from tests.metrics.energy_week import HB_S, PRESENCE_ROWS, STATUS_ROWS, week_site
from tests.servers import free_port

pytestmark = pytest.mark.browser
WEEK = {"from": "2026-03-02", "to": "2026-03-09"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("energy-ui")
    site = week_site()
    settings = StoreSettings(url=f"sqlite:///{tmp}/store.db")
    store = open_store(settings)
    store.write(
        [Point(PRESENCE, site.space_tags(s), {"occupied": o, "hb": HB_S, "seq": i},
               int(local(t).value)) for i, (t, s, o) in enumerate(PRESENCE_ROWS)]
        + [Point(AGENT_STATUS, {"site": site.id, "agent": a}, {"online": o}, int(local(t).value))
           for t, a, o in STATUS_ROWS]
    )  # fmt: skip
    records = f"sqlite:///{tmp}/api.db"
    engine = make_engine(records)
    with make_sessionmaker(engine)() as session:
        keys = {r: create_key(session, role=r, name=r) for r in ("facility", "agency:a")}
    engine.dispose()
    app = create_app(
        ApiSettings(store=settings, records_url=records, broker_url=None, rollup_interval_s=0,
                    summaries_interval_s=0),
        registry=Registry({site.id: site}), store=store,
    )  # fmt: skip
    port = free_port()
    server, thread = run_uvicorn(app, port, log_config=None)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, keys, records)
    finally:
        app.state.ctx.closing.set()
        server.should_exit = True
        thread.join(15)
        store.close()


def open_energy(browser: Browser, api: Served, lang: str, role: str = "facility") -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, locale="en-GB")
    context.add_init_script(f"localStorage.setItem('occupancy.lang', '{lang}')")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(
        f"{api.base_url}/ui/analytics.html#key={api.keys[role]}&from=2026-03-02"
        "&last=2026-03-08&tab=energy"
    )
    return page


def rows(api: Served, path: str, **params: Any) -> list[dict[str, Any]]:
    r = httpx.get(f"{api.base_url}/v1/sites/energyweek/{path}", params={**WEEK, **params},
                  headers=api.headers("facility"), timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["rows"]  # type: ignore[no-any-return]


def test_energy_tab_shows_the_api_figures(browser: Browser, api: Served, artifacts: Path) -> None:
    page = open_energy(browser, api, "en")
    page.wait_for_selector('#chart-energy[data-ready="true"]', timeout=15_000)
    page.wait_for_selector("#energy-recs li")
    zones = [r for r in rows(api, "energy", by="zone", bucket="year") if r["level"] == "zone"]
    got = series(page, "energy")
    assert got["y"] == ["Zone A", "Zone B", "Zone C"]
    assert got["series"]["empty"] == [pytest.approx(r["empty_share"] * 100) for r in zones]
    assert got["series"]["unknown"] == [pytest.approx(r["unknown_share"] * 100) for r in zones]
    totals = page.inner_text("#energy-totals")
    assert "1,820 m²h" in totals and "182 kWh" in totals and "36 kg CO2" in totals
    assert "0.1 kWh per m²" in page.inner_text("#energy-assumptions")
    recs = page.locator("#energy-recs li").all_inner_texts()
    recommended = [r for r in rows(api, "energy/closing") if r["recommended"]]
    assert len(recs) == len(recommended) == 6
    assert recs[0].startswith("Floor 2 was empty") and "1,304 kWh" in recs[0]
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "analytics-energy-en-desktop.png"), full_page=True)
    page.check('input[name="energy-by"][value="floor"]')
    page.wait_for_function("document.querySelector('#table-energy th')?.textContent === 'Floor'")
    page.wait_for_selector('#chart-energy[data-ready="true"]')
    assert series(page, "energy")["y"] == ["Floor 1", "Floor 2"]
    assert "1,575 m²h" in page.inner_text("#energy-totals")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_energy_tab_in_finnish(browser: Browser, api: Served, artifacts: Path) -> None:
    page = open_energy(browser, api, "fi")
    page.wait_for_selector('#chart-energy[data-ready="true"]', timeout=15_000)
    page.wait_for_selector("#energy-recs li")
    assert page.inner_text("#tab-energy") == "Energia"
    assert "kWh" in page.inner_text("#energy-totals") and "Tyhjä" in page.inner_text(
        "#energy-totals"
    )
    assert "säästää" in page.locator("#energy-recs li").first.inner_text()
    page.screenshot(path=str(artifacts / "analytics-energy-fi-desktop.png"), full_page=True)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_an_agency_key_is_told_it_may_not(browser: Browser, api: Served) -> None:
    page = open_energy(browser, api, "en", role="agency:a")
    page.wait_for_function("document.getElementById('cov-energy').textContent.length > 0")
    assert "may not" in page.inner_text("#cov-energy")
