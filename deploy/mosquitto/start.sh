#!/bin/sh
# Runs as root inside eclipse-mosquitto:2 (after the image's entrypoint). Writes xiaoer's own
# login into the password file (created on the first start, updated when MQTT_PASSWORD changes;
# other users are kept), then starts mosquitto, which drops to the mosquitto user.
set -eu
: "${MQTT_PASSWORD:?MQTT_PASSWORD is not set}"
user="${MQTT_USERNAME:-xiaoer}"
dir=/mosquitto/auth
file="$dir/passwd"
mkdir -p "$dir"
if [ -s "$file" ]; then
  mosquitto_passwd -b "$file" "$user" "$MQTT_PASSWORD"
else
  mosquitto_passwd -c -b "$file" "$user" "$MQTT_PASSWORD"
fi
chown -R mosquitto:mosquitto "$dir"
chmod 0700 "$dir"
chmod 0600 "$file"
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
