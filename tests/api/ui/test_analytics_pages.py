"""The analytics page (api/ui/analytics.html) in Debian's headless Chromium
against a real API (uvicorn, SQLite store) holding the hand-worked day of
tests/api/scenario.py (site "pieni", Monday 2 November 2026, open 08-16).

Each chart's figures are read back from the ECharts instance (getOption) and
compared with the API's JSON, fetched apart from the page, and the key figures
with the hand-worked values. Every request that is not to the API is blocked
and recorded: the page must need none (no CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route

from core.messages import Presence, PresenceKind
from core.registry import Site
from storage import Point
from storage.points import presence_point
from tests.api.scenario import HEL
from tests.api.served import Served, served_api
from tests.api.ui.test_live_page import png_size

pytestmark = pytest.mark.browser

DAY = "2026-11-02"
PERIOD = {"from": DAY, "to": "2026-11-03"}
SITE = "/v1/sites/pieni"
TABS = ("util", "peaks", "heatmap", "health")


def tuesday(site: Site) -> list[Point]:
    """Tuesday 3 November: every sensor heard on the hour 07-16 (so coverage
    is whole), a1 occupied 09-11 and a2 10-12: the day's peak is 2 (10-11)."""
    spells = {"a1": (9, 11), "a2": (10, 12)}
    out = []
    for seq, (space, h) in enumerate((s.id, h) for s in site.spaces for h in range(7, 17)):
        a, b = spells.get(space, (0, 0))
        msg = Presence(
            space_id=space,
            agent_id="ag",
            sensor_id=f"s-{space}",
            occupied=a <= h < b,
            people_count=0 if space == "r1" else None,
            event_time=datetime(2026, 11, 3, h, tzinfo=HEL),
            seq=10_000 + seq,
            kind=PresenceKind.HEARTBEAT,
            heartbeat_interval_s=3600,
        )
        out.append(presence_point(site, msg))
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_api(tmp_path_factory.mktemp("analytics")) as served:
        ctx = served.app.state.ctx
        ctx.store.write(tuesday(ctx.registry.site("pieni")))
        yield served


class Opened:
    def __init__(self, page: Page, blocked: list[str]):
        self.page = page
        self.blocked = blocked


@pytest.fixture
def open_analytics(browser: Browser, api: Served) -> Iterator[Any]:
    contexts = []

    def open_(
        role: str = "facility",
        *,
        lang: str = "en",
        width: int = 1400,
        height: int = 1000,
        tab: str = "util",
        last: str = DAY,
    ) -> Opened:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-GB", accept_downloads=True
        )
        contexts.append(context)
        blocked: list[str] = []

        def only_the_api(route: Route) -> None:
            if route.request.url.startswith(api.base_url + "/"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", only_the_api)
        context.add_init_script(f"localStorage.setItem('occupancy.lang', '{lang}')")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # type: ignore[attr-defined]
        key = api.keys[role]
        page.goto(f"{api.base_url}/ui/analytics.html#key={key}&from={DAY}&last={last}&tab={tab}")
        wait_chart(page, tab)
        return Opened(page, blocked)

    yield open_
    for context in contexts:
        context.close()


def wait_chart(page: Page, tab: str) -> None:
    if tab in TABS:
        page.wait_for_selector(f'#chart-{tab}[data-ready="true"]', timeout=15_000)


def series(page: Page, tab: str) -> dict[str, Any]:
    """The series data the chart instance holds, by series id."""
    return page.evaluate(  # type: ignore[no-any-return]
        """tab => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-' + tab));
          const opt = chart.getOption();
          return {series: Object.fromEntries(opt.series.map(s => [s.id, s.data])),
                marks: opt.series.map(s => (s.markLine?.data || []).map(m => m.yAxis)).flat(),
                x: opt.xAxis?.[0]?.data, y: opt.yAxis?.[0]?.data};
        }""",
        tab,
    )


def api_rows(api: Served, path: str, role: str = "facility", **params: Any) -> list[dict[str, Any]]:
    resp = httpx.get(
        f"{api.base_url}{SITE}/{path}",
        params={**PERIOD, **params},
        headers=api.headers(role),
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["rows"]  # type: ignore[no-any-return]


def pct(values: list[float | None]) -> list[float | None]:
    return [None if v is None else pytest.approx(v * 100) for v in values]  # type: ignore[misc]


def no_serious_axe(page: Page) -> None:
    result = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []


def test_utilisation_chart_shows_the_api_figures(
    open_analytics: Any, api: Served, artifacts: Path
) -> None:
    opened = open_analytics()
    page = opened.page
    rows = api_rows(api, "utilisation", by="zone")
    got = series(page, "util")
    assert got["y"] == ["A's zone", "B's zone", "Shared"]  # the registry's zone names
    assert got["series"]["utilisation"] == pct([r["utilisation"] for r in rows])
    assert got["series"]["coverage"] == pct([r["coverage"] for r in rows])
    # Hand-worked: zone za occupied 10 h of 38.5 h observed (a5 silent 1.5 h of 40 h).
    assert got["series"]["utilisation"][0] == pytest.approx(100 * 10 / 38.5)
    assert got["series"]["coverage"][0] == pytest.approx(100 * 38.5 / 40)
    # The coverage line: 11 spaces x 8 h open, 1.5 h unknown.
    assert float(page.get_attribute("#cov-util", "data-coverage") or 0) == pytest.approx(86.5 / 88)
    assert "98.3 %" in page.inner_text("#cov-util")
    assert "The chart's figures" in page.inner_text("#table-util")
    page.screenshot(path=str(artifacts / "analytics-util-en-desktop.png"), animations="disabled")

    # By floor and by agency, chosen with the keyboard (a radio group).
    page.focus('input[name="util-by"][value="zone"]')
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "document.getElementById('chart-util').dataset.ready === 'true'"
        " && document.querySelector('#table-util th').textContent === 'Floor'"
    )
    assert series(page, "util")["y"] == ["First"]
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('#table-util th')?.textContent === 'Agency'")
    wait_chart(page, "util")
    by_agency = api_rows(api, "utilisation", by="agency")
    got = series(page, "util")
    assert got["y"] == ["Shared spaces", "Agency A", "Agency B"]
    assert got["series"]["utilisation"] == pct([r["utilisation"] for r in by_agency])
    no_serious_axe(page)
    assert opened.blocked == [] and page.js_errors == []  # type: ignore[attr-defined]


def test_utilisation_per_day(open_analytics: Any, api: Served, artifacts: Path) -> None:
    opened = open_analytics(last="2026-11-03")
    page = opened.page
    page.check('input[name="util-view"][value="day"]')
    page.wait_for_function(
        "document.getElementById('chart-util').dataset.ready === 'true'"
        " && document.querySelector('#table-util th').textContent === 'Day'"
    )
    two_days = {"from": DAY, "to": "2026-11-04"}
    rows = api_rows(api, "utilisation", by="zone", bucket="day", **two_days)
    site = api_rows(api, "utilisation", by="site", bucket="day", **two_days)
    got = series(page, "util")
    assert got["x"] == [DAY, "2026-11-03"]
    for zone in ("za", "zb", "zs"):
        mine = sorted((r for r in rows if r["zone"] == zone), key=lambda r: r["bucket"])
        assert got["series"][f"g:{zone}"] == pct([r["utilisation"] for r in mine])
    assert got["series"]["coverage"] == pct([r["coverage"] for r in site])
    # Hand-worked: za on Monday 10 h of 38.5 h; on Tuesday a1 2 h + a2 2 h of 40 h.
    assert got["series"]["g:za"] == [pytest.approx(100 * 10 / 38.5), pytest.approx(10)]
    with page.expect_download() as info:
        page.click('.exports[data-report="util"] button[data-format="csv"]')
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("zone,bucket") and len(lines) == 1 + 6  # 3 zones x 2 days
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "analytics-util-days-en-desktop.png"))
    assert opened.blocked == [] and page.js_errors == []  # type: ignore[attr-defined]


