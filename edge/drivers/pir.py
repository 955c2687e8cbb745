"""Passive infrared motion sensor on a GPIO pin, read through gpiozero.

A PIR only sees motion, so its occupancy comes from the hold time: a space is
occupied while there was motion in the last ``hold_s`` seconds (default 10
minutes). gpiozero is imported when the driver starts, so the config model can
be validated on machines without it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from edge.drivers.base import Clock, Driver, Reading, SensorConfigBase, Sink


class PirConfig(SensorConfigBase):
    type: Literal["pir"]
    pin: int | str = Field(description="GPIO pin (BCM number like 17, or a name like 'GPIO17').")
    pull_up: bool | None = Field(
        default=False, description="False: output drives high on motion (HC-SR501, AM312)."
    )
    active_state: bool | None = Field(
        default=None, description="Only with pull_up: None; True if the pin is active-high."
    )
    queue_len: int = Field(default=1, ge=1, le=100, description="gpiozero smoothing window.")
    sample_rate: float = Field(default=10.0, gt=0, le=1000)
    hold_s: float = Field(default=600.0, ge=0, le=86_400)


class PirDriver(Driver):
    type_name = "pir"
    config: PirConfig

    def __init__(self, config: PirConfig, sink: Sink, clock: Clock, *, pin_factory: Any = None):
        super().__init__(config, sink, clock)
        self._pin_factory = pin_factory
        self._device: Any = None

    def start(self) -> None:
        from gpiozero import MotionSensor

        cfg = self.config
        self._device = MotionSensor(
            cfg.pin,
            pull_up=cfg.pull_up,
            active_state=cfg.active_state,
            queue_len=cfg.queue_len,
            sample_rate=cfg.sample_rate,
            pin_factory=self._pin_factory,
        )
        # gpiozero calls these from its own thread; the sink is thread-safe
        self._device.when_motion = lambda: self._emit(True)
        self._device.when_no_motion = lambda: self._emit(False)
        self._emit(bool(self._device.motion_detected))

    def _emit(self, active: bool) -> None:
        self.sink(Reading(self.sensor_id, self.clock(), active))

    def poll(self, now: datetime) -> None:
        pass

    def stop(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device = None
