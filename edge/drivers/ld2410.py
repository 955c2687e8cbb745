"""HLK-LD2410 24 GHz mmWave presence radar on a UART, read through pyserial.

Report frame (little-endian), as in Hi-Link's serial protocol manual:

    F4 F3 F2 F1 | len (2) | type (1) AA | target data | 55 check | F8 F7 F6 F5

``type`` is 0x02 for basic reports (9 bytes of target data) and 0x01 for
engineering reports (the same 9 bytes, then the maximum moving and stationary
gates N and M, N+1 moving and M+1 stationary gate energies and extra bytes).
Target data: state (0 none, 1 moving, 2 stationary, 3 both), moving distance
(cm, 2), moving energy (1), stationary distance (cm, 2), stationary energy (1),
detection distance (cm, 2).

The parser takes bytes in arbitrary chunks, skips anything that is not a
report (command ACKs, line noise), and after a corrupted frame resynchronises
on the next header, which may lie inside the bad frame.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from edge.drivers.base import Clock, Driver, Reading, SensorConfigBase, Sink

HEADER = b"\xf4\xf3\xf2\xf1"
TAIL = b"\xf8\xf7\xf6\xf5"
TYPE_ENGINEERING = 0x01
TYPE_BASIC = 0x02
# the longest report is an engineering frame with 9 gates (35 bytes inside);
# anything much longer is a corrupted length field
MAX_INTRA_LEN = 64
REOPEN_AFTER_S = 5.0


@dataclass(frozen=True, slots=True)
class Ld2410Report:
    state: int
    moving_distance_cm: int
    moving_energy: int
    stationary_distance_cm: int
    stationary_energy: int
    detection_distance_cm: int
    engineering: bool = False
    moving_gate_energy: tuple[int, ...] = ()
    stationary_gate_energy: tuple[int, ...] = ()

    @property
    def moving(self) -> bool:
        return bool(self.state & 0x01)

    @property
    def stationary(self) -> bool:
        return bool(self.state & 0x02)

    @property
    def present(self) -> bool:
        return self.state != 0


class Ld2410Parser:
    """Incremental report-frame parser; counts the frames it had to throw away."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.frames = 0
        self.bad_frames = 0
        self.skipped_bytes = 0

    def feed(self, data: bytes) -> list[Ld2410Report]:
        self._buf += data
        out: list[Ld2410Report] = []
        buf = self._buf
        while True:
            start = buf.find(HEADER)
            if start < 0:
                # keep a possible partial header at the end
                keep = next((k for k in (3, 2, 1) if len(buf) >= k and buf[-k:] == HEADER[:k]), 0)
                self.skipped_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                break
            if start:
                self.skipped_bytes += start
                del buf[:start]
            if len(buf) < 6:
                break
            (length,) = struct.unpack_from("<H", buf, 4)
            if length > MAX_INTRA_LEN or length < 4:
                self._reject(buf)
                continue
            total = 6 + length + 4
            if len(buf) < total:
                break
            intra = bytes(buf[6 : 6 + length])
            report = _decode(intra) if buf[6 + length : total] == TAIL else None
            if report is None:
                self._reject(buf)
                continue
            del buf[:total]
            self.frames += 1
            out.append(report)
        return out

    def _reject(self, buf: bytearray) -> None:
        # drop only the first header byte: the next real header may start inside
        self.bad_frames += 1
        self.skipped_bytes += 1
        del buf[:1]


