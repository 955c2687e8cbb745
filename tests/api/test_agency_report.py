"""The agency's report over the hand-worked day of tests/api/scenario.py
(Monday 2 November 2026 at the small site ``pieni``), worked out here:

November 2026 has 21 open days (weekdays; All Saints' Day fell on Saturday
31 October), 8 h each. Agency aa: 8 htv, desks a1..a5 (6 m² each) in zone za;
agency bb: 4 htv, desks b1, b2 in zb; zone zs (s1..s3, r1) is shared. Site
200 m², target 10 m²/htv.

* presence (docs/metrics.md "Agency presence and use rate"): the pool share
  goes by attributed desk time, aa a1 2 h + a2 8 h = 10 h, bb b1 2.5 h ->
  aa 0.8, bb 0.2 of the shared desks s1..s3 (r1 is a room). aa's daily peak
  on 2 Nov: a1 (09-11) and a2 -> 2 at 09:00 (12-13 a2 + 0.8 x s1 = 1.8 is
  less); bb: b1 + 0.2 x s1 at 12:00 -> 1.2. No desk was observed on the
  other 20 open days of the month (no points at all): they measure no
  presence and are left out, so aa's mean, p90 and max peak are all 2, use
  rate 2 / 8 = 0.25. Right-sizing: desks needed ceil(ceil(2) x 1.1) = 3;
  held 5 + 0.8 x 3 = 7.4, releasable floor(7.4 - 3) = 4.
* utilisation of za: (2 + 8) h occupied / (5 x 8 - 1.5) h observed = 10 / 38.5;
  of zs: (1 + 2) h / (4 x 8) h = 3 / 32; aa's coverage: 38.5 h observed of
  21 x 8 x 5 = 840 h opening.
* area: dedicated 30 m² (aa) + 12 m² (bb); the other 158 m² split by use
  (facility: aa 10 h, bb 2.5 h -> aa 0.8) -> 30 + 126.4 = 156.4 m², 19.55 m²/htv;
  for an agency key by headcount (8 / 12) -> 30 + 105.33 = 135.33 m², 16.917.
  The portfolio (one site) is 200 m² / 12 htv = 16.667 m²/htv.
* forecast of presence from 1 December (the day after the month; history the
  26 weeks before, with that period's pool share, here 0.8 again): one
  measured Monday, so every Monday of the 4 weeks ahead at 2; one day scores
  no interval, so the interval is the whole group, [0, 8 desks]: the most
  desks aa's presence can count, its own a1..a5 and the shared s1..s3.
"""

from __future__ import annotations

import io
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from api import portfolio
from api.agency_report import data as report_data
from api.agency_report.messages import LANGS, keys, t, translations
from api.routes import agency_report as agency_routes
from tests.api.conftest import Api

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
PATH = "/v1/agencies/aa/report"
AREA_FACILITY = 30 + 158 * 10 / 12.5
AREA_AGENCY = 30 + 158 * 8 / 12
MONDAYS = ["2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28"]


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agency_routes, "utcnow", lambda: NOW)
    portfolio.clear_cache()


