#!/usr/bin/env bash
# The Tempest tier: OpenStack's own volume API tests (Debian's python3-tempest and
# cinder-tempest-plugin) against cinder-ts, authenticated by a real Keystone.
#
#   bash scripts/tempest/run.sh
#
# Steps, each privately (its own temp dir, ports, RabbitMQ vhost; all stopped on every exit path):
#   1. installs Debian's tempest, cinder-tempest-plugin and keystone when missing;
#   2. starts a Keystone (scripts/keystone/start.sh) and registers a volumev3 service + endpoint;
#   3. starts cinder-api (2 workers), cinder-scheduler and one cinder-volume on the stand-in storage
#      commands (test/stand-ins), SQLite in the temp dir, auth_strategy = keystone;
#   4. writes tempest.conf from scripts/tempest/tempest.conf.in;
#   5. runs the selection below with concurrency 2;
#   6. compares the per-test outcome with scripts/tempest/expected-failures.txt.
# Prints `tempest: N passed, N failed, N skipped` (failed = every failure, listed or not) and
# `database errors in the service logs: N`. Exits non-zero on a failure that is not listed, on a
# listed test that now passes (remove it: the list only shrinks), on a database error in the
# service logs, or on a service process that died during the run.
#
# Environment: CINDER_TS_KEEP_TMP=1 keeps the temp dir (logs, tempest.log, results.tsv) even when
# the tier passes (it is always kept when it fails); CINDER_TS_TEMPEST_REGEX overrides the
# selection (to look at a few tests; listed ids outside it are then not checked);
# CINDER_TS_TEMPEST_CONCURRENCY (2); CINDER_TS_TEMPEST_TIMEOUT (1200 s for the tempest run).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
here=$repo/scripts/tempest
PY=/usr/bin/python3 # Debian's: the packages below are installed for it, never a pyenv one
SELECTION=${CINDER_TS_TEMPEST_REGEX:-'^(tempest\.api\.volume|cinder_tempest_plugin\.api\.volume)'}
CONCURRENCY=${CINDER_TS_TEMPEST_CONCURRENCY:-2}
EXPECTED=$here/expected-failures.txt
# A hard bound on the tempest run itself, so a hung service cannot eat CI's 90 minutes; tests
# that never report count as failures.
RUN_TIMEOUT=${CINDER_TS_TEMPEST_TIMEOUT:-1200}
t0=$(date +%s)
# Progress goes to stderr with a prefix that is not `tempest:` (that line is the summary).
log() { echo "tempest-run: $*" >&2; }

# 0. npm dependencies and a running RabbitMQ on 127.0.0.1:5672 (for the service).
bash scripts/ensure-deps.sh >&2

