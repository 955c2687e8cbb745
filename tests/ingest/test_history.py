"""``occupancy import`` on the shape of a public data set, into both stores.

The file has the columns of the UCI "Occupancy Detection" data set (date,
Temperature, Humidity, Light, CO2, HumidityRatio, Occupancy: a naive local
timestamp per minute and occupancy 0/1), generated here for one meeting room
on Monday 2026-03-02 (Helsinki, opening hours 08:00-16:00), with bad rows
mixed in. The utilisation over the imported day is worked out by hand from
how the rows were made.
"""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, Site, load_site
from metrics.intervals import state_intervals
from occupancy import cli
from storage import StoreSettings, open_store
from storage.base import PRESENCE
from summaries.summariser import SummaryParams, refresh_site, site_status
from tests.api.conftest import SMALL_SITE
from tests.servers import InfluxServer

DAY = date(2026, 3, 2)  # a Monday; Helsinki is UTC+2 until 29 March
NOW = datetime(2026, 3, 10, tzinfo=UTC)
HEADER = ["date", "Temperature", "Humidity", "Light", "CO2", "HumidityRatio", "Occupancy"]


def occupied_at(t: datetime) -> int:
    """The room's occupancy per minute row (local wall time)."""
    hm = (t.hour, t.minute)
    return int((9, 0) <= hm < (11, 30) or (13, 0) <= hm < (14, 15) or (14, 50) <= hm <= (15, 0))


# By hand, inside 08:00-16:00 (28,800 s), with --heartbeat-s 60 --max-gap-s 300:
# occupied 09:00-11:30 (9,000 s) and 13:00-14:15 (4,500 s); the 15:00 row
# (occupied) is followed by a 30-minute gap in the file, longer than the
# 300 s limit, so its state holds 2.5 x 60 s = 150 s (14:50-15:02:30 is
# 750 s occupied) and 15:02:30-15:30 (1,650 s) is unknown.
OCCUPIED_S = 9_000 + 4_500 + 750
UNKNOWN_S = 1_650
OBSERVED_S = 28_800 - UNKNOWN_S
UTILISATION = OCCUPIED_S / OBSERVED_S


def uci_rows() -> list[list[str]]:
    rows = []
    t = datetime(2026, 3, 2, 7, 0)
    while t <= datetime(2026, 3, 2, 17, 0):
        if not (datetime(2026, 3, 2, 15, 1) <= t < datetime(2026, 3, 2, 15, 30)):
            occ = occupied_at(t)
            rows.append(
                [t.strftime("%Y-%m-%d %H:%M:%S"), "21.5", "27.2", str(400 * occ), "600", "0.0048",
                 str(occ)]
            )  # fmt: skip
        t += timedelta(minutes=1)
    return rows


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(SMALL_SITE)


def write_uci(path: Path) -> dict[int, str]:
    """The CSV with bad rows spliced in; returns {line: what is wrong} (line 1
    is the header, so data row i is line i + 2)."""
    rows = uci_rows()
    bad = {
        5: ["2026-03-02 07:03:30", "21", "27", "0", "600", "0.0048", "2"],  # not 0/1
        40: ["2026-03-02 25:00:00", "21", "27", "0", "600", "0.0048", "0"],  # no such hour
        80: ["2099-01-01 00:00:00", "21", "27", "0", "600", "0.0048", "0"],  # future
        # the 10:00 row again with another state: a conflict (the first one stays)
        200: ["2026-03-02 10:00:00", "21", "27", "0", "600", "0.0048", "0"],
    }
    duplicate = rows[300]  # repeated exactly: skipped, not an error
    out, lines = [], {}
    for i, row in enumerate(rows):
        if i in bad:
            lines[len(out) + 2] = bad[i][-1] if i == 5 else bad[i][0]
            out.append(bad[i])
        out.append(row)
        if i == 300:
            out.append(duplicate)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(out)
    return lines


def run_import(*args: str) -> Any:
    runner = CliRunner()
    with (
        mock.patch("typer.testing._get_command", lambda _app: cli.build()),
        mock.patch("core.timeutil.utcnow", lambda: NOW),
    ):
        return runner.invoke(cli.app, ["import", *args], prog_name="occupancy")


def uci_args(csv_path: Path, store: StoreSettings, rejects: Path) -> list[str]:
    return [
        str(csv_path), "--site", str(SMALL_SITE), "--space", "r1",
        "--time-column", "date", "--occupied-column", "Occupancy",
        "--timezone", "Europe/Helsinki", "--heartbeat-s", "60", "--max-gap-s", "300",
        "--rejects", str(rejects), "--store-url", store.url, "--store-database", store.database,
    ]  # fmt: skip