def test_peaks_heatmap_and_health_charts(open_analytics: Any, api: Served, artifacts: Path) -> None:
    # Peaks over Monday and Tuesday (the fixture's second day).
    opened = open_analytics(tab="peaks", last="2026-11-03")
    page = opened.page
    two_days = {"from": DAY, "to": "2026-11-04"}
    daily = api_rows(api, "peaks", by="site", daily="true", **two_days)
    [summary] = api_rows(api, "peaks", by="site", **two_days)
    got = series(page, "peaks")
    # hand-worked: Monday 3 at once, Tuesday 2; p90 of [2, 3] by linear
    # interpolation: rank 0.9 -> 2 + 0.9 x (3 - 2) = 2.9
    assert got["series"]["peak"] == [d["peak"] for d in daily] == [3, 2]
    assert got["marks"] == [summary["p90_peak"], summary["max_peak"]] == [pytest.approx(2.9), 3]
    assert got["series"]["coverage"] == [pytest.approx(100 * 86.5 / 88), pytest.approx(100)]
    assert page.inner_text("#table-peaks tbody tr:nth-child(2) td") == "2"
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "analytics-peaks-en-desktop.png"), animations="disabled")
    # Back to Monday alone for the other charts, with the period form.
    page.fill("#last", DAY)
    page.click("#period button[type=submit]")
    page.wait_for_function(
        "document.getElementById('chart-peaks').dataset.ready === 'true'"
        " && document.querySelectorAll('#table-peaks tbody tr').length === 1"
    )

    # Tabs by keyboard: ArrowRight from Peaks opens the heatmap.
    page.focus("#tab-peaks")
    page.keyboard.press("ArrowRight")
    wait_chart(page, "heatmap")
    assert page.evaluate("document.activeElement.id") == "tab-heatmap"
    assert page.get_attribute("#tab-heatmap", "aria-selected") == "true"
    cells = api_rows(api, "heatmap")
    got = series(page, "heatmap")
    assert got["x"] == [f"{h:02d}" for h in range(8, 16)]
    data = {(c[1], got["x"][c[0]]): c[2] for c in got["series"]["heatmap"]}
    expected = {(c["weekday"], f"{c['hour']:02d}"): 100 * c["utilisation"] for c in cells}
    assert data == {k: pytest.approx(v) for k, v in expected.items()}
    # Hand-worked: Monday 10-11 a1, a2, b1 occupied of 11 spaces: 3/11
    assert data[(0, "10")] == pytest.approx(100 * 3 / 11)
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "analytics-heatmap-en-desktop.png"), animations="disabled")

    page.keyboard.press("ArrowRight")
    wait_chart(page, "health")
    hours = api_rows(api, "sensors/health/history", bucket="hour")
    got = series(page, "health")
    assert got["x"] == [f"{h:02d}:00" for h in range(8, 16)]
    for key in ("reporting", "partial", "silent"):
        assert got["series"][key] == [r[key] for r in hours]
    # a5 heard until 14:30, silent from 15:00
    assert got["series"]["partial"][6] == 1 and got["series"]["silent"][7] == 1
    assert got["series"]["coverage"] == pct([r["coverage"] for r in hours])
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "analytics-health-en-desktop.png"), animations="disabled")

    page.keyboard.press("ArrowRight")  # the agency report: a link to its own page
    assert page.get_attribute("#panel-agency a", "href") == "agency.html"
    no_serious_axe(page)
    assert opened.blocked == [] and page.js_errors == []  # type: ignore[attr-defined]


