#!/usr/bin/env bash
# Starts Debian's REAL Nova os-compute API (package python3-nova, 26.x Zed) for the tests:
#   bash scripts/nova/start.sh <dir> <port> <keystone-url> <nova-user> <password> [<project>]
#   bash scripts/nova/start.sh --install-only
# on 127.0.0.1:<port> (API root http://127.0.0.1:<port>/v2.1), with SQLite api/cell0/cell1
# databases in <dir>, tokens validated by keystonemiddleware against <keystone-url> (e.g.
# http://127.0.0.1:5000, as printed in "url" by scripts/keystone/start.sh) with the service user
# <nova-user>/<password> of project <project> (default: service; domain Default). The user needs
# a role that lets it validate tokens (`service` or `admin`): scripts/keystone/start.sh with
# KEYSTONE_NOVA_PORT=<port> creates a `nova` user so, plus the compute endpoint in the catalog.
# No RabbitMQ: transport_url = fake:// (oslo.messaging's in-process driver); nothing on the
# read path sends RPC. No nova-compute, placement, glance or neutron either: only what the API
# reads from its databases works (e.g. os-volume_attachments of a server that
# scripts/nova/add-server-volume.py put there).
# Prints one JSON line on stdout (url, endpoint, pid, dir, log, databases, seconds); progress
# goes to stderr. Nova's pid is in <dir>/nova.pid, its log in <dir>/nova.log; stop it with
# scripts/nova/stop.sh <dir>. With NOVA_WATCH_PID=<pid>, Nova is also stopped when that process
# goes away. NOVA_DEBUG=true sets [DEFAULT] debug.
# Installs python3-nova with apt-get when missing; exit 75 means it cannot be installed here.
set -euo pipefail

usage="usage: start.sh <dir> <port> <keystone-url> <nova-user> <password> [<project>] | start.sh --install-only"
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
APT=(apt-get -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
now() { date +%s.%N; }
t0=$(now)
log() { echo "nova-start: $*" >&2; }

NOVA_PY=/usr/lib/python3/dist-packages/nova
have_nova() { [ -x "$PY" ] && [ -f "$NOVA_PY/cmd/api_os_compute.py" ] && [ -f "$NOVA_PY/cmd/manage.py" ]; }
if ! have_nova; then
  log "apt-get install python3-nova"
  apt_log=$(mktemp)
  if ! "${APT[@]}" install python3-nova >"$apt_log" 2>&1; then
    apt-get -qq -o DPkg::Lock::Timeout=600 update >>"$apt_log" 2>&1 || true
    # a half-configured earlier install (e.g. interrupted) is finished first
    dpkg --configure -a >>"$apt_log" 2>&1 || true
    if ! "${APT[@]}" install python3-nova >>"$apt_log" 2>&1; then
      log "cannot install Debian's python3-nova package: $(grep -v '^\s*$' "$apt_log" | tail -n 1)"
      rm -f "$apt_log"
      exit 75
    fi
  fi
  rm -f "$apt_log"
  have_nova || { log "python3-nova installed but $NOVA_PY/cmd/api_os_compute.py or $PY missing"; exit 75; }
fi
t_install=$(now)
[ "${1:-}" = "--install-only" ] && exit 0

dir=${1:?$usage}
port=${2:?$usage}
ks_url=${3:?$usage}
ks_url=${ks_url%/}
ks_url=${ks_url%/v3}
nova_user=${4:?$usage}
nova_password=${5:?$usage}
nova_project=${6:-service}
mkdir -p "$dir/nova.conf.d" "$dir/lock"
dir=$(cd "$dir" && pwd)

conf=$dir/nova.conf
cat >"$conf" <<EOF
[DEFAULT]
debug = ${NOVA_DEBUG:-false}
host = cinder-ts-nova
my_ip = 127.0.0.1
state_path = $dir
log_file = $dir/nova.log
# oslo.messaging's in-process driver: no RabbitMQ (cell1's mapping records it too).
transport_url = fake://
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $port
# one worker: the API runs in this one process (oslo.service's ServiceLauncher, no fork).
osapi_compute_workers = 1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $here/api-paste.ini
[api_database]
connection = sqlite:///$dir/nova_api.sqlite
[database]
connection = sqlite:///$dir/nova_cell1.sqlite
[keystone_authtoken]
www_authenticate_uri = $ks_url
auth_url = $ks_url
auth_type = password
username = $nova_user
password = $nova_password
user_domain_name = Default
project_name = $nova_project
project_domain_name = Default
# keystonemiddleware looks Keystone up in the catalog under "internal" by default; bootstrap
# (scripts/keystone/start.sh) registers only the public identity endpoint.
interface = public
[oslo_concurrency]
lock_path = $dir/lock
[oslo_messaging_notifications]
driver = noop
EOF
rm -f "$dir/setup-times.json"

# Database set-up and the API server in one process (see serve.py).
setsid "$PY" "$here/serve.py" "$dir" >"$dir/nova.out" 2>&1 </dev/null &
nova=$!
echo "$nova" >"$dir/nova.pid"
if [ -n "${NOVA_WATCH_PID:-}" ]; then
  # Stop Nova when the process that asked for it is gone (a test run killed midway).
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null' \
    _ "$NOVA_WATCH_PID" "$nova" >/dev/null 2>&1 </dev/null &
fi

up=0
for _ in $(seq 1 1200); do
  if ! kill -0 "$nova" 2>/dev/null; then
    log "nova serve.py exited: $(tail -n 5 "$dir/nova.out"; grep -E 'ERROR|CRITICAL' "$dir/nova.log" 2>/dev/null | tail -n 5)"
    exit 1
  fi
  # The unauthenticated version document of /v2.1 (no Keystone round trip); checked to be Nova's,
  # not whatever else might already listen on the port.
  if "$PY" -c 'import json, sys, urllib.request
assert json.load(urllib.request.urlopen(sys.argv[1], timeout=2))["version"]["id"] == "v2.1"' \
    "http://127.0.0.1:$port/v2.1" >/dev/null 2>&1 && kill -0 "$nova" 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.1
done
[ "$up" = 1 ] || { log "Nova did not answer on 127.0.0.1:$port; see $dir/nova.log"; kill "$nova" 2>/dev/null || true; exit 1; }
t_up=$(now)

"$PY" - "$dir" "$port" "$nova" "$t0" "$t_install" "$t_up" <<'PYEOF'
import json, os, sys
d, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t_install, t_up = (float(x) for x in sys.argv[4:7])
try:
    with open(os.path.join(d, 'setup-times.json')) as f:
        inner = json.load(f)
except (OSError, ValueError):
    inner = {}
url = 'http://127.0.0.1:%d' % port
print(json.dumps({
    'url': url, 'endpoint': url + '/v2.1', 'pid': pid, 'dir': d, 'conf': d + '/nova.conf',
    'log': d + '/nova.log',
    'databases': {'api': d + '/nova_api.sqlite', 'cell0': d + '/nova_cell0.sqlite', 'cell1': d + '/nova_cell1.sqlite'},
    'seconds': {'install_check': round(t_install - t0, 2), 'server': inner,
                'server_start': round(t_up - t_install, 2), 'total': round(t_up - t0, 2)},
}))
PYEOF
