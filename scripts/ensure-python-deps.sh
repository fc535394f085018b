#!/usr/bin/env bash
# Installs Debian's OpenStack Python packages that the Python interop tests drive against
# cinder-ts (test/python/, test/process/python-*.test.ts, cinderclient*.test.ts):
#   python3-cinder          real cinder.volume.rpcapi.VolumeAPI, cinder.rpc, cinder.objects, exceptions
#   python3-oslo.messaging  the RPC server that answers as cinder-volume
#   python3-cinderclient    the client library Nova uses, and the `cinder` CLI
#   python3-pymysql         the helpers' access to cinder-ts's DB when the process tier runs on
#                           MariaDB (CINDER_TS_DB_ENGINE=mysql; test/python/cinder_ts_db.py)
# They are used through /usr/bin/python3 (Debian's interpreter), never a pyenv/venv one.
# Safe to run again: it installs only what is missing, and waits for another apt/dpkg run.
set -euo pipefail

PY=/usr/bin/python3
PKGS=(python3-cinder python3-oslo.messaging python3-cinderclient python3-pymysql)
APT=(apt-get -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

missing=()
[ -x "$PY" ] || missing+=(python3)
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "ensure-python-deps: apt-get install ${missing[*]}"
  # --no-install-recommends keeps the cinder-api/cinder-volume daemon packages out.
  if ! "${APT[@]}" install "${missing[@]}" >/dev/null 2>&1; then
    apt-get -qq -o DPkg::Lock::Timeout=600 update
    # a half-configured earlier install (e.g. interrupted) is finished first
    dpkg --configure -a >/dev/null 2>&1 || true
    "${APT[@]}" install "${missing[@]}" >/dev/null
  fi
fi

"$PY" -c 'import cinder.volume.rpcapi, cinder.objects, oslo_messaging, cinderclient.v3.client, pymysql' \
  || { echo "ensure-python-deps: Debian's Python OpenStack packages are not importable by $PY" >&2; exit 1; }
command -v cinder >/dev/null 2>&1 || { echo "ensure-python-deps: the cinder CLI (python3-cinderclient) is missing" >&2; exit 1; }
echo "ensure-python-deps: ok (python3-cinder $(dpkg-query -W -f='${Version}' python3-cinder), python3-cinderclient $(dpkg-query -W -f='${Version}' python3-cinderclient))"