def test_exports_download_the_api_files(open_analytics: Any, api: Served) -> None:
    page = open_analytics().page
    with page.expect_download() as info:
        page.click('.exports[data-report="util"] button[data-format="csv"]')
    download = info.value
    assert download.suggested_filename == "utilisation-pieni-zone.csv"
    expected = httpx.get(
        f"{api.base_url}{SITE}/utilisation",
        headers=api.headers("facility"),
        params={**PERIOD, "by": "zone", "format": "csv"},
    ).text
    assert Path(download.path()).read_text(encoding="utf-8") == expected
    page.click("#tab-health")
    wait_chart(page, "health")
    with page.expect_download() as info:
        page.click('.exports[data-report="health"] button[data-format="xlsx"]')
    assert info.value.suggested_filename == "sensor-health-pieni-hour.xlsx"
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"  # a zip: an xlsx workbook
    # A link to a view changes only the fragment, which reloads nothing: the page follows it.
    page.evaluate("location.hash = 'tab=heatmap'")
    wait_chart(page, "heatmap")
    assert page.get_attribute("#tab-heatmap", "aria-selected") == "true"


def test_agency_key_sees_only_what_the_endpoints_give_it(open_analytics: Any, api: Served) -> None:
    opened = open_analytics("agency:aa")
    page = opened.page
    got = series(page, "util")
    # Agency aa: its own zone only (the shared zone's 4 spaces are below the
    # disclosure rule's 5, the other agency's zone is never shown).
    assert got["y"] == ["A's zone"]
    assert got["series"]["utilisation"] == pct(
        [r["utilisation"] for r in api_rows(api, "utilisation", "agency:aa", by="zone")]
    )
    page.click("#tab-health")
    page.wait_for_function(
        "document.getElementById('cov-health').textContent.includes('facility key')"
    )
    assert opened.blocked == [] and page.js_errors == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_languages_on_desktop_and_phone(open_analytics: Any, artifacts: Path, lang: str) -> None:
    titles = {"fi": "Raportit", "sv": "Rapporter", "en": "Analytics"}
    desk = open_analytics(lang=lang, tab="heatmap").page
    assert desk.inner_text("h1") == titles[lang]
    assert desk.evaluate("document.documentElement.lang") == lang
    desk.screenshot(path=str(artifacts / f"analytics-heatmap-{lang}-desktop.png"))
    desk.click("#tab-util")
    wait_chart(desk, "util")
    desk.screenshot(path=str(artifacts / f"analytics-util-{lang}-desktop.png"))

    phone = open_analytics(lang=lang, width=390, height=844).page
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("#chart-util").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    for target in ("#tab-util", "#tab-health", ".langs button", "#from"):
        size = phone.locator(target).first.bounding_box()
        assert size is not None and size["height"] >= 24, target  # WCAG 2.2 target size
    if lang == "en":
        no_serious_axe(phone)  # the phone layout too (a table scrolling sideways)
    shot = artifacts / f"analytics-util-{lang}-phone.png"
    phone.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert png_size(shot)[0] == 390
    phone.click("#tab-peaks")
    wait_chart(phone, "peaks")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(
        path=str(artifacts / f"analytics-peaks-{lang}-phone.png"),
        full_page=True,
        animations="disabled",
    )


def test_the_live_page_links_to_the_analytics_and_back(browser: Browser, api: Served) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{api.base_url}/ui/#key={api.keys['facility']}")
    page.click('a[href="analytics.html"]')
    # signed in with the live page's key (this tab's session storage); the
    # default period is this month so far
    page.wait_for_selector('#chart-util[data-ready="true"]', timeout=15_000)
    assert page.is_hidden("#signin")
    first = page.input_value("#from")
    assert first.endswith("-01") and page.input_value("#last") >= first
    page.click("a.navlink")
    page.wait_for_url(f"{api.base_url}/ui/")
    context.close()
