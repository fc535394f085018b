#!/usr/bin/env bash
# Build or reuse the test VM's image (docs: ../../README.md, "Testing against a real iSCSI target";
# recipe: shared/spec/real-target-vm.md). Prints the image directory as the last line of stdout.
#
# Cache: $CACHE_ROOT/<key>/ with vmlinuz, initrd.gz, root.img (raw ext4, booted with snapshot=on so
# it stays pristine), id_ed25519 (the VM's root key), manifest.txt and READY. The key hashes the
# build inputs (these scripts and the guest files) and the resolved kernel package and version, so
# a script change or a kernel security update rebuilds. Builds run under flock (two runs never build
# at once; the second waits and then reuses), go to .build.XXXXXX and are renamed into place, so a
# half-built image is never seen. The newest two keys are kept.
#
# Exit codes: 0 ok; 3 the Debian archive could not be reached (run.sh reports it as SKIPPED);
# anything else is a build failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# --- resolve the kernel through the meta package: ABI numbers change and old ones leave the archive
resolve_kernel() {
  KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  KVER=$( [ -n "$KPKG" ] && apt-cache policy "$KPKG" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
  [ -n "$KPKG" ] && [ -n "$KVER" ] && [ "$KVER" != "(none)" ]
}
# Stale package lists could name a kernel that has left the archive: refresh them once a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin -1440 2>/dev/null | head -1)" ]; then
  log "apt-get update (package lists older than a day)"
  apt-get update -qq >&2 || true
fi
if ! resolve_kernel; then
  log "apt-get update (linux-image-amd64 is not in the package lists)"
  apt-get update -qq >&2 || true
  resolve_kernel || { log "cannot resolve linux-image-amd64 from the Debian archive"; exit 3; }
fi
KREL=${KPKG#linux-image-}   # e.g. 6.1.0-56-amd64, the modules directory name

KEY=$( { cat "$RT_DIR/build-image.sh" "$RT_DIR/lib.sh" "$RT_DIR/guest/"*; echo "$KPKG=$KVER $SUITE"; } | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"
mkdir -p "$CACHE_ROOT"
if [ -f "$OUT/READY" ]; then log "image cache hit: $OUT ($KPKG $KVER)"; echo "$OUT"; exit 0; fi

exec 9>"$CACHE_ROOT/.lock"
log "waiting for the build lock $CACHE_ROOT/.lock"
flock -w 3600 9 || die "build lock not obtained within 1 h"
if [ -f "$OUT/READY" ]; then log "image built by another run meanwhile: $OUT"; echo "$OUT"; exit 0; fi

# Leftovers of a build that was killed (no trap ran): unmount what is still mounted inside first.
for stale in "$CACHE_ROOT"/.build.*; do
  [ -d "$stale" ] || continue
  log "removing the stale build $stale"
  grep -F " $stale/" /proc/mounts | awk '{ print $2 }' | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$stale"
done

# A build needs ~2.5 GB while it runs; the finished cache entry is ~0.8 GB allocated.
avail_kb=$(df -Pk "$CACHE_ROOT" | awk 'NR == 2 { print $4 }')
[ "$avail_kb" -gt 3500000 ] || { log "less than 3.5 GB free under $CACHE_ROOT"; exit 4; }

T0=$(now)
B=$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")
R="$B/rootfs"
cleanup() {
  # Unmount before deleting anything: rootfs/dev is a bind mount of the host's /dev.
  for m in "$R/dev/pts" "$R/dev" "$R/proc" "$R/sys"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m" || true; done
  [ -d "$B" ] && rm -rf --one-file-system "$B" || true
}
trap cleanup EXIT
log "cold build of $OUT ($KPKG $KVER) in $B"

# --- kernel + busybox, fetched in the background while debootstrap runs (both are downloads)
fetch_kernel() {
  set -e
  mkdir -p "$B/deb" "$B/kernel" "$B/busybox" && cd "$B/deb"
  apt-get download -q "$KPKG=$KVER" busybox-static
  dpkg -x linux-image-*.deb "$B/kernel"
  dpkg -x busybox-static_*.deb "$B/busybox"
  # The .deb ships no modules.dep (its postinst runs depmod); the host has no kmod: use busybox's.
  "$B/busybox/bin/busybox" depmod -b "$B/kernel" "$KREL"
  rm -f "$B/deb/"*.deb
}
fetch_kernel >"$B/kernel.log" 2>&1 &
KPID=$!

# --- root filesystem: the recipe's package set without targetcli-fb (it needs D-Bus here and
# cinder-rtstool does not use it)
log "debootstrap $SUITE (minbase)"
debootstrap --variant=minbase \
  --include=lvm2,kmod,udev,iproute2,procps,python3-rtslib-fb,open-iscsi,openssh-server \
  "$SUITE" "$R" "$DEBIAN_MIRROR" >"$B/debootstrap.log" 2>&1 || {
  tail -20 "$B/debootstrap.log" >&2
  grep -qiE 'Failed getting release|could not resolve|Temporary failure|Connection (refused|timed out)' "$B/debootstrap.log" && exit 3
  die "debootstrap failed"
}
wait "$KPID" || { cat "$B/kernel.log" >&2; grep -qiE 'Failed to fetch|resolve|Temporary failure' "$B/kernel.log" && exit 3; die "kernel download failed"; }
log "debootstrap done ($(elapsed "$T0") s)"

cat >"$R/etc/apt/sources.list" <<SRC
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $SUITE-security main
SRC
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod +x "$R/usr/sbin/policy-rc.d"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
in_root() { chroot "$R" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
APT_OPTS=(-y -q -o DPkg::Options::=--force-unsafe-io -o DPkg::Options::=--force-confold)
log "apt-get update + dist-upgrade (debootstrap only used $SUITE itself)"
in_root apt-get update -q >"$B/apt.log" 2>&1
in_root apt-get "${APT_OPTS[@]}" dist-upgrade >>"$B/apt.log" 2>&1
# cinder-common ships the real /usr/bin/cinder-rtstool (python3-cinder alone has only the module).
log "apt-get install cinder-common (~300 packages)"
in_root apt-get "${APT_OPTS[@]}" --no-install-recommends install cinder-common >>"$B/apt.log" 2>&1 \
  || { tail -30 "$B/apt.log" >&2; die "installing cinder-common failed"; }
log "packages done ($(elapsed "$T0") s)"

# --- kernel modules: only the dependency closure of what the VM loads (~50 of ~4000)
WANT="configfs target_core_mod iscsi_target_mod target_core_iblock target_core_file dm_mod dm_thin_pool
  iscsi_tcp sd_mod virtio_net virtio_console virtio_blk virtio_pci ext4 loop crc32c_generic"
KMOD="$B/kernel/lib/modules/$KREL"
closure=$(awk -v want="$WANT" '
  function norm(p,   n) { n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); return n }
  { sub(/:$/, "", $1); path[norm($1)] = $1; line[norm($1)] = $0 }
  END {
    n = split(want, w, /[ \n]+/)
    for (i = 1; i <= n; i++) if (w[i] != "") q[++qn] = w[i]
    for (i = 1; i <= qn; i++) {
      m = q[i]; if (m in seen) continue; seen[m] = 1
      if (!(m in path)) { print "MISSING " m; continue }
      print path[m]
      k = split(line[m], d, / +/)
      for (j = 2; j <= k; j++) if (d[j] != "") q[++qn] = norm(d[j])
    }
  }' "$KMOD/modules.dep")
if grep -q '^MISSING' <<<"$closure"; then die "kernel modules not found: $(grep MISSING <<<"$closure" | tr '\n' ' ')"; fi
DST="$R/lib/modules/$KREL"
rm -rf "$DST" && mkdir -p "$DST"
cp "$KMOD"/modules.order "$KMOD"/modules.builtin* "$DST"/
while read -r p; do mkdir -p "$DST/$(dirname "$p")" && cp "$KMOD/$p" "$DST/$p"; done <<<"$closure"
in_root depmod "$KREL"
log "modules: $(wc -l <<<"$closure") copied"

# --- initramfs: busybox + the 11 modules needed to mount the root disk
I="$B/initramfs"
mkdir -p "$I/bin" "$I/lib/modules" "$I/proc" "$I/sys" "$I/dev" "$I/newroot"
cp "$B/busybox/bin/busybox" "$I/bin/busybox"
cp "$RT_DIR/guest/init" "$I/init"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
  f=$(find "$KMOD" -name "$m.ko" | head -1); [ -n "$f" ] || die "initramfs module $m not found"
  cp "$f" "$I/lib/modules/"
done
(cd "$I" && find . | "$B/busybox/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9) >"$B/initrd.gz"
cp "$B/kernel/boot/vmlinuz-$KREL" "$B/vmlinuz"

# --- finalize: init, sshd, root key, fixed initiator name, LVM filter, slim down
install -m 0755 "$RT_DIR/guest/vm-init" "$R/sbin/vm-init"
install -m 0644 "$RT_DIR/guest/sshd.conf" "$R/etc/ssh/sshd_config.d/cinder-ts.conf"
ssh-keygen -q -t ed25519 -N '' -C cinder-ts-vm -f "$B/id_ed25519"
install -d -m 0700 "$R/root/.ssh" && install -m 0600 "$B/id_ed25519.pub" "$R/root/.ssh/authorized_keys"
echo "InitiatorName=$GUEST_INITIATOR" >"$R/etc/iscsi/initiatorname.iscsi"
echo cinder-ts-vm >"$R/etc/hostname"
# rtslib sets LIO's dbroot to /etc/rtslib-fb-target (Debian's path; targetcli-fb, left out, would
# create it) and fails without it; target_core_mod looks for /etc/target at load time.
mkdir -p "$R/etc/rtslib-fb-target" "$R/etc/target"
# LVM scans only the LVM disk: the VM's own iSCSI sessions expose LUNs (/dev/sd*) whose I/O blocks
# while a session is being torn down, and a scan of them would stall every lvm command.
sed -i 's/^devices {/devices {\n\tglobal_filter = [ "a|^\/dev\/vdb$|", "r|.*|" ]/' "$R/etc/lvm/lvm.conf"
grep -q 'global_filter = \[ "a|^/dev/vdb' "$R/etc/lvm/lvm.conf" || die "lvm.conf filter not set"
in_root dpkg-query -W -f '${Package} ${Version}\n' >"$B/manifest.txt"
echo "kernel $KPKG $KVER" >>"$B/manifest.txt"
in_root apt-get clean
rm -rf "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/*
find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} + 2>/dev/null || true
rm -f "$R/usr/sbin/policy-rc.d"
for m in "$R/dev/pts" "$R/dev" "$R/proc"; do umount "$m"; done

# --- ext4 image straight from the directory (no loop mount); sparse
truncate -s 1536M "$B/root.img"
mkfs.ext4 -q -F -L vmroot -E lazy_itable_init=0,lazy_journal_init=0 -d "$R" "$B/root.img"
rm -rf --one-file-system "$R" "$B/kernel" "$B/busybox" "$B/initramfs" "$B/deb"

# --- publish atomically, keep the newest two keys
echo "$KPKG $KVER built $(date -u +%FT%TZ) in $(elapsed "$T0") s" >"$B/READY"
rm -rf --one-file-system "$OUT"
mv "$B" "$OUT"
trap - EXIT
ls -1dt "$CACHE_ROOT"/*/ 2>/dev/null | tail -n +3 | while read -r old; do rm -rf --one-file-system "$old"; done
log "image built in $(elapsed "$T0") s: $OUT"
echo "$OUT"
