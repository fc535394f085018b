#!/usr/bin/env bash
# Boot the test VM from a built image: vm-start.sh <image-dir> <run-dir>
# Picks free 127.0.0.1 ports for ssh and iSCSI (slirp hostfwd to the guest's :22 and :3260), gives
# it a fresh sparse LVM disk, waits for VM-READY on the serial console and for ssh, and writes
# <run-dir>/vm.env for the tests. Retries the boot (a loaded 2-core CI host can be slow, or a port
# picked as free can be taken before qemu binds it). Stop it with vm-stop.sh <run-dir>.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
IMG=${1:?image dir}
RUN=${2:?run dir}
VM_MEM=${VM_MEM:-1024}          # the guest uses ~180 MB; 1 GiB leaves room for page cache
VM_SMP=${VM_SMP:-1}             # one vCPU keeps a core free for the API, manager and vitest
VM_CPU=${VM_CPU:-max}           # 'max' boots ~30 % faster than qemu64 under TCG
VM_ACCEL=${VM_ACCEL:-tcg,thread=multi}   # the recipe's pure emulation; no KVM needed
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-300}
BOOT_ATTEMPTS=${VM_BOOT_ATTEMPTS:-3}
mkdir -p "$RUN"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ssh_vm() {
  ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ConnectTimeout=20 -i "$IMG/id_ed25519" -p "$SSH_PORT" root@127.0.0.1 "$@"
}

boot_once() {
  SSH_PORT=$(free_port)
  ISCSI_PORT=$(free_port)
  [ "$SSH_PORT" != "$ISCSI_PORT" ] || ISCSI_PORT=$(free_port)
  rm -f "$RUN/lvm.img" "$RUN/console.log" "$RUN/qemu.pid" "$RUN/qmp.sock"
  truncate -s 8G "$RUN/lvm.img"   # sparse: only what the tests write takes space
  # snapshot=on keeps the cached root.img pristine (the overlay lives unlinked in $TMPDIR);
  # cache=unsafe because nothing on these disks needs to survive the VM.
  qemu-system-x86_64 -machine q35 -accel "$VM_ACCEL" -cpu "$VM_CPU" -smp "$VM_SMP" -m "$VM_MEM" \
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.gz" \
    -append "console=ttyS0 root=/dev/vda rw quiet mitigations=off panic=-1 net.ifnames=0" \
    -drive "file=$IMG/root.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
    -drive "file=$RUN/lvm.img,if=virtio,format=raw,cache=unsafe" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22,hostfwd=tcp:127.0.0.1:$ISCSI_PORT-:3260" \
    -device virtio-net-pci,netdev=n0,romfile= -device virtio-rng-pci \
    -qmp "unix:$RUN/qmp.sock,server=on,wait=off" \
    -serial "file:$RUN/console.log" -monitor none -display none -vga none -no-reboot \
    -pidfile "$RUN/qemu.pid" -daemonize 2>"$RUN/qemu.err" || { cat "$RUN/qemu.err" >&2; return 1; }
  local pid end
  pid=$(cat "$RUN/qemu.pid")
  end=$((SECONDS + BOOT_TIMEOUT))
  until grep -q '^VM-READY' "$RUN/console.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { log "qemu exited during boot"; return 1; }
    grep -qE 'FATAL|Kernel panic' "$RUN/console.log" 2>/dev/null && { log "the guest failed to boot"; return 1; }
    [ $SECONDS -lt $end ] || { log "no VM-READY within ${BOOT_TIMEOUT} s"; return 1; }
    sleep 0.5
  done
  until ssh_vm true 2>/dev/null; do
    [ $SECONDS -lt $end ] || { log "ssh did not answer within ${BOOT_TIMEOUT} s"; return 1; }
    sleep 1
  done
}

for attempt in $(seq 1 "$BOOT_ATTEMPTS"); do
  T0=$(now)
  if boot_once; then
    cat >"$RUN/vm.env" <<ENV
VM_RUN_DIR=$RUN
VM_IMAGE_DIR=$IMG
VM_SSH_PORT=$SSH_PORT
VM_ISCSI_PORT=$ISCSI_PORT
VM_SSH_KEY=$IMG/id_ed25519
VM_GUEST_IP=$GUEST_IP
VM_GUEST_INITIATOR=$GUEST_INITIATOR
ENV
    log "VM ready in $(elapsed "$T0") s (attempt $attempt): ssh 127.0.0.1:$SSH_PORT, iSCSI 127.0.0.1:$ISCSI_PORT -> $GUEST_IP:3260"
    elapsed "$T0" >"$RUN/boot-seconds"
    exit 0
  fi
  log "boot attempt $attempt failed; console tail:"
  tail -25 "$RUN/console.log" >&2 2>/dev/null || true
  bash "$RT_DIR/vm-stop.sh" "$RUN" || true
done
die "the VM did not boot in $BOOT_ATTEMPTS attempts"