def report(api: Api, role: str = "finance", **q: Any) -> dict[str, Any]:
    r = api.get(PATH, role, **{"month": "2026-11", **q})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_month_report_is_the_hand_worked_figures(sqlite_api: Api) -> None:
    body = report(sqlite_api, lang="en")
    assert body["agency"] == {"id": "aa", "name": "Agency A"}
    assert body["period"]["from"] == "2026-11-01" and body["period"]["to"] == "2026-12-01"
    (site,) = body["sites"]
    assert site["name"] == "Pieni toimisto" and site["timezone"] == "Europe/Helsinki"
    assert len(site["open_days"]) == 21
    fig = site["figures"]
    assert fig["headcount_htv"] == 8 and fig["desks"] == 5
    assert fig["area_m2"] == pytest.approx(AREA_FACILITY)
    assert fig["m2_per_htv"] == pytest.approx(AREA_FACILITY / 8)
    assert fig["target_m2_per_htv"] == 10 and fig["meets_target"] is False
    # one open day (2 November) has observations: the other 20 are no
    # measurement of presence and are left out of the mean, p90 and max
    assert fig["peak_desks"] == 2 and fig["use_rate"] == pytest.approx(0.25)
    assert fig["use_rate_mean"] == pytest.approx(0.25) and fig["use_rate_p90"] == 0.25
    assert fig["use_rate_max"] == pytest.approx(0.25) and fig["open_days"] == 1
    assert fig["pool_share"] == pytest.approx(0.8) and fig["desks_held"] == pytest.approx(7.4)
    # keep ceil(ceil(2) x 1.1) = 3 desks; floor(7.4 - 3) = 4 releasable
    assert fig["desks_needed"] == 3 and fig["releasable_desks"] == 4
    assert fig["utilisation"] == pytest.approx(10 / 38.5)
    assert fig["coverage"] == pytest.approx(38.5 / 840)
    peaks = site["daily_peaks"]
    assert peaks == [{"day": "2026-11-02", "peak": 2, "peak_at_local": "09:00", "use_rate": 0.25}]
    # the one measured Monday, 2 November
    assert site["weekday_use"][0] == pytest.approx(
        {"weekday": 0, "days": 1, "peak_mean": 2.0, "use_rate_mean": 0.25}
    )
    zones = {z["zone"]: z for z in site["zones"]}
    assert set(zones) == {"za", "zs"} and zones["zs"]["shared"] and not zones["za"]["shared"]
    assert zones["za"]["name"] == "A's zone" and zones["zs"]["name"] == "Shared"
    assert zones["za"]["utilisation"] == pytest.approx(10 / 38.5)
    assert zones["zs"]["utilisation"] == pytest.approx(3 / 32)
    fc = site["forecast"]
    assert fc["forecast_from"] == "2026-12-01" and fc["history_days_measured"] == 1
    # one measured day scores no interval: it is the whole group, [0, 5 own + 3 shared desks]
    assert fc["rows"] == [{"day": d, "forecast": 2.0, "lower": 0.0, "upper": 8.0} for d in MONDAYS]
    assert site["coverage"]["coverage"] == pytest.approx(38.5 / 840)
    assert len(site["coverage"]["days_from_raw"]) == 30  # nothing summarised in this store
    # one site: the total is the site; the portfolio is the whole site
    assert body["total"]["figures"]["m2_per_htv"] == pytest.approx(AREA_FACILITY / 8)
    assert body["total"]["daily_peaks"][0]["peak"] == 2
    whole = body["portfolio"]["figures"]
    assert whole["area_m2"] == 200 and whole["m2_per_htv"] == pytest.approx(200 / 12)
    assert body["energy"] is None


