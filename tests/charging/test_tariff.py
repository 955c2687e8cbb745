from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from charging.tariff import TariffError, load_tariff
from core.yamlfile import YamlFileError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "tariffs" / "virastotalo.yaml"

GOOD = """\
name: T
versions:
- version: v1
  effective_from: 2026-01-01
  sites:
    pieni:
      cost_to_recover_eur: 1000.00
      base_share: 0.5
      weights: {desk: 1}
- version: v2
  effective_from: 2026-07-01
  sites:
    pieni:
      unit_prices: {base_eur_per_htv: 20, usage_eur_per_weighted_hour: 0.5}
      weights: {desk: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tariff.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_tariff_loads_and_prices_the_example_site(example_site) -> None:
    tariff = load_tariff(EXAMPLE)
    version, pricing = tariff.pricing("virastotalo", 2026, 11)
    assert version.version == "2026.2"
    assert pricing.cost_to_recover_eur == Decimal("120300.00")
    for space in example_site.spaces:  # every type the site uses has a weight
        pricing.weight_of(space.type)


def test_version_in_force_is_the_latest_started(tmp_path: Path) -> None:
    tariff = load_tariff(write(tmp_path, GOOD))
    assert tariff.in_force(2026, 1).version == "v1"
    assert tariff.in_force(2026, 6).version == "v1"
    assert tariff.in_force(2026, 7).version == "v2"
    assert tariff.in_force(2030, 1).version == "v2"
    with pytest.raises(TariffError, match="no version in force for 2025-12"):
        tariff.in_force(2025, 12)
    with pytest.raises(TariffError, match="does not price site 'other'"):
        tariff.pricing("other", 2026, 3)


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "      base_share: 0.5\n",
            "      base_share: 0.5\n      colour: red\n",
            9,
            "versions[0].sites.pieni.colour: unknown key 'colour'",
        ),
        (
            "weights: {desk: 1}\n- version: v2",
            "weights: {desk: 1, sofa: 2}\n- version: v2",
            9,
            "versions[0].sites.pieni.weights.sofa",
        ),
        (
            "effective_from: 2026-07-01",
            "effective_from: 2026-07-15",
            11,
            "must be the first day of a month",
        ),
        (
            "cost_to_recover_eur: 1000.00",
            "cost_to_recover_eur: 1000.005",
            7,
            "no more than 2 decimal places",
        ),
        ("      base_share: 0.5\n", "", 6, "cost_to_recover_eur needs base_share"),
        ("      base_share: 0.5\n", "      base_share: 1.5\n", 8, "less than or equal to 1"),
    ],
)
def test_strict_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(YamlFileError) as info:
        load_tariff(path)
    text = str(info.value)
    assert expected in text
    assert f"{path}:{line}:" in text


def test_missing_weight_for_a_used_type_is_a_clear_error(tmp_path: Path, pieni) -> None:
    from charging.charges import compute_month
    from tests.charging.spells import spells
    from tests.charging.test_hand_month import MONTH_END, MONTH_START

    tariff = load_tariff(write(tmp_path, GOOD))
    with pytest.raises(TariffError, match="no weight for space type 'meeting_room'"):
        compute_month(
            site=pieni,
            month="2026-03",
            intervals=spells(spaces=["a1"], start=MONTH_START, end=MONTH_END, marked=[]),
            bookings=[],
            tariff=tariff,
        )
