"""What Mosquitto's persistence settings cost, and what a kill -9 keeps.

Run: .venv/bin/python benchmarks/broker_persistence.py [--messages 20000]

For each setting in turn, on a fresh real Mosquitto (tests/servers.py, with
deploy/mosquitto/tuning.conf): a persistent QoS 1 session (the ingest's
stand-in) subscribes and goes away, so every message is queued for it; a
publisher sends N presence-sized messages at QoS 1 (window 500) and waits for
every PUBACK; the broker is then killed with SIGKILL and started again on the
same data, and the session counts what the broker still delivers. The first
row is the baseline measured in the same run: the 60-second time-based
autosave shipped before issue 20.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import MosquittoServer  # noqa: E402

# (name, configuration, most messages to send: saving on every change runs at
# tens of messages a second, so that row sends fewer)
SETTINGS = [
    ("baseline: autosave_interval 60 (time)", "autosave_interval 60", None),
    ("autosave_interval 1 (time)", "autosave_interval 1", None),
    (
        "autosave_on_changes, every 1000 (shipped)",
        "autosave_on_changes true\nautosave_interval 1000",
        None,
    ),
    ("autosave_on_changes, every 100", "autosave_on_changes true\nautosave_interval 100", None),
    ("autosave_on_changes, every 1", "autosave_on_changes true\nautosave_interval 1", 1000),
]
TOPIC = "bench/v1/site/spaces/desk/presence"
PAYLOAD = b'{"schema_version":1,"space_id":"desk","occupied":true,"seq":0,' + b"x" * 180 + b"}"


def _client(cid: str, clean: bool) -> paho.Client:
    return paho.Client(
        CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv311, clean_session=clean
    )


def session(port: int, *, collect_s: float = 0.0) -> int:
    """Connect the persistent session; with ``collect_s`` count what arrives."""
    got = 0
    done = threading.Event()
    last = [time.monotonic()]

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        nonlocal got
        got += 1
        last[0] = time.monotonic()

    c = _client("bench-session", clean=False)
    c.on_message = on_message
    c.on_connect = lambda cl, u, f, rc, p: (cl.subscribe(TOPIC, 1), done.set())
    c.connect("127.0.0.1", port)
    c.loop_start()
    done.wait(10)
    if collect_s:
        # Until nothing has come for collect_s seconds.
        while time.monotonic() - last[0] < collect_s:
            time.sleep(0.1)
    else:
        time.sleep(0.5)
    c.disconnect()
    c.loop_stop()
    return got


def publish(port: int, n: int) -> float:
    c = _client("bench-pub", clean=True)
    c.max_inflight_messages_set(500)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    t0 = time.perf_counter()
    infos = [c.publish(TOPIC, PAYLOAD, qos=1) for _ in range(n)]
    for info in infos:
        while not info.is_published():
            time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return n / elapsed


def run_one(workdir: Path, conf: str, n: int) -> tuple[float, int]:
    broker = MosquittoServer(workdir, extra_conf=conf).start()
    try:
        session(broker.port)
        rate = publish(broker.port, n)
        broker.kill()
        broker.start()
        kept = session(broker.port, collect_s=2.0)
    finally:
        broker.stop()
    return rate, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000)
    args = ap.parse_args()
    n = args.messages
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, conf, most) in enumerate(SETTINGS):
            sent = min(n, most or n)
            rate, kept = run_one(Path(tmp) / f"m{i}", conf, sent)
            rows.append((name, rate, kept, sent))
            print(f"  {name}: {rate:,.0f} msg/s, kept {kept}/{sent}", file=sys.stderr)
    base = rows[0][1]
    print("| setting (QoS 1, queued for an absent session) | publish rate | vs baseline "
          "| kept after kill -9 |")  # fmt: skip
    print("|---|---|---|---|")
    for name, rate, kept, sent in rows:
        print(f"| {name} | {rate:,.0f} msg/s | {rate / base:.2f} | {kept:,} of {sent:,} |")


if __name__ == "__main__":
    main()
