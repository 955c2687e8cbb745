"""Sensor drivers, one module each; a sensor entry's ``type`` picks the driver.

Hardware libraries (gpiozero, pyserial) are imported only when a driver starts,
so a config can be checked anywhere.
"""

from __future__ import annotations

from edge.drivers.base import Driver, Reading, SensorConfigBase
from edge.drivers.ld2410 import Ld2410Config, Ld2410Driver
from edge.drivers.pir import PirConfig, PirDriver
from edge.drivers.simulated import SimulatedConfig, SimulatedDriver
from edge.drivers.zigbee2mqtt import Zigbee2MqttConfig, Zigbee2MqttDriver

#: type name -> (config model, driver class)
DRIVERS: dict[str, tuple[type[SensorConfigBase], type[Driver]]] = {
    "pir": (PirConfig, PirDriver),
    "ld2410": (Ld2410Config, Ld2410Driver),
    "zigbee2mqtt": (Zigbee2MqttConfig, Zigbee2MqttDriver),
    "simulated": (SimulatedConfig, SimulatedDriver),
}

__all__ = ["DRIVERS", "Driver", "Reading", "SensorConfigBase"]
