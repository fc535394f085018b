#!/usr/bin/env bash
# The real-target tier in one command: build or reuse the VM image, boot the VM, run
# test/real-target through the real service (HTTP -> API -> RabbitMQ -> manager -> ssh -> LVM/LIO/
# cinder-rtstool in the VM), stop the VM, print the wall times.
#
#   bash scripts/real-target/run.sh [vitest args...]
#
# Exit 0 with "SKIPPED: real-target: <reason>" when this machine cannot run the tier (not root, no
# qemu after trying to install it, Debian archive unreachable, too little disk); non-zero when the
# image build, the boot or a test fails. CINDER_TS_REAL_TARGET=0 skips; =1 turns every skip into a
# failure (for a CI that must run it).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
T_START=$(now)
MODE=${CINDER_TS_REAL_TARGET:-auto}

skip() {
  echo "SKIPPED: real-target: $*"
  if [ "$MODE" = 1 ]; then echo "real-target: CINDER_TS_REAL_TARGET=1 requires this tier: failing" >&2; exit 1; fi
  exit 0
}
case "$MODE" in 0 | no | off | false) skip "disabled by CINDER_TS_REAL_TARGET=$MODE" ;; esac
[ "$(id -u)" = 0 ] || skip "not running as root (the image build needs debootstrap and chroot)"
[ "$(uname -m)" = x86_64 ] || skip "host is $(uname -m), the VM recipe is for x86_64"

# --- host packages: install what is missing (command:package)
need=()
for pair in qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap iscsi-inq:libiscsi-bin \
  ssh:openssh-client ssh-keygen:openssh-client socat:socat mkfs.ext4:e2fsprogs flock:util-linux \
  gzip:gzip sha256sum:coreutils; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
  apt_install "${need[@]}" || { apt-get update -qq >/dev/null 2>&1; apt_install "${need[@]}"; } ||
    log "apt-get install failed"
fi
for c in qemu-system-x86_64 debootstrap iscsi-inq ssh socat; do
  command -v "$c" >/dev/null 2>&1 || skip "$c is not available and could not be installed"
done
# The service itself: node_modules and RabbitMQ (idempotent; scripts/test.sh ran it already).
bash scripts/ensure-deps.sh || skip "scripts/ensure-deps.sh failed (npm modules or RabbitMQ)"

# --- image
T_BUILD=$(now)
IMG=$(bash "$RT_DIR/build-image.sh")
rc=$?
IMG=$(tail -1 <<<"$IMG")
case $rc in
  0) ;;
  3) skip "the Debian archive is not reachable (needed once to build the VM image)" ;;
  4) skip "not enough free disk under $CACHE_ROOT for the image build (3.5 GB)" ;;
  *) die "the image build failed (exit $rc)" ;;
esac
BUILD_S=$(elapsed "$T_BUILD")
if [ "$(find "$IMG/READY" -newermt "@${T_BUILD%.*}" 2>/dev/null)" ]; then BUILD_KIND=cold; else BUILD_KIND="warm (cache hit)"; fi

# --- boot; the trap stops the VM whatever happens next
RUN=$(mktemp -d /tmp/cinder-ts-vm.XXXXXX)
cleanup() { bash "$RT_DIR/vm-stop.sh" "$RUN"; [ -n "${CINDER_TS_KEEP_TMP:-}" ] || rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
T_BOOT=$(now)
bash "$RT_DIR/vm-start.sh" "$IMG" "$RUN" || die "the VM did not boot"
BOOT_S=$(elapsed "$T_BOOT")

# --- the suite (serial: one VM); a hard cap keeps a hung run inside CI's limit
T_TEST=$(now)
status=0
CINDER_TS_VM_ENV="$RUN/vm.env" CINDER_TS_RT_TIMES="$RUN/times.txt" \
  timeout --kill-after=30 "${CINDER_TS_RT_TIMEOUT:-2700}" \
  npx vitest run --config test/real-target/vitest.config.ts \
  --reporter=default --reporter=json --outputFile.json="$RUN/report.json" "$@" || status=$?
TEST_S=$(elapsed "$T_TEST")
T_STOP=$(now)
bash "$RT_DIR/vm-stop.sh" "$RUN"
STOP_S=$(elapsed "$T_STOP")

echo
echo "== real-target wall times"
printf '  %-44s %8s s\n' "image build, $BUILD_KIND" "$BUILD_S" "VM boot (to ssh ready)" "$BOOT_S"
if [ -f "$RUN/times.txt" ]; then
  while IFS=$'\t' read -r name secs; do printf '    %-42s %8s s\n' "$name" "$secs"; done <"$RUN/times.txt"
fi
printf '  %-44s %8s s\n' "test suite (vitest, incl. service start-ups)" "$TEST_S" "VM stop" "$STOP_S" "total" "$(elapsed "$T_START")"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`real-target: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
' "$RUN/report.json" 2>/dev/null || echo "real-target: no test report (vitest exit $status)"
exit "$status"
