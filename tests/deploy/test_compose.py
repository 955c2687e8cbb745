"""docker-compose.yml and the image, checked without a Docker engine (none runs
here): the Compose Specification's JSON Schema, the start-up order, the
secrets, and agreement between the compose environment, InfluxDB 2.x's
initial setup, Grafana's datasource and the services' own settings classes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Vendored with its source, commit and license: see schemas/README.md.
SCHEMA = Path(__file__).with_name("schemas") / "compose-spec.json"
VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(REPO / "docker-compose.yml")


def env_example() -> dict[str, str]:
    out = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def resolve(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == "-":
            return arg
        if op == "?":
            raise KeyError(f"{name} is required: {arg}")
        return ""

    return VAR.sub(sub, value)


@pytest.mark.parametrize("file", ["docker-compose.yml", "deploy/compose.tls.yml"])
def test_compose_files_follow_the_compose_specification(file: str) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(load(REPO / file)), key=lambda e: list(e.path))
    assert errors == [], "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_services_and_demo_profile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"mosquitto", "influxdb", "grafana", "ingest", "api", "simulator"} <= set(services)
    assert services["simulator"]["profiles"] == ["demo"]
    for name, svc in services.items():
        if name != "simulator":
            assert "profiles" not in svc, name
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert services["influxdb"]["image"].startswith("influxdb:2")


def test_start_order_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        for dep, cond in svc.get("depends_on", {}).items():
            if dep == "mosquitto-passwd":
                assert cond == {"condition": "service_completed_successfully"}
                continue
            assert cond == {"condition": "service_healthy"}, (name, dep)
            assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
    assert services["api"]["healthcheck"]["test"][-1].endswith("/health', timeout=3)")


def test_secrets_come_from_env_and_are_all_documented(compose: dict[str, Any]) -> None:
    text = (REPO / "docker-compose.yml").read_text()
    names = {m.group(1) for m in VAR.finditer(text)}
    documented = env_example()
    assert names - set(documented) == set(), "variables missing from .env.example"
    required = {m.group(1) for m in VAR.finditer(text) if m.group(2) == "?"}
    assert {
        "INFLUXDB_TOKEN",
        "INFLUXDB_ADMIN_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "MQTT_INGEST_PASSWORD",
        "MQTT_API_PASSWORD",
    } <= required
    for name in required:
        assert documented[name].startswith("change-me"), name
    # no literal secret in the compose file: every password/token is a variable
    for svc in compose["services"].values():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|TOKEN", key):
                assert VAR.fullmatch(str(value)), key


def filled_env() -> dict[str, str]:
    """.env.example as an operator fills it in: every change-me value replaced
    (production settings refuse the placeholders themselves)."""
    return {
        k: f"real-{k.lower()}-7f3a" if v.startswith("change-me") else v
        for k, v in env_example().items()
    }


def _service_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = filled_env()
    return {k: resolve(str(v), env) for k, v in compose["services"][service]["environment"].items()}


def test_influxdb_setup_matches_what_the_store_needs(compose: dict[str, Any]) -> None:
    from api.config import ApiSettings
    from ingest.config import IngestSettings

    influx = _service_env(compose, "influxdb")
    assert influx["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    bucket, token = (
        influx["DOCKER_INFLUXDB_INIT_BUCKET"],
        influx["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"],
    )
    # 2.x maps a bucket named without "/" to database <bucket>, policy autogen.
    assert "/" not in bucket

    for service, prefix, cls in (
        ("ingest", "OCCUPANCY_INGEST_", IngestSettings),
        ("api", "OCCUPANCY_API_", ApiSettings),
    ):
        env = _service_env(compose, service)
        # The service's own settings class accepts exactly these variables.
        kwargs: dict[str, Any] = {}
        for key, value in env.items():
            assert key.startswith(prefix), key
            path = key[len(prefix) :].lower().split("__")
            node = kwargs
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        settings = cls(**kwargs)
        store = settings.store
        assert store.url == "http://influxdb:8086"
        assert store.database == bucket
        assert store.token is not None and store.token.get_secret_value() == token
        assert store.username is None and store.password is None
        assert store.create_database is False

    grafana = _service_env(compose, "grafana")
    assert grafana["INFLUXDB_URL"] == "http://influxdb:8086"
    assert grafana["INFLUXDB_DATABASE"] == bucket and grafana["INFLUXDB_TOKEN"] == token


def test_mqtt_usernames_exist_in_the_acl(compose: dict[str, Any]) -> None:
    acl = (REPO / "deploy" / "mosquitto" / "acl").read_text()
    users = set(re.findall(r"^user (\S+)$", acl, re.M))
    assert _service_env(compose, "ingest")["OCCUPANCY_INGEST_MQTT_USERNAME"] in users
    assert _service_env(compose, "api")["OCCUPANCY_API_MQTT_USERNAME"] in users
    assert compose["services"]["simulator"]["environment"]["OCCUPANCY_SIM_MQTT_USERNAME"] in users


def test_dockerfile_is_multi_stage_and_non_root() -> None:
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.M)
    assert len(stages) >= 2 and stages[0][1] == "build"
    assert "COPY --from=build" in text
    assert '".[server]"' in text and '"occupancy-platform[server]"' in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["occupancy"\]', text, re.M)
    # every package the project installs is copied into the build stage
    pyproject = (REPO / "pyproject.toml").read_text()
    include = re.search(r"include = \[(.*?)\]", pyproject)
    assert include
    for pkg in re.findall(r'"(\w+)\*"', include.group(1)):
        assert f"COPY {pkg} ./{pkg}" in text, pkg
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored


def test_commands_of_the_services_exist(compose: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from occupancy.cli import SUBCOMMANDS

    names = {n for n, _ in SUBCOMMANDS}
    for svc in ("ingest", "api", "simulator"):
        assert compose["services"][svc]["command"][0] in names
    # every option the simulator service passes is one `occupancy simulate` has
    from simulators.cli import app as simulate

    help_text = CliRunner().invoke(simulate, ["--help"], terminal_width=200).output
    for arg in compose["services"]["simulator"]["command"][1:]:
        if arg.startswith("--"):
            assert arg in help_text, arg


def test_spool_and_dead_letters_have_volumes_and_budgets_of_their_own(
    compose: dict[str, Any],
) -> None:
    from ingest.config import IngestSettings

    env = _service_env(compose, "ingest")
    mounts = dict(reversed(v.split(":")[:2]) for v in compose["services"]["ingest"]["volumes"])
    spool, dead = env["OCCUPANCY_INGEST_SPOOL_DIR"], env["OCCUPANCY_INGEST_DEAD_LETTER_DIR"]
    assert mounts[spool] != mounts[dead]
    assert {mounts[spool], mounts[dead]} <= set(compose["volumes"])
    fields = IngestSettings.model_fields
    assert int(env["OCCUPANCY_INGEST_SPOOL_MAX_BYTES"]) == fields["spool_max_bytes"].default
    assert (
        int(env["OCCUPANCY_INGEST_DEAD_LETTER_MAX_BYTES"])
        == fields["dead_letter_max_bytes"].default
    )
    # The ingest's payload cap is the broker's.
    conf = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    limit = re.search(r"^message_size_limit (\d+)$", conf, re.M)
    assert limit and int(env["OCCUPANCY_INGEST_MAX_PAYLOAD_BYTES"]) == int(limit.group(1))
