"""The command line: a bad input gives one line saying what to do, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from simulators.cli import app
from storage.base import PRESENCE
from storage.sqlite import SQLiteStore
from tests.servers import free_port

SITE = str(Path(__file__).resolve().parents[2] / "examples" / "sites" / "virastotalo.yaml")
runner = CliRunner()


def test_unreachable_broker_is_one_line() -> None:
    r = runner.invoke(app, ["--site", SITE, "--broker-url", f"mqtt://127.0.0.1:{free_port()}"])
    assert r.exit_code == 2
    assert "cannot reach the MQTT broker" in r.output and "Traceback" not in r.output


def test_bad_site_and_store_url(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: y\ntimezone: Mars/Base\n")
    r = runner.invoke(app, ["--site", str(bad)])
    assert r.exit_code == 2 and "bad.yaml" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app,
        [
            "backfill",
            "--site",
            SITE,
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
            "--store-url",
            "sqlite:",
        ],
    )
    assert r.exit_code == 2 and "store-url" in r.output
    r = runner.invoke(
        app,
        [
            "backfill",
            "--site",
            SITE,
            "--from",
            "2026-01-06",
            "--to",
            "2026-01-05",
            "--store-url",
            f"sqlite:///{tmp_path}/x.db",
        ],
    )
    assert r.exit_code == 2 and "must be after" in r.output


def test_bad_scenario_names_the_line(tmp_path: Path) -> None:
    sc = tmp_path / "sc.yaml"
    sc.write_text("seed: 1\npeople:\n  arrival_sd_min: 30\n  lunch_mins: 3\n")
    r = runner.invoke(app, ["--site", SITE, "--scenario", str(sc)])
    assert r.exit_code == 2
    assert "sc.yaml:4" in r.output and "lunch_mins" in r.output


def test_backfill_command_writes_store_truth_and_bookings(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    truth = tmp_path / "out" / "truth.json"
    r = runner.invoke(
        app,
        [
            "backfill",
            "--site",
            SITE,
            "--from",
            "2026-01-07",
            "--to",
            "2026-01-08",
            "--store-url",
            f"sqlite:///{db}",
            "--truth",
            str(truth),
            "--seed",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(truth.read_text())
    assert doc["format"] == "occupancy-sim-truth/1" and doc["seed"] == 3
    assert (tmp_path / "out" / "truth-bookings.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert (
        (tmp_path / "out" / "truth-bookings.csv")
        .read_text()
        .startswith("booking_id,space_id,agency_id,start,end,title\n")
    )
    with SQLiteStore(db) as store:
        assert store.count(PRESENCE) > 280 * 288
