"""Usage-based charging (DESIGN.md, "Usage-based charging"; docs/charging.md).

Pure functions: tariff files, bookings, attribution of occupied time, monthly
charges that sum to the cent, and statements. The API routes and the
``occupancy charges`` command only gather the inputs and call these.
"""

from charging.attribution import attribute, clip_to_opening_hours, find_no_shows
from charging.bookings import (
    Booking,
    BookingError,
    check_bookings,
    parse_bookings_csv,
    parse_bookings_ics,
    read_bookings,
    validate_bookings,
)
from charging.charges import MonthCharges, compute_month, largest_remainder
from charging.points import charge_points
from charging.statements import FORMATS, MEDIA_TYPES, render
from charging.tariff import Tariff, TariffError, load_tariff

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Booking",
    "BookingError",
    "MonthCharges",
    "Tariff",
    "TariffError",
    "attribute",
    "charge_points",
    "check_bookings",
    "clip_to_opening_hours",
    "compute_month",
    "find_no_shows",
    "largest_remainder",
    "load_tariff",
    "parse_bookings_csv",
    "parse_bookings_ics",
    "read_bookings",
    "render",
    "validate_bookings",
]
