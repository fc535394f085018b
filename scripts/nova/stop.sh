#!/usr/bin/env bash
# Stops the Nova API that scripts/nova/start.sh <dir> started (by its pid file only).
set -euo pipefail
dir=${1:?usage: stop.sh <dir>}
[ -f "$dir/nova.pid" ] || exit 0
pid=$(cat "$dir/nova.pid")
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
