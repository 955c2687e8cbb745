"""The broker configuration of docker-compose.yml, run by a real Mosquitto 2:
the password file written by deploy/mosquitto/make-passwd.sh (with the real
mosquitto_passwd), the ACL generated from the example site, tuning.conf
pulled in through include_dir. Paths under /mosquitto/ are moved to a
temporary folder and the listener to a free loopback port; nothing else in
mosquitto.conf is changed."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.registry import load_registry
from tests.deploy.test_compose import env_example
from tests.servers import find_binary, free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
MOSQ = REPO / "deploy" / "mosquitto"
SITE = "virastotalo"
PASSWORDS = {
    "MQTT_INGEST_PASSWORD": "ingest-secret",
    "MQTT_API_PASSWORD": "api-secret",
    "MQTT_MONITOR_PASSWORD": "monitor-secret",
    "MQTT_SIMULATOR_PASSWORD": "",
    "MQTT_AGENT_PASSWORDS": "agent-f1:f1-secret agent-f2:f2-secret",
}


def _load_make_acl() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_acl", MOSQ / "make_acl.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Broker:
    def __init__(
        self, root: Path, *, acl: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        config, auth, data, confd = (root / n for n in ("config", "auth", "data", "config/conf.d"))
        for d in (config, auth, data, confd):
            d.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **PASSWORDS, **(env or {})}
        subprocess.run(
            ["sh", str(MOSQ / "make-passwd.sh"), str(auth / "passwd")],
            env=env,
            check=True,
            capture_output=True,
        )
        if acl is None:
            shutil.copy(MOSQ / "acl", config / "acl")
        else:
            (config / "acl").write_text(acl)
        shutil.copy(MOSQ / "tuning.conf", confd / "tuning.conf")
        text = (MOSQ / "mosquitto.conf").read_text()
        assert "\nlistener 1883\n" in text
        text = text.replace("\nlistener 1883\n", f"\nlistener {self.port} 127.0.0.1\n")
        text = text.replace("/mosquitto/", f"{root}/")
        # Run as the test's own user: started as root, Mosquitto would switch to
        # user "mosquitto", which cannot enter pytest's private temp folders.
        text = f"user {getpass.getuser()}\n" + text
        (config / "mosquitto.conf").write_text(text)
        self.log = root / "mosquitto.log"
        self.conf = config / "mosquitto.conf"
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [find_binary("mosquitto", "mosquitto"), "-c", str(self.conf)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, proc=self.proc)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path)
    yield b
    b.stop()


def connect(broker: Broker, user: str | None, password: str | None) -> tuple[mqtt.Client, int]:
    done = threading.Event()
    result: list[int] = []
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"t-{user}-{time.monotonic_ns()}",
        protocol=mqtt.MQTTv5,
    )
    if user is not None:
        client.username_pw_set(user, password)

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        result.append(reason.value)
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert done.wait(10), "no CONNACK"
    return client, result[0]


def publish(client: mqtt.Client, topic: str, payload: str) -> int:
    """QoS 1: returns the PUBACK reason code (MQTT 5: 135 = not authorised)."""
    acked = threading.Event()
    codes: list[int] = []

    def on_publish(c: Any, userdata: Any, mid: Any, reason: Any, props: Any) -> None:
        codes.append(reason.value)
        acked.set()

    client.on_publish = on_publish
    client.publish(topic, payload, qos=1).wait_for_publish(10)
    assert acked.wait(10)
    return codes[0]


def publish_as(broker: Broker, user: str, password: str, topic: str, payload: str) -> int:
    # A fresh connection per message: paho drops the connection after a
    # refused PUBACK from Mosquitto 2.0.11, which would lose the next publish.
    client, code = connect(broker, user, password)
    assert code == 0
    try:
        return publish(client, topic, payload)
    finally:
        client.loop_stop()
        client.disconnect()


def test_agent_publishes_its_own_topics_and_is_refused_anothers(broker: Broker) -> None:
    site = load_registry(REPO / "examples" / "sites").site(SITE)
    own_space = site.spaces_of_agent("agent-f1")[0].id
    other_space = site.spaces_of_agent("agent-f2")[0].id

    received: list[tuple[str, str]] = []
    marker = threading.Event()
    sub, code = connect(broker, "ingest", PASSWORDS["MQTT_INGEST_PASSWORD"])
    assert code == 0

    def on_message(c: Any, userdata: Any, msg: Any) -> None:
        received.append((msg.topic, msg.payload.decode()))
        if msg.payload == b"marker":
            marker.set()

    subscribed = threading.Event()
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.subscribe("occupancy/v1/#", qos=1)
    assert subscribed.wait(10)

    p = "occupancy/v1"
    allowed = [
        (f"{p}/{SITE}/agents/agent-f1/status", "own status"),
        (f"{p}/{SITE}/agents/agent-f1/health", "own health"),
        (f"{p}/{SITE}/spaces/{own_space}/presence", "own space"),
    ]
    refused = [
        (f"{p}/{SITE}/agents/agent-f2/status", "other agent's status"),
        (f"{p}/{SITE}/spaces/{other_space}/presence", "other agent's space"),
        (f"{p}/othersite/spaces/{own_space}/presence", "other site"),
        # issue 20 item 4: an agent speaks only under the site it belongs to
        (f"{p}/othersite/agents/agent-f1/status", "own status on another site"),
        (f"{p}/othersite/agents/agent-f1/health", "own health on another site"),
        ("elsewhere/topic", "outside the contract"),
    ]
    for topic, text in allowed:
        assert publish_as(broker, "agent-f1", "f1-secret", topic, text) < 128, topic
    for topic, text in refused:
        # MQTT 5 PUBACK reason 135: not authorised
        assert publish_as(broker, "agent-f1", "f1-secret", topic, text) == 135, topic
    # Each publish waited for its PUBACK, so the broker had handled (and would
    # have forwarded) every refused message before the marker.
    marker_topic = f"{p}/{SITE}/agents/agent-f1/health"
    assert publish_as(broker, "agent-f1", "f1-secret", marker_topic, "marker") < 128
    assert marker.wait(10), broker.log.read_text()
    texts = [t for _, t in received]
    assert texts == [t for _, t in allowed] + ["marker"]
    sub.loop_stop()
    sub.disconnect()


def test_only_the_ingest_confirms_and_each_agent_reads_only_its_own(broker: Broker) -> None:
    p = "occupancy/v1"
    own, other = (f"{p}/{SITE}/agents/{a}/stored" for a in ("agent-f1", "agent-f2"))
    received: list[tuple[str, bytes]] = []
    done = threading.Event()
    agent, code = connect(broker, "agent-f1", "f1-secret")
    assert code == 0

    def on_message(c: Any, userdata: Any, msg: Any) -> None:
        received.append((msg.topic, bytes(msg.payload)))
        if msg.payload == b"last":
            done.set()

    granted: list[list[int]] = []
    subscribed = threading.Event()

    def on_subscribe(c: Any, userdata: Any, mid: Any, codes: Any, props: Any) -> None:
        granted.append([rc.value for rc in codes])
        if len(granted) == 3:
            subscribed.set()

    agent.on_message = on_message
    agent.on_subscribe = on_subscribe
    agent.subscribe(own, qos=1)
    agent.subscribe(other, qos=1)
    agent.subscribe(f"{p}/+/agents/+/stored", qos=1)  # a filter over every agent's
    assert subscribed.wait(10)
    # Mosquitto 2.0.11 grants every subscription and applies the read ACL to
    # each message it would deliver (below)
    assert granted[0] == [1]
    # nobody but the ingest writes a confirmation: it deletes outbox rows
    assert publish_as(broker, "agent-f1", "f1-secret", own, "self-confirmed") == 135
    assert publish_as(broker, "agent-f2", "f2-secret", own, "from agent-f2") == 135
    ingest = ("ingest", PASSWORDS["MQTT_INGEST_PASSWORD"])
    assert publish_as(broker, *ingest, other, "for agent-f2") < 128
    assert publish_as(broker, *ingest, own, "last") < 128
    assert done.wait(10), broker.log.read_text()
    time.sleep(0.3)
    agent.loop_stop()
    agent.disconnect()
    # the ingest's confirmation to agent-f1 (once per matching subscription),
    # never agent-f2's
    assert {t for t, _ in received} == {own}
    assert {m for _, m in received} == {b"last"}


def test_wrong_password_and_anonymous_are_refused(broker: Broker) -> None:
    for user, pw in (("agent-f1", "f2-secret"), (None, None), ("nobody", "x")):
        client, code = connect(broker, user, pw)
        client.loop_stop()
        assert code in (134, 135), (user, code)  # bad user name or password / not authorised
        client.disconnect()


def test_tuning_conf_is_loaded_through_include_dir(broker: Broker) -> None:
    # The ingest relies on tuning.conf (unlimited in-flight/queued messages):
    # the broker must have read it as part of this configuration.
    assert "config/conf.d/tuning.conf" in broker.log.read_text()
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["mosquitto"]["volumes"]
    assert "./deploy/mosquitto/tuning.conf:/mosquitto/config/conf.d/tuning.conf:ro" in mounts
    assert "./deploy/mosquitto/acl:/mosquitto/config/acl:ro" in mounts


def test_committed_acl_is_generated_from_the_example_registry() -> None:
    make_acl = _load_make_acl()
    expected = make_acl.acl_text(load_registry(REPO / "examples" / "sites"))
    assert (MOSQ / "acl").read_text() == expected, (
        "run: python deploy/mosquitto/make_acl.py examples/sites > deploy/mosquitto/acl"
    )


def test_make_passwd_refuses_a_malformed_agent_entry(tmp_path: Path) -> None:
    env = {**os.environ, **PASSWORDS, "MQTT_AGENT_PASSWORDS": "agent-f1-without-password"}
    r = subprocess.run(
        ["sh", str(MOSQ / "make-passwd.sh"), str(tmp_path / "passwd")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "agent:password" in r.stderr
    assert not (tmp_path / "passwd").exists()


def _make_passwd(tmp_path: Path, **passwords: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(MOSQ / "make-passwd.sh"), str(tmp_path / "passwd")],
        env={**os.environ, **PASSWORDS, **passwords},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "value",
    [
        *sorted({v for v in env_example().values() if v.startswith("change-me")}),
        "Change-Me-Now", "  changeme ", "change_me_later", "PASSWORD", "secret", "admin",
        "test", "example", "default",
        # real ones, however weak they look
        "passwords", "my-change-me", "s3cr3t-9f2c", "admin2",
    ],
)  # fmt: skip
def test_make_passwd_refuses_placeholders_as_the_services_do(tmp_path: Path, value: str) -> None:
    from core.secrets import is_placeholder

    r = _make_passwd(tmp_path, MQTT_API_PASSWORD=value)
    if is_placeholder(value):
        assert r.returncode == 2, r.stderr
        assert "password for api is a placeholder" in r.stderr
        assert not (tmp_path / "passwd").exists() and not (tmp_path / "passwd.tmp").exists()
    else:
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "passwd").read_text().count("\n") == 5  # ingest api monitor f1 f2


@pytest.mark.parametrize(
    "passwords",
    [
        {"MQTT_SIMULATOR_PASSWORD": "change-me-mqtt-simulator"},
        {"MQTT_AGENT_PASSWORDS": "agent-f1:f1-secret agent-f2:change-me"},
    ],
)
def test_make_passwd_refuses_optional_placeholders_too(
    tmp_path: Path, passwords: dict[str, str]
) -> None:
    r = _make_passwd(tmp_path, **passwords)
    assert r.returncode == 2 and "placeholder" in r.stderr
    assert not (tmp_path / "passwd").exists()


def test_home_assistant_acl_lets_each_agent_write_only_its_own_discovery(tmp_path: Path) -> None:
    make_acl = _load_make_acl()
    registry = load_registry(REPO / "examples" / "sites")
    acl = make_acl.acl_text(registry, home_assistant="homeassistant")
    b = Broker(tmp_path, acl=acl, env={"MQTT_HOMEASSISTANT_PASSWORD": "ha-secret"})
    try:
        own = "homeassistant/binary_sensor/agent-f1/virastotalo_f1-d001/config"
        other = "homeassistant/binary_sensor/agent-f2/virastotalo_f2-d001/config"
        assert publish_as(b, "agent-f1", "f1-secret", own, "{}") < 128
        assert publish_as(b, "agent-f1", "f1-secret", other, "{}") == 135
        assert publish_as(b, "agent-f1", "f1-secret", "homeassistant/status", "x") == 135
        # Home Assistant reads the presence, status and discovery topics, writes
        # its own prefix, and nothing under the contract
        ha, code = connect(b, "homeassistant", "ha-secret")
        assert code == 0
        try:
            assert publish(ha, "homeassistant/status", "online") < 128
            assert publish(ha, f"occupancy/v1/{SITE}/agents/agent-f1/status", "x") == 135
        finally:
            ha.loop_stop()
            ha.disconnect()
    finally:
        b.stop()
    # without the option the committed ACL is unchanged
    assert make_acl.acl_text(registry) == (MOSQ / "acl").read_text()


def test_a_counter_agent_may_write_its_entrances_counts_only() -> None:
    make_acl = _load_make_acl()
    acl = make_acl.acl_text(load_registry(REPO / "examples" / "sites"))
    block = acl.split("user agent-f1-lora\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert block == [
        "topic write occupancy/v1/virastotalo/agents/agent-f1-lora/status",
        "topic write occupancy/v1/virastotalo/agents/agent-f1-lora/health",
        "topic read occupancy/v1/virastotalo/agents/agent-f1-lora/stored",
        "topic write occupancy/v1/virastotalo/entrances/f1-palvelu-ovi/counts",
    ]
    # the floor agents get no entrance topic
    assert acl.count("/entrances/") == 1
