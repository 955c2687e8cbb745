"""The live endpoint under concurrent load, and the Server-Sent Events fan-out.

Runs everything on loopback: a real Mosquitto, the API as a real server
(``python -m occupancy api`` in a subprocess, SQLite store seeded with the last
90 minutes of the simulator's backfill of the example site, 280 spaces), and the
simulator publishing a working morning live while the load runs, so the board
changes under the readers as it would in use.

Load comes from separate processes speaking plain HTTP/1.1 with keep-alive over
asyncio streams (a few lines here rather than httpx: a lighter client leaves
more of the two shared cores to the server being measured). Each phase warms up,
then counts for a fixed time and stops by itself. Two shapes:

- ``closed``: every client sends its next request as soon as the previous one is
  answered: the server's throughput, with latency given by queueing
  (latency ~ clients / throughput);
- ``paced``: every client polls at a fixed rate (dashboards), each at its own
  phase; latency counts from the scheduled send time, so a server that falls
  behind is charged for it (no coordinated omission).

Baselines in the same run, on the same server: ``/health`` (no key) and
``/v1/sites`` (a key, a small answer): what the key check and the framework cost
without the live snapshot. "server CPU ms/req" is the API process's CPU time
over the phase per answered request, the figure least disturbed by other load
on the machine.

SSE fan-out: N clients hold ``/live/stream`` open; the benchmark publishes a
presence change for one space every 100 ms over MQTT and each client notes when
the event arrives: delay from publish to event (p50/p99 over all clients).

Run: ``.venv/bin/python benchmarks/api_live_load.py`` (``--seconds 10
--clients 100 --rates 1,5 --sse-clients 10,100,300 --sse-events 50``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SITE_ID = "virastotalo"
WARMUP_S = 2.0
LAG_LIMIT_S = 5.0  # a paced client this far behind its schedule gives up


# ---------------------------------------------------------------- HTTP client
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise RuntimeError("the server answered without Content-Length")
    await reader.readexactly(length)
    return status, length


async def _client(
    port: int,
    request: bytes,
    *,
    start: float,
    end: float,
    interval: float | None,
    phase: float,
    out: dict[str, Any],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    next_t = start + phase
    try:
        while True:
            if interval is not None:
                delay = next_t - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = next_t
                next_t += interval
            else:
                sent = time.monotonic()
            if sent >= end:
                return
            if time.monotonic() > end + LAG_LIMIT_S:
                # an overloaded server: stop rather than queue for minutes, and say so
                out["unsent"] += 1 + int((end - next_t) / interval) if interval else 1
                return
            writer.write(request)
            status, size = await _read_response(reader)
            if sent >= start + WARMUP_S:
                done = time.monotonic()
                out["lat"].append(done - sent)
                out["last_done"] = max(out["last_done"], done)
                out["bytes"] = size
                if status != 200:
                    out["errors"] += 1
    finally:
        writer.close()


async def _load(
    port: int, path: str, key: str | None, clients: int, seconds: float, rate: float
) -> dict[str, Any]:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()
    out: dict[str, Any] = {"lat": [], "errors": 0, "bytes": 0, "unsent": 0, "last_done": 0.0}
    start = time.monotonic() + 0.2
    end = start + WARMUP_S + seconds
    interval = 1.0 / rate if rate > 0 else None
    await asyncio.gather(
        *(
            _client(
                port,
                request,
                start=start,
                end=end,
                interval=interval,
                phase=(i / clients) * (interval or 0.0),
                out=out,
            )
            for i in range(clients)
        )
    )
    # answered per second over the time it really took (longer than planned when
    # a paced load outruns the server)
    out["elapsed"] = max(seconds, out["last_done"] - (start + WARMUP_S))
    return out


def client_main(argv: list[str]) -> None:
    """Load-generator process: prints one JSON line with the latencies."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--key")
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--rate", type=float, default=0.0)
    a = p.parse_args(argv)
    t0 = time.process_time()
    out = asyncio.run(_load(a.port, a.path, a.key, a.clients, a.seconds, a.rate))
    out["client_cpu_s"] = time.process_time() - t0
    print(json.dumps(out))


