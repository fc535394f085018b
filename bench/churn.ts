// Churn benchmark: N clients each run whole volume lifecycles (create, wait, reserve,
// initialize_connection, attach, begin_detaching, terminate_connection, detach, delete, wait) on
// the real API and volume-manager processes with the stand-in storage commands, on SQLite or
// MariaDB. Prints lifecycles/s, lifecycle p50/p95/p99, unexpected answers, volumes in error,
// "database is locked" log lines and volumes left creating/deleting.
//
//   npx tsx bench/churn.ts [--engine sqlite|mysql] [--workers 1] [--clients 8] [--volumes 200]
import { Cluster, CinderClient } from '../test/support/cluster.js';
import { churn } from '../test/support/churn.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const ENGINE = arg('engine', 'sqlite');
const WORKERS = arg('workers', '1');
const CLIENTS = Number(arg('clients', '8'));
const VOLUMES = Number(arg('volumes', '200'));
process.env.CINDER_TS_DB_ENGINE = ENGINE;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function main() {
  const cluster = new Cluster({ logLevel: 'info', rpcResponseTimeout: 60, extraDefault: { osapi_volume_workers: WORKERS } });
  await cluster.start();
  try {
    const api = new CinderClient(cluster.baseUrl, 'c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c5');
    const r = await churn(cluster, api, { clients: CLIENTS, volumes: VOLUMES });
    console.log(`churn: engine=${ENGINE} api_workers=${WORKERS} clients=${CLIENTS} volumes=${VOLUMES}`);
    console.log(`lifecycles=${r.lifecycles} wall=${r.wallS.toFixed(1)}s lifecycles/s=${(r.lifecycles / r.wallS).toFixed(2)}`);
    console.log(
      `lifecycle ms p50=${pct(r.lifecycleMs, 50).toFixed(0)} p95=${pct(r.lifecycleMs, 95).toFixed(0)} p99=${pct(r.lifecycleMs, 99).toFixed(0)}`,
    );
    console.log(`unexpected answers=${r.unexpected.length} volumes in error=${r.errors.length} "database is locked" lines=${r.lockedLogLines.length}`);
    console.log(`left creating=${r.stuck.filter((s) => s.status === 'creating').length} left deleting=${r.stuck.filter((s) => s.status === 'deleting').length}`);
    for (const l of [...r.unexpected, ...r.errors, ...r.lockedLogLines].slice(0, 5)) console.log(`  ${l}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
