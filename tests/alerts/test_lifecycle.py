"""The alert life cycle end to end: presence over the real Mosquitto into the
API's live feed, the engine's thread evaluating every 0.1 s, alerts in the
records DB and the API, events handed to the sink, digest e-mails received by
a real SMTP server over STARTTLS with AUTH.

From examples/sites/virastotalo.yaml: floor f2 has 91 spaces, all on agent-f2;
zone f2-a (desk f2-a-d003) belongs to the agency vero. The rule (conftest):
a sensor of f2 silent for more than 1.5 s."""

from __future__ import annotations

import time

from tests.alerts.conftest import DIGEST_S, SITE, AlertApi
from webhooks.events import SENSOR_ALERT, SENSOR_RESOLVED

DESK = "f2-a-d003"


def test_a_silent_sensor_fires_once_is_acknowledged_and_resolves(alert_api: AlertApi) -> None:
    api = alert_api
    api.present(DESK)
    fired = api.wait(lambda: [a for a in api.alerts() if a["subject"] == DESK])
    time.sleep(0.5)  # five more ticks: still silent, no second alert
    [alert] = [a for a in api.alerts() if a["subject"] == DESK]
    assert alert == fired[0] and alert["state"] == "firing"
    assert alert["rule"] == "silent-f2" and alert["kind"] == "sensor_silent"
    assert alert["agency"] == "vero" and alert["context"]["floor"] == "f2"
    assert alert["value"] > 1.5
    [event] = [e for e in api.sink.of(SENSOR_ALERT) if e.data["subject"] == DESK]
    assert event.site == SITE and event.agency == "vero" and event.data["alert_id"] == alert["id"]

    # an agency sees alerts about its own spaces only
    assert [a["id"] for a in api.alerts("agency:vero")] == [alert["id"]]
    assert api.alerts("agency:dvv") == []
    path = f"/v1/sites/{SITE}/alerts/{alert['id']}"
    assert api.get(path, "agency:dvv").status_code == 404
    assert api.post(path + "/ack", {"note": "mine"}, "agency:vero").status_code == 403
    assert api.post(path + "/ack", {"note": ""}).status_code == 422

    acked = api.post(path + "/ack", {"note": "technician on the way"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"].startswith("facility key (")
    again = api.post(path + "/ack", {"note": "twice"})
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]

    api.present(DESK)  # the sensor is back
    done = api.wait(lambda: api.get(path).json()["state"] == "resolved" and api.get(path).json())
    assert [h["state"] for h in done["history"]] == ["firing", "acknowledged", "resolved"]
    assert done["history"][1]["note"] == "technician on the way"
    resolved = [e for e in api.sink.of(SENSOR_RESOLVED) if e.data["alert_id"] == alert["id"]]
    assert len(resolved) == 1

    metrics = api.get("/metrics").text
    assert (
        'alerts_transitions_total{change="resolved",kind="sensor_silent",site="virastotalo"}'
        in metrics
    )


def test_a_whole_floor_going_silent_makes_one_digest_per_recipient(alert_api: AlertApi) -> None:
    api = alert_api
    site = api.registry.site(SITE)
    floor = sorted(s.id for s in site.spaces if site.zone(s.zone).floor == "f2")
    assert len(floor) == 91
    for space in floor:
        s = site.space(space)
        assert s.sensor is not None
        api.publisher.presence(space, agent=s.sensor.agent, sensor=s.sensor.id, occupied=True)
    api.wait(lambda: all(api.seen(s) is not None for s in floor))
    api.wait(lambda: len(api.alerts(state="firing")) == 91)
    got = api.smtp.wait_for(2, timeout=DIGEST_S + 5)
    time.sleep(DIGEST_S + 0.5)  # another period: nothing new to say, nothing sent
    assert len(api.smtp.received) == 2
    by_to = {r.rcpt[0]: r.message for r in got}
    fi, en = by_to["fm@example.org"], by_to["ops@example.org"]
    # the site's name in the recipient's language (name, name_en of the site file)
    fi_name, en_name = "Valtion virastotalo, Ratapiha", "Government Office Building, Ratapiha"
    assert fi["Subject"] == f"[Käyttöaste] {fi_name}: 91 uutta hälytystä, 0 poistunut"
    assert en["Subject"] == f"[Occupancy] {en_name}: 91 new alerts, 0 resolved"
    fi_body, en_body = fi.get_content(), en.get_content()
    assert fi_body.count("HÄLYTYS: Anturi vaiti: ") == 91
    assert en_body.count("FIRING: Sensor silent: ") == 91
    assert all(f": {s} (" in fi_body for s in floor)
    assert len(api.sink.of(SENSOR_ALERT)) == 91  # webhooks: one event per alert
