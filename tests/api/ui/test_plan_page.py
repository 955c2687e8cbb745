"""The floor plan of issue 17 in Debian's headless Chromium, against one real
API (uvicorn, SQLite store, the real Mosquitto) shared by the module: the
building's plan image, pan and zoom, target size on a phone, labels and
people/capacity, search, filters, plural forms and translated names, the
agency view, the start-up warm period, the history replay agreeing with
/utilisation, and axe-core over the page.

Expected values are worked out from examples/sites/virastotalo.yaml by hand:
zone f2-a holds desks f2-a-d001..d028 (1.6 m x 0.8 m), f2-room-01 is
"Neuvotteluhuone Aalto 2" (12 seats), f2-room-05 "Neuvotteluhuone Saarinen 2";
Saarinen rooms exist on floors 2, 3 and 4; opening hours 07:00-18:00 on
working days; 280 spaces, each with a sensor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from core.calendar import opening_intervals_on
from core.messages import Presence, PresenceKind
from storage.points import presence_point
from tests.api.ui.harness import LiveApi, Publisher, start_api, wait_feed_connected
from tests.servers import MosquittoServer

pytestmark = pytest.mark.browser

AXE_JS = Path(__import__("axe_playwright_python").__file__).parent / "axe.min.js"
ROOM = "f2-room-01"  # Neuvotteluhuone Aalto 2, capacity 12
SPACES_WITH_SENSORS = 280  # 11 on floor 1, 91 on floor 2, 91 on 3, 87 on 4


def sel(space: str) -> str:
    return f'#plan .space[data-space="{space}"]'


def label(space: str) -> str:
    return f'#plan .lbl[data-space="{space}"]'


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mosquitto: MosquittoServer) -> Iterator[LiveApi]:
    server = start_api(tmp_path_factory.mktemp("plan-page"), mosquitto.url)
    wait_feed_connected(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pub(mosquitto: MosquittoServer) -> Iterator[Publisher]:
    p = Publisher(mosquitto.url, "virastotalo")
    yield p
    p.close()


def publish(pub: Publisher, space: str, occupied: bool, count: int | None = None) -> None:
    pub.presence(
        space, agent=f"agent-{space[:2]}", sensor=f"s-{space}", occupied=occupied, count=count
    )


def open_page(browser: Browser, url: str, *, width: int = 1400, height: int = 900) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-GB", has_touch=width < 640
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector('#conn[data-conn="live"]', timeout=15_000)
    return page


def set_lang(page: Page, lang: str) -> None:
    page.click(f'.langs button[data-lang="{lang}"]')
    page.wait_for_function("l => document.documentElement.lang === l", arg=lang)


def choose_floor(page: Page, floor: str) -> None:
    page.check(f'#floors input[value="{floor}"]')
    page.wait_for_selector(sel(f"{floor}-room-01") if floor != "f1" else "#plan .space")


def floor_sub(page: Page, floor: str) -> str:
    return page.inner_text(f'#floors input[value="{floor}"] ~ .seg-sub')


def scale(page: Page) -> float:
    return float(page.get_attribute("#plan", "data-scale") or 0)


def axe_serious(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def desktop(browser: Browser, api: LiveApi, pub: Publisher) -> Iterator[Page]:
    page = open_page(browser, api.page_url())
    # the warm period: nothing heard yet (a fresh server, a fresh store)
    page.wait_for_selector("#warm:not([hidden])")
    assert f"0 of {SPACES_WITH_SENSORS} sensors" in page.inner_text("#warm")
    choose_floor(page, "f2")
    assert page.get_attribute(sel("f2-a-d001"), "data-state") == "waiting"
    for desk in ("f2-a-d001", "f2-a-d002", "f2-a-d003"):
        publish(pub, desk, False)
    publish(pub, "f3-a-d001", False)
    publish(pub, ROOM, True, count=10)
    page.wait_for_function(
        "s => document.querySelector(s)?.dataset.state === 'occupied'", arg=sel(ROOM)
    )
    yield page
    page.context.close()


def test_warm_period_counts_the_sensors_heard(desktop: Page) -> None:
    desktop.wait_for_function(
        "n => document.querySelector('#warm').textContent.includes(`5 of ${n} sensors`)",
        arg=SPACES_WITH_SENSORS,
    )
    # a space never heard is waiting, not hatched unknown, during the warm period
    assert desktop.get_attribute(sel("f2-a-d010"), "data-state") == "waiting"


def test_plan_image_is_drawn_under_the_spaces(desktop: Page, api: LiveApi) -> None:
    desktop.wait_for_selector("#plan image.backdrop")
    href = desktop.get_attribute("#plan image.backdrop", "href") or ""
    assert href.startswith("blob:")
    # 0.05 m/px with the origin at (40, 40) px: the image starts 2 m before the plan
    attrs = desktop.eval_on_selector(
        "#plan image.backdrop", "e => ['x','y','width','height'].map(a => +e.getAttribute(a))"
    )
    assert attrs == [-2, -2, 68, 28]
    # drawn first: walls lie under the zones and spaces
    first = desktop.evaluate("document.querySelector('#plan').firstElementChild.tagName")
    assert first == "image"
    resp = httpx.get(
        f"{api.base_url}/v1/sites/virastotalo/floors/f2/plan",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in resp.headers["content-security-policy"]
    assert httpx.get(f"{api.base_url}/v1/sites/virastotalo/floors/f2/plan").status_code == 401


def test_zoom_by_buttons_keys_wheel_and_drag(desktop: Page) -> None:
    base = scale(desktop)
    desktop.click("#zoom-in")
    assert scale(desktop) == pytest.approx(base * 1.4, rel=1e-3)
    desktop.focus(sel("f2-a-d001"))
    desktop.keyboard.press("-")
    assert scale(desktop) == pytest.approx(base, rel=1e-3)
    desktop.keyboard.press("+")
    desktop.keyboard.press("+")
    assert scale(desktop) == pytest.approx(base * 1.96, rel=1e-3)
    before = desktop.get_attribute("#plan", "viewBox")
    desktop.keyboard.press("Shift+ArrowRight")
    assert desktop.get_attribute("#plan", "viewBox") != before
    box = desktop.locator("#plan").bounding_box()
    assert box is not None
    desktop.mouse.move(box["x"] + 300, box["y"] + 150)
    desktop.mouse.wheel(0, -300)
    assert scale(desktop) > base * 1.96 * 1.2
    before = desktop.get_attribute("#plan", "viewBox")
    desktop.mouse.down()
    desktop.mouse.move(box["x"] + 200, box["y"] + 120, steps=5)
    desktop.mouse.up()
    assert desktop.get_attribute("#plan", "viewBox") != before
    # a drag that ends on a space does not open it
    assert desktop.locator("#details[open]").count() == 0
    # zoomed in, the desks carry their numbers (d003 -> "3")
    assert desktop.text_content(f"{label('f2-a-d003')} .number") == "3"
    desktop.keyboard.press("0")
    assert scale(desktop) == pytest.approx(base, rel=1e-3)


def test_rooms_show_people_against_capacity_and_every_space_a_tooltip(desktop: Page) -> None:
    assert desktop.text_content(f"{label(ROOM)} .count") == "10/12"
    assert desktop.text_content(f"{label(ROOM)} .name") in ("Neuvotteluhuone Aalto 2", "Aalto 2")
    name = desktop.get_attribute(sel(ROOM), "aria-label") or ""
    assert "10/12" in name and "Aalto 2" in name
    # Saarinen 2 (3 m wide) gets its short name or, where it cannot fit, a tooltip
    titles = desktop.eval_on_selector_all(
        "#plan .space[role=button]",
        "els => els.filter(e => !e.querySelector('title').textContent).length",
    )
    assert titles == 0
    assert desktop.text_content(f"{label('f2-room-02')} .count") == "?/8"


def test_search_highlights_the_room(desktop: Page) -> None:
    desktop.fill("#search", "saarinen")
    desktop.wait_for_function("document.querySelector('#search-status').textContent.includes('3')")
    assert desktop.inner_text("#search-status") == "3 matches"
    assert desktop.locator("#plan .space.match").count() == 1
    assert "match" in (desktop.get_attribute(sel("f2-room-05"), "class") or "")
    # choosing a result on another floor goes there
    desktop.click('#search-results button[data-space="f3-room-05"]')
    desktop.wait_for_selector(f"{sel('f3-room-05')}.match")
    desktop.fill("#search", "")
    assert desktop.locator("#plan .space.match").count() == 0
    choose_floor(desktop, "f2")


def test_filters_by_type_zone_and_agency(desktop: Page) -> None:
    desktop.select_option("#filter-type", "meeting_room")
    assert "filtered" in (desktop.get_attribute(sel("f2-a-d001"), "class") or "")
    assert "filtered" not in (desktop.get_attribute(sel(ROOM), "class") or "")
    desktop.select_option("#filter-type", "")
    desktop.select_option("#filter-agency", "vero")
    # f2-a and f2-b are Verohallinto's, f2-c (desks and rooms) is shared
    dimmed = desktop.eval_on_selector_all(
        "#plan .space.filtered", "els => [...new Set(els.map(e => e.dataset.zone))].sort()"
    )
    assert dimmed == ["f2-c"]
    desktop.select_option("#filter-agency", "")
    desktop.select_option("#filter-zone", "f2-b")
    assert desktop.locator("#plan .space:not(.filtered)").count() == 24
    desktop.select_option("#filter-zone", "")
    assert desktop.locator("#plan .space.filtered").count() == 0


@pytest.mark.parametrize(
    ("lang", "three", "one", "floor", "zone"),
    [
        ("fi", "3 vapaata", "1 vapaa", "2. kerros", "Verohallinto, itäsiipi"),
        ("sv", "3 lediga", "1 ledig", "Våning 2", "Skatteförvaltningen, östra flygeln"),
        ("en", "3 free", "1 free", "Floor 2", "Tax, east wing"),
    ],
)
def test_plural_forms_and_translated_names(
    desktop: Page, artifacts: Path, lang: str, three: str, one: str, floor: str, zone: str
) -> None:
    set_lang(desktop, lang)
    assert floor_sub(desktop, "f2") == three
    assert floor_sub(desktop, "f3") == one
    assert desktop.inner_text('#floors input[value="f2"] ~ .seg-name') == floor
    assert zone in desktop.inner_text("#zone-rows")
    assert zone in desktop.eval_on_selector_all(
        "#plan .zone-name", "els => els.map(e => e.textContent)"
    )
    desktop.screenshot(path=str(artifacts / f"plan-desktop-{lang}.png"), animations="disabled")


def test_agency_key_is_told_which_floors_have_none_of_its_spaces(
    browser: Browser, api: LiveApi, artifacts: Path
) -> None:
    page = open_page(browser, api.page_url(api.keys["agency:vero"]))
    set_lang(page, "fi")
    # Verohallinto has zones on floor 2 only
    for floor in ("f1", "f3", "f4"):
        assert floor_sub(page, floor) == "ei tilojasi"
    set_lang(page, "en")
    assert floor_sub(page, "f3") == "no spaces of yours"
    choose_floor(page, "f3")
    assert "None of this floor's spaces" in page.inner_text("#floor-summary")
    assert "None of this floor's spaces" in page.inner_text("#zone-rows")
    page.screenshot(path=str(artifacts / "plan-agency-en.png"), animations="disabled")
    page.context.close()


def last_open_day(api: LiveApi) -> date:
    site = api.registry.site("virastotalo")
    day = datetime.now(site.tz).date() - timedelta(days=1)
    while not opening_intervals_on(site, day):
        day -= timedelta(days=1)
    return day


def write_day(api: LiveApi, day: date) -> None:
    """A hand-worked day in the store: hourly heartbeats 06:00-18:00 (interval
    1 h) for three spaces of floor 2, desk d001 occupied 09:00-11:00, d002
    10:00-10:30, room 01 13:00-15:00 with 5 people; nothing from the rest."""
    site = api.registry.site("virastotalo")
    spells = {"f2-a-d001": (9, 11, None), "f2-a-d002": (10, 10.5, None), ROOM: (13, 15, 5)}
    points = []
    seq = 0
    for space, (a, b, n) in spells.items():
        hours = [*range(6, 19), a, b]
        for h in sorted(set(hours)):
            seq += 1
            at = datetime.combine(day, time(0), tzinfo=site.tz) + timedelta(hours=h)
            occ = a <= h < b
            msg = Presence(
                space_id=space,
                agent_id="agent-f2",
                sensor_id=f"s-{space}",
                occupied=occ,
                people_count=(n if occ else 0) if n is not None else None,
                event_time=at.astimezone(UTC),
                seq=seq,
                kind=PresenceKind.HEARTBEAT,
                heartbeat_interval_s=3600,
            )
            points.append(presence_point(site, msg))
    api.app.state.ctx.store.write(points)


def test_replay_agrees_with_utilisation(desktop: Page, api: LiveApi, artifacts: Path) -> None:
    set_lang(desktop, "en")
    day = last_open_day(api)
    write_day(api, day)
    desktop.fill("#history-date", day.isoformat())
    desktop.click("#history-form button[type=submit]")
    desktop.wait_for_selector("#replay-banner:not([hidden])")
    # the slider starts at opening time, 07:00
    assert desktop.inner_text("#history-at") == "07:00"
    summary = desktop.locator("#history-summary")
    occupied = float(summary.get_attribute("data-occupied-s") or "nan")
    observed = float(summary.get_attribute("data-observed-s") or "nan")
    # by hand: 2 h + 0.5 h + 2 h occupied; 3 spaces heard all 11 opening hours
    assert occupied == 4.5 * 3600 and observed == 33 * 3600
    report = httpx.get(
        f"{api.base_url}/v1/sites/virastotalo/utilisation",
        params={"by": "floor", "from": day.isoformat(), "to": (day + timedelta(1)).isoformat()},
        headers={"Authorization": f"Bearer {api.key}"},
    ).json()
    f2 = next(r for r in report["rows"] if r["floor"] == "f2")
    assert f2["occupied_s"] == pytest.approx(occupied, abs=1e-3)
    assert f2["observed_s"] == pytest.approx(observed, abs=1e-3)

    def at(hours: float) -> None:
        desktop.eval_on_selector(
            "#history-time",
            "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }",
            str(int(hours * 3600)),
        )

    at(9.5)
    assert desktop.get_attribute(sel("f2-a-d001"), "data-state") == "occupied"
    assert desktop.get_attribute(sel("f2-a-d002"), "data-state") == "free"
    assert desktop.get_attribute(sel("f2-a-d010"), "data-state") == "unknown"
    at(10.25)
    assert desktop.get_attribute(sel("f2-a-d002"), "data-state") == "occupied"
    at(14)
    assert desktop.text_content(f"{label(ROOM)} .count") == "5/12"
    assert desktop.inner_text("#history-at") == "14:00"
    # playing moves the time on at the chosen speed (1 h of the day per second)
    desktop.select_option("#history-speed", "3600")
    desktop.click("#history-play")
    desktop.wait_for_function("document.querySelector('#history-at').textContent >= '15:00'")
    desktop.click("#history-play")
    desktop.screenshot(path=str(artifacts / "plan-replay-en.png"), animations="disabled")
    desktop.click("#history-live")
    desktop.wait_for_selector("#replay-banner[hidden]", state="attached")
    assert desktop.text_content(f"{label(ROOM)} .count") == "10/12"


def test_axe_finds_nothing_serious(desktop: Page) -> None:
    assert axe_serious(desktop) == []
    assert desktop.js_errors == []  # type: ignore[attr-defined]


def pinch_and_drag(page: Page) -> None:
    """Two fingers spread apart zoom in; one finger drags the plan (real touch
    events through the DevTools protocol, as a phone's screen sends them)."""
    cdp = page.context.new_cdp_session(page)
    page.locator("#plan").scroll_into_view_if_needed()
    box = page.locator("#plan").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
            },
        )

    before = scale(page)
    touch("touchStart", [(cx - 40, cy), (cx + 40, cy)])
    for step in range(1, 6):
        touch("touchMove", [(cx - 40 - 16 * step, cy), (cx + 40 + 16 * step, cy)])
    touch("touchEnd", [])
    # the fingers ended 3x as far apart as they started
    assert scale(page) == pytest.approx(before * 3, rel=0.05)
    view = page.get_attribute("#plan", "viewBox")
    touch("touchStart", [(cx, cy)])
    for step in range(1, 6):
        touch("touchMove", [(cx - 12 * step, cy - 12 * step)])
    touch("touchEnd", [])
    assert page.get_attribute("#plan", "viewBox") != view
    assert page.locator("#details[open]").count() == 0


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_phone_targets_are_24_px_at_the_default_zoom(
    browser: Browser, api: LiveApi, artifacts: Path, lang: str
) -> None:
    page = open_page(browser, api.page_url(), width=390, height=844)
    set_lang(page, lang)
    choose_floor(page, "f2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sizes = page.eval_on_selector_all(
        "#plan .space[role=button] .box",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return Math.min(r.width, r.height); })",
    )
    assert len(sizes) == 91 and min(sizes) >= 24
    page.screenshot(
        path=str(artifacts / f"plan-phone-{lang}.png"), full_page=True, animations="disabled"
    )
    if lang == "en":
        pinch_and_drag(page)
        assert axe_serious(page) == []
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_snapshot_and_site_carry_translated_names(api: LiveApi) -> None:
    headers = {"Authorization": f"Bearer {api.key}"}
    live = httpx.get(f"{api.base_url}/v1/sites/virastotalo/live", headers=headers).json()
    assert live["names"]["floors"]["f2"] == {"fi": "2. kerros", "sv": "Våning 2", "en": "Floor 2"}
    assert live["names"]["zones"]["f2-a"]["en"] == "Tax, east wing"
    site = httpx.get(f"{api.base_url}/v1/sites/virastotalo", headers=headers).json()
    room = next(s for s in site["spaces"] if s["id"] == ROOM)
    assert (room["name_sv"], room["name_en"]) == ("Mötesrum Aalto 2", "Meeting room Aalto 2")
    assert json.dumps(site).count('"file"') == 0  # the image's path on the server stays private


