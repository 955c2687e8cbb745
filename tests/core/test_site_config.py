"""Site configuration defects (issue 14, item 3): holiday calendars, country
codes, every problem in one pass, and "did you mean"."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from core.calendar import is_closed, public_holidays
from core.registry import load_site
from core.yamlfile import YamlFileError
from tests.core.test_registry import VALID, error_of, write

# VALID opens on Mondays and Tuesdays. Epiphany (loppiainen), a Finnish public
# holiday, is Tuesday 2026-01-06.
EPIPHANY = date(2026, 1, 6)
AN_ORDINARY_TUESDAY = date(2026, 1, 13)


def with_holidays(block: str) -> str:
    return VALID.replace("area_m2: 120\n", f"{block}\narea_m2: 120\n", 1)


def test_no_holidays_key_means_finland(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, VALID))
    assert site.holidays is not None and site.holidays.country == "FI"
    assert is_closed(site, EPIPHANY) and not is_closed(site, AN_ORDINARY_TUESDAY)


def test_holidays_none_means_no_public_holidays(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, with_holidays("holidays: none")))
    assert site.holidays is None
    assert public_holidays(site, 2026) == {}
    assert not is_closed(site, EPIPHANY)  # a Tuesday with opening hours


def test_empty_holidays_mapping_is_refused_not_finland(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_holidays("holidays: {}"))
    assert "holidays:" in message and "holidays: none" in message


def test_unknown_country_code_is_refused_at_load(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_holidays("holidays: {country: XX}"))
    assert "holidays.country: unknown country code 'XX'" in message


def test_a_lowercase_country_code_gets_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_holidays("holidays: {country: fi}"))
    assert "did you mean 'FI'?" in message


def test_unknown_subdivision_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_holidays("holidays: {country: DE, subdivision: BX}"))
    assert "subdivision 'BX'" in message
    site = load_site(write(tmp_path, with_holidays("holidays: {country: DE, subdivision: BY}")))
    assert date(2026, 1, 6) in public_holidays(site, 2026)  # Heilige Drei Könige in Bavaria


BROKEN = (
    VALID.replace("area_m2: 120\n", "holidays: {country: XX}\narea_m2: 120\n", 1)
    .replace("    agency: a1\n", "    agensy: a1\n", 1)
    .replace("    capacity: 1\n", "    capacity: -1\n", 1)
    .replace("    zone: z1\n    capacity: 1\n", "    zone: z9\n    capacity: 1\n", 1)
)


def test_site_check_reports_every_problem_in_one_pass(tmp_path: Path) -> None:
    from occupancy.site_cli import app

    path = write(tmp_path, BROKEN)
    with pytest.raises(YamlFileError) as err:
        load_site(path)
    fields = [field for _, field, _ in err.value.problems]
    # field errors (country, unknown key, capacity) and a reference error
    # (the second desk's zone) together, where before only the field errors came
    assert fields == ["holidays.country", "zones[0].agensy", "spaces[0].capacity", "spaces[1].zone"]
    r = CliRunner().invoke(app, ["check", str(path)])
    assert r.exit_code == 2
    assert r.output.count(str(path)) == 4


def test_unknown_key_and_unknown_id_suggest_the_nearest_name(tmp_path: Path) -> None:
    message = error_of(tmp_path, BROKEN)
    assert "unknown key 'agensy' (did you mean 'agency'?)" in message
    assert "unknown zone 'z9' (did you mean 'z1'?)" in message


def test_an_unknown_country_stops_the_api_at_start_up(tmp_path: Path) -> None:
    import api.cli
    from occupancy import cli

    path = write(tmp_path, with_holidays("holidays: {country: XX}"))
    serve = mock.Mock()
    with (
        mock.patch.object(api.cli, "_serve", serve),
        mock.patch("typer.testing._get_command", lambda _app: cli.build()),
    ):
        r = CliRunner().invoke(cli.app, ["api", "--registry", str(path)])
    assert r.exit_code == 2 and "unknown country code 'XX'" in r.output
    serve.assert_not_called()
