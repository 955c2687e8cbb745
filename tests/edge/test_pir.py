"""GPIO PIR driver through gpiozero, on gpiozero's MockFactory pin factory.

No GPIO hardware exists on a test machine, so the pin is gpiozero's own mock
(the library's documented way to test); everything above the pin (gpiozero's
MotionSensor, its smoothing thread, our driver and the presence logic) is real.
"""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from edge.drivers.base import Reading
from edge.drivers.pir import PirConfig, PirDriver
from edge.presence import PresenceTracker
from tests.edge.conftest import FakeClock, at


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.close()


def _wait(got: list[Reading], n: int, lock: threading.Lock) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with lock:
            if len(got) >= n:
                return
        time.sleep(0.01)
    raise AssertionError(f"expected {n} readings, got {len(got)}")


def test_pir_motion_through_mock_pin_and_hold(factory) -> None:
    clock = FakeClock()
    got: list[Reading] = []
    lock = threading.Lock()

    def sink(r: Reading) -> None:
        with lock:
            got.append(r)

    cfg = PirConfig(type="pir", id="pir1", space="f1-d1", pin=17, hold_s=600)
    driver = PirDriver(cfg, sink, clock, pin_factory=factory)
    pin = factory.pin(17)
    driver.start()
    try:
        _wait(got, 1, lock)  # the state at start: no motion
        clock.advance(30)
        pin.drive_high()
        _wait(got, 2, lock)
        clock.advance(5)
        pin.drive_low()
        _wait(got, 3, lock)
    finally:
        driver.stop()
        driver.stop()  # safe twice
    assert [(r.sensor_id, r.at, r.active) for r in got] == [
        ("pir1", at(0), False),
        ("pir1", at(30), True),
        ("pir1", at(35), False),
    ]
    # through the presence logic: occupied from 30 until 600 s after the motion ended
    tr = PresenceTracker(debounce_s=cfg.debounce_s, hold_s=cfg.hold_s, heartbeat_s=300)
    events = [e for r in got for e in tr.observe(r.at, r.active)]
    events += tr.tick(at(700))
    assert [(e.at, e.occupied) for e in events] == [
        (at(0), False),
        (at(30), True),
        (at(635), False),
    ]


def test_pir_config_defaults_to_ten_minutes_hold() -> None:
    cfg = PirConfig(type="pir", id="p", space="s", pin="GPIO4")
    assert cfg.hold_s == 600