def test_replay_and_search_helpers_on_hand_made_cases(desktop: Page) -> None:
    got = desktop.evaluate(
        """async () => {
          const h = await import('./history.js');
          const f = await import('./filters.js');
          const p = await import('./plan.js');
          const iv = [[0, 100, 'free', null], [100, 250, 'occupied', 2],
                      [250, 400, 'unknown', null]];
          const data = {opening: [[50, 150], [200, 300]], spaces: {a: iv}};
          return {
            at: [0, 99.9, 100, 399, 400].map(t => h.intervalAt(iv, t)?.[2] ?? null),
            open: h.openSeconds(100, 250, data.opening),
            day: h.dayFigures(data, ['a']),
            fold: f.fold(' Östra FLYGELN '),
            found: f.searchSpaces(
              [{id: 'x1', name: 'Tyst rum'}, {id: 'x2', name: 'Mötesrum Saarinen'}],
              'saari', {spaceName: s => s.name}).map(s => s.id),
            clusters: p.clusters([{x: 0, y: 0, w: 1, h: 1}, {x: 1.5, y: 0, w: 1, h: 1},
                                  {x: 10, y: 0, w: 1, h: 1}]).map(b => [b.x, b.w, b.n]),
          };
        }"""
    )
    # 100..250 overlaps the opening windows for 50 s (100-150) and 50 s (200-250)
    assert got["at"] == ["free", "free", "occupied", "unknown", "unknown"]
    assert got["open"] == 100
    # occupied 100 s (as above); observed: free 50-100 (50 s) + occupied 100 s
    assert got["day"] == {"occupied": 100, "observed": 150}
    assert got["fold"] == "ostra flygeln"
    assert got["found"] == ["x2"]
    # two desks 0.5 m apart are one cluster; the one 7.5 m away is its own
    assert got["clusters"] == [[0, 2.5, 2], [10, 1, 1]]
