"""Open alerts head the live page's attention list (Chromium against the real
API, Mosquitto and alert engine of tests/alerts/conftest.py): a facility key
and the agency owning the space see the alert, another agency does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.alerts.conftest import AlertApi, alert_api  # noqa: F401  (the fixture)
from tests.api.ui.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

DESK = "f2-a-d003"  # zone f2-a of the agency vero


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.context.close()


def open_as(browser: Browser, pages: list[Page], api: AlertApi, role: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    page = context.new_page()
    pages.append(page)
    page.goto(f"{api.base_url}/ui/#key={api.keys[role]}")
    return page


def test_open_alerts_head_the_attention_list(
    alert_api: AlertApi,  # noqa: F811
    browser: Browser,
    pages: list[Page],
) -> None:
    api = alert_api
    api.present(DESK)
    api.wait(lambda: [a for a in api.alerts(state="firing") if a["subject"] == DESK])

    page = open_as(browser, pages, api, "facility")
    page.wait_for_selector('#alert-list li[data-alert="firing"]', timeout=15_000)
    text = page.inner_text("#alert-list")
    assert "Sensor silent: f2-a-d003" in text and "fired" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#sensors").screenshot(path=str(Path(ARTIFACTS) / "alerts-attention.png"))

    own = open_as(browser, pages, api, "agency:vero")
    own.wait_for_selector("#alert-list li", timeout=15_000)
    assert "f2-a-d003" in own.inner_text("#alert-list")

    other = open_as(browser, pages, api, "agency:dvv")
    # the health answer (403 for agencies) is rendered after the alerts
    other.wait_for_function(
        "() => document.querySelector('#sensors-summary')?.textContent.includes('facility key')",
        timeout=15_000,
    )
    assert other.locator("#alert-list li").count() == 0
