"""Y-tunnus check digits against published business IDs."""

from __future__ import annotations

import pytest

from core.business_id import business_id_check_digit, check_business_id
from core.registry import Agency

# Nokia Oyj's business ID, as the trade register (ytj.fi) publishes it, and a
# state agency's from the example site; both worked by hand below and in the
# module's docstring rule.
PUBLISHED = ["0112038-9", "0245437-2"]


@pytest.mark.parametrize("value", PUBLISHED)
def test_published_ids_pass(value: str) -> None:
    assert check_business_id(value) == value


def test_hand_worked_check_digit() -> None:
    # 0,1,1,2,0,3,8 x 7,9,10,5,8,4,2 = 57; 57 mod 11 = 2; 11 - 2 = 9
    assert business_id_check_digit("0112038") == 9


def test_six_digit_form_is_padded() -> None:
    assert check_business_id("112038-9") == "0112038-9"


@pytest.mark.parametrize(
    ("value", "words"),
    [("0112038-8", "should be 9"), ("0112038", "not a Y-tunnus"), ("FI01120389", "not a Y-tunnus")],
)
def test_wrong_ids_are_refused(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_business_id(value)


def test_remainder_one_has_no_check_digit() -> None:
    # 0000006: 6 x 2 = 12, and 12 mod 11 = 1
    assert business_id_check_digit("0000006") is None
    with pytest.raises(ValueError, match="none is issued"):
        check_business_id("0000006-0")


def test_agency_checks_its_business_id_and_names_translations() -> None:
    agency = Agency(
        id="vero",
        name="Verohallinto",
        name_sv="Skatteförvaltningen",
        headcount_htv=10,
        business_id="0245437-2",
        cost_centre="4100",
    )
    assert agency.name_in("sv") == "Skatteförvaltningen"
    assert agency.name_in("en") == "Verohallinto"
    with pytest.raises(ValueError, match="check digit"):
        Agency(id="vero", name="V", headcount_htv=1, business_id="0245437-3")
