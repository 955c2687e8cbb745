#!/bin/sh
# Writes Mosquitto's password file from environment variables (run by the
# mosquitto-passwd service of docker-compose.yml before the broker starts).
#
#   MQTT_INGEST_PASSWORD, MQTT_API_PASSWORD, MQTT_MONITOR_PASSWORD   required
#   MQTT_SIMULATOR_PASSWORD   optional: the demo simulator (publishes as every agent)
#   MQTT_HOMEASSISTANT_PASSWORD  optional: user homeassistant (make_acl.py --home-assistant)
#   MQTT_AGENT_PASSWORDS      optional: "agent-f1:secret1 agent-f2:secret2 ..."
#                             (the username of an agent is its agent id)
#
# Passwords are hashed by mosquitto_passwd; the file is rebuilt on every start
# so a removed agent loses access. A placeholder is refused, as the services
# refuse one in production (core/secrets.py: any "change-me..." value of
# .env.example, or a bare stand-in word such as "password"): the broker must not
# start with passwords anyone can read in the repository.
set -eu
out="${1:?usage: make-passwd.sh OUTPUT_FILE}"
tmp="$out.tmp"
rm -f "$tmp"
# a refused password leaves no half-written file behind
trap 'rm -f "$tmp"' EXIT
touch "$tmp"
chmod 0600 "$tmp"

is_placeholder() {
    # The rule of core/secrets.py: case and surrounding blanks do not matter.
    value="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
    case "$value" in
        change-me* | changeme* | change_me*) return 0 ;;
        password | secret | admin | test | example | default) return 0 ;;
    esac
    return 1
}

add() {
    # $1 user, $2 password
    if [ -z "$2" ]; then
        echo "make-passwd: empty password for $1" >&2
        exit 2
    fi
    if is_placeholder "$2"; then
        echo "make-passwd: the password for $1 is a placeholder; set a real secret in .env" >&2
        exit 2
    fi
    mosquitto_passwd -b "$tmp" "$1" "$2"
}

add ingest "${MQTT_INGEST_PASSWORD:?MQTT_INGEST_PASSWORD is not set}"
add api "${MQTT_API_PASSWORD:?MQTT_API_PASSWORD is not set}"
add monitor "${MQTT_MONITOR_PASSWORD:?MQTT_MONITOR_PASSWORD is not set}"
if [ -n "${MQTT_SIMULATOR_PASSWORD:-}" ]; then
    add simulator "$MQTT_SIMULATOR_PASSWORD"
fi
if [ -n "${MQTT_HOMEASSISTANT_PASSWORD:-}" ]; then
    add homeassistant "$MQTT_HOMEASSISTANT_PASSWORD"
fi
for pair in ${MQTT_AGENT_PASSWORDS:-}; do
    user="${pair%%:*}"
    pass="${pair#*:}"
    if [ "$user" = "$pair" ] || [ -z "$user" ]; then
        echo "make-passwd: MQTT_AGENT_PASSWORDS entry without 'agent:password'" >&2
        exit 2
    fi
    add "$user" "$pass"
done
# The broker runs as user mosquitto (uid 1883 in the eclipse-mosquitto image).
chown 1883:1883 "$tmp" 2>/dev/null || true
mv "$tmp" "$out"
echo "make-passwd: wrote $out"
