"""mqtts:// with a CA file and a password from the environment, on a real Mosquitto.

The certificates are made for the test with the openssl command line; the
broker's password file with mosquitto_passwd (both from Debian packages).
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent import EdgeAgent
from edge.config import load_config, resolve_secrets
from tests.edge.conftest import base_config, write_config
from tests.servers import free_port


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def pki() -> Iterator[Path]:
    for tool in ("openssl", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: sudo apt-get install -y openssl mosquitto")
    # outside pytest's private (0700) temp tree: Mosquitto drops root privileges
    # and its user must be able to read these files
    d = Path(tempfile.mkdtemp(prefix="edge-pki-"))
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=test-ca",
         "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))  # fmt: skip
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"))  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("openssl", "x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"),
         "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2",
         "-extfile", str(d / "ext.cnf"), "-out", str(d / "server.pem"))  # fmt: skip
    _run("mosquitto_passwd", "-b", "-c", str(d / "passwd"), "agent-t", "right-password")
    for p in [d, *d.iterdir()]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_tls_and_password_from_environment(mosquitto_factory, pki: Path, tmp_path: Path) -> None:
    tls_port = free_port()
    broker = mosquitto_factory(
        extra_conf=(
            f"password_file {pki / 'passwd'}\n"
            f"listener {tls_port} 127.0.0.1\n"
            f"cafile {pki / 'ca.pem'}\n"
            f"certfile {pki / 'server.pem'}\nkeyfile {pki / 'server.key'}\n"
        )
    )
    sensors = [{"type": "simulated", "id": "s1", "space": "f1-d001"}]
    data = base_config(tls_port, tmp_path, sensors)
    data["broker"].update(
        url=f"mqtts://127.0.0.1:{tls_port}",
        ca_file=str(pki / "ca.pem"),
        username="agent-t",
        password_env="EDGE_TEST_PW",
    )
    cfg = load_config(write_config(tmp_path / "edge.yaml", data))

    got: list[dict[str, object]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-sub")
    sub.username_pw_set("agent-t", "right-password")
    sub.tls_set(ca_certs=str(pki / "ca.pem"), cert_reqs=ssl.CERT_REQUIRED)
    sub.on_message = lambda c, u, m: got.append(json.loads(m.payload))
    sub.connect("127.0.0.1", tls_port)
    sub.subscribe("occupancy/v1/virastotalo/#", qos=1)
    sub.loop_start()

    # wrong password: refused, the agent keeps its events and keeps trying
    bad = EdgeAgent(cfg, resolve_secrets(cfg, {"EDGE_TEST_PW": "wrong"}))
    bad.start()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        bad.run_once(0.05)
    assert not bad.link.connected and bad.outbox.depth == 1
    kept_seq = bad.outbox.pending()[0].seq
    bad.shutdown()

    good = EdgeAgent(cfg, resolve_secrets(cfg, {"EDGE_TEST_PW": "right-password"}))
    stop = threading.Event()
    thread = threading.Thread(target=good.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("space_id" in m for m in got):
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
        sub.disconnect()
        sub.loop_stop()
    assert any(m.get("state") == "online" for m in got)
    presence = [m for m in got if "space_id" in m]
    assert presence and presence[0]["seq"] == kept_seq  # the event kept from the refused attempt
    assert broker.running
