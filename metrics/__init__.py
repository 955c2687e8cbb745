"""The metric maths of the platform as pure functions (DataFrame in, DataFrame out).

The order of use: ``state_intervals`` (from presence and agent-status points)
-> ``clip_to_opening`` -> ``utilisation_table`` / ``heatmap`` / ``daily_peaks`` ->
``peak_summary`` / ``efficiency_report``; ``utilisation_rollup`` and the ``*_points``
functions turn results into storage points. Definitions: docs/metrics.md.
"""

from metrics.efficiency import EFFICIENCY_COLUMNS, SITE_ROW, efficiency_report
from metrics.intervals import (
    FREE,
    OCCUPIED,
    UNKNOWN,
    clip_to_opening,
    opening_windows,
    state_intervals,
)
from metrics.peaks import PEAK_PERCENTILE, daily_peaks, p90, peak_summary
from metrics.rollups import efficiency_points, utilisation_points, utilisation_rollup
from metrics.utilisation import BUCKETS, GROUPINGS, SHARED, group_of, heatmap, utilisation_table

__all__ = [
    "BUCKETS",
    "EFFICIENCY_COLUMNS",
    "FREE",
    "GROUPINGS",
    "OCCUPIED",
    "PEAK_PERCENTILE",
    "SHARED",
    "SITE_ROW",
    "UNKNOWN",
    "clip_to_opening",
    "daily_peaks",
    "efficiency_points",
    "efficiency_report",
    "group_of",
    "heatmap",
    "opening_windows",
    "p90",
    "peak_summary",
    "state_intervals",
    "utilisation_points",
    "utilisation_rollup",
    "utilisation_table",
]