# ------------------------------------------------------------ SSE fan-out
async def _sse_client(
    port: int, key: str, space: str, received: dict[int, float], ready: asyncio.Event
) -> None:
    # the snapshot is one line of ~100 kB: above asyncio's default line limit
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    writer.write(
        f"GET /v1/sites/{SITE_ID}/live/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {key}\r\n\r\n".encode()
    )
    try:
        await reader.readuntil(b"\r\n\r\n")
        event = None
        while True:
            line = await reader.readline()
            if not line:
                return
            # chunked transfer: size lines are hex digits only; skip them
            text = line.decode().rstrip("\r\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                if event == "snapshot":
                    ready.set()
                elif event == "space":
                    doc = json.loads(text[6:])
                    if doc["space"] == space and doc["count"] is not None:
                        received.setdefault(doc["count"], time.time())
    finally:
        writer.close()


async def _sse(port: int, key: str, space: str, clients: int, events: int, timeout: float) -> Any:
    got: list[dict[int, float]] = [{} for _ in range(clients)]
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [
        asyncio.create_task(_sse_client(port, key, space, got[i], readies[i]))
        for i in range(clients)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(len(g) < events for g in got):
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return got


def sse_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--space", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--timeout", type=float, required=True)
    a = p.parse_args(argv)
    got = asyncio.run(_sse(a.port, a.key, a.space, a.clients, a.events, a.timeout))
    print(json.dumps(got))


# ---------------------------------------------------------------- orchestration
def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _get(port: int, path: str, key: str | None = None) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=10)
    r.raise_for_status()
    return r.json()


