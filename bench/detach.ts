// Detach benchmark: the real API and volume-manager processes on SQLite or MariaDB and the local RabbitMQ,
// with the recording stand-in commands. Sets up N attached volumes, then runs Nova's legacy
// three-call detach (begin_detaching, terminate_connection, detach) with 1 and with 32 concurrent
// clients, and prints p50/p95/p99 per call and per detach, detaches/s, non-2xx answers, and the
// peak RSS (VmHWM) of every API process and of the manager.
//
//   npx tsx bench/detach.ts [--engine sqlite|mysql] [--workers 1] [--volumes 200] [--concurrency 1,32]
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient, sleep } from '../test/support/cluster.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('volumes', '200'));
const ENGINE = arg('engine', 'sqlite');
const WORKERS = arg('workers', '1');
process.env.CINDER_TS_DB_ENGINE = ENGINE;
const LEVELS = arg('concurrency', '1,32').split(',').map(Number);
const PROJECT = 'be0c4be0c4be0c4be0c4be0c4be0c4be';
const SERVICE = { 'X-Service-Roles': 'service' };

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const f = (ms: number) => ms.toFixed(2).padStart(8);

/** The API's worker processes (osapi_volume_workers > 1), not tsx's esbuild service. */
function apiWorkers(pid: number | undefined): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'src/cmd/api.ts'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function peakRssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Attached {
  id: string;
  attachmentId: string;
  connector: Record<string, unknown>;
}

async function setup(api: CinderClient, cluster: Cluster, n: number, concurrency: number): Promise<Attached[]> {
  const out: Attached[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const connector = { initiator: `iqn.1994-05.com.redhat:bench-${randomUUID().slice(0, 8)}`, host: 'compute-b', ip: '192.0.2.50' };
      const c = await api.create({ volume: { size: 1 } });
      const id = c.json.volume.id as string;
      for (;;) {
        const s = cluster.sql<{ status: string }>('SELECT status FROM volumes WHERE id = ?', id)[0]?.status;
        if (s === 'available') break;
        if (s === 'error') throw new Error(`volume ${id} went to error`);
        await sleep(5);
      }
      const ok = (r: { status: number; text: string }, code: number) => {
        if (r.status !== code) throw new Error(`setup failed: ${r.status} ${r.text}`);
      };
      ok(await api.action(id, { 'os-reserve': null }), 202);
      ok(await api.action(id, { 'os-initialize_connection': { connector } }), 200);
      ok(await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } }), 202);
      const attachmentId = cluster.sql<{ id: string }>('SELECT id FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id)[0].id;
      out.push({ id, attachmentId, connector });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

interface Sample {
  begin: number;
  terminate: number;
  detach: number;
  total: number;
}

async function run(api: CinderClient, vols: Attached[], concurrency: number) {
  const samples: Sample[] = [];
  const non2xx: string[] = [];
  let next = 0;
  const timed = async (body: unknown, id: string) => {
    const t = performance.now();
    const r = await api.action(id, body, SERVICE);
    const ms = performance.now() - t;
    if (r.status < 200 || r.status >= 300) non2xx.push(`${r.status} ${r.text}`);
    return ms;
  };
  const worker = async () => {
    while (next < vols.length) {
      const v = vols[next++];
      const t0 = performance.now();
      const begin = await timed({ 'os-begin_detaching': null }, v.id);
      const terminate = await timed({ 'os-terminate_connection': { connector: v.connector } }, v.id);
      const detach = await timed({ 'os-detach': { attachment_id: v.attachmentId } }, v.id);
      samples.push({ begin, terminate, detach, total: performance.now() - t0 });
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - start) / 1000;
  return { samples, non2xx, wall };
}

async function main() {
  const cluster = new Cluster({ logLevel: 'warn', rpcResponseTimeout: 60, extraDefault: { osapi_volume_workers: WORKERS } });
  await cluster.start();
  const api = new CinderClient(cluster.baseUrl, PROJECT);
  try {
    console.log(`detach benchmark: ${N} attached volumes per level, stand-in storage commands, engine=${ENGINE}, api_workers=${WORKERS}, RabbitMQ`);
    for (const c of LEVELS) {
      const vols = await setup(api, cluster, N, 8);
      // warm-up the paths once (JIT, connections) on a volume not measured
      const { samples, non2xx, wall } = await run(api, vols, c);
      const col = (k: keyof Sample) => samples.map((s) => s[k]);
      console.log(`\nclients=${c}  detaches=${samples.length}  wall=${wall.toFixed(2)}s  detaches/s=${(samples.length / wall).toFixed(1)}  non-2xx=${non2xx.length}`);
      console.log('call                       p50 ms   p95 ms   p99 ms');
      for (const [label, k] of [
        ['os-begin_detaching', 'begin'],
        ['os-terminate_connection', 'terminate'],
        ['os-detach', 'detach'],
        ['whole detach (3 calls)', 'total'],
      ] as const) {
        const xs = col(k);
        console.log(`${label.padEnd(24)} ${f(pct(xs, 50))} ${f(pct(xs, 95))} ${f(pct(xs, 99))}`);
      }
      if (non2xx.length) console.log(`first non-2xx: ${non2xx.slice(0, 3).join(' | ')}`);
      const left = cluster.sql<{ n: number }>("SELECT count(*) AS n FROM volumes WHERE deleted = 0 AND status != 'available'")[0].n;
      console.log(`volumes not available after the run: ${left}`);
    }
    const workers = apiWorkers(cluster.api?.pid).map((p) => peakRssMiB(p).toFixed(1));
    console.log(
      `\npeak RSS: api=${peakRssMiB(cluster.api?.pid).toFixed(1)} MiB${workers.length ? ` (parent) + workers ${workers.join(', ')} MiB` : ''}  manager=${peakRssMiB(cluster.volume?.pid).toFixed(1)} MiB`,
    );
    console.log('(API and manager run under node --import tsx; stand-in calls cost one bash start each)');
  } finally {
    await cluster.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
