#!/usr/bin/env bash
# Compiles src/ to dist/ (tsconfig.build.json) for the service processes, which run plain
# JavaScript (bin/cinder-ts), and copies src/'s other run-time files (spawn-helper.py; any *.mjs,
# *.json) to the same relative paths, since the code finds them next to itself.
#
#   bash scripts/build.sh              build (npm run build)
#   bash scripts/build.sh --if-stale   build only if dist/.stamp is missing or older than a source
#
# Under flock dist.lock: test workers start many processes at once, one builds and the others
# wait, then find dist current.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
exec 9>dist.lock
flock 9
stale() { [ ! -e dist/.stamp ] || [ -n "$(find src tsconfig*.json package-lock.json -newer dist/.stamp -print -quit)" ]; }
if [ "${1:-}" = --if-stale ] && ! stale; then exit 0; fi
# The stamp's time is the build's start: a source edited during the build is newer than it.
touch dist/.stamp.new
node_modules/.bin/tsc -p tsconfig.build.json
(cd src && find . -type f \( -name '*.mjs' -o -name '*.py' -o -name '*.json' \) -exec cp --parents -p {} ../dist/ \;)
mv dist/.stamp.new dist/.stamp
