"""``occupancy up`` as a newcomer runs it: embedded broker and store, no services."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import EXAMPLE_SITES, REPO
from tests.servers import free_port


def occupancy(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "occupancy", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )


def get(url: str, key: str | None = None) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_up_runs_the_platform_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port, mqtt_port = free_port(), free_port()
    proc = occupancy(
        "up",
        "--registry",
        str(EXAMPLE_SITES),
        "--data-dir",
        str(tmp_path / "var"),
        "--port",
        str(port),
        "--mqtt-port",
        str(mqtt_port),
        cwd=tmp_path,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while "Press Ctrl-C" not in banner and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line and proc.poll() is not None:
                raise AssertionError(f"occupancy up exited: {proc.stderr.read()}")  # type: ignore[union-attr]
            banner += line
        key = re.search(r"#key=(\S+)", banner)
        assert key, banner
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = get(f"{base}/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "API never answered"
                time.sleep(0.3)
        assert health["store"] == "ok"
        # The simulator runs a working morning: desks fill up and the ingest
        # writes them, so the live view and the store both move.
        seen_states: set[str] = set()
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            live = get(f"{base}/v1/sites/virastotalo/live", key.group(1))
            seen_states = {s["state"] for s in live["spaces"]}
            if {"occupied", "free"} <= seen_states:
                break
            time.sleep(1)
        assert {"occupied", "free"} <= seen_states
        assert live["totals"]["total"] == 280
        page = urllib.request.urlopen(f"{base}/ui/", timeout=5)
        assert page.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("occupancy up did not stop within 30 s of Ctrl-C") from None
    assert proc.returncode == 0, proc.stderr.read()  # type: ignore[union-attr]
    assert (tmp_path / "var" / "occupancy.db").exists()


def test_invalid_site_file_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (EXAMPLE_SITES / "virastotalo.yaml")
        .read_text()
        .replace("Europe/Helsinki", "Europe/Nowhere")
    )
    proc = occupancy("up", "--registry", str(bad), cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert f"{bad}:" in err and "timezone" in err and "unknown time zone 'Europe/Nowhere'" in err


def test_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = occupancy("up", "--registry", str(EXAMPLE_SITES), "--port", str(port), cwd=tmp_path)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert f"API port 127.0.0.1:{port} is not free" in err and "--port" in err


def test_unreachable_store_is_one_clear_line(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    proc = occupancy(
        "up",
        "--registry",
        str(EXAMPLE_SITES),
        "--store-url",
        dead,
        "--port",
        str(free_port()),
        "--mqtt-port",
        str(free_port()),
        cwd=tmp_path,
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert f"cannot open the store {dead}" in err
