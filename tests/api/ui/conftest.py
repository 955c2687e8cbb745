"""Fixtures of the browser tests: a real API (uvicorn, SQLite store, live feed
from the real Mosquitto fixture), a publisher acting as the edge agents, and
Debian's headless Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.api.ui.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveApi,
    Publisher,
    start_api,
    wait_feed_connected,
)
from tests.servers import MosquittoServer

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing; install it with: sudo apt-get install -y chromium"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_api(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[LiveApi]:
    """A fresh API per test: an empty store, so every space starts unknown."""
    api = start_api(tmp_path, mosquitto.url)
    wait_feed_connected(api)
    yield api
    api.stop()


@pytest.fixture
def publisher(mosquitto: MosquittoServer) -> Iterator[Publisher]:
    pub = Publisher(mosquitto.url, "virastotalo")
    yield pub
    pub.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


PageOpener = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser, live_api: LiveApi) -> Iterator[PageOpener]:
    """Opens pages in fresh browser contexts (own storage); closes them before
    the API stops, so no live stream is cut by the server's shutdown."""
    contexts: list[BrowserContext] = []

    def open_(url: str, *, width: int = 1400, height: int = 1000) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # type: ignore[attr-defined]
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
