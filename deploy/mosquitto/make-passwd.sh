#!/bin/sh
# Writes Mosquitto's password file from environment variables (run by the
# mosquitto-passwd service of docker-compose.yml before the broker starts).
#
#   MQTT_INGEST_PASSWORD, MQTT_API_PASSWORD, MQTT_MONITOR_PASSWORD   required
#   MQTT_SIMULATOR_PASSWORD   optional: the demo simulator (publishes as every agent)
#   MQTT_AGENT_PASSWORDS      optional: "agent-f1:secret1 agent-f2:secret2 ..."
#                             (the username of an agent is its agent id)
#
# Passwords are hashed by mosquitto_passwd; the file is rebuilt on every start
# so a removed agent loses access.
set -eu
out="${1:?usage: make-passwd.sh OUTPUT_FILE}"
tmp="$out.tmp"
rm -f "$tmp"
touch "$tmp"
chmod 0600 "$tmp"

add() {
    # $1 user, $2 password
    if [ -z "$2" ]; then
        echo "make-passwd: empty password for $1" >&2
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
