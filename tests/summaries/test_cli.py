"""``occupancy summaries status | rebuild`` on a store the simulator's backfill
wrote through the command line: the backfill marks its days, status lists
them as dirty, rebuild summarises them, and status then lists none; a bad
site or an empty range is one line and exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

from typer.testing import CliRunner

from occupancy import cli
from tests.conftest import EXAMPLE_SITES

runner = CliRunner()
SITE = EXAMPLE_SITES / "virastotalo.yaml"


def invoke(*args: str) -> Any:
    with mock.patch("typer.testing._get_command", lambda _app: cli.build()):
        return runner.invoke(cli.app, list(args), prog_name="occupancy", terminal_width=100)


def backfilled(tmp_path: Path) -> str:
    """The store URL of 5-8 Jan 2026 backfilled by the simulator's command."""
    url = f"sqlite:///{tmp_path}/occ.db"
    r = invoke(
        "simulate", "backfill", "--site", str(SITE), "--from", "2026-01-05", "--to", "2026-01-08",
        "--store-url", url, "--truth", str(tmp_path / "truth.json"),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return url


def test_status_rebuild_status(tmp_path: Path) -> None:
    url = backfilled(tmp_path)
    common = ("--registry", str(SITE), "--store-url", url)
    r = invoke("summaries", "status", *common)
    assert r.exit_code == 0, r.output
    # 5, 6 (Epiphany, a holiday: still summarised, it carries state), 7 Jan, and the
    # days after them up to yesterday
    assert "virastotalo: 0 day(s) summarised" in r.output and "2026-01-05, 2026-01-06" in r.output
    r = invoke(
        "summaries",
        "rebuild",
        "--site",
        "virastotalo",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-07",
        *common,
    )
    assert r.exit_code == 0, r.output
    assert "virastotalo: 3 day(s) summarised" in r.output
    r = invoke("summaries", "status", *common)
    assert "3 day(s) summarised" in r.output and "2026-01-05" not in r.output, r.output


def test_bad_site_and_empty_range(tmp_path: Path) -> None:
    common = ("--registry", str(SITE), "--store-url", f"sqlite:///{tmp_path}/occ.db")
    r = invoke(
        "summaries",
        "rebuild",
        "--site",
        "nosuch",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        *common,
    )
    assert r.exit_code == 2 and "unknown site 'nosuch'" in r.output and "virastotalo" in r.output
    r = invoke(
        "summaries",
        "rebuild",
        "--site",
        "virastotalo",
        "--from",
        "2099-01-05",
        "--to",
        "2099-01-06",
        *common,
    )
    assert r.exit_code == 2 and "no closed day" in r.output


def test_rebuild_in_worker_processes_equals_raw(tmp_path: Path) -> None:
    """Four one-day runs in two worker processes: every day committed, and its
    cells and peaks read from summaries equal the raw recompute."""
    from datetime import date

    from core.calendar import local_day_bounds
    from core.registry import load_site
    from storage.sqlite import SQLiteStore
    from summaries.reader import PeriodData, clear_cache
    from summaries.summariser import SummaryParams

    url = backfilled(tmp_path)
    r = invoke(
        "summaries", "rebuild", "--site", "virastotalo", "--from", "2026-01-05",
        "--to", "2026-01-08", "--registry", str(SITE), "--store-url", url,
        "--workers", "2", "--run-days", "1",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "virastotalo: 4 day(s) summarised" in r.output
    site = load_site(SITE)
    clear_cache()
    with SQLiteStore(tmp_path / "occ.db") as store:
        start = local_day_bounds(site, date(2026, 1, 5))[0]
        end = local_day_bounds(site, date(2026, 1, 8))[1]
        got, want = (
            PeriodData(
                store=store, site=site, start=start, end=end, params=SummaryParams(), source=source
            )
            for source in ("summaries", "raw")
        )
        for a, b in [
            (got.hour_cells(), want.hour_cells()),
            (got.day_cells(), want.day_cells()),
            (
                got.daily_peaks(level="floor", types=None, view="*"),
                want.daily_peaks(level="floor", types=None, view="*"),
            ),
        ]:
            assert len(a) > 0
            key = list(a.columns[:2])
            a = a.sort_values(key).reset_index(drop=True)
            b = b.sort_values(key).reset_index(drop=True)
            assert a.equals(b[list(a.columns)])
        assert got.meta()["days_from_summaries"] == 4 and got.meta()["days_from_raw"] == []


def test_rebuild_beyond_raw_retention_is_refused(tmp_path: Path) -> None:
    from core.registry import load_site
    from storage import StoreSettings, open_store
    from summaries.summariser import Summariser, SummaryParams

    small = Path(__file__).parent.parent / "api" / "data" / "small.yaml"
    url = f"sqlite:///{tmp_path}/occ.db"
    r = invoke(
        "simulate", "backfill", "--site", str(small), "--from", "2026-01-05", "--to", "2026-01-08",
        "--store-url", url,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    common = ("--registry", str(small), "--store-url", url)
    rebuild = (
        "summaries",
        "rebuild",
        "--site",
        "pieni",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-07",
    )
    # January is long beyond 30 days: its raw points are not to be relied on
    r = invoke(*rebuild, *common, "--store-raw-retention-days", "30")
    assert r.exit_code == 2, r.output
    assert "refusing to rebuild" in r.output and "raw_retention_days = 30" in r.output
    assert "2026-01-05..2026-01-07" in r.output
    r = invoke(*rebuild, *common)  # no retention: rebuilt
    assert r.exit_code == 0 and "pieni: 3 day(s) summarised" in r.output, r.output
    # the summariser drops those days' raw points; then even without the setting
    # a rebuild is refused, and status shows the days not recomputed
    store = open_store(StoreSettings(url=url, raw_retention_days=30))
    summariser = Summariser(store, [load_site(small)], SummaryParams(), raw_retention_days=30)
    summariser.cycle()
    assert summariser.pruned_days_total == 3
    store.close()
    r = invoke(*rebuild, *common)
    assert r.exit_code == 2 and "when it was set" in r.output, r.output
    r = invoke("summaries", "status", *common, "--store-raw-retention-days", "30")
    assert r.exit_code == 0 and "held (raw points gone" in r.output, r.output
    r = invoke(*rebuild, *common, "--store-raw-retention-days", "0")
    assert r.exit_code == 2 and "--store-raw-retention-days" in r.output
