#!/usr/bin/env bash
# Starts a real Keystone (Debian's `keystone` package) for the keystone auth tests:
#   bash scripts/keystone/start.sh <dir> <port>
# on 127.0.0.1:<port>, SQLite in <dir>, Fernet keys in <dir>, served by the package's own
# keystone-wsgi-public (wsgiref runner). It bootstraps an admin, then creates two projects with a
# member user each, and a `service` user in a `service` project with the `service` role, and prints
# one JSON object with the ids and passwords on stdout (progress goes to stderr).
# Keystone's pid is in <dir>/keystone.pid; stop it with scripts/keystone/stop.sh <dir>. With
# KEYSTONE_WATCH_PID=<pid>, Keystone is also stopped when that process goes away.
# Installs `keystone` with apt-get when missing; exit 75 means it cannot be installed here.
# With KEYSTONE_NOVA_PORT=<port>, provision.py also creates a `nova` service user and a compute
# service (name nova) with public endpoint http://127.0.0.1:<port>/v2.1, for scripts/nova/start.sh.
set -euo pipefail

usage="usage: start.sh <dir> <port> | start.sh --install-only"
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
APT=(apt-get -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s.%N)
log() { echo "keystone-start: $*" >&2; }

have_keystone() { command -v keystone-manage >/dev/null 2>&1 && command -v keystone-wsgi-public >/dev/null 2>&1 && [ -x "$PY" ]; }
if ! have_keystone; then
  log "apt-get install keystone"
  apt_log=$(mktemp)
  if ! "${APT[@]}" install keystone >"$apt_log" 2>&1; then
    apt-get -qq -o DPkg::Lock::Timeout=600 update >>"$apt_log" 2>&1 || true
    # a half-configured earlier install (e.g. interrupted) is finished first
    dpkg --configure -a >>"$apt_log" 2>&1 || true
    if ! "${APT[@]}" install keystone >>"$apt_log" 2>&1; then
      log "cannot install Debian's keystone package: $(grep -v '^\s*$' "$apt_log" | tail -n 1)"
      rm -f "$apt_log"
      exit 75
    fi
  fi
  rm -f "$apt_log"
  have_keystone || { log "keystone installed but keystone-manage/keystone-wsgi-public or $PY missing"; exit 75; }
fi
[ "${1:-}" = "--install-only" ] && exit 0

dir=${1:?$usage}
port=${2:?$usage}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

conf=$dir/keystone.conf
cat >"$conf" <<EOF
[DEFAULT]
debug = ${KEYSTONE_DEBUG:-false}
[database]
connection = sqlite:///$dir/keystone.db
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[identity]
# bcrypt's minimum cost: each password authentication takes ~1 s at the default.
password_hash_rounds = 4
[cache]
# Keystone's own in-process cache: token validation in ~10 ms instead of ~500 ms.
enabled = true
backend = dogpile.cache.memory
EOF

KM=(keystone-manage --config-file "$conf")
# db_sync and the two key repositories are independent: run them together.
"${KM[@]}" db_sync >"$dir/db_sync.log" 2>&1 &
p1=$!
"${KM[@]}" fernet_setup --keystone-user root --keystone-group root >"$dir/fernet_setup.log" 2>&1 &
p2=$!
"${KM[@]}" credential_setup --keystone-user root --keystone-group root >"$dir/credential_setup.log" 2>&1 &
p3=$!
for p in $p1 $p2 $p3; do wait "$p" || { log "keystone-manage failed; see $dir/*.log"; exit 1; }; done
# WAL (persistent in the file): Keystone reads in a second session while a write is open (e.g.
# POST /v3/roles); in SQLite's default rollback journal that commit fails with "database is locked".
"$PY" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchall()' "$dir/keystone.db"

admin_pw=admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
"${KM[@]}" bootstrap --bootstrap-username admin --bootstrap-password "$admin_pw" \
  --bootstrap-project-name admin --bootstrap-role-name admin \
  --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
  --bootstrap-public-url "http://127.0.0.1:$port/v3" >"$dir/bootstrap.log" 2>&1 \
  || { log "keystone-manage bootstrap failed; see $dir/bootstrap.log"; exit 1; }
t_setup=$(date +%s.%N)

# The package's own runner (wsgiref) of keystone.server.wsgi.initialize_public_application.
OS_KEYSTONE_CONFIG_DIR=$dir setsid keystone-wsgi-public --host 127.0.0.1 --port "$port" \
  >"$dir/keystone.log" 2>&1 </dev/null &
ks=$!
echo "$ks" >"$dir/keystone.pid"
if [ -n "${KEYSTONE_WATCH_PID:-}" ]; then
  # Stop Keystone when the process that asked for it is gone (a test run killed midway).
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null' \
    _ "$KEYSTONE_WATCH_PID" "$ks" >/dev/null 2>&1 </dev/null &
fi

up=0
for _ in $(seq 1 600); do
  kill -0 "$ks" 2>/dev/null || { log "keystone-wsgi-public exited: $(tail -n 5 "$dir/keystone.log")"; exit 1; }
  if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$port/v3" >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.1
done
[ "$up" = 1 ] || { log "Keystone did not answer on 127.0.0.1:$port"; kill "$ks" 2>/dev/null || true; exit 1; }
t_up=$(date +%s.%N)

"$PY" "$here/provision.py" "http://127.0.0.1:$port" "$admin_pw" "$ks" "$dir" "$t0" "$t_setup" "$t_up"
