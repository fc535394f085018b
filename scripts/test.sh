#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, type-checks, runs the unit and
# process tiers (real API + manager processes, real SQLite, real RabbitMQ, stand-in storage
# commands), then the real-target tier when this machine can boot it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# Debian's python3-cinder / oslo.messaging / cinderclient for the interop process tests.
bash scripts/ensure-python-deps.sh

echo "== typecheck"
npx tsc --noEmit -p .

echo "== docker-compose config"
if ! command -v docker-compose >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
fi
docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"

echo "== unit + process tests"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
' "$report" || true
rm -f "$report"

# The real-target tier (kernel LIO + LVM + the real cinder-rtstool in a qemu VM). It prints
# "SKIPPED: real-target: <reason>" and succeeds when this machine cannot boot the VM; with
# arguments (a chosen subset of the unit/process tests) it is left out.
if [ "$#" -eq 0 ]; then
  echo "== real-target tier"
  bash scripts/real-target/run.sh || status=$?
else
  echo "== real-target tier: not run (test arguments given: $*)"
fi
exit "$status"
