"""The live floor-plan page in Debian's headless Chromium against a real API,
a real broker and a real SQLite store. Nothing is mocked: a presence message
published over MQTT travels broker -> API live feed -> Server-Sent Events ->
the page's DOM.

Expected values are worked out by hand from examples/sites/virastotalo.yaml
(zone f2-a holds 28 desks f2-a-d001..d028 in rows 2.2 m apart, on agent-f2)."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.api.ui.conftest import PageOpener
from tests.api.ui.harness import LiveApi, Publisher, start_api, wait_feed_connected

pytestmark = pytest.mark.browser

SITE = "virastotalo"
DESK = "f2-a-d003"  # zone f2-a, floor f2, sensor s-f2-a-d003 on agent-f2
F2A_DESKS = 28


def space_sel(space: str) -> str:
    return f'#plan .space[data-space="{space}"]'


def wait_live(page: Page) -> None:
    page.wait_for_selector('#conn[data-conn="live"]', timeout=15_000)


def choose_floor(page: Page, floor: str) -> None:
    page.check(f'#floors input[value="{floor}"]')
    page.wait_for_selector(space_sel(f"{floor}-a-d001") if floor != "f1" else "#plan .space")


def wait_state(page: Page, space: str, state: str, timeout_ms: float) -> None:
    page.wait_for_function(
        "([sel, st]) => document.querySelector(sel)?.dataset.state === st",
        arg=[space_sel(space), state],
        timeout=timeout_ms,
        polling=50,
    )


def publish(
    pub: Publisher,
    space: str,
    occupied: bool,
    *,
    count: int | None = None,
    heartbeat_s: float = 300,
) -> None:
    """As the example site's agent of the space's floor (agent-f2 for f2-...)."""
    pub.presence(
        space,
        agent=f"agent-{space[:2]}",
        sensor=f"s-{space}",
        occupied=occupied,
        count=count,
        heartbeat_s=heartbeat_s,
    )


def zone_counts(page: Page, zone: str) -> tuple[int, int, int]:
    row = f'#zone-rows tr[data-zone="{zone}"]'
    return tuple(  # type: ignore[return-value]
        int(page.inner_text(f"{row} td.n-{st}")) for st in ("free", "occupied", "unknown")
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_presence_over_mqtt_turns_the_desk_within_two_seconds(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher, artifacts: Path
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    # The key moved from the address bar into this tab's session storage.
    assert "key=" not in page.url
    assert page.evaluate("sessionStorage.getItem('occupancy.key')") == live_api.key
    choose_floor(page, "f2")
    # An empty store, a server just started: every space is waiting for its
    # sensor's first report (issue 17: the warm period is not "unknown").
    assert page.get_attribute(space_sel(DESK), "data-state") == "waiting"
    assert zone_counts(page, "f2-a") == (0, 0, F2A_DESKS)

    # First message: proves the whole path (the API's subscription may be
    # a moment behind its connection), so it gets a generous wait.
    publish(publisher, DESK, False)
    wait_state(page, DESK, "free", 10_000)
    assert zone_counts(page, "f2-a") == (1, 0, F2A_DESKS - 1)

    started = time.monotonic()
    publish(publisher, DESK, True)
    wait_state(page, DESK, "occupied", 2_000)
    elapsed = time.monotonic() - started
    print(f"presence -> page: {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0, f"the page showed the change after {elapsed:.2f} s"
    assert zone_counts(page, "f2-a") == (0, 1, F2A_DESKS - 1)
    # Not colour alone: the occupied marker is drawn and the name says it.
    assert page.is_visible(f"{space_sel(DESK)} .marker")
    assert page.get_attribute(space_sel(DESK), "aria-label") == "f2-a-d003, desk: occupied"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    shot = artifacts / "live-floor-desktop.png"
    page.screenshot(path=str(shot), animations="disabled")
    assert png_size(shot) == (1400, 1000)
    assert shot.stat().st_size > 30_000  # a drawn page, not a blank one
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_language_switch_changes_texts_and_is_remembered(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher, artifacts: Path
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    choose_floor(page, "f2")
    publish(publisher, DESK, False)
    wait_state(page, DESK, "free", 10_000)
    assert page.inner_text("h1") == "Live occupancy"

    page.click('.langs button[data-lang="fi"]')
    page.wait_for_function("document.documentElement.lang === 'fi'")
    assert page.inner_text("h1") == "Tilojen käyttö nyt"
    assert page.inner_text("#find-title") == "Etsi vapaa tila"
    assert page.get_attribute(space_sel(DESK), "aria-label") == "f2-a-d003, työpiste: vapaa"
    assert page.inner_text("#conn-text") == "Ajantasainen"
    assert "1 vapaana" in page.inner_text("#floor-summary")
    assert page.get_attribute('.langs button[data-lang="fi"]', "aria-pressed") == "true"
    page.screenshot(path=str(artifacts / "live-floor-fi.png"), animations="disabled")

    page.click('.langs button[data-lang="sv"]')
    page.wait_for_function("document.documentElement.lang === 'sv'")
    assert page.inner_text("h1") == "Lokalernas användning nu"
    assert page.inner_text("#zones-title") == "Zoner på denna våning"
    assert page.get_attribute(space_sel(DESK), "aria-label") == "f2-a-d003, arbetsplats: ledig"

    # The choice survives a reload (and the key, kept for this tab, too).
    page.reload()
    wait_live(page)
    assert page.inner_text("h1") == "Lokalernas användning nu"
    assert page.evaluate("document.documentElement.lang") == "sv"

    page.click('.langs button[data-lang="en"]')
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("#sensors-title") == "Sensors needing attention"
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_keyboard_tab_to_a_space_arrows_move_enter_opens_details(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    choose_floor(page, "f2")
    publish(publisher, "f2-a-d011", True, count=1)
    wait_state(page, "f2-a-d011", "occupied", 10_000)

    # From the last plan tool (the zoom buttons), the next Tab enters the plan:
    # one tab stop, the first space in reading order (top-left desk f2-a-d001
    # at x 0.6, y 2.0).
    page.focus("#zoom-reset")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.dataset.space || null")
    assert focused == "f2-a-d001"
    # The focused space shows a visible ring.
    ring = page.eval_on_selector(
        f"{space_sel('f2-a-d001')} .ring", "el => getComputedStyle(el).stroke"
    )
    assert ring not in ("none", "")

    page.keyboard.press("ArrowRight")  # next desk in the row: x 2.8
    assert page.evaluate("document.activeElement.dataset.space") == "f2-a-d002"
    page.keyboard.press("ArrowDown")  # the desk below it: x 2.8, y 3.4
    assert page.evaluate("document.activeElement.dataset.space") == "f2-a-d011"
    page.keyboard.press("Enter")
    page.wait_for_selector("#details[open]")
    assert page.inner_text("#d-title") == "f2-a-d011"
    assert page.inner_text("#d-state") == "occupied"
    details = page.inner_text("#d-list")
    assert "s-f2-a-d011" in details and "agent-f2" in details and "1 person" in details

    # Live while open: the details follow the stream.
    publish(publisher, "f2-a-d011", False)
    page.wait_for_function("document.querySelector('#d-state').textContent === 'free'")

    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('#details').open")
    assert page.evaluate("document.activeElement.dataset.space") == "f2-a-d011"
    # Still one tab stop: Tab leaves the plan instead of walking 91 spaces.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.space || null") is None


def test_phone_viewport_fits_without_horizontal_scrolling(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher, artifacts: Path
) -> None:
    page = open_page(live_api.page_url(), width=390, height=844)
    wait_live(page)
    choose_floor(page, "f2")
    publish(publisher, DESK, True)
    wait_state(page, DESK, "occupied", 10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#plan").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The 64 m x 24 m floor is turned upright on a portrait phone, so a
    # 1.6 m x 0.8 m desk stays large enough to tap.
    assert page.get_attribute("#plan", "data-rotated") == "true"
    desk = page.locator(space_sel(DESK)).bounding_box()
    assert desk is not None and min(desk["width"], desk["height"]) >= 24
    # The plan is zoomed for 24 px targets: focusing the desk brings it into view.
    page.focus(space_sel(DESK))
    page.click(space_sel(DESK))
    page.wait_for_selector("#details[open]")
    dialog = page.locator("#details").bounding_box()
    assert dialog is not None and dialog["x"] >= 0 and dialog["x"] + dialog["width"] <= 390
    page.keyboard.press("Escape")
    shot = artifacts / "live-floor-phone.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert png_size(shot)[0] == 390


def test_find_free_desks_in_a_zone_follows_live_changes(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher, artifacts: Path
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    choose_floor(page, "f2")
    for space, occupied in [
        ("f2-b-d001", False),
        ("f2-b-d002", True),
        ("f2-b-d003", False),
        ("f2-b-d004", False),
        ("f2-a-d001", False),  # free, but in another zone
        ("f2-room-04", False),  # a free room (4 seats) in zone f2-c
        ("f2-room-01", False),  # a free room (12 seats) in zone f2-c
    ]:
        publish(publisher, space, occupied)
    wait_state(page, "f2-room-01", "free", 10_000)
    wait_state(page, "f2-b-d004", "free", 2_000)

    page.select_option("#find-zone", "f2-b")
    page.select_option("#find-kind", "desk")
    page.click("#find-form button[type=submit]")
    results = "#find-results button"
    page.wait_for_selector(results)
    assert page.eval_on_selector_all(results, "bs => bs.map(b => b.dataset.space)") == [
        "f2-b-d001",
        "f2-b-d003",
        "f2-b-d004",
    ]
    assert page.eval_on_selector_all(
        "#plan .space.found", "gs => gs.map(g => g.dataset.space).sort()"
    ) == ["f2-b-d001", "f2-b-d003", "f2-b-d004"]
    assert page.inner_text("#find-status") == "3 free spaces found"
    page.screenshot(path=str(artifacts / "find-free.png"), animations="disabled")

    publish(publisher, "f2-b-d003", True)  # someone sits down
    page.wait_for_function(
        "document.querySelectorAll('#find-results button').length === 2", timeout=2_000
    )
    assert page.inner_text("#find-status") == "2 free spaces found"

    # Rooms for at least 6 people in the whole floor: only the 12-seat room.
    page.select_option("#find-zone", "")
    page.select_option("#find-kind", "room")
    page.fill("#find-seats", "6")
    page.click("#find-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#find-results button').length === 1")
    assert page.get_attribute(results, "data-space") == "f2-room-01"
    page.click(results)
    page.wait_for_selector("#details[open]")
    assert page.inner_text("#d-title") == "Meeting room Aalto 2"  # the page is in English
    page.keyboard.press("Escape")
    page.click("#find-clear")
    assert page.locator("#plan .space.found").count() == 0


def test_silent_sensor_and_offline_agent_are_listed(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    choose_floor(page, "f3")
    publish(publisher, "f3-a-d001", False)
    # A 0.4 s heartbeat: silent (unknown) once 2.5 x 0.4 = 1 s passes without a message.
    publish(publisher, "f3-a-d002", True, heartbeat_s=0.4)
    wait_state(page, "f3-a-d001", "free", 10_000)
    wait_state(page, "f3-a-d002", "unknown", 5_000)
    assert page.get_attribute(space_sel("f3-a-d002"), "aria-label") == "f3-a-d002, desk: unknown"
    page.wait_for_function(
        "[...document.querySelectorAll('#sensor-list li')].some("
        "li => li.textContent.includes('f3-a-d002') && li.textContent.includes('sensor silent'))",
        timeout=5_000,
    )

    publisher.agent_offline("agent-f3")
    wait_state(page, "f3-a-d001", "unknown", 5_000)
    page.wait_for_function(
        "document.querySelector('#agent-list')?.textContent.includes('Agent agent-f3 is offline')",
        timeout=5_000,
    )
    page.click(space_sel("f3-a-d001"))
    page.wait_for_selector("#details[open]")
    assert "agent offline" in page.inner_text("#d-list")


def test_sign_in_form_when_no_key_and_bad_key_is_refused(
    open_page: PageOpener, live_api: LiveApi
) -> None:
    page = open_page(f"{live_api.base_url}/")  # redirects to /ui/
    page.wait_for_selector("#signin:not([hidden])")
    assert page.is_hidden("#board")
    page.fill("#key", "occ_000000000000_not-a-real-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#signin-error').textContent.includes('not accepted')"
    )
    page.fill("#key", live_api.key)
    page.click("#signin-form button[type=submit]")
    wait_live(page)
    assert page.is_visible("#plan .space")
    page.click("#signout")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.evaluate("sessionStorage.getItem('occupancy.key')") is None


def test_agency_key_sees_only_its_own_zones(open_page: PageOpener, live_api: LiveApi) -> None:
    page = open_page(live_api.page_url(live_api.keys["agency:vero"]))
    wait_live(page)
    choose_floor(page, "f2")
    page.wait_for_selector(f'{space_sel("f2-c-d001")}[data-state="hidden"]')
    # Zones f2-a and f2-b are Verohallinto's; the shared zone f2-c is not shown.
    assert page.get_attribute(space_sel("f2-a-d001"), "data-state") == "waiting"
    assert page.locator(f'{space_sel("f2-c-d001")}[role="button"]').count() == 0
    page.wait_for_function(
        "document.querySelector('#sensors-summary').textContent.includes('facility key')"
    )


def test_page_reconnects_after_the_api_restarts(
    open_page: PageOpener, live_api: LiveApi, publisher: Publisher, mosquitto, tmp_path: Path
) -> None:
    page = open_page(live_api.page_url())
    wait_live(page)
    choose_floor(page, "f2")
    publish(publisher, DESK, True)
    wait_state(page, DESK, "occupied", 10_000)

    port, keys = live_api.port, live_api.keys
    live_api.stop()
    page.wait_for_selector('#conn[data-conn="reconnecting"]', timeout=15_000)

    # The same port and records: a restart, as after a deployment.
    again = start_api(tmp_path, mosquitto.url, port=port, keys=keys)
    try:
        wait_feed_connected(again)
        wait_live(page)
        # The new process has an empty store: the snapshot resets the desk,
        # which waits for its first report again.
        wait_state(page, DESK, "waiting", 5_000)
        publish(publisher, DESK, False)
        wait_state(page, DESK, "free", 10_000)
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        # Keep-alive comments are skipped; the retry field is reported.
        (["retry: 2000\n\n: keepalive\n\nevent: snapshot\ndata: {}\n\n"], [["snapshot", "{}"]]),
        # A CRLF split across two chunks ends one line, not two.
        (["event: space\r", "\ndata: a\r\n\r\n"], [["space", "a"]]),
        # Data lines join with a newline; no event name means "message".
        (["data: x\ndata: y\n", "\n"], [["message", "x\ny"]]),
        # An event not yet terminated by a blank line is not dispatched.
        (['event: space\ndata: {"s":1}\n'], []),
    ],
)
def test_event_stream_parser(
    open_page: PageOpener, live_api: LiveApi, chunks: list[str], expected: list[list[str]]
) -> None:
    page = open_page(f"{live_api.base_url}/ui/sse.js")
    got = page.evaluate(
        """async (chunks) => {
            const { SseParser } = await import('/ui/sse.js');
            const out = [];
            const p = new SseParser((type, data) => out.push([type, data]));
            for (const c of chunks) p.push(c);
            return out;
        }""",
        chunks,
    )
    assert got == expected