@pytest.fixture(params=["sqlite", "influx"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSettings:
    if request.param == "sqlite":
        return StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    influx: InfluxServer = request.getfixturevalue("influx")
    return StoreSettings(url=influx.url, database=f"imp_{uuid.uuid4().hex[:8]}")


def utilisation_of_r1(site: Site, settings: StoreSettings, tmp: Path) -> tuple[dict, dict]:
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="t")
    api_settings = ApiSettings(
        registry=SMALL_SITE, store=settings, records_url=records, broker_url=None,
        rollup_interval_s=0, summaries_interval_s=0,
    )  # fmt: skip
    store = open_store(settings)
    try:
        app = create_app(api_settings, registry=Registry({site.id: site}), store=store)
        with TestClient(app) as client:
            r = client.get(
                f"/v1/sites/{site.id}/utilisation",
                params={"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat(),
                        "by": "space"},
                headers={"Authorization": f"Bearer {key}"},
            )  # fmt: skip
    finally:
        store.close()
    assert r.status_code == 200, r.text
    body = r.json()
    (row,) = [x for x in body["rows"] if x["space"] == "r1"]
    return row, body["meta"]


def test_uci_shaped_csv_good_bad_and_rerun(
    site: Site, store_settings: StoreSettings, tmp_path: Path
) -> None:
    csv_path = tmp_path / "datatraining.csv"
    bad_lines = write_uci(csv_path)
    good = len(uci_rows())
    params = SummaryParams()
    with open_store(store_settings) as store:  # the day is summarised (empty) first
        days = [DAY + timedelta(days=i) for i in range((NOW.date() - DAY).days)]
        refresh_site(store, site, params, days=days, now=NOW)
        assert site_status(store, site, params, now=NOW).dirty == []

    rejects = tmp_path / "rejects.csv"
    r = run_import(*uci_args(csv_path, store_settings, rejects))
    assert r.exit_code == 1, r.output
    assert f"imported {good} points" in r.output and "1 exact duplicate" in r.output
    assert "4 rows rejected" in r.output
    for line in bad_lines:
        assert f"line {line}:" in r.output
    with rejects.open() as fh:
        rejected = {int(row["line"]): row["reason"] for row in csv.DictReader(fh)}
    assert set(rejected) == set(bad_lines)
    reasons = [rejected[line] for line in sorted(bad_lines)]
    assert "'2' is neither occupied" in reasons[0]
    assert "is not ISO 8601" in reasons[1]
    assert reasons[2].startswith("future_time:")
    assert "already has another state" in reasons[3]

    with open_store(store_settings) as store:
        assert store.count(PRESENCE) == good
        assert site_status(store, site, params, now=NOW).dirty == [DAY]
    row, meta = utilisation_of_r1(site, store_settings, tmp_path)
    assert meta["stale_days"] == [DAY.isoformat()]  # the summary is old: raw is read
    assert row["occupied_s"] == pytest.approx(OCCUPIED_S)
    assert row["unknown_s"] == pytest.approx(UNKNOWN_S)
    assert row["observed_s"] == pytest.approx(OBSERVED_S)
    assert row["utilisation"] == pytest.approx(UTILISATION)

    # Again: the same points, nothing added; then summarised, the same figure.
    r = run_import(*uci_args(csv_path, store_settings, rejects))
    assert r.exit_code == 1 and f"imported {good} points" in r.output
    with open_store(store_settings) as store:
        assert store.count(PRESENCE) == good
        refresh_site(store, site, params, now=NOW)
    row2, meta2 = utilisation_of_r1(site, store_settings, tmp_path)
    assert meta2["days_from_summaries"] == 1 and not meta2["stale_days"]
    assert row2["utilisation"] == pytest.approx(UTILISATION)


def test_json_lines_by_sensor_with_offsets_dst_and_counts(site: Site, tmp_path: Path) -> None:
    lines = [
        {"t": "2026-03-02T08:00:00Z", "sensor": "s-a1", "state": "occupied", "n": 1},
        {"t": "2026-03-02T10:30:00+02:00", "sensor": "s-a1", "state": "free", "n": 0},
        {"t": "2026-03-02T12:00:00+02:00", "sensor": "s-a1", "state": "occupied", "n": 1},
        {"t": "2026-03-02T09:00:00Z", "sensor": "s-a1", "state": "occupied", "n": 1},
        {"t": "2026-03-02T08:00:00Z", "sensor": "s-b1", "state": "free"},
        {"t": "2026-03-02T08:00:00Z", "sensor": "nope", "state": "free"},  # line 6
        {"t": "2026-10-25T03:30:00", "sensor": "s-b1", "state": "free"},  # 7: repeated hour
        {"t": "2026-03-29T03:30:00", "sensor": "s-b1", "state": "free"},  # 8: skipped hour
        {"t": "2026-03-02T13:00:00Z", "sensor": "s-b1", "state": "occupied", "n": 1.5},  # 9
    ]
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + "not json\n")
    url = f"sqlite:///{tmp_path}/store.db"
    r = run_import(
        str(path), "--site", str(SMALL_SITE), "--sensor-column", "sensor",
        "--time-column", "t", "--occupied-column", "state", "--count-column", "n",
        "--timezone", "Europe/Helsinki", "--max-gap-s", "10800", "--store-url", url,
        "--rejects", str(tmp_path / "rej.csv"),
    )  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "imported 5 points" in r.output and "5 rows rejected" in r.output
    assert "line 6: sensor 'nope' is bound to no space" in r.output
    assert "line 7: time '2026-10-25T03:30:00' is ambiguous" in r.output
    assert "line 8: time '2026-03-29T03:30:00' does not exist" in r.output
    assert "line 9: n '1.5' is not a whole number" in r.output
    assert "line 10: not JSON" in r.output
    with open_store(StoreSettings(url=url)) as store:
        got = store.read(PRESENCE, start=datetime(2026, 3, 1, tzinfo=UTC),
                         end=datetime(2026, 3, 3, tzinfo=UTC), where={"space": "a1"})  # fmt: skip
    # a1 in time order: 08:00Z (line 1), 08:30Z (line 2), 09:00Z (line 4), 10:00Z (line 3)
    assert [str(t.time()) for t in got["time"]] == ["08:00:00", "08:30:00", "09:00:00", "10:00:00"]
    assert list(got["occupied"]) == [1, 0, 1, 1]
    assert list(got["seq"]) == [1, 2, 4, 3]
    assert list(got["kind"]) == ["change", "change", "change", "heartbeat"]
    # hb: the gap to the next row (all within 3 h), the last row the site's 3600 s
    assert list(got["hb"]) == [1800.0, 1800.0, 3600.0, 3600.0]
    assert list(got["sensor"]) == ["s-a1"] * 4 and set(got["agent"]) == {"ag"}
    # The intervals the metrics make of those rows (per change, hours apart):
    # each state holds until the next row; after the last (10:00, hb 3600 s)
    # for 2.5 x 3600 s, then unknown.
    t = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)  # noqa: E731
    iv = state_intervals(presence=got, status=None, site=site, start=t(8), end=t(14))
    a1 = iv[iv["space"] == "a1"]
    assert [(r.start, r.end, r.state) for r in a1.itertuples()] == [
        (t(8), t(8, 30), "occupied"),
        (t(8, 30), t(9), "free"),
        (t(9), t(12, 30), "occupied"),
        (t(12, 30), t(14), "unknown"),
    ]


