"""Exact shares and their rounding to whole cents, and the decimal strings the
statements print (``fractions.Fraction`` in, never floats)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction


def largest_remainder(quotas: Sequence[Fraction], total: int) -> list[int]:
    """Whole units (cents) for exact ``quotas`` that sum to ``total`` exactly.

    Every share is its quota rounded down, plus one for the shares with the
    largest fractional parts until the total is reached; ties go to the earlier
    share in the given order (callers order lines by agency id, then line), so
    the result is deterministic. Requires ``sum(quotas) == total``, quotas >= 0.
    """
    if any(q < 0 for q in quotas):
        raise ValueError("negative quota")
    if sum(quotas, Fraction(0)) != total:
        raise ValueError(f"quotas sum to {float(sum(quotas, Fraction(0)))}, not {total}")
    floors = [q.numerator // q.denominator for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def allocate(total: int, weights: Sequence[Fraction]) -> list[Fraction]:
    """Exact quotas of ``total`` in proportion to ``weights`` (equal if all are 0)."""
    s = sum(weights, Fraction(0))
    if s == 0:
        return [Fraction(total, len(weights))] * len(weights) if weights else []
    return [Fraction(total) * w / s for w in weights]


def dec(x: Fraction, places: int) -> str:
    """A fraction as a decimal string, rounded half-even to ``places``."""
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        q = Decimal(1).scaleb(-places)
        return str(d.quantize(q, rounding=ROUND_HALF_EVEN))


def round_half_up(x: Fraction) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def eur(cents: int | Fraction, places: int = 2) -> str:
    return dec(Fraction(cents) / 100, places)


def hours(x: Fraction) -> str:
    return dec(x, 4)
