"""Settings of the webhooks (``OCCUPANCY_API_WEBHOOKS__<NAME>``, ``--webhooks-<name>``),
part of the API's settings and validated with them at start-up."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # On by default: nothing is sent until someone creates a subscription, and
    # an idle outbox costs one small query per poll.
    enabled: bool = Field(
        True,
        description="Events go to the webhook outbox and are delivered; false: they are dropped.",
    )
    poll_s: float = Field(
        1.0, gt=0, le=60, description="How often the delivery worker looks for due deliveries."
    )
    timeout_s: float = Field(15.0, gt=0, le=120, description="Timeout of one delivery attempt.")
    max_attempts: int = Field(
        8, ge=1, le=50, description="Failed attempts after which a delivery is dead-lettered."
    )
    backoff_base_s: float = Field(
        5.0, gt=0, description="Wait before the first retry; doubles with each failure."
    )
    backoff_max_s: float = Field(3600.0, gt=0, description="Longest wait between two attempts.")
    backoff_jitter: float = Field(
        0.2, ge=0, le=1, description="Each wait is shortened by a random fraction up to this."
    )
    default_rate_per_s: float = Field(
        10.0, gt=0, description="Deliveries per second to one subscription, unless it sets its own."
    )
    secret_grace_h: float = Field(
        24.0,
        ge=0,
        description="How long a rotated-out secret keeps signing beside the new one.",
    )
    space_state_debounce_s: float = Field(
        60.0,
        ge=0,
        description="A space's new state is announced once it has held this long (space.state).",
    )
    zone_threshold_pct: float = Field(
        90.0, gt=0, le=100, description="zone.threshold fires when a zone is this occupied."
    )
    zone_hysteresis_pct: float = Field(
        10.0,
        ge=0,
        lt=100,
        description="...and is cleared once it falls this many points below the threshold.",
    )
    # the tariffs' default (charging.tariff.NoShowPolicy; a test holds them
    # equal), not imported: the charging package would load pandas with the settings
    no_show_window_min: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="booking.no_show: no presence in this many first minutes of a booking "
        "(the tariffs' no-show window).",
    )
    no_show_grace_s: float = Field(
        20.0,
        ge=0,
        le=45,
        description="Wait after the no-show window for presence messages still in flight.",
    )
    live_tick_s: float = Field(
        5.0,
        gt=0,
        le=15,
        description="How often debounced states, zone thresholds and no-shows are checked.",
    )