def test_naive_times_without_timezone_are_refused(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "uci.csv"
    write_uci(path)
    url = f"sqlite:///{tmp_path}/store.db"
    r = run_import(
        str(path), "--site", str(SMALL_SITE), "--space", "r1", "--time-column", "date",
        "--occupied-column", "Occupancy", "--store-url", url,
    )  # fmt: skip
    assert r.exit_code == 2
    assert "line 2: time '2026-03-02 07:00:00' has no time zone: give --timezone" in r.output
    with open_store(StoreSettings(url=url)) as store:
        assert store.count(PRESENCE) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--space", "zz"], "--space 'zz' is not a space of site 'pieni'"),
        (["--space", "r1", "--space-column", "x"], "name the space exactly one way"),
        (["--space", "r1", "--timezone", "Mars/Base"], "not an IANA time zone"),
        (["--space", "r1", "--max-gap-s", "0"], "--max-gap-s 0 must be above 0"),
        (
            ["--space", "r1", "--time-column", "date"],
            "x.csv has no column 'date' (its header: time",
        ),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,occupied\n2026-03-02T08:00:00Z,1\n")
    r = run_import(str(path), "--site", str(SMALL_SITE), *args,
                   "--store-url", f"sqlite:///{tmp_path}/s.db")  # fmt: skip
    assert r.exit_code == 2 and message in r.output, r.output
