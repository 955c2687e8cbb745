"""Finnish business IDs (Y-tunnus): seven digits, a hyphen and a check digit.

The check digit is the published rule of the Finnish Patent and Registration
Office: weights 7, 9, 10, 5, 8, 4, 2 on the seven digits, sum modulo 11; a
remainder of 0 gives 0, a remainder of 1 is never issued, otherwise the check
digit is 11 minus the remainder.
"""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_PATTERN = re.compile(r"^(\d{7})-(\d)$")


def business_id_check_digit(digits: str) -> int | None:
    """The check digit of seven digits, or None where the rule allows none."""
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def check_business_id(value: str) -> str:
    """``value`` if it is a well-formed Y-tunnus with a right check digit; a
    shorter form with six digits is padded with a leading zero, as the register
    does. Raises ``ValueError`` naming what is wrong."""
    text = value.strip()
    if re.fullmatch(r"\d{6}-\d", text):
        text = "0" + text
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"business_id {value!r} is not a Y-tunnus like 0245437-2")
    expected = business_id_check_digit(match.group(1))
    if expected is None or expected != int(match.group(2)):
        right = (
            "none is issued for these digits" if expected is None else f"it should be {expected}"
        )
        raise ValueError(f"business_id {value!r}: wrong check digit ({right})")
    return text
