"""HLK-LD2410 report parser on byte streams, and the serial path over a real pty.

The two report frames are the examples printed in Hi-Link's serial protocol
manual (HLK-LD2410C Serial Communication Protocol V1.00, sections 5.4 and 5.5,
as transcribed in rmrfslashbin/esp32-ld2410c datasheets/LD2410C_Protocol.md);
the expected values below are decoded by hand from their bytes (little-endian).
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest

from core.timeutil import utcnow
from edge.drivers.base import Reading
from edge.drivers.ld2410 import Ld2410Config, Ld2410Driver, Ld2410Parser, Ld2410Report, is_present

# basic report: state 02, moving 0x0051 = 81 cm / energy 0, stationary 0 cm / energy 0x3B = 59
BASIC = bytes.fromhex("F4F3F2F1 0D00 02AA 02 5100 00 0000 3B 0000 5500 F8F7F6F5")
BASIC_R = Ld2410Report(2, 81, 0, 0, 59, 0)
# engineering report: state 03, moving 0x1E = 30 cm / 0x3C = 60, stationary 0 cm / 0x39 = 57,
# 8 + 1 gates each, then two extra bytes (03 05)
ENG = bytes.fromhex(
    "F4F3F2F1 2300 01AA 03 1E00 3C 0000 39 0000 08 08"
    " 3C2205030304030605 000039101306060804 0305 5500 F8F7F6F5"
)
ENG_R = Ld2410Report(
    3, 30, 60, 0, 57, 0, True, (60, 34, 5, 3, 3, 4, 3, 6, 5), (0, 0, 57, 16, 19, 6, 6, 8, 4)
)
# no target (built by hand to the same layout)
NONE = bytes.fromhex("F4F3F2F1 0D00 02AA 00 0000 00 0000 00 0000 5500 F8F7F6F5")
NONE_R = Ld2410Report(0, 0, 0, 0, 0, 0)
# the ACK of "end configuration" (a command frame, not a report: must be skipped)
ACK = bytes.fromhex("FDFCFBFA 0400 FE01 0000 04030201")

STREAM = BASIC + ENG + NONE
EXPECTED = [BASIC_R, ENG_R, NONE_R]


def test_manual_example_frames_decode() -> None:
    p = Ld2410Parser()
    assert p.feed(BASIC) == [BASIC_R]
    assert p.feed(ENG) == [ENG_R]
    assert BASIC_R.stationary and not BASIC_R.moving and BASIC_R.present
    assert ENG_R.moving and ENG_R.stationary
    assert not NONE_R.present


@pytest.mark.parametrize("size", range(1, len(STREAM) + 1))
def test_any_fixed_chunking_gives_the_same_reports(size: int) -> None:
    p = Ld2410Parser()
    out = []
    for i in range(0, len(STREAM), size):
        out += p.feed(STREAM[i : i + size])
    assert out == EXPECTED
    assert p.bad_frames == 0


def test_random_chunking_with_noise_and_acks() -> None:
    rng = random.Random(7)
    stream = b"\x00\x13\xf4\xf3" + BASIC + ACK + ENG + b"\xf4\xf3\xf2" + b"\x99" + NONE
    for _ in range(200):
        p = Ld2410Parser()
        out: list[Ld2410Report] = []
        i = 0
        while i < len(stream):
            n = rng.randint(1, 9)
            out += p.feed(stream[i : i + n])
            i += n
        assert out == EXPECTED


def test_corrupted_tail_is_dropped_and_the_next_frame_parsed() -> None:
    bad = bytearray(BASIC)
    bad[-1] ^= 0xFF
    p = Ld2410Parser()
    assert p.feed(bytes(bad) + ENG) == [ENG_R]
    assert p.bad_frames >= 1


def test_truncated_frame_resynchronises_on_a_header_inside_it() -> None:
    # a basic frame cut after 10 bytes; its length field makes the parser read
    # into the engineering frame, whose tail check fails -> resync to its header
    p = Ld2410Parser()
    assert p.feed(BASIC[:10] + ENG + NONE) == [ENG_R, NONE_R]
    assert p.bad_frames >= 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b[:4] + b"\xff\xff" + b[6:],  # absurd length
        lambda b: b[:7] + b"\x00" + b[8:],  # head byte not 0xAA
        lambda b: b[:6] + b"\x07" + b[7:],  # unknown data type
        lambda b: b[:8] + b"\x09" + b[9:],  # target state out of range
        lambda b: b[:17] + b"\x00" + b[18:],  # inner tail 0x55 missing
    ],
)
def test_invalid_frames_are_rejected(mutate) -> None:
    p = Ld2410Parser()
    assert p.feed(mutate(BASIC) + NONE) == [NONE_R]
    assert p.bad_frames >= 1


def test_energy_and_distance_filters() -> None:
    cfg = Ld2410Config(type="ld2410", id="r1", space="s1", port="/dev/null")
    assert is_present(ENG_R, cfg)
    # moving 60 passes 58; at 61 neither moving (60) nor stationary (57) passes
    assert is_present(ENG_R, cfg.model_copy(update={"min_energy": 58}))
    assert not is_present(ENG_R, cfg.model_copy(update={"min_energy": 61}))
    # only the moving target (81 cm) is beyond 50 cm; the stationary one (0 cm, 59) counts
    assert is_present(BASIC_R, cfg.model_copy(update={"max_distance_cm": 50}))
    assert not is_present(NONE_R, cfg)


def test_serial_reading_over_a_real_pty() -> None:
    master, slave = os.openpty()
    port = os.ttyname(slave)
    got: list[Reading] = []
    lock = threading.Lock()

    def sink(r: Reading) -> None:
        with lock:
            got.append(r)

    # 115200 is one of the module's rates and a standard termios speed for the pty
    cfg = Ld2410Config(type="ld2410", id="r1", space="s1", port=port, baudrate=115200)
    driver = Ld2410Driver(cfg, sink, utcnow)
    driver.start()
    try:
        # presence arrives split over writes, then a vacant frame after noise
        os.write(master, BASIC[:5])
        time.sleep(0.05)
        os.write(master, BASIC[5:] + ENG)
        os.write(master, b"\x01\x02" + NONE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with lock:
                if len(got) >= 2:
                    break
            time.sleep(0.02)
    finally:
        driver.stop()
        os.close(master)
        os.close(slave)
    # the driver passes changes on: present (basic frame; the engineering frame is
    # the same state), then absent
    assert [r.active for r in got] == [True, False]
    assert driver.parser.frames == 3


def test_a_vanished_port_is_reported_not_fatal() -> None:
    master, slave = os.openpty()
    got: list[Reading] = []
    cfg = Ld2410Config(type="ld2410", id="r1", space="s1", port=os.ttyname(slave), baudrate=115200)
    driver = Ld2410Driver(cfg, got.append, utcnow)
    driver.start()
    try:
        os.close(master)  # like a USB serial adapter pulled out
        os.close(slave)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not got:
            time.sleep(0.02)
    finally:
        driver.stop()
    assert got and got[0].ok is False and got[0].active is None and got[0].detail
