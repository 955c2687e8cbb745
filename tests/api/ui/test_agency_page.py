"""The agency report page (api/ui/agency.html) in Debian's headless Chromium
against a real API (uvicorn, SQLite store) holding the hand-worked day of
tests/api/scenario.py (site "pieni", Monday 2 November 2026).

The charts' figures are read back from the ECharts instances and compared
with the report's JSON fetched apart from the page, and the key figures with
the hand-worked values of tests/api/test_agency_report.py. Each language is
screenshotted (test-artifacts/ui/agency-<lang>.png). Requests that are not
to the API are blocked and recorded: the page needs none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route

from api import portfolio
from api.routes import agency_report as agency_routes
from tests.api.served import Served, served_api
from tests.api.ui.test_analytics_pages import no_serious_axe

pytestmark = pytest.mark.browser

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
AREA = 30 + 158 * 10 / 12.5  # aa's area for a facility key (see test_agency_report.py)
TITLES = {"fi": "Viraston raportti", "sv": "Myndighetens rapport", "en": "Agency report"}
MONTHS = {"fi": "marraskuu 2026", "sv": "november 2026", "en": "November 2026"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    mp = pytest.MonkeyPatch()
    mp.setattr(agency_routes, "utcnow", lambda: NOW)
    portfolio.clear_cache()
    with served_api(tmp_path_factory.mktemp("agency")) as served:
        yield served
    mp.undo()


@pytest.fixture
def open_page(browser: Browser, api: Served) -> Iterator[Any]:
    contexts = []

    def open_(role: str = "facility", *, lang: str = "en", hash_: str = "agency=aa&month=2026-11",
              width: int = 1300, height: int = 1000) -> tuple[Page, list[str]]:  # fmt: skip
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
        page.goto(f"{api.base_url}/ui/agency.html#key={api.keys[role]}&{hash_}")
        wait_ready(page)
        return page, blocked

    yield open_
    for context in contexts:
        context.close()


def wait_ready(page: Page) -> None:
    page.wait_for_selector('#chart-forecast[data-ready="true"]', timeout=20_000)


def chart(page: Page, name: str) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """name => {
          const el = document.getElementById('chart-' + name);
          const opt = echarts.getInstanceByDom(el).getOption();
          return {series: Object.fromEntries(opt.series.map(s => [s.id, s.data])),
                  x: opt.xAxis?.[0]?.data, y: opt.yAxis?.[0]?.data};
        }""",
        name,
    )


def report_json(api: Served, role: str = "facility", lang: str = "en") -> dict[str, Any]:
    r = httpx.get(
        f"{api.base_url}/v1/agencies/aa/report",
        params={"month": "2026-11", "lang": lang},
        headers=api.headers(role),
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def figures(page: Page, col: str) -> list[str]:
    return page.eval_on_selector_all(
        f'#table-summary td[data-figure="{col}"]', "els => els.map(e => e.textContent)"
    )


def test_page_shows_the_reports_figures(open_page: Any, api: Served, artifacts: Path) -> None:
    page, blocked = open_page()
    body = report_json(api)
    (site,) = body["sites"]
    # the summary: the site's column and the portfolio's, hand-worked
    assert figures(page, "m2_per_htv") == [f"{AREA / 8:.1f}", f"{200 / 12:.1f}"]
    # presence (test_agency_report.py): aa peaks at 2 on 2 Nov, the one open
    # day with observations -> mean = highest = 2 / 8; the site's desk peak
    # 3 / 12; desks needed ceil(2 x 1.1) = 3 and ceil(3 x 1.1) = 4
    assert figures(page, "use_rate_mean") == ["25 %", "25 %"]
    assert figures(page, "use_rate_max") == ["25 %", "25 %"]
    assert figures(page, "desks_needed") == ["3", "4"]
    assert "19.6 m²/htv" in page.inner_text("#target-line")
    assert "above the target" in page.inner_text("#target-line")
    # the charts hold the report's figures
    daily = chart(page, "daily")
    assert daily["x"] == site["open_days"] and len(daily["x"]) == 21
    peaks = daily["series"]["site:pieni"]
    assert peaks == [2, *[None] * 20]  # the unmeasured days are gaps, not zeros
    # the one measured Monday: 2 / 8 = 25 %; no other weekday was measured
    assert chart(page, "weekday")["series"]["site:pieni"] == [pytest.approx(25.0)]
    zones = chart(page, "zones")
    assert zones["y"] == ["A's zone", "Shared (shared)"]
    assert zones["series"]["utilisation"] == [
        pytest.approx(100 * 10 / 38.5),
        pytest.approx(100 * 3 / 32),
    ]
    trend = chart(page, "trend")
    assert len(trend["x"]) == 12
    assert [b["value"] for b in trend["series"]["agency"]] == [
        pytest.approx(r["m2_per_htv"]) for r in body["trend"]
    ]
    fc = chart(page, "forecast")
    assert fc["x"] == ["2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28"]
    assert fc["series"]["forecast:pieni"] == [2, 2, 2, 2]
    assert "1 of 21 open days measured" in page.inner_text("#coverage")
    assert "Europe/Helsinki" in page.inner_text("#coverage")
    assert page.locator("#definitions li").count() == 6
    assert "margin of 10 %" in page.inner_text("#definitions")
    assert page.is_hidden("#energy")
    assert blocked == [] and page.js_errors == []  # type: ignore[attr-defined]
    no_serious_axe(page)
    page.screenshot(path=str(artifacts / "agency-en.png"), full_page=True)


def test_each_language(open_page: Any, api: Served, artifacts: Path) -> None:
    page, _ = open_page(lang="fi")
    for lang in ("fi", "sv", "en"):
        if lang != "fi":
            page.click(f'.langs button[data-lang="{lang}"]')
            page.wait_for_function(
                "t => document.getElementById('summary-title').textContent.includes(t)",
                arg=MONTHS[lang],
                timeout=20_000,
            )
            wait_ready(page)
        assert page.inner_text("header h1") == TITLES[lang]
        assert MONTHS[lang] in page.inner_text("#summary-title")
        assert page.get_attribute("html", "lang") == lang
        m2 = f"{AREA / 8:.1f}"
        assert figures(page, "m2_per_htv")[0] == (m2 if lang == "en" else m2.replace(".", ","))
        page.screenshot(path=str(artifacts / f"agency-{lang}.png"), full_page=True)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_pdf_download(open_page: Any) -> None:
    page, _ = open_page()
    with page.expect_download() as info:
        page.click('[data-pdf="sv"]')
    download = info.value
    assert download.suggested_filename == "agency-report-aa-2026-11-sv.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")


def test_agency_key_sees_its_own_agency_only(open_page: Any, api: Served) -> None:
    page, _ = open_page("agency:bb")  # asks for aa: gets its own, bb
    options = page.eval_on_selector_all("#agency option", "els => els.map(e => e.value)")
    assert options == ["bb"]
    assert "Agency B" in page.inner_text("#summary-title")
    # b1 + bb's pool share 0.2 of s1 at 12:00
    assert chart(page, "daily")["series"]["site:pieni"][0] == pytest.approx(1.2)
    assert page.is_visible("#agency-key-note")
    # the portfolio's use figures are hidden from an agency key
    assert figures(page, "use_rate_mean") == ["30 %", "–"]  # 1.2 / 4 htv, the one measured day


def test_narrow_screen(open_page: Any, artifacts: Path) -> None:
    page, _ = open_page(width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "agency-phone.png"), full_page=True)
