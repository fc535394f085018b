#!/usr/bin/env bash
# Installs what the service and its tests need on a fresh Debian machine with Node 20:
# the npm dependencies (native ones built for this Node), util-linux's flock and a running
# RabbitMQ on 127.0.0.1:5672. With --mariadb (scripts/test.sh, for the process tier on
# CINDER_TS_DB_ENGINE=mysql) also Debian's mariadb-server when mariadbd is missing: the tests use
# the machine's server when root reaches it without a password, else start a private one
# (test/support/mariadb.ts), so nothing is started here. Safe to run again: every step checks
# before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

with_mariadb=0
for a in "$@"; do
  case "$a" in
    --mariadb) with_mariadb=1 ;;
    *) echo "ensure-deps: unknown argument $a" >&2; exit 2 ;;
  esac
done

need_apt=()
command -v flock >/dev/null 2>&1 || need_apt+=(util-linux)
command -v rabbitmqctl >/dev/null 2>&1 || need_apt+=(rabbitmq-server)
if [ "$with_mariadb" = 1 ] && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  need_apt+=(mariadb-server)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "ensure-deps: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! rabbit_up; then
  echo "ensure-deps: starting RabbitMQ"
  (rabbitmq-server -detached >/dev/null 2>&1 || true)
  for _ in $(seq 1 120); do rabbit_up && break; sleep 1; done
  rabbit_up || { echo "ensure-deps: RabbitMQ did not start on 127.0.0.1:5672" >&2; exit 1; }
fi
# rabbitmqctl must answer too (the process tests create a vhost each).
for _ in $(seq 1 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
