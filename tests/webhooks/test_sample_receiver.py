"""The documented sample receiver (examples/webhook_receiver.py), run as its own
process, accepts the API's deliveries and refuses forged ones."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.webhooks.conftest import HookApi
from webhooks.events import SENSOR_ALERT

SAMPLE = Path(__file__).parents[2] / "examples" / "webhook_receiver.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, headers: dict[str, str], body: bytes) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sample_receiver_verifies(hooks: HookApi) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    sub = hooks.subscribe(url=url, event_types=[SENSOR_ALERT])
    env = {**os.environ, "WEBHOOK_SECRET": sub["secret"]}
    proc = subprocess.Popen(
        [sys.executable, str(SAMPLE), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None and "listening" in proc.stderr.readline()
        event = hooks.publish(SENSOR_ALERT, 1, sensor="s-a1")
        [delivered] = hooks.deliveries("delivered", until=bool)
        assert delivered["attempts"] == 1  # accepted at once: the signature verified
        assert proc.stdout is not None
        printed = json.loads(proc.stdout.readline())
        assert (printed["id"], printed["webhook_id"]) == (event.id, delivered["webhook_id"])
        forged = {
            "webhook-id": "msg_x",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAA",
            "content-type": "application/json",
        }
        assert _post(url, forged, b"{}") == 401
        assert _post(url, {}, b"{}") == 401
    finally:
        proc.terminate()
        proc.wait(5)
