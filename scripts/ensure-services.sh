#!/usr/bin/env bash
# Installs the real services the test suites talk to, if they are missing. Idempotent.
# The tests start their own instances on free ports in temporary directories (test/helpers),
# so a Mosquitto already running on 1883 (or an InfluxDB on 8086) is left alone.
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
# mosquitto_pub: the README's example is tested with the real binary against the embedded broker.
command -v mosquitto_pub >/dev/null 2>&1 || [ -x /usr/bin/mosquitto_pub ] || need_apt+=(mosquitto-clients)
# Debian's `influxdb` is InfluxDB 1.6.x (/usr/bin/influxd), the 1.x line xiaoer writes to.
command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || need_apt+=(influxdb)
# The console's end-to-end tests drive Debian's Chromium with playwright-core (never a downloaded
# browser); the CJK fonts let its screenshots show 简体中文 rather than boxes.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
# The weekly report's test turns its PDF into PNG pages a reviewer can look at (poppler's pdftoppm).
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)

# A package's postinst starts its service through invoke-rc.d; a container has no init system and
# the tests run their own instances anyway. policy-rc.d exit code 101 means "action forbidden"
# (Debian policy, /usr/share/doc/init-system-helpers/README.policy-rc.d.gz), so nothing is started.
# Our temporary file is removed afterwards; one that was already there is left as it was.
policy_rc=/usr/sbin/policy-rc.d
own_policy_rc=0
cleanup() {
  if [ "$own_policy_rc" -eq 1 ]; then rm -f "$policy_rc"; fi
}
trap cleanup EXIT

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-services: installing ${need_apt[*]} from Debian packages"
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-services: need root (or sudo) to install ${need_apt[*]}; install them and re-run" >&2
    exit 1
  fi
  if [ ! -e "$policy_rc" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
    chmod 755 "$policy_rc"
    own_policy_rc=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

echo "ensure-services: $(mosquitto -h 2>&1 | head -n1) ready"
echo "ensure-services: $(mosquitto_pub --help 2>&1 | sed -n '2s/ running.*//p') ready"
echo "ensure-services: $(influxd version 2>&1 | head -n1) ready"
echo "ensure-services: $(/usr/bin/chromium --version 2>/dev/null | head -n1) ready"
echo "ensure-services: $(pdftoppm -v 2>&1 | head -n1) ready"
