# Shared settings and helpers of the real-target scripts (sourced, not run).
# Everything here is overridable from the environment so CI and developers can move the cache,
# the mirror or the VM size without editing the scripts.
RT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$RT_DIR/../.." && pwd)

# Outside the repo so a fresh clone (CI) reuses it; one sub-directory per cache key.
CACHE_ROOT=${CINDER_TS_VM_CACHE:-/var/cache/cinder-ts-vm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm

# slirp's fixed guest address: LIO listens here and it is the portal Cinder advertises.
GUEST_IP=10.0.2.15
# The initiator name of the VM's own open-iscsi (written into the image).
GUEST_INITIATOR=iqn.1993-08.org.debian:01:cinder-ts-vm

log() { printf '[real-target %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch with decimals, for the wall-time report.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
