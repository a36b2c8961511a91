#!/bin/sh
# Entry point of the emqx service: xiaoer's own login goes into a bootstrap file that EMQX
# imports into its built-in user database while that is empty (the first start). A later change
# of MQTT_PASSWORD must also be made in the dashboard (Access Control > Authentication > Users).
set -eu
: "${MQTT_PASSWORD:?MQTT_PASSWORD is not set}"
umask 077
file=/tmp/xiaoer-users.csv
printf 'user_id,password,is_superuser\n%s,%s,false\n' "${MQTT_USERNAME:-xiaoer}" "$MQTT_PASSWORD" > "$file"
export EMQX_AUTHENTICATION__1__BOOTSTRAP_FILE="$file"
export EMQX_AUTHENTICATION__1__BOOTSTRAP_TYPE=plain
exec /usr/bin/docker-entrypoint.sh /opt/emqx/bin/emqx foreground
