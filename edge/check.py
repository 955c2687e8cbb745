"""``occupancy edge --check``: the agent's config against the site registry and
the files it names, every problem at once.

Loading the config already validates its fields. What it cannot see alone:
whether its site, spaces and sensors exist in the registry the ingest uses
(the ingest dead-letters messages of unknown spaces), and whether the CA,
client certificate and password files are there and readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from core.registry import Registry, Site
from core.suggest import did_you_mean
from core.yamlfile import ConfigError
from edge.config import AgentConfig, resolve_secrets


def registry_problems(config: AgentConfig, registry: Registry) -> list[str]:
    site = registry.get(config.site)
    if site is None:
        return [f"site: unknown site {config.site!r}{did_you_mean(config.site, registry.ids)}"]
    problems = [
        p for i, sensor in enumerate(config.sensors) for p in _sensor(site, config, i, sensor)
    ]
    for i, counter in enumerate(config.counters):
        problems += _counter(site, config, i, counter.id, counter.entrance)
    return problems


def _counter(site: Site, config: AgentConfig, i: int, counter_id: str, entrance: str) -> list[str]:
    """A counter must be the one the site file binds to its entrance, read by this agent."""
    where = f"counters[{i}]"
    if not site.has_entrance(entrance):
        known = [e.id for e in site.entrances]
        return [
            f"{where}.entrance: unknown entrance {entrance!r} at {site.id}"
            f"{did_you_mean(entrance, known)}"
        ]
    binding = site.entrance(entrance).counter
    if binding is None:
        return [f"{where}.entrance: entrance {entrance!r} has no counter bound in the site file"]
    problems = []
    if binding.id != counter_id:
        problems.append(
            f"{where}.id: entrance {entrance!r} is bound to counter {binding.id!r}, "
            f"not {counter_id!r}"
        )
    if binding.agent != config.agent_id:
        problems.append(
            f"{where}.entrance: entrance {entrance!r} belongs to agent {binding.agent!r}, "
            f"not {config.agent_id!r}"
        )
    return problems


def _sensor(site: Site, config: AgentConfig, i: int, sensor: object) -> list[str]:
    sensor_id, space_id = getattr(sensor, "id", ""), getattr(sensor, "space", "")
    where = f"sensors[{i}]"
    if not site.has_space(space_id):
        known = [s.id for s in site.spaces]
        return [
            f"{where}.space: unknown space {space_id!r} at {site.id}{did_you_mean(space_id, known)}"
        ]
    binding = site.space(space_id).sensor
    if binding is None:
        return [f"{where}.space: space {space_id!r} has no sensor bound in the site file"]
    problems = []
    if binding.id != sensor_id:
        problems.append(
            f"{where}.id: space {space_id!r} is bound to sensor {binding.id!r}, not {sensor_id!r}"
        )
    if binding.agent != config.agent_id:
        problems.append(
            f"{where}.space: space {space_id!r} belongs to agent {binding.agent!r}, "
            f"not {config.agent_id!r}"
        )
    return problems


def file_problems(config: AgentConfig, environ: Mapping[str, str]) -> list[str]:
    """CA, client certificate/key and password: present and readable."""
    problems = []
    b = config.broker
    for name, path in (
        ("broker.ca_file", b.ca_file),
        ("broker.client_cert", b.client_cert),
        ("broker.client_key", b.client_key),
    ):
        if path is not None and not _readable(path):
            problems.append(f"{name}: {path} does not exist or cannot be read")
    try:
        secrets = resolve_secrets(config, environ)
    except ConfigError as exc:
        problems.append(str(exc))
    else:
        named = b.password_env or b.password_file
        if named and not secrets.broker_password:
            problems.append(f"broker: the password from {named} is empty")
    return problems


def _readable(path: Path) -> bool:
    try:
        with Path(path).open("rb"):
            return True
    except OSError:
        return False
