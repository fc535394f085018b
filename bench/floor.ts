// What this machine charges for the pieces every detach is made of, whatever the service does: a
// process start (from Node and from the spawn helper), a stand-in storage command as the caller
// sees it against its own run time (the stand-in log), a durable SQLite commit, an fsync. The detach
// benchmarks' overhead (whole detach minus the commands' own time) cannot go below the sum of these.
//
//   npx tsx bench/floor.ts [--n 200]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ProcessExecutor } from '../src/common/executor-process.js';
import { STANDINS } from '../test/support/cluster.js';
import { pct } from './lib/stats.js';

const i = process.argv.indexOf('--n');
const N = i >= 0 ? Number(process.argv[i + 1]) : 200;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-floor-'));

async function timed(label: string, f: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let k = 0; k < 10; k++) await f();
  const xs: number[] = [];
  for (let k = 0; k < N; k++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  console.log(`${label.padEnd(58)} p50 ${pct(xs, 50).toFixed(2).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(2).padStart(6)} ms`);
  return xs;
}

async function main() {
  // The helper keeps the environment it started with: the stand-ins' first.
  const log = path.join(dir, 'standin.log');
  Object.assign(process.env, {
    PATH: `${path.join(STANDINS, 'bin')}:${process.env.PATH}`,
    CINDER_TS_STANDIN_LOG: log,
    CINDER_TS_STANDIN_STATE: path.join(dir, 'state'),
    CINDER_TS_LOCK_PATH: path.join(dir, 'lock'),
  });
  console.log(`floor: ${os.cpus().length} CPUs, node ${process.version}, ${N} runs each`);
  await timed('Node spawn(/bin/true), until exit', () => new Promise((r) => spawn('/bin/true', [], { stdio: 'ignore' }).on('exit', r)));
  const blocked: number[] = [];
  for (let k = 0; k < N; k++) {
    const t = performance.now();
    const c = spawn('/bin/true', [], { stdio: 'ignore' });
    blocked.push(performance.now() - t);
    await new Promise((r) => c.on('exit', r));
  }
  console.log(`${'  of which the event loop is blocked inside spawn()'.padEnd(58)} p50 ${pct(blocked, 50).toFixed(2).padStart(6)} ms`);
  const ex = new ProcessExecutor({ rootHelper: path.join(STANDINS, 'root-helper') });
  await timed('spawn helper (Python, vfork): /bin/true', () => ex.execute(['/bin/true']));

  // A stand-in rtstool call: wall time in the caller vs its own time (t_start..t_end in its log).
  // A stand-in rtstool call: wall time in the caller vs its own time (t_start..t_end in its log).
  fs.mkdirSync(path.join(dir, 'state', 'targets'), { recursive: true });
  for (const cmd of ['save', 'get-targets']) {
    fs.rmSync(log, { force: true });
    const wall = await timed(`stand-in \`cinder-rtstool ${cmd}\` via the helper, wall`, () => ex.execute(['cinder-rtstool', cmd], { runAsRoot: true }));
    const own = fs.readFileSync(log, 'utf8').trim().split('\n').slice(10).map((l) => {
      const c = JSON.parse(l) as { t_start: number; t_end: number };
      return (c.t_end - c.t_start) * 1000;
    });
    console.log(`${'  its own run time (stand-in log)'.padEnd(58)} p50 ${pct(own, 50).toFixed(2).padStart(6)} ms   -> start+exit ${(pct(wall, 50) - pct(own, 50)).toFixed(2)} ms per command`);
  }
  ex.close();

  // Durable commits: what every state change of a detach pays (3 per legacy detach).
  for (const mode of ['FULL', 'NORMAL']) {
    const db = new Database(path.join(dir, `c-${mode}.sqlite`));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    await timed(`SQLite WAL commit, synchronous=${mode}`, () => ins.run('x'.repeat(200)));
    db.close();
  }
  const fd = fs.openSync(path.join(dir, 'fsync'), 'w');
  await timed('write 4 KiB + fdatasync', () => {
    fs.writeSync(fd, Buffer.alloc(4096));
    fs.fdatasyncSync(fd);
  });
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