def _wait_up(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the API did not answer /health within 60 s")


def run_phase(
    port: int,
    server_pid: int,
    path: str,
    key: str | None,
    clients: int,
    seconds: float,
    rate: float,
) -> dict[str, Any]:
    argv = [sys.executable, __file__, "_client", "--port", str(port), "--path", path]
    argv += ["--clients", str(clients), "--seconds", str(seconds), "--rate", str(rate)]
    if key:
        argv += ["--key", key]
    cpu0 = _cpu_s(server_pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
    cpu1 = _cpu_s(server_pid)
    if out.returncode != 0:
        raise RuntimeError(f"load client failed:\n{out.stderr[-2000:]}")
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    lat = res.pop("lat")
    n = len(lat)
    return {
        "n": n,
        "rps": n / res["elapsed"],
        "unsent": res["unsent"],
        "p50": _pct(lat, 50) * 1e3,
        "p90": _pct(lat, 90) * 1e3,
        "p99": _pct(lat, 99) * 1e3,
        "errors": res["errors"],
        "bytes": res["bytes"],
        # the warm-up's CPU is in the total too; spread it over the warm-up's share
        "cpu_ms": (cpu1 - cpu0) * 1e3 / max(1, n) * res["elapsed"] / (res["elapsed"] + WARMUP_S),
        "client_cpu_s": res["client_cpu_s"],
    }


def run_sse(
    port: int, mqtt_url: str, key: str, space_id: str, agent: str, clients: int, events: int
) -> dict[str, Any]:
    import paho.mqtt.client as mqtt

    from core.broker_url import parse_broker_url
    from core.messages import Presence, PresenceKind
    from core.topics import Topics

    argv = [sys.executable, __file__, "_sse", "--port", str(port), "--key", key]
    argv += ["--space", space_id, "--clients", str(clients), "--events", str(events)]
    argv += ["--timeout", str(events * 0.1 + 10)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"SSE clients did not connect:\n{proc.communicate()[1][-2000:]}")
    addr = parse_broker_url(mqtt_url)
    topic = Topics().presence(SITE_ID, space_id)
    # baseline: the same publishes as a plain MQTT subscriber gets them from the broker
    direct: dict[int, float] = {}

    def on_message(_c: Any, _u: Any, m: Any) -> None:
        direct.setdefault(json.loads(m.payload)["people_count"], time.time())

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect(addr.host, addr.port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    time.sleep(0.5)
    sent: dict[int, float] = {}
    base = datetime.now(UTC) + timedelta(seconds=5)  # after anything the simulator sent
    for i in range(1, events + 1):
        msg = Presence(
            space_id=space_id,
            agent_id=agent,
            sensor_id=f"bench-{space_id}",
            occupied=True,
            people_count=i,  # a new count is a visible change; it also tags the event
            event_time=base + timedelta(milliseconds=i),
            seq=10**9 + i,
            kind=PresenceKind.CHANGE,
        )
        sent[i] = time.time()
        client.publish(topic, msg.model_dump_json().encode(), qos=1).wait_for_publish(5)
        time.sleep(0.1)
    stdout, stderr = proc.communicate(timeout=60)
    client.loop_stop()
    client.disconnect()
    if proc.returncode != 0:
        raise RuntimeError(f"SSE clients failed:\n{stderr[-2000:]}")
    got: list[dict[str, float]] = json.loads(stdout.strip().splitlines()[-1])
    delays = [(t - sent[int(i)]) for g in got for i, t in g.items() if int(i) in sent]
    expected = clients * events
    mqtt_delays = [t - sent[i] for i, t in direct.items() if i in sent]
    return {
        "mqtt_p50": _pct(mqtt_delays, 50) * 1e3,
        "mqtt_p99": _pct(mqtt_delays, 99) * 1e3,
        "clients": clients,
        "events": events,
        "delivered": len(delays),
        "expected": expected,
        "p50": _pct(delays, 50) * 1e3,
        "p99": _pct(delays, 99) * 1e3,
        "max": max(delays) * 1e3 if delays else float("nan"),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        client_main(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_sse":
        sse_main(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--rates", default="1,5", help="per-client polls/s of the paced phases")
    p.add_argument("--sse-clients", default="10,100,300", help="SSE client counts (0: skip)")
    p.add_argument("--sse-events", type=int, default=50)
    p.add_argument("--no-sim", action="store_true", help="no live publishing during the load")
    p.add_argument("--sse-only", action="store_true", help="skip the request/response phases")
    a = p.parse_args()

    from api.auth import create_key
    from api.records import make_engine, make_sessionmaker
    from core.registry import load_registry
    from simulators.backfill import backfill
    from simulators.publisher import LiveSimulator, PublisherSettings
    from simulators.scenario import Scenario
    from storage import StoreSettings, open_store
    from tests.servers import MosquittoServer, free_port

    site = load_registry(REPO / "examples" / "sites").get(SITE_ID)
    assert site is not None
    rates = [float(r) for r in a.rates.split(",") if r.strip()]
    sse_counts = [int(c) for c in a.sse_clients.split(",") if c.strip() and int(c) > 0]
    with tempfile.TemporaryDirectory(prefix="bench-api-live-") as tmp_s:
        tmp = Path(tmp_s)
        store_url = f"sqlite:///{tmp}/store.db"
        records_url = f"sqlite:///{tmp}/api.db"
        now = datetime.now(UTC).replace(microsecond=0)
        store = open_store(StoreSettings(url=store_url))
        backfill(site, Scenario().with_seed(1), store, now - timedelta(minutes=90), now)
        store.close()
        with make_sessionmaker(make_engine(records_url))() as session:
            facility = create_key(session, role="facility", name="bench")
            agency_id = site.agencies[0].id
            agency = create_key(session, role=f"agency:{agency_id}", name="bench")

        mosq = MosquittoServer(tmp / "mqtt")
        mosq.start()
        port = free_port()
        log = tmp / "api.log"
        env = dict(
            os.environ,
            OCCUPANCY_API_RECORDS_URL=records_url,
            OCCUPANCY_API_ROLLUP_INTERVAL_S="0",  # no background report work in the figures
        )
        argv = [sys.executable, "-m", "occupancy", "api"]
        argv += ["--registry", str(REPO / "examples" / "sites"), "--store-url", store_url]
        argv += ["--port", str(port), "--broker-url", mosq.url]
        with log.open("wb") as log_fh:
            server = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log_fh, stderr=log_fh)
        sim = None
        try:
            _wait_up(port, server, log)
            live_path = f"/v1/sites/{SITE_ID}/live"
            snap = _get(port, live_path, facility)
            print(
                f"API up on :{port}; live board: {snap['totals']} "
                f"({len(json.dumps(snap))} bytes for facility)",
                file=sys.stderr,
            )
            if not a.no_sim:
                sim = LiveSimulator(
                    site,
                    Scenario().with_seed(2),
                    PublisherSettings(broker_url=mosq.url),
                    start=now,
                )
                sim.start()
                time.sleep(2)
            rows: list[tuple[str, str, dict[str, Any]]] = []
            cases: list[tuple[str, str, str | None]] = [
                ("baseline: /health", "/health", None),
                ("baseline: /v1/sites (key)", "/v1/sites", facility),
                ("live, facility key", live_path, facility),
                (f"live, agency:{agency_id} key", live_path, agency),
            ]
            shapes = [("closed", 0.0)] + [(f"paced {r:g}/s", r) for r in rates]
            if a.sse_only:
                shapes = []
            for shape, rate in shapes:
                for label, path, key in cases:
                    print(f"  {shape}: {label} ...", file=sys.stderr)
                    res = run_phase(port, server.pid, path, key, a.clients, a.seconds, rate)
                    rows.append((label, shape, res))
            if sim is not None:
                sim.stop()
                print(f"simulator sent {dict(sim.sent)}", file=sys.stderr)
                sim = None
            sse_rows = []
            space = next(s for s in site.spaces if s.sensor is not None)
            assert space.sensor is not None
            for n in sse_counts:
                print(f"  SSE fan-out: {n} clients ...", file=sys.stderr)
                sse_rows.append(
                    run_sse(port, mosq.url, facility, space.id, space.sensor.agent, n, a.sse_events)
                )
        finally:
            if sim is not None:
                sim.stop()
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
            mosq.stop()

    if rows:
        print_rows(rows, a, snap)
    if sse_rows:
        print_sse(sse_rows, a)


def print_rows(rows: list[tuple[str, str, dict[str, Any]]], a: Any, snap: dict[str, Any]) -> None:
    print()
    print(
        f"Live endpoint, {a.clients} concurrent clients, {a.seconds:g} s measured per row "
        f"after {WARMUP_S:g} s warm-up ({snap['totals'].get('total', '?')} spaces)"
    )
    print()
    print(
        "| endpoint | load | answered | req/s | p50 ms | p90 ms | p99 ms | errors | unsent "
        "| body bytes | server CPU ms/req |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, shape, r in rows:
        print(
            f"| {label} | {shape} | {r['n']:,} | {r['rps']:,.0f} | {r['p50']:.1f} "
            f"| {r['p90']:.1f} | {r['p99']:.1f} | {r['errors']} | {r['unsent']:,} | {r['bytes']:,} "
            f"| {r['cpu_ms']:.2f} |"
        )
    live_closed = next(r for label, shape, r in rows if shape == "closed" and "facility" in label)
    health_closed = next(r for label, shape, r in rows if shape == "closed" and "health" in label)
    print()
    print(
        f"live snapshot vs /health (closed loop): "
        f"{live_closed['cpu_ms'] / health_closed['cpu_ms']:.1f}x server CPU per request, "
        f"{health_closed['rps'] / live_closed['rps']:.1f}x fewer requests/s"
    )


def print_sse(sse_rows: list[dict[str, Any]], a: Any) -> None:
    if sse_rows:
        print()
        print(f"SSE fan-out: one presence change every 100 ms over MQTT, {a.sse_events} changes")
        print()
        print(
            "| stream clients | events delivered | p50 delay ms | p99 delay ms | max ms "
            "| baseline: MQTT subscriber p50 / p99 ms |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for s in sse_rows:
            print(
                f"| {s['clients']} | {s['delivered']:,} / {s['expected']:,} | {s['p50']:.1f} "
                f"| {s['p99']:.1f} | {s['max']:.1f} | {s['mqtt_p50']:.1f} / {s['mqtt_p99']:.1f} |"
            )


if __name__ == "__main__":
    main()
