"""The settings every command that turns raw points into state intervals
shares (``occupancy summaries ...`` and ``occupancy rollup``): which sites,
which store, and the two interval rules. Each command's own class adds its
environment prefix and its own settings, so a setting keeps one name
everywhere (``--silence-factor``, ``OCCUPANCY_SUMMARIES_SILENCE_FACTOR``,
``OCCUPANCY_ROLLUP_SILENCE_FACTOR``). The rules must match the API's
(``OCCUPANCY_API_SILENCE_FACTOR``, ``OCCUPANCY_API_MERGE_GAP_S``): figures
computed with other rules are not the API's figures.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from core.datadir import example_sites
from storage import StoreSettings


class RawReadSettings(BaseSettings):
    registry: Path = Field(
        default_factory=example_sites, description="Site file or folder of site files."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    silence_factor: float = Field(
        2.5,
        gt=1,
        description="A sensor is silent after this many heartbeat intervals (as the API's).",
    )
    merge_gap_s: float = Field(
        0, ge=0, description="Free gaps shorter than this count as occupied (as the API's)."
    )
