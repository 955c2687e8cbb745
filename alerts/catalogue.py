"""The texts of alert e-mails, in Finnish, Swedish and English."""

from __future__ import annotations

from alerts.rules import Kind, Lang

KINDS: dict[Lang, dict[Kind, str]] = {
    "fi": {
        Kind.SENSOR_SILENT: "Anturi vaiti",
        Kind.AGENT_OFFLINE: "Agentti poissa linjalta",
        Kind.BATTERY_LOW: "Paristo vähissä",
        Kind.STUCK_OCCUPIED: "Tila jumissa varattuna",
        Kind.ZONE_COVERAGE: "Alueen kattavuus alhainen",
        Kind.SUMMARISER_LAG: "Yhteenvedot jäljessä",
    },
    "sv": {
        Kind.SENSOR_SILENT: "Sensorn tyst",
        Kind.AGENT_OFFLINE: "Agenten offline",
        Kind.BATTERY_LOW: "Låg batterinivå",
        Kind.STUCK_OCCUPIED: "Utrymmet fast som upptaget",
        Kind.ZONE_COVERAGE: "Låg täckning i zonen",
        Kind.SUMMARISER_LAG: "Sammanfattningarna ligger efter",
    },
    "en": {
        Kind.SENSOR_SILENT: "Sensor silent",
        Kind.AGENT_OFFLINE: "Agent offline",
        Kind.BATTERY_LOW: "Battery low",
        Kind.STUCK_OCCUPIED: "Space stuck occupied",
        Kind.ZONE_COVERAGE: "Zone coverage low",
        Kind.SUMMARISER_LAG: "Summaries lagging",
    },
}

TEXTS: dict[Lang, dict[str, str]] = {
    "fi": {
        "subject": "[Käyttöaste] {site}: {fired} uutta hälytystä, {resolved} poistunut",
        "intro": "Hälytykset {start}–{end} (UTC), kohde {site}:",
        "fired": "HÄLYTYS",
        "resolved": "POISTUNUT",
        "value": "arvo {value} {unit}",
        "footer": "Kuittaa hälytykset rajapinnassa tai live-näkymässä.",
    },
    "sv": {
        "subject": "[Beläggning] {site}: {fired} nya larm, {resolved} åtgärdade",
        "intro": "Larm {start}–{end} (UTC), plats {site}:",
        "fired": "LARM",
        "resolved": "ÅTGÄRDAT",
        "value": "värde {value} {unit}",
        "footer": "Kvittera larmen i API:t eller i livevyn.",
    },
    "en": {
        "subject": "[Occupancy] {site}: {fired} new alerts, {resolved} resolved",
        "intro": "Alerts {start}–{end} (UTC), site {site}:",
        "fired": "FIRING",
        "resolved": "RESOLVED",
        "value": "value {value} {unit}",
        "footer": "Acknowledge alerts in the API or on the live page.",
    },
}


def text(lang: Lang, key: str, **values: object) -> str:
    return TEXTS[lang][key].format(**values)


def kind_name(lang: Lang, kind: Kind) -> str:
    return KINDS[lang][kind]
