#!/usr/bin/env bash
# Stop the test VM of <run-dir>: QMP quit, then SIGTERM/SIGKILL of the recorded qemu pid if it is
# still there. Only that pid is signalled. Idempotent; always exits 0.
source "$(dirname "$0")/lib.sh"
RUN=${1:?run dir}
[ -f "$RUN/qemu.pid" ] || exit 0
pid=$(cat "$RUN/qemu.pid")
alive() { kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/comm" 2>/dev/null; }
if alive && [ -S "$RUN/qmp.sock" ]; then
  printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
    timeout 10 socat - "UNIX-CONNECT:$RUN/qmp.sock" >/dev/null 2>&1 || true
fi
for _ in $(seq 1 50); do alive || break; sleep 0.2; done
alive && { log "qemu $pid ignored QMP quit: SIGTERM"; kill "$pid" 2>/dev/null; sleep 2; }
alive && { log "qemu $pid still there: SIGKILL"; kill -9 "$pid" 2>/dev/null; }
rm -f "$RUN/qemu.pid" "$RUN/lvm.img"
exit 0
