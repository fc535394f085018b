#!/usr/bin/env bash
# Runs the service: the API (cinder-api), the scheduler (cinder-scheduler) and one volume-manager
# (cinder-volume) as three processes on the embedded SQLite default and the local RabbitMQ.
# Installs what it needs first.
#
#   bash scripts/run.sh                          # demo: generated config, stand-in storage commands
#   bash scripts/run.sh --config-file cinder.conf # your cinder.conf (real LVM + LIO)
#
# Without --config-file a config is written to .state/cinder.conf whose root helper is the
# recording stand-in (test/stand-ins), so the whole lifecycle works with curl on any machine;
# point --config-file at a real cinder.conf (root_helper = sudo, a real volume group) on a storage
# host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build.sh --if-stale # dist/ for bin/cinder-ts, once before the three start

config=""
if [ "${1:-}" = "--config-file" ] && [ -n "${2:-}" ]; then
  config=$(realpath "$2")
else
  state=$(pwd)/.state
  mkdir -p "$state/standin-state"
  config="$state/cinder.conf"
  if [ ! -f "$config" ]; then
    cat > "$config" <<CONF
# Demo configuration written by scripts/run.sh. Storage commands go to the recording stand-ins.
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/
host = $(hostname)
enabled_backends = lvm
auth_strategy = noauth
state_path = $state
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = ${CINDER_TS_PORT:-8776}
root_helper = $(pwd)/test/stand-ins/root-helper
rtstool_path = cinder-rtstool

[database]
connection = sqlite:///$state/cinder.sqlite

[oslo_concurrency]
lock_path = $state/lock

[lvm]
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_group = cinder-volumes
volume_backend_name = lvm
target_helper = lioadm
target_ip_address = 127.0.0.1
lvm_type = default
CONF
  fi
  export PATH="$(pwd)/test/stand-ins/bin:$PATH"
  export CINDER_TS_STANDIN_STATE="$state/standin-state"
  export CINDER_TS_STANDIN_LOG="$state/standin.log"
  export CINDER_TS_LOCK_PATH="$state/lock"
  echo "run: demo config $config (stand-in storage commands, calls logged to $CINDER_TS_STANDIN_LOG)"
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

bin/cinder-ts volume --config-file "$config" &
pids+=($!)
bin/cinder-ts scheduler --config-file "$config" &
pids+=($!)
bin/cinder-ts api --config-file "$config" &
pids+=($!)
echo "run: cinder-volume pid ${pids[0]}, cinder-scheduler pid ${pids[1]}, cinder-api pid ${pids[2]} (Ctrl-C stops all)"
wait -n "${pids[@]}"
