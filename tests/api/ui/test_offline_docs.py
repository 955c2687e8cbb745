"""/docs and /redoc work with no network beyond the API itself (issue 14,
item 7): every other request the page makes is blocked and recorded, and the
page must still render the API's operations in headless Debian Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from tests.api.ui.harness import LiveApi, start_api
from tests.servers import MosquittoServer


@pytest.fixture
def api(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[LiveApi]:
    server = start_api(tmp_path, mosquitto.url)
    yield server
    server.stop()


def _open_offline(browser: Browser, api: LiveApi, path: str) -> tuple[object, list[str]]:
    context = browser.new_context()
    blocked: list[str] = []

    def only_the_api(route: Route) -> None:
        if route.request.url.startswith(api.base_url + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_api)
    page = context.new_page()
    page.goto(api.base_url + path)
    return page, blocked


def test_swagger_ui_renders_offline(browser: Browser, api: LiveApi) -> None:
    page, blocked = _open_offline(browser, api, "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)  # type: ignore[attr-defined]
    assert "Occupancy platform API" in page.inner_text(".swagger-ui .info .title")  # type: ignore[attr-defined]
    # the operations are listed, e.g. the health check
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)  # type: ignore[attr-defined]
    paths = page.eval_on_selector_all(  # type: ignore[attr-defined]
        ".opblock-summary-path", "els => els.map(e => e.textContent)"
    )
    assert any("/health" in p for p in paths)
    assert blocked == []
    page.context.close()  # type: ignore[attr-defined]


def test_redoc_renders_offline(browser: Browser, api: LiveApi) -> None:
    page, blocked = _open_offline(browser, api, "/redoc")
    page.wait_for_selector("h1", timeout=15_000)  # type: ignore[attr-defined]
    assert "Occupancy platform API" in page.inner_text("h1")  # type: ignore[attr-defined]
    assert blocked == []
    page.context.close()  # type: ignore[attr-defined]


def test_docs_pages_reference_no_other_host(api: LiveApi) -> None:
    import httpx

    for path in ("/docs", "/redoc"):
        html = httpx.get(api.base_url + path).text
        assert "cdn" not in html.lower() and "https://" not in html, path
    for asset in ("swagger-ui-bundle.js", "redoc.offline.js"):
        js = httpx.get(f"{api.base_url}/docs-assets/{asset}")
        assert js.status_code == 200 and len(js.content) > 100_000, asset
        assert "cdn.redoc.ly" not in js.text and "cdn.jsdelivr" not in js.text, asset