# 1. Debian packages. `tempest` brings the CLI (python3-tempest is the library); python3-subunit
# and python3-stestr (pulled in) read the results.
PKGS=(tempest python3-tempest cinder-tempest-plugin keystone python3-subunit)
APT=(apt-get -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  if ! "${APT[@]}" install "${missing[@]}" >/dev/null 2>&1; then
    # the package lists may be missing or old: update only then
    apt-get -qq -o DPkg::Lock::Timeout=600 update
    dpkg --configure -a >/dev/null 2>&1 || true # finish an interrupted earlier install
    "${APT[@]}" install "${missing[@]}" >/dev/null
  fi
fi
"$PY" -c 'import tempest, cinder_tempest_plugin, subunit, testtools' \
  || { log "Debian's tempest / cinder-tempest-plugin / subunit are not importable by $PY"; exit 1; }
for c in tempest stestr keystone-manage; do
  command -v "$c" >/dev/null 2>&1 || { log "$c is missing after the install"; exit 1; }
done

# Everything this run makes lives here; removed at the end when the tier passes.
work=$(mktemp -d "${TMPDIR:-/tmp}/cinder-ts-tempest.XXXXXX")
mkdir -p "$work/logs" "$work/state/lock" "$work/standin-state"
pids=()     # the three service processes
tempest_pid="" # `timeout tempest run` (its own process group: a TERM to it reaches every worker)
watchers=()
vhost=""
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  [ -z "$tempest_pid" ] || kill -TERM "$tempest_pid" 2>/dev/null || true
  # SIGTERM first: each service closes its RPC consumers, the broker and the DB (onShutdown).
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${watchers[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$repo/scripts/keystone/stop.sh" "$work/keystone" 2>/dev/null || true
  [ -z "$vhost" ] || rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  if [ "$rc" -eq 0 ] && [ -z "${CINDER_TS_KEEP_TMP:-}" ]; then
    rm -rf "$work"
  else
    log "kept $work (logs/: the services' logs; tempest/tempest.log: every request; results.tsv)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A SIGKILL of this script runs no trap: a detached watcher still runs the given command when
# this script is gone (Keystone has its own, KEYSTONE_WATCH_PID). The cleanup above ends them.
watch() {
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; shift; "$@"' \
    _ $$ "$@" >/dev/null 2>&1 </dev/null &
  watchers+=($!)
}

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A field of the JSON that start.sh printed, e.g. `ks users.admin.password`.
ks() { "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$work/keystone.json" "$1"; }

# 2. Keystone: its own SQLite and Fernet keys in $work/keystone; it also stops by itself if this
# script is killed (KEYSTONE_WATCH_PID), since a SIGKILL skips the trap.
ks_port=$(free_port)
log "starting Keystone on 127.0.0.1:$ks_port"
KEYSTONE_WATCH_PID=$$ bash scripts/keystone/start.sh "$work/keystone" "$ks_port" >"$work/keystone.json"
api_port=$(free_port)
"$PY" "$here/register.py" "$work/keystone.json" "$api_port" >"$work/volume-endpoint.json"

# 3. The service. A private vhost: other runs on the same broker never see these queues.
vhost=cinder-ts-tempest-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
rabbitmqctl -q add_vhost "$vhost" >/dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
watch rabbitmqctl -q delete_vhost "$vhost"

conf=$work/cinder.conf
cat >"$conf" <<CONF
# Written by scripts/tempest/run.sh: the service under Tempest, on the stand-in storage commands.
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/$vhost
host = tempest
enabled_backends = lvm
auth_strategy = keystone
state_path = $work/state
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $api_port
# Two API processes on one SQLite file with two Tempest workers: the concurrency the tier checks.
osapi_volume_workers = 2
root_helper = $repo/test/stand-ins/root-helper
rtstool_path = cinder-rtstool
log_level = info

[database]
connection = sqlite:///$work/state/cinder.sqlite

[oslo_concurrency]
lock_path = $work/state/lock

[keystone_authtoken]
www_authenticate_uri = $(ks url)
auth_type = password
auth_url = $(ks auth_url)
username = $(ks users.service.name)
password = $(ks users.service.password)
user_domain_name = Default
project_name = $(ks users.service.project_name)
project_domain_name = Default

[lvm]
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_group = cinder-volumes
volume_backend_name = lvm
target_helper = lioadm
target_ip_address = 127.0.0.1
lvm_type = default
CONF

# The stand-ins' state and call log (test/stand-ins/README.md); bin/ has cinder-rtstool.
export PATH="$repo/test/stand-ins/bin:$PATH"
export CINDER_TS_STANDIN_STATE=$work/standin-state
export CINDER_TS_STANDIN_LOG=$work/logs/standin.log
export CINDER_TS_LOCK_PATH=$work/state/lock

# As scripts/run.sh starts them; each one's output goes to its own log (grepped at the end).
names=(volume scheduler api)
bash scripts/build.sh --if-stale >&2 # once, before the three start
for name in "${names[@]}"; do
  bin/cinder-ts "$name" --config-file "$conf" >"$work/logs/$name.log" 2>&1 </dev/null &
  pids+=($!)
done
watch kill -TERM "${pids[@]}"
check_alive() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      log "cinder-${names[$i]} exited; the end of its log:"
      tail -n 20 "$work/logs/${names[$i]}.log" >&2
      return 1
    fi
  done
}
# Ready: the API answers (401 without a token: the listener and keystonemiddleware both work),
# and the volume-manager and scheduler have logged that they serve RPC (so the first create is
# not waiting for a backend report).
ready=0
for _ in $(seq 1 900); do
  check_alive || exit 1
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/v3/" || true)
  if [ "$code" = 401 ] && grep -q 'volume service ready' "$work/logs/volume.log" \
    && grep -q 'scheduler service ready' "$work/logs/scheduler.log"; then
    ready=1
    break
  fi
  sleep 0.1
done
[ "$ready" = 1 ] || { log "the service did not get ready in 90 s (last API answer: $code); see $work/logs"; exit 1; }
log "service ready on 127.0.0.1:$api_port ($(($(date +%s) - t0)) s since start)"

# 4. Tempest's workspace: `tempest init` makes .stestr.conf (test discovery with the plugins) and
# etc/ (Debian's logging.conf); its registry file stays in $work, not in ~/.tempest.
tempest init --workspace-path "$work/workspace.yaml" --name "$(basename "$work")" "$work/tempest" >/dev/null
sed -e "s|@WORKSPACE@|$work/tempest|g" \
  -e "s|@KEYSTONE_URI_V3@|$(ks auth_url)|g" \
  -e "s|@ADMIN_USER@|$(ks users.admin.name)|g" \
  -e "s|@ADMIN_PASSWORD@|$(ks users.admin.password)|g" \
  -e "s|@ADMIN_PROJECT@|$(ks users.admin.project_name)|g" \
  "$here/tempest.conf.in" >"$work/tempest/etc/tempest.conf"
tconf=$work/tempest/etc/tempest.conf

# 5. The run. Its per-test trace goes to a log; the outcome is read back from stestr's
# repository as subunit, below.
cd "$work/tempest"
tempest run --config-file "$tconf" --regex "$SELECTION" --list-tests 2>"$work/logs/list.err" \
  | grep -E '^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_.]+' >"$work/selection.txt" || true
n_sel=$(wc -l <"$work/selection.txt")
[ "$n_sel" -gt 0 ] || { log "no test matches $SELECTION: $(tail -n 5 "$work/logs/list.err")"; exit 1; }
log "running $n_sel tests, concurrency $CONCURRENCY (trace: $work/logs/tempest-run.log)"
t_run=$(date +%s)
run_rc=0
# In the background + wait: bash runs a trap (TERM, INT) only between commands, and `wait` is
# one it interrupts, so a stop request is not held until the run ends.
timeout --kill-after=30 "$RUN_TIMEOUT" \
  tempest run --config-file "$tconf" --regex "$SELECTION" --concurrency "$CONCURRENCY" \
  >"$work/logs/tempest-run.log" 2>&1 </dev/null &
tempest_pid=$!
watch kill -TERM "$tempest_pid"
wait "$tempest_pid" || run_rc=$?
tempest_pid=""
run_s=$(($(date +%s) - t_run))
[ "$run_rc" -ne 124 ] || log "the tempest run was stopped after $RUN_TIMEOUT s: tests without a result count as failed"
stestr last --subunit >"$work/results.subunit" 2>/dev/null || true
cd "$repo"

# 6. Outcome per test against the list (results.py prints the summary line last).
status=0
partial=()
[ -z "${CINDER_TS_TEMPEST_REGEX:-}" ] || partial=(--partial)
"$PY" "$here/results.py" --list "$work/selection.txt" --expected "$EXPECTED" "${partial[@]}" \
  --tsv "$work/results.tsv" --write-expected "$work/expected-failures.draft.txt" \
  <"$work/results.subunit" || status=1

# The service must hold two concurrent Tempest workers without a database error.
db_re='database is locked|SqliteError|Deadlock|\bER_[A-Z]'
db_errors=$(cat "$work"/logs/{api,scheduler,volume}.log | grep -Ec "$db_re" || true)
echo "database errors in the service logs: $db_errors"
if [ "$db_errors" -ne 0 ]; then
  status=1
  { grep -EH "$db_re" "$work"/logs/{api,scheduler,volume}.log | head -n 5 | cut -c1-300; } || true
fi
# A service process that died during the run fails the tier even if Tempest did not notice.
check_alive || status=1
echo "== tempest: $run_s s for the tests, $(($(date +%s) - t0)) s for the tier"
exit "$status"
