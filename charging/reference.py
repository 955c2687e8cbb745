"""Payment references a Finnish finance office can pay with: the national
reference number (viitenumero, check digit by weights 7-3-1) and the RF
creditor reference of ISO 11649 (check digits by ISO 7064 mod 97-10).

Both are computed from a statement's number and checked on the way in, so a
mistyped reference is caught before it reaches a payment.
"""

from __future__ import annotations

import string

_WEIGHTS = (7, 3, 1)
_ALNUM = set(string.digits + string.ascii_uppercase)


class ReferenceError(ValueError):
    pass


def _compact(text: str) -> str:
    # printed references are grouped with spaces; the value has none
    return "".join(text.split()).upper()


def national_check_digit(base: str) -> int:
    """The 7-3-1 check digit of ``base`` (3 to 19 digits): weights 7, 3, 1, ...
    from the right, the check digit brings the sum up to the next ten."""
    if not base.isdigit() or not 3 <= len(base) <= 19:
        raise ReferenceError(f"a reference base is 3 to 19 digits, not {base!r}")
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return -total % 10


def national_reference(base: str) -> str:
    """``base`` followed by its check digit (leading zeros dropped, as printed)."""
    base = base.lstrip("0")
    return base + str(national_check_digit(base))


def is_national_reference(text: str) -> bool:
    ref = _compact(text).lstrip("0")
    if not ref.isdigit() or not 4 <= len(ref) <= 20:
        return False
    return national_check_digit(ref[:-1]) == int(ref[-1])


def _mod97(text: str) -> int:
    # letters count as 10..35, as in IBAN
    return int("".join(str(int(c, 36)) for c in text)) % 97


def rf_reference(reference: str) -> str:
    """The RF creditor reference of ``reference`` (1 to 21 letters or digits)."""
    ref = _compact(reference)
    if not 1 <= len(ref) <= 21 or not set(ref) <= _ALNUM:
        raise ReferenceError(f"an RF reference holds 1 to 21 letters or digits, not {reference!r}")
    return f"RF{98 - _mod97(ref + 'RF00'):02d}{ref}"


def is_rf_reference(text: str) -> bool:
    ref = _compact(text)
    if not ref.startswith("RF") or not 5 <= len(ref) <= 25 or not set(ref) <= _ALNUM:
        return False
    if not ref[2:4].isdigit():
        return False
    return _mod97(ref[4:] + ref[:4]) == 1


def statement_reference(base: str, *, kind: str) -> str:
    """A statement's payment reference from its numeric ``base``: ``national``
    (viitenumero) or ``rf`` (the RF form of that same viitenumero, which Finnish
    banks accept for both domestic and SEPA payments)."""
    national = national_reference(base)
    if kind == "national":
        return national
    if kind == "rf":
        return rf_reference(national)
    raise ReferenceError(f"unknown reference kind {kind!r} (use rf or national)")


def grouped(reference: str) -> str:
    """As printed: RF in groups of four from the left, a viitenumero in groups
    of five from the right."""
    if reference.startswith("RF"):
        return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    head = len(reference) % 5
    parts = [reference[:head]] if head else []
    parts += [reference[i : i + 5] for i in range(head, len(reference), 5)]
    return " ".join(parts)
