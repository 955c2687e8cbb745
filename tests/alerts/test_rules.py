"""Rules from a file (errors name the line and field) and through the API
(admin and facility only; file rules are read-only there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.config import AlertSettings
from alerts.rules import Kind, load_rules
from alerts.runtime import file_rules
from core.registry import Registry, load_site
from core.yamlfile import ConfigError, YamlFileError
from tests.alerts.conftest import SITE, AlertApi
from tests.api.conftest import SMALL_SITE
from webhooks.events import SENSOR_ALERT, SENSOR_RESOLVED

REGISTRY = Registry({"pieni": load_site(SMALL_SITE)})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    return path


def test_a_rules_file_loads_and_a_missing_one_means_no_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n"
        "  - {id: bat, kind: battery_low, threshold: 15, clear: 20, for_s: 600,\n"
        "     notify: [{email: fm@example.org, lang: sv}]}\n"
        "  - {id: stuck, kind: stuck_occupied, site: pieni, zone: za, threshold: 12}\n",
    )
    bat, stuck = load_rules(path)
    assert (bat.kind, bat.threshold, bat.clear_level, bat.for_s) == (Kind.BATTERY_LOW, 15, 20, 600)
    assert bat.notify[0].lang == "sv" and stuck.clear_level == 12
    assert load_rules(tmp_path / "absent.yaml") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - {id: a, kind: battery_low, threshold: 15, clear: 10}\n",
            ":2: rules[0]: clear (10.0) must not be below",
        ),
        (
            "rules:\n  - {id: a, kind: sensor_silent, treshold: 15}\n",
            "unknown key 'treshold' (did you mean 'threshold'?)",
        ),
        ("rules:\n  - {id: a, kind: noise, threshold: 1}\n", ":2: rules[0].kind: Input should be"),
        ("rules:\n  - {id: a, kind: zone_coverage, threshold: 120}\n", "is a percentage"),
        (
            "rules:\n  - {id: a, kind: agent_offline, threshold: 60,\n"
            "     notify: [{email: nobody}]}\n",
            ":3: rules[0].notify[0].email",
        ),
        (
            "rules:\n  - {id: a, kind: agent_offline, threshold: 60}\n"
            "  - {id: a, kind: agent_offline, threshold: 9}\n",
            "rule id 'a' is used twice",
        ),
        ("rules: [\n", "invalid YAML"),
    ],
)
def test_a_bad_rules_file_names_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(YamlFileError) as err:
        load_rules(write(tmp_path, text))
    assert message in str(err.value) and "alerts.yaml" in str(err.value)


def test_rules_naming_what_the_registry_lacks_stop_the_start(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - {id: a, kind: battery_low, threshold: 15, zone: nowhere}\n")
    with pytest.raises(ConfigError, match="rule 'a': unknown zone 'nowhere'"):
        file_rules(AlertSettings(rules=path), REGISTRY)
    path = write(tmp_path, "rules:\n  - {id: a, kind: battery_low, threshold: 15, site: other}\n")
    with pytest.raises(ConfigError, match="unknown site 'other'"):
        file_rules(AlertSettings(rules=path), REGISTRY)


AGENT_RULE = {"id": "agent-down", "kind": "agent_offline", "site": SITE, "threshold": 0.3}


def test_rules_through_the_api(alert_api: AlertApi) -> None:
    api = alert_api
    created = api.post("/v1/alert-rules", AGENT_RULE)
    assert created.status_code == 201, created.text
    listed = {r["id"]: r["source"] for r in api.get("/v1/alert-rules").json()["rules"]}
    assert listed == {"silent-f2": "file", "agent-down": "api"}

    assert api.post("/v1/alert-rules", AGENT_RULE).status_code == 409
    file_id = api.post("/v1/alert-rules", {**AGENT_RULE, "id": "silent-f2"})
    assert file_id.status_code == 409 and "rules file" in file_id.json()["detail"]
    bad_zone = api.post("/v1/alert-rules", {**AGENT_RULE, "id": "z", "zone": "f9-x"})
    assert bad_zone.status_code == 422 and "unknown zone 'f9-x'" in bad_zone.json()["detail"]
    bad = api.post("/v1/alert-rules", {**AGENT_RULE, "id": "z", "clear": 5})
    assert bad.status_code == 422 and "clear" in bad.text
    for role in ("agency:vero",):
        assert api.get("/v1/alert-rules", role).status_code == 403
        assert api.post("/v1/alert-rules", {**AGENT_RULE, "id": "z"}, role).status_code == 403
    mismatch = api.request("PUT", "/v1/alert-rules/other", AGENT_RULE)
    assert mismatch.status_code == 422
    assert (
        api.request("PUT", "/v1/alert-rules/nope", {**AGENT_RULE, "id": "nope"}).status_code == 404
    )
    assert (
        api.request(
            "PUT", "/v1/alert-rules/silent-f2", {**AGENT_RULE, "id": "silent-f2"}
        ).status_code
        == 409
    )

    # the engine evaluates it on its next tick: agent-f3 goes offline
    api.present("f3-a-d001")  # the feed's path is up
    api.publisher.agent_offline("agent-f3")
    alert = api.wait(lambda: [a for a in api.alerts(state="open") if a["rule"] == "agent-down"])
    assert [(a["subject"], a["agency"]) for a in alert] == [("agent-f3", None)]
    assert api.alerts("agency:dvv") == []  # an agent is no one agency's
    [event] = [e for e in api.sink.of(SENSOR_ALERT) if e.data["rule"] == "agent-down"]
    assert event.data["kind"] == "agent_offline" and event.agency is None

    # deleting the rule resolves its open alert
    assert api.request("DELETE", "/v1/alert-rules/agent-down").status_code == 204
    assert api.request("DELETE", "/v1/alert-rules/agent-down").status_code == 404
    assert api.request("DELETE", "/v1/alert-rules/silent-f2").status_code == 409
    api.wait(lambda: not [a for a in api.alerts(state="open") if a["rule"] == "agent-down"])
    assert [e.data["subject"] for e in api.sink.of(SENSOR_RESOLVED)] == ["agent-f3"]
