#!/usr/bin/env bash
# Installs the real services the test suites talk to, if they are missing. Idempotent.
# The tests start their own instances on free ports in temporary directories (test/helpers),
# so a Mosquitto already running on 1883 is left alone.
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-services: installing ${need_apt[*]} from Debian packages"
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-services: need root (or sudo) to install ${need_apt[*]}; install them and re-run" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

echo "ensure-services: $(mosquitto -h 2>&1 | head -n1) ready"
