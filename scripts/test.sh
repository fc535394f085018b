#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, type-checks, runs the unit tier,
# then the process tier (test/process + test/chaos: real API + manager processes, real RabbitMQ,
# stand-in storage commands) twice, on SQLite and on MariaDB (CINDER_TS_DB_ENGINE=sqlite|mysql;
# test/support/mariadb.ts finds or starts the server), then the Tempest tier (scripts/tempest:
# OpenStack's own volume API tests against the service and a real Keystone), then the real-target
# tier when this machine can boot it. Prints one summary line per run ("unit: …", "sqlite: …",
# "mariadb: …", "tempest: …") and a "total (vitest tiers): …" line; fails if any run failed.
#
#   bash scripts/test.sh                  everything
#   bash scripts/test.sh <vitest args>    only those (e.g. a test file), on each engine
#   CINDER_TS_TEST_ENGINES=sqlite bash scripts/test.sh    the process tier on SQLite only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --mariadb
# Debian's python3-cinder / oslo.messaging / cinderclient for the interop process tests.
bash scripts/ensure-python-deps.sh
# dist/ for bin/cinder-ts, built once here so that test workers starting services never race it.
echo "== build"
bash scripts/build.sh

echo "== typecheck"
npx tsc --noEmit -p .

echo "== docker-compose config"
if ! command -v docker-compose >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
fi
docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"

status=0
summaries=()
# run_tier <label> <engine> <vitest args...>: one vitest run, its summary line kept for the end.
run_tier() {
  local label=$1 engine=$2 report t0 rc=0 line
  shift 2
  report=$(mktemp)
  t0=$(date +%s)
  CINDER_TS_DB_ENGINE=$engine npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || rc=$?
  [ "$rc" -eq 0 ] || status=1
  # A file that failed outside its tests (beforeAll, import) counts as one failure: its tests are
  # reported skipped, and "0 failed" would hide it.
  line=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const fileErrors = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + fileErrors} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
  ' "$report" 2>/dev/null) || line="0 passed, 1 failed, 0 skipped (vitest exited $rc without a report)"
  rm -f "$report"
  summaries+=("$label: $line")
  echo "$label: $line"
  echo "== $label: $(( $(date +%s) - t0 )) s"
}

engines=${CINDER_TS_TEST_ENGINES:-sqlite mysql}
all=$(( $# == 0 ))
if [ "$all" = 1 ]; then
  echo "== unit tests"
  run_tier unit sqlite test/unit
  set -- test/process test/chaos
else
  echo "== unit tests: not run apart (test arguments given: $*)"
fi
for engine in $engines; do
  case "$engine" in
    sqlite) echo "== process tier on SQLite: $*"; run_tier sqlite sqlite "$@" ;;
    # MariaDB with four API worker processes per cluster (osapi_volume_workers), as a cloud runs it.
    mysql | mariadb) echo "== process tier on MariaDB, osapi_volume_workers=4: $*"; CINDER_TS_API_WORKERS=4 run_tier "mariadb (4 API workers)" mysql "$@" ;;
    *) echo "CINDER_TS_TEST_ENGINES: unknown engine $engine (sqlite, mysql)" >&2; status=1 ;;
  esac
done

# The Tempest tier (scripts/tempest/run.sh): OpenStack's own volume API tests against the whole
# service behind a real Keystone, compared with scripts/tempest/expected-failures.txt. Its
# "tempest: N passed, N failed, N skipped" line joins the summary; with arguments it is left out.
if [ "$all" = 1 ]; then
  echo "== tempest tier"
  tempest_out=$(mktemp)
  rc=0
  # pipefail: rc is run.sh's exit status, tee only shows its output as it comes.
  bash scripts/tempest/run.sh 2>&1 | tee "$tempest_out" || rc=$?
  [ "$rc" -eq 0 ] || status=1
  line=$(grep -E '^tempest: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$tempest_out" | tail -n 1 || true)
  [ -n "$line" ] || line="tempest: 0 passed, 1 failed, 0 skipped (scripts/tempest/run.sh exited $rc without a result)"
  rm -f "$tempest_out"
  summaries+=("$line") # (run.sh prints its own wall time)
else
  echo "== tempest tier: not run (test arguments given: $*)"
fi

echo "== summary"
for l in "${summaries[@]}"; do echo "$l"; done
# The total adds up the vitest tiers; Tempest's line stands apart: its failures include the
# expected ones (scripts/tempest/expected-failures.txt), which do not fail the run.
node -e '
  let p = 0, f = 0, s = 0;
  for (const l of process.argv.slice(1)) {
    if (l.startsWith("tempest:")) continue;
    const m = /: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(l);
    if (m) { p += +m[1]; f += +m[2]; s += +m[3]; }
  }
  console.log(`total (vitest tiers): ${p} passed, ${f} failed, ${s} skipped`);
' "${summaries[@]}"

# The real-target tier (kernel LIO + LVM + the real cinder-rtstool in a qemu VM). It prints
# "SKIPPED: real-target: <reason>" and succeeds when this machine cannot boot the VM; with
# arguments (a chosen subset of the unit/process tests) it is left out.
if [ "$all" = 1 ]; then
  echo "== real-target tier"
  bash scripts/real-target/run.sh || status=$?
else
  echo "== real-target tier: not run (test arguments given: $*)"
fi
exit "$status"
