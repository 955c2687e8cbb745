"""Payment references against published examples.

National reference numbers (viitenumero, weights 7-3-1):
- "12 34561" (base 123456): the example of Finance Finland's structure guide as
  quoted by XMLdation, https://knowledge.xmldation.com/finnish-reference-number
- "123453" (base 12345): https://johannwalder.com/blog/2014/04/25/how-to-generate-a-reference-number-for-the-finnish-banking-system/
- "1 23456 71234 56784" (sum 246, check 4): JustOn's worked example,
  https://docs.juston.com/en/jo_admin_setup_fin/

RF creditor references (ISO 11649, mod 97-10):
- "RF18 5390 0754 7034" valid, "RF17 5390 0754 7034" invalid: python-stdnum's
  documentation, https://arthurdejong.org/python-stdnum/doc/1.20/stdnum.iso11649
- RF45G72UUR, RF6518K5 and "RF 48 5000056789012345" (examples 1 and 2 and the
  format example): https://mobilefish.com/services/creditor_reference/creditor_reference.php
- RF712348231: XMLdation's usage example, https://wiki.xmldation.com/Support/DK/Ref
"""

from __future__ import annotations

import pytest

from charging.reference import (
    ReferenceError,
    grouped,
    is_national_reference,
    is_rf_reference,
    national_check_digit,
    national_reference,
    rf_reference,
    statement_reference,
)


@pytest.mark.parametrize(
    ("base", "reference"),
    [("123456", "1234561"), ("12345", "123453"), ("123456712345678", "1234567123456784")],
)
def test_national_reference_published_examples(base: str, reference: str) -> None:
    assert national_reference(base) == reference
    assert is_national_reference(reference)


def test_national_reference_checks() -> None:
    assert is_national_reference("12 34561")  # printed in groups of five
    assert is_national_reference("00000000000001234561")  # machine-readable, zero-padded
    assert not is_national_reference("1234562")  # wrong check digit
    assert not is_national_reference("123")  # too short
    assert national_check_digit("100") == 9  # 0*7 + 0*3 + 1*1 = 1, up to 10
    with pytest.raises(ReferenceError, match="3 to 19 digits"):
        national_check_digit("12")


@pytest.mark.parametrize(
    "reference",
    ["RF18 5390 0754 7034", "RF45G72UUR", "RF6518K5", "RF712348231", "RF48 5000056789012345"],
)
def test_rf_published_examples_are_valid_and_recomputed(reference: str) -> None:
    assert is_rf_reference(reference)
    compact = reference.replace(" ", "")
    assert rf_reference(compact[4:]) == compact


def test_rf_rejects_wrong_check_digits() -> None:
    assert not is_rf_reference("RF17 5390 0754 7034")
    assert not is_rf_reference("RF18 5390 0754 7035")
    assert not is_rf_reference("XX18 5390")
    with pytest.raises(ReferenceError, match="1 to 21"):
        rf_reference("1" * 22)


def test_statement_reference_both_kinds() -> None:
    national = statement_reference("2026000001", kind="national")
    assert is_national_reference(national) and national.startswith("2026000001")
    rf = statement_reference("2026000001", kind="rf")
    assert is_rf_reference(rf) and rf.endswith(national)
    assert grouped("1234561") == "12 34561"
    assert grouped("RF18539007547034") == "RF18 5390 0754 7034"
    with pytest.raises(ReferenceError, match="rf or national"):
        statement_reference("123", kind="iban")