def _decode(intra: bytes) -> Ld2410Report | None:
    kind, head = intra[0], intra[1]
    if head != 0xAA or intra[-2] != 0x55 or kind not in (TYPE_BASIC, TYPE_ENGINEERING):
        return None
    target = intra[2:-2]
    if len(target) < 9:
        return None
    state, mdist, menergy, sdist, senergy, ddist = struct.unpack_from("<BHBHBH", target, 0)
    if state > 3:
        return None
    if kind == TYPE_BASIC:
        if len(target) != 9:
            return None
        return Ld2410Report(state, mdist, menergy, sdist, senergy, ddist)
    if len(target) < 11:
        return None
    n_moving, n_stationary = target[9] + 1, target[10] + 1
    if len(target) < 11 + n_moving + n_stationary:
        return None
    moving = tuple(target[11 : 11 + n_moving])
    stationary = tuple(target[11 + n_moving : 11 + n_moving + n_stationary])
    return Ld2410Report(state, mdist, menergy, sdist, senergy, ddist, True, moving, stationary)


class Ld2410Config(SensorConfigBase):
    type: Literal["ld2410"]
    port: str = Field(description="Serial device, e.g. /dev/ttyAMA0 or /dev/serial0.")
    baudrate: int = Field(default=256_000, description="The module's factory rate is 256000.")
    min_energy: int = Field(
        default=0, ge=0, le=100, description="Ignore targets whose energy is below this."
    )
    max_distance_cm: int | None = Field(
        default=None, gt=0, le=2000, description="Ignore targets farther than this."
    )
    report_every_s: float = Field(
        default=10.0, gt=0, le=3600, description="Pass an unchanged state on this often."
    )
    hold_s: float = Field(default=15.0, ge=0, le=86_400)


def is_present(report: Ld2410Report, cfg: Ld2410Config) -> bool:
    """Presence after the configured energy and distance filters."""
    hits = []
    if report.moving:
        hits.append((report.moving_distance_cm, report.moving_energy))
    if report.stationary:
        hits.append((report.stationary_distance_cm, report.stationary_energy))
    return any(
        energy >= cfg.min_energy and (cfg.max_distance_cm is None or dist <= cfg.max_distance_cm)
        for dist, energy in hits
    )


class Ld2410Driver(Driver):
    """Reads the port on a thread; passes a reading on at each change and every few seconds."""

    type_name = "ld2410"
    config: Ld2410Config

    def __init__(
        self, config: Ld2410Config, sink: Sink, clock: Clock, *, serial_factory: Any = None
    ):
        super().__init__(config, sink, clock)
        self._serial_factory = serial_factory
        self.parser = Ld2410Parser()
        self._port: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_state: bool | None = None
        self._last_sent: datetime | None = None

    def start(self) -> None:
        if self._serial_factory is None:
            import serial

            self._serial_factory = serial.Serial
        # the first open fails loudly (a wrong port name is a config error) ...
        self._port = self._open()
        self._thread = threading.Thread(
            target=self._read_loop, name=f"ld2410-{self.sensor_id}", daemon=True
        )
        self._thread.start()

    def _open(self) -> Any:
        return self._serial_factory(self.config.port, self.config.baudrate, timeout=0.2)

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._port is None:
                    self._port = self._open()
                data = self._port.read(256)
            except Exception as exc:
                # ... later failures (a USB adapter pulled) are reported and retried
                self.sink(
                    Reading(self.sensor_id, self.clock(), None, ok=False, detail=str(exc)[:200])
                )
                with contextlib.suppress(Exception):
                    if self._port is not None:
                        self._port.close()
                self._port = None
                self._stop.wait(REOPEN_AFTER_S)
                continue
            if data:
                self.handle_bytes(data)

    def handle_bytes(self, data: bytes) -> None:
        now = self.clock()
        every = timedelta(seconds=self.config.report_every_s)
        # every change inside a burst of frames is passed on, not just the last state
        for report in self.parser.feed(data):
            present = is_present(report, self.config)
            if (
                present != self._last_state
                or self._last_sent is None
                or now - self._last_sent >= every
            ):
                self._last_state = present
                self._last_sent = now
                detail = f"bad frames {self.parser.bad_frames}" if self.parser.bad_frames else None
                self.sink(Reading(self.sensor_id, now, present, detail=detail))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if self._port is not None:
            with contextlib.suppress(Exception):
                self._port.close()
            self._port = None