def test_trend_is_the_twelve_months_up_to_the_month(sqlite_api: Api) -> None:
    trend = report(sqlite_api)["trend"]
    assert [r["month"] for r in trend] == ["2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]
    measured = [r for r in trend if r["measured"]]
    assert [r["month"] for r in measured] == ["2026-11"]
    assert measured[0]["m2_per_htv"] == pytest.approx(AREA_FACILITY / 8)
    assert measured[0]["use_rate"] == pytest.approx(0.25)
    # nobody measured: the shared area goes by headcount (registry figures only)
    assert trend[0]["m2_per_htv"] == pytest.approx(AREA_AGENCY / 8)
    assert all(r["portfolio_m2_per_htv"] == pytest.approx(200 / 12) for r in trend)


def test_year_report(sqlite_api: Api) -> None:
    r = sqlite_api.get(PATH, "finance", year=2026)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["months"] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [x["month"] for x in body["trend"]] == body["period"]["months"]
    (site,) = body["sites"]
    assert site["figures"]["peak_desks"] == 2
    assert site["open_days"][0] == "2026-01-02" and site["open_days"][-1] == "2026-12-03"
    assert site["forecast"]["forecast_from"] == "2026-12-03"  # the year is still running


def test_agency_key_sees_its_own_report_only(sqlite_api: Api) -> None:
    body = report(sqlite_api, "agency:aa")
    (site,) = body["sites"]
    # the shared area by headcount; the portfolio's occupancy figures hidden
    assert site["figures"]["m2_per_htv"] == pytest.approx(AREA_AGENCY / 8)
    assert site["figures"]["use_rate"] == pytest.approx(0.25)
    whole = body["portfolio"]["figures"]
    assert whole["m2_per_htv"] == pytest.approx(200 / 12)
    assert whole["use_rate"] is None and whole["utilisation"] is None
    # zs (4 spaces) is shared and smaller than min_group_spaces (5): not shown
    assert [z["zone"] for z in site["zones"]] == ["za"]
    assert body["meta"]["agency_key"] is True
    for role, agency, status in [
        ("agency:bb", "aa", 403),
        ("agency:aa", "bb", 403),
        ("agency:aa", "zz", 403),  # no telling which agencies exist
        ("finance", "zz", 404),
    ]:
        r = sqlite_api.get(f"/v1/agencies/{agency}/report", role, month="2026-11")
        assert r.status_code == status, (role, agency, r.text)
    r = sqlite_api.get("/v1/agencies/aa/report", "agency:bb", month="2026-11", format="pdf")
    assert r.status_code == 403
    r = sqlite_api.get("/v1/agencies/bb/report", "agency:bb", month="2026-11")
    assert r.status_code == 200
    bb = r.json()["sites"][0]["daily_peaks"][0]
    assert bb["peak"] == pytest.approx(1.2) and bb["peak_at_local"] == "12:00"
    assert [a["id"] for a in sqlite_api.get("/v1/agencies", "agency:aa").json()] == ["aa"]
    assert [a["id"] for a in sqlite_api.get("/v1/agencies", "facility").json()] == ["aa", "bb"]


@pytest.mark.parametrize(
    "q",
    [{}, {"month": "2026-11", "year": 2026}, {"month": "2026-13"}, {"year": 1800}],
)
def test_bad_periods_are_refused(sqlite_api: Api, q: dict[str, Any]) -> None:
    r = sqlite_api.get(PATH, "finance", **q)
    assert r.status_code == 422, r.text


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# m²/htv 19.55; the use rates of the one measured day: mean, p90 and highest
# 25 %; desks held 7.4; the margin 10 % in the footnote
NUMBERS = {
    "fi": ("19,6", "25,0 %", "7,4", "10,0 %"),
    "sv": ("19,6", "25,0 %", "7,4", "10,0 %"),
    "en": ("19.6", "25.0 %", "7.4", "10.0 %"),
}
MONTHS = {"fi": "marraskuu 2026", "sv": "november 2026", "en": "November 2026"}


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_text_in_each_language(sqlite_api: Api, lang: str) -> None:
    r = sqlite_api.get(PATH, "finance", month="2026-11", lang=lang, format="pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f"agency-report-aa-2026-11-{lang}.pdf" in r.headers["content-disposition"]
    text = " ".join(_pdf_text(r.content).split()).replace("\xa0", " ")
    headings = ("title", "h.summary", "h.daily", "h.weekday", "h.zones", "h.trend", "h.forecast")
    for key in (*headings, "h.coverage", "h.definitions", "f.m2_per_htv", "f.use_rate_mean"):
        assert t(lang, key) in text, (lang, key)
    assert "Agency A" in text and "Pieni toimisto" in text and MONTHS[lang] in text
    for number in NUMBERS[lang]:
        assert number in text, (lang, number)
    for key in ("f.use_rate_p90", "f.use_rate_max", "f.desks_needed", "f.desks_held"):
        assert t(lang, key) in text, (lang, key)
    assert "Europe/Helsinki" in text
    other = {"fi": "Agency premises report", "sv": "Viraston tilaraportti", "en": "Lokalrapport"}
    assert other[lang] not in text


def test_messages_exist_in_every_language_with_the_same_fields() -> None:
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key in keys():
        texts = translations(key)
        assert len(texts) == len(LANGS) and all(texts), key
        assert fields(texts[1]) == fields(texts[0]) == fields(texts[2]), key


def test_an_extra_section_reaches_the_json_and_the_pdf(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def energy(rep: dict[str, Any], pf: Any, principal: Any) -> dict[str, Any]:
        return {"kwh": 123, "sites": len(rep["sites"])}

    monkeypatch.setitem(report_data.SECTIONS, "energy", energy)
    assert report(sqlite_api)["energy"] == {"kwh": 123, "sites": 1}
    r = sqlite_api.get(PATH, "finance", month="2026-11", lang="en", format="pdf")
    text = _pdf_text(r.content)
    assert "Energy" in text and "kwh: 123" in text


def test_page_catalogues_have_every_text_in_every_language() -> None:
    """The page's texts (api/ui/i18n/agency/*.json): the same keys and
    placeholders in each language, and every key the page's scripts use."""
    import json
    import re
    from pathlib import Path

    ui = Path(__file__).resolve().parents[2] / "api" / "ui"
    cats = {
        lang: json.loads((ui / "i18n" / "agency" / f"{lang}.json").read_text()) for lang in LANGS
    }
    assert cats["fi"].keys() == cats["sv"].keys() == cats["en"].keys()
    for key in cats["en"]:
        fields = [set(re.findall(r"\{(\w+)\}", cats[lang][key])) for lang in LANGS]
        assert fields[0] == fields[1] == fields[2], key
    used = set()
    for script in (ui / "agency").glob("*.js"):
        used |= set(re.findall(r"""t\(\s*[`"'](ag_[a-z0-9_]+)""", script.read_text()))
    html = (ui / "agency.html").read_text()
    used |= set(re.findall(r'data-i18n(?:-attr)?="(?:[a-z-]+:)?(ag_[a-z0-9_]+)"', html))
    prefixes = {k for k in used if k.endswith("_")}  # `ag_f_${column}`: keys made at run time
    assert all(any(k.startswith(p) for k in cats["en"]) for p in prefixes)
    assert used and used - prefixes - set(cats["en"]) == set()


# ---- an agency at two sites -------------------------------------------------------
# A second site "toinen", a copy of pieni holding the same measured day, with
# aa at 2 htv (bb at 4) and a target of 12 m²/htv. Per site the figures are
# pieni's but for the headcount: aa's area there is the same 156.4 m² (the
# same use), so 78.2 m²/htv. In total: peaks 2 + 2 = 4 desks on 2 November
# over 8 + 2 = 10 htv -> use rate 0.4; area 312.8 m² / 10 htv = 31.28 m²/htv;
# target weighted by headcount (8 x 10 + 2 x 12) / 10 = 10.4. The portfolio:
# 400 m² / 18 htv.
@pytest.fixture
def two_sites(tmp_path: Any) -> Any:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_key
    from api.config import ApiSettings
    from api.records import make_engine, make_sessionmaker
    from core.registry import Registry, Site, load_site
    from storage import StoreSettings, open_store
    from tests.api import scenario
    from tests.api.conftest import SMALL_SITE

    pieni = load_site(SMALL_SITE)
    data = pieni.model_dump(mode="python")
    for a in data["agencies"]:
        a["headcount_htv"] = {"aa": 2, "bb": 4}[a["id"]]
    data.update(id="toinen", name="Toinen toimisto", name_sv="Andra kontoret",
                name_en="Second office", target_m2_per_htv=12)  # fmt: skip
    toinen = Site.model_validate(data)
    settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    store = open_store(settings)
    store.write(scenario.points(pieni) + scenario.points(toinen))
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {r: create_key(session, role=r, name=r) for r in ("finance", "agency:aa")}
    app = create_app(
        ApiSettings(
            registry=SMALL_SITE,
            store=settings,
            records_url=records,
            broker_url=None,
            rollup_interval_s=0,
            feeds_poll_interval_s=0,
        ),
        registry=Registry({"pieni": pieni, "toinen": toinen}),
        store=store,
    )
    with TestClient(app) as client:
        yield Api(client, keys, pieni, store)
    store.close()


def test_an_agency_at_two_sites_gets_each_site_and_the_total(two_sites: Api) -> None:
    body = report(two_sites, lang="sv")
    assert [s["name"] for s in body["sites"]] == ["Pieni toimisto", "Andra kontoret"]
    pieni, toinen = body["sites"]
    assert pieni["figures"]["m2_per_htv"] == pytest.approx(AREA_FACILITY / 8)
    assert toinen["figures"]["m2_per_htv"] == pytest.approx(AREA_FACILITY / 2)
    assert toinen["figures"]["target_m2_per_htv"] == 12
    assert toinen["daily_peaks"][0]["use_rate"] == pytest.approx(1.0)  # 2 desks, 2 htv
    total = body["total"]
    assert total["headcount_htv"] == 10
    assert total["daily_peaks"][0] == {
        "day": "2026-11-02",
        "peak": 4,
        "peak_at_local": None,
        "use_rate": pytest.approx(0.4),
    }
    assert len(total["daily_peaks"]) == 1  # the one day with observations
    fig = total["figures"]
    assert fig["sites"] == 2 and fig["peak_desks"] == 4
    assert fig["use_rate"] == pytest.approx((2 + 2) / 10)
    assert fig["use_rate_max"] == pytest.approx(0.4)
    assert fig["m2_per_htv"] == pytest.approx(2 * AREA_FACILITY / 10)
    assert fig["target_m2_per_htv"] == pytest.approx(10.4)
    assert body["portfolio"]["sites"] == 2
    assert body["portfolio"]["figures"]["m2_per_htv"] == pytest.approx(400 / 18)
    r = two_sites.get(PATH, "agency:aa", month="2026-11", lang="en", format="pdf")
    assert r.status_code == 200
    text = _pdf_text(r.content)
    assert "Site: Pieni toimisto" in text and "Site: Second office" in text
    assert t("en", "h.daily_total") in text


@pytest.mark.parametrize(
    ("values", "integer", "want"),
    [
        ([52], True, (60, 3)),  # 52 x 1.05 = 54.6: three steps of 20
        ([2], True, (3, 3)),  # room above a peak of 2; whole desks only
        ([0], True, (1, 1)),
        ([9], True, (10, 5)),
        ([19.55, 16.7], False, (25, 5)),  # 20.5: five steps of 5
    ],
)
def test_chart_axis_is_round(values: list[float], integer: bool, want: tuple[int, int]) -> None:
    from api.agency_report.charts import axis

    top, steps = axis(values, integer=integer)
    assert (top, steps) == (pytest.approx(want[0]), want[1])


def test_the_same_report_gives_the_same_pdf(sqlite_api: Api) -> None:
    from api.agency_report.pdf import render_pdf

    body = report(sqlite_api)
    assert render_pdf(body, lang="sv") == render_pdf(body, lang="sv")
    with pytest.raises(ValueError, match="unknown language 'de'"):
        render_pdf(body, lang="de")


# ---- a booking and the shared pool ------------------------------------------------
# On top of the scenario: s2 (shared) booked for aa 09:00-11:00 and occupied
# 09:15-09:45 (aa's, by the booking); s3 (shared, unbooked) occupied
# 09:20-09:40 (the pool). No whole hour inside either spell, so the hourly
# heartbeats (free) do not cut them. Attributed desk time: aa 2 + 8 + 0.5 =
# 10.5 h, bb 2.5 h -> pool shares aa 10.5 / 13 = 21/26, bb 5/26.
# aa on 2 Nov, 09:20-09:40: a1, a2, s2 (A = 3) and s3 in the pool (P = 1) ->
# 3 + 21/26 = 99/26 at 09:20 (12-13: 1 + 21/26 is less). bb: b1 + 5/26 x s1
# at 12:00 -> 31/26. Over the 21 open days aa's use rate: mean 99/26 / 21 / 8,
# p90 0, max 99/26 / 8; desks held 5 + 3 x 21/26 = 193/26 = 7.42, needed
# ceil(ceil(0) x 1.1) = 0, releasable floor(7.42) = 7.
def _book_and_sit(api: Api) -> None:
    from core.messages import Presence
    from storage.points import presence_point
    from tests.api.scenario import local

    r = api.post(
        "/v1/sites/pieni/bookings",
        "facility",
        json={"space": "s2", "agency": "aa", "id": "bk1",
              "start": "2026-11-02T09:00:00+02:00", "end": "2026-11-02T11:00:00+02:00"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    points = []
    for n, (space, h, occupied) in enumerate(
        [
            ("s2", 9.25, True),
            ("s2", 9.75, False),
            ("s3", 20 / 60 + 9, True),
            ("s3", 9 + 40 / 60, False),
        ]
    ):
        msg = Presence(space_id=space, agent_id="ag", sensor_id=f"s-{space}", occupied=occupied,
                       event_time=local(h), seq=1000 + n, kind="change",
                       heartbeat_interval_s=3600)  # fmt: skip
        points.append(presence_point(api.site, msg))
    api.store.write(points)


def test_presence_counts_a_booking_and_the_pool_share(sqlite_api: Api) -> None:
    _book_and_sit(sqlite_api)
    body = report(sqlite_api, lang="en")
    (site,) = body["sites"]
    fig = site["figures"]
    assert fig["pool_share"] == pytest.approx(21 / 26)
    assert site["daily_peaks"][0] == {
        "day": "2026-11-02",
        "peak": pytest.approx(99 / 26),
        "peak_at_local": "09:20",
        "use_rate": pytest.approx(99 / 26 / 8),
    }
    # one day with observations: mean = p90 = highest
    assert fig["use_rate_mean"] == pytest.approx(99 / 26 / 8)
    assert fig["use_rate_p90"] == pytest.approx(99 / 26 / 8)
    assert fig["use_rate_max"] == pytest.approx(99 / 26 / 8)
    assert fig["desks_held"] == pytest.approx(193 / 26)
    # keep ceil(ceil(99/26 = 3.81) x 1.1 = 4.4) = 5; floor(193/26 - 5 = 2.42) = 2
    assert fig["desks_needed"] == 5 and fig["releasable_desks"] == 2
    # the one measured Monday
    assert site["weekday_use"][0]["use_rate_mean"] == pytest.approx(99 / 26 / 8)
    # the forecast is of presence, from the 26 weeks before 1 December, whose
    # pool share is November's (only 2 November has points): every Monday
    # 99/26 = 3.808 (of aa's own desks alone it would be 2), in [0, 8]
    fc = site["forecast"]
    assert fc["history_days_measured"] == 1
    assert fc["rows"] == [
        {"day": d, "forecast": 3.808, "lower": 0.0, "upper": 8.0} for d in MONDAYS
    ]
    bb = sqlite_api.get("/v1/agencies/bb/report", "finance", month="2026-11").json()
    assert bb["sites"][0]["daily_peaks"][0]["peak"] == pytest.approx(31 / 26)
    # bb: b1 + 5/26 x s1 = 31/26 = 1.192, in [0, 2 own + 3 shared desks]
    assert bb["sites"][0]["forecast"]["rows"][0] == {
        "day": MONDAYS[0],
        "forecast": 1.192,
        "lower": 0.0,
        "upper": 5.0,
    }


def test_the_report_figures_are_those_of_efficiency(sqlite_api: Api) -> None:
    """The report's figures and its daily peaks against the site's
    ``/efficiency`` for the same month: the same mean, p90 and max."""
    import numpy as np

    _book_and_sit(sqlite_api)
    (site,) = report(sqlite_api)["sites"]
    r = sqlite_api.get("/v1/sites/pieni/efficiency", "finance", month="2026-11")
    assert r.status_code == 200, r.text
    rows = r.json()
    rows = rows["rows"] if isinstance(rows, dict) else rows
    (eff,) = [row for row in rows if row["agency"] == "aa"]
    columns = ("open_days", "pool_share", "desks_held", "peak_presence_mean", "peak_presence_p90",
               "peak_presence_max", "use_rate", "use_rate_mean", "use_rate_p90", "use_rate_max",
               "desks_needed", "releasable_desks", "releasable_m2")  # fmt: skip
    for c in columns:
        assert site["figures"][c] == pytest.approx(eff[c]), c
    peaks = np.array([d["peak"] for d in site["daily_peaks"]])
    assert len(peaks) == eff["open_days"]
    assert peaks.mean() == pytest.approx(eff["peak_presence_mean"])
    assert np.quantile(peaks, 0.9) == pytest.approx(eff["peak_presence_p90"])
    assert peaks.max() == pytest.approx(eff["peak_presence_max"])
    rates = [d["use_rate"] for d in site["daily_peaks"]]
    assert sum(rates) / len(rates) == pytest.approx(eff["use_rate_mean"])
