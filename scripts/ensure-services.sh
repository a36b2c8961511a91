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
# The PostgreSQL store's tests create a database of their own (random name) per test on one
# server: XIAOER_TEST_PG_URL, else the local cluster of Debian's `postgresql` (below).
if [ -z "${XIAOER_TEST_PG_URL:-}" ]; then
  command -v pg_lsclusters >/dev/null 2>&1 || need_apt+=(postgresql)
fi

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

# PostgreSQL: a server given by XIAOER_TEST_PG_URL is only checked. Otherwise the newest installed
# major's `main` cluster is created if missing and started if down (pg_ctlcluster, not systemd: a
# container has none), and the `postgres` role must get in over 127.0.0.1 without a password, the
# tests' default URL; if it cannot, one `trust` line for that role from loopback only is put first
# in the cluster's pg_hba.conf and the server reloaded.
pg_answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-services: need root (or sudo) to $1; do it and re-run, or set XIAOER_TEST_PG_URL" >&2
    exit 1
  fi
}
if [ -n "${XIAOER_TEST_PG_URL:-}" ]; then
  pg_url=$XIAOER_TEST_PG_URL
  if ! pg_answers "$pg_url"; then
    echo "ensure-services: XIAOER_TEST_PG_URL ($pg_url) does not let psql in" >&2
    exit 1
  fi
else
  pg_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n1)
  pg_cluster() { pg_lsclusters -h | awk -v v="$pg_version" -v f="$1" '$1 == v && $2 == "main" { print $f }'; }
  if [ -z "$(pg_cluster 4)" ]; then
    need_root "create the PostgreSQL $pg_version cluster"
    echo "ensure-services: creating the PostgreSQL $pg_version cluster main"
    pg_createcluster "$pg_version" main >/dev/null
  fi
  case "$(pg_cluster 4)" in
  online*) ;;
  *)
    need_root "start the PostgreSQL $pg_version cluster"
    echo "ensure-services: starting the PostgreSQL $pg_version cluster main"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
    ;;
  esac
  pg_url="postgres://postgres@127.0.0.1:$(pg_cluster 3)/postgres"
  if ! pg_answers "$pg_url"; then
    need_root "let the postgres role in over 127.0.0.1"
    hba=/etc/postgresql/$pg_version/main/pg_hba.conf
    echo "ensure-services: trusting the postgres role from 127.0.0.1 in $hba"
    # Rewritten in place (cat >), so the file keeps its owner and mode.
    hba_new=$({ echo 'host all postgres 127.0.0.1/32 trust  # xiaoer tests (scripts/ensure-services.sh)'; cat "$hba"; })
    printf '%s\n' "$hba_new" >"$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
    # A reload is read by the server a moment later.
    for _ in 1 2 3 4 5 6 7 8 9 10; do pg_answers "$pg_url" && break || sleep 0.5; done
    if ! pg_answers "$pg_url"; then
      echo "ensure-services: psql still cannot connect to $pg_url; see $hba" >&2
      exit 1
    fi
  fi
  if [ "$pg_url" != postgres://postgres@127.0.0.1:5432/postgres ]; then
    echo "ensure-services: the cluster is not on port 5432: export XIAOER_TEST_PG_URL=$pg_url" >&2
  fi
fi

echo "ensure-services: $(mosquitto -h 2>&1 | head -n1) ready"
echo "ensure-services: $(mosquitto_pub --help 2>&1 | sed -n '2s/ running.*//p') ready"
echo "ensure-services: $(influxd version 2>&1 | head -n1) ready"
echo "ensure-services: $(/usr/bin/chromium --version 2>/dev/null | head -n1) ready"
echo "ensure-services: $(pdftoppm -v 2>&1 | head -n1) ready"
echo "ensure-services: PostgreSQL $(psql "$pg_url" -Atqc 'SHOW server_version') ready at $pg_url"
