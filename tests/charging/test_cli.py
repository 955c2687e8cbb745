"""``occupancy charges`` end to end: presence points in a real store (SQLite file
and the real InfluxDB server) -> state intervals -> the hand-worked November.

The points are the events behind test_hand_month's intervals: a message per
change, with a heartbeat interval (``hb``) long enough that no silence arises,
except b1's, which goes silent on purpose to make its unknown spell.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from charging.cli import app
from core.registry import Site
from core.timeutil import to_ns
from storage import StoreSettings, open_store
from storage.base import CHARGES, PRESENCE, FieldValue, Point
from tests.charging.conftest import DATA
from tests.charging.spells import local

LONG_HB = 40 * 86_400.0  # longer than the month: never silent

# (space, local day, HH:MM, occupied, hb)
EVENTS = [
    *[(s, "2026-10-31", "23:00", 0, LONG_HB) for s in ("a1", "a2", "b1", "m1", "s1")],
    ("a1", "2026-11-02", "08:00", 1, LONG_HB),
    ("a1", "2026-11-02", "12:00", 0, LONG_HB),
    ("a1", "2026-11-03", "09:00", 1, LONG_HB),
    ("a1", "2026-11-03", "10:00", 0, LONG_HB),
    ("b1", "2026-11-02", "10:00", 1, LONG_HB),
    ("b1", "2026-11-02", "13:00", 0, LONG_HB),
    # silent after 2.5 x 24 s = 60 s: unknown from 16.11 00:00 until the next message
    ("b1", "2026-11-15", "23:59", 0, 24.0),
    ("b1", "2026-11-28", "00:00", 0, LONG_HB),
    ("m1", "2026-11-04", "09:10", 1, LONG_HB),
    ("m1", "2026-11-04", "11:30", 0, LONG_HB),
    ("m1", "2026-11-06", "10:05", 1, LONG_HB),
    ("m1", "2026-11-06", "10:50", 0, LONG_HB),
    ("s1", "2026-11-09", "08:00", 1, LONG_HB),
    ("s1", "2026-11-09", "10:00", 0, LONG_HB),
    ("s1", "2026-11-09", "17:00", 1, LONG_HB),
    ("s1", "2026-11-09", "18:00", 0, LONG_HB),
]

BOOKINGS_CSV = """booking_id,space_id,agency_id,start,end,title
k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,Tiimipalaveri
k2,m1,bb,2026-11-05T13:00:00+02:00,2026-11-05T14:00:00+02:00,Asiakastapaaminen
k3,m1,aa,2026-11-06T10:00:00+02:00,2026-11-06T11:00:00+02:00,Suunnittelu
"""


def presence_points(site: Site) -> list[Point]:
    points = []
    for seq, (space, day, hhmm, occupied, hb) in enumerate(EVENTS):
        fields: dict[str, FieldValue] = {
            "occupied": occupied,
            "seq": seq,
            "sensor": f"s-{space}",
            "agent": "agent-1",
            "kind": "change",
            "hb": hb,
        }
        points.append(Point(PRESENCE, site.space_tags(space), fields, to_ns(local(day, hhmm))))
    return points


@pytest.fixture(params=["sqlite", "influx"])
def store_args(request: pytest.FixtureRequest, tmp_path: Path, pieni: Site) -> list[str]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path / 'store.db'}")
    else:
        server = request.getfixturevalue("influx")
        settings = StoreSettings(url=server.url, database=f"test_{uuid.uuid4().hex[:12]}")
    with open_store(settings) as store:
        store.write(presence_points(pieni))
    return ["--store-url", settings.url, "--store-database", settings.database]


def run(args: list[str]):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_charges_from_the_store_match_the_hand_worked_month(
    store_args: list[str], tmp_path: Path
) -> None:
    bookings = tmp_path / "bookings.csv"
    bookings.write_text(BOOKINGS_CSV)
    common = [
        "--site",
        str(DATA / "pieni.yaml"),
        "--month",
        "2026-11",
        "--tariffs",
        str(DATA / "pieni-tariff.yaml"),
        "--bookings",
        str(bookings),
        *store_args,
    ]
    result = run([*common, "--format", "json", "--write-points"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert {a["agency"]: a["amount_eur"] for a in d["agencies"]} == {
        "aa": "4101.49",
        "bb": "3235.31",
        "cc": "2663.20",
    }
    bb_desk = next(x for x in d["lines"] if (x["agency"], x["line"]) == ("bb", "desk"))
    assert (bb_desk["coverage"], bb_desk["estimated"]) == ("0.7619", True)
    assert [n["booking_id"] for n in d["no_shows"]] == ["k2"]

    # the charges measurement is in the store for Grafana
    url = store_args[1]
    with open_store(StoreSettings(url=url, database=store_args[3])) as store:
        got = store.read(
            CHARGES,
            start=local("2026-11-01", "00:00"),
            end=local("2026-11-02", "00:00"),
            where={"site": "pieni"},
        )
    assert len(got) == 9
    assert round(float(got["amount_eur"].sum()), 2) == 10000.00

    # a rerun gives the same bytes; a PDF statement for one agency is written
    again = run([*common, "--format", "json"])
    assert again.stdout == result.stdout
    out = tmp_path / "bb.pdf"
    api = ["--api-url", "https://tilat.example.fi"]
    pdf = run(
        [*common, "--format", "pdf", "--agency", "bb", "--lang", "sv", *api, "--out", str(out)]
    )
    assert pdf.exit_code == 0, pdf.output
    assert out.read_bytes().startswith(b"%PDF-")
    from pypdf import PdfReader

    reader = PdfReader(out)
    uris = [a.get_object()["/A"]["/URI"] for p in reader.pages for a in p.get("/Annots", [])]
    assert "https://tilat.example.fi/v1/sites/pieni/charges/2026-11?agency=bb" in uris
    first = reader.pages[0].extract_text().replace("\xa0", " ")
    assert "Användningsbaserad debitering november 2026" in first
    assert "Att betala: 3 235,31 EUR" in first

    # CSV: the Finnish default (semicolon, decimal comma, BOM) and plain RFC 4180
    fi_csv = run([*common, "--format", "csv", "--agency", "bb"])
    assert fi_csv.stdout.startswith("\ufeffsite;month;agency;line;")
    assert ";bb;desk;" in fi_csv.stdout and ";1427,98;" in fi_csv.stdout
    plain = run([*common, "--format", "csv", "--agency", "bb", "--csv-dialect", "rfc4180"])
    assert plain.stdout.startswith("site,month,agency,line,") and ",1427.98," in plain.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (["--month", "2026-13"], "month '2026-13' is not like 2026-11"),
        (["--format", "docx"], "unknown --format 'docx'"),
        (["--format", "pdf"], "--format pdf is binary: give --out FILE"),
        (["--agency", "vero"], "unknown --agency 'vero'"),
        (["--lang", "de"], "unknown --lang 'de': use one of fi, sv, en"),
        (["--csv-dialect", "excel"], "unknown --csv-dialect 'excel': use one of locale, rfc4180"),
        (["--bookings", "BAD"], "booking 'k9' (csv:bad.csv:2): unknown space 'zz9'"),
        (["--tariffs", "BADTARIFF"], "tariff.yaml:1: colour: unknown key 'colour'"),
        (["--store-url", "mysql://x"], "store settings:"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, change: list[str], expected: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "booking_id,space_id,agency_id,start,end,title\n"
        "k9,zz9,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,x\n"
    )
    bad_tariff = tmp_path / "tariff.yaml"
    bad_tariff.write_text("colour: red\n" + (DATA / "pieni-tariff.yaml").read_text())
    args = {
        "--site": str(DATA / "pieni.yaml"),
        "--month": "2026-11",
        "--tariffs": str(DATA / "pieni-tariff.yaml"),
        "--store-url": f"sqlite:///{tmp_path / 's.db'}",
        "--format": "csv",
    }
    key, value = change
    args[key] = {"BAD": str(bad), "BADTARIFF": str(bad_tariff)}.get(value, value)
    flat = [x for kv in args.items() for x in kv]
    result = run(flat)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_an_empty_store_charges_by_headcount_and_warns(tmp_path: Path) -> None:
    # Nothing observed: cost 10 000.00 by headcount 10:6:4.
    open_store(StoreSettings(url=f"sqlite:///{tmp_path / 'empty.db'}")).close()
    result = run(
        [
            "--site",
            str(DATA / "pieni.yaml"),
            "--month",
            "2026-11",
            "--tariffs",
            str(DATA / "pieni-tariff.yaml"),
            "--store-url",
            f"sqlite:///{tmp_path / 'empty.db'}",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert [a["amount_eur"] for a in d["agencies"]] == ["5000.00", "3000.00", "2000.00"]
    assert "warning: no presence data for pieni in 2026-11" in result.stderr


def _args(tmp_path: Path, month: str, store: str) -> list[str]:
    return [
        "--site",
        str(DATA / "pieni.yaml"),
        "--month",
        month,
        "--tariffs",
        str(DATA / "pieni-tariff.yaml"),
        "--store-url",
        store,
        "--format",
        "json",
    ]


def test_a_missing_store_file_is_an_error_naming_it_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "x" / "nope.db"
    result = run(_args(tmp_path, "2026-11", f"sqlite:///{missing}"))
    assert result.exit_code == 2
    assert f"no store at {missing}: the file does not exist (check --store-url)" in result.stderr
    assert not missing.exists() and not missing.parent.exists()
    assert result.stdout == ""


def test_a_future_month_is_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    open_store(StoreSettings(url=store)).close()
    result = run(_args(tmp_path, "2099-05", store))
    assert result.exit_code == 2
    assert "2099-05 has not begun at pieni" in result.stderr
    assert "a future month cannot be charged" in result.stderr


def test_the_month_in_progress_is_provisional_and_pro_rata(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    open_store(StoreSettings(url=store)).close()
    month = datetime.now(ZoneInfo("Europe/Helsinki")).strftime("%Y-%m")
    result = run(_args(tmp_path, month, store))
    assert result.exit_code == 0, result.output
    assert f"provisional: {month} is in progress" in result.stderr
    d = json.loads(result.stdout)
    assert d["provisional"] is True
    share = Decimal(d["elapsed_share"])
    assert 0 <= share < 1
    # the cost is the elapsed share of the month's 10 000.00, never all of it
    assert abs(Decimal(d["totals"]["cost_eur"]) - 10000 * share) <= Decimal("0.01")
