// RPC round-trip micro-benchmark on the real broker: one client, one server (same process),
// a no-op method; prints p50/p95/p99 of call latency for sequential and 32-way concurrent calls.
//   npx tsx bench/rpc-roundtrip.ts [--calls 500]
import { Transport } from '../src/rpc/transport.js';
import { RpcClient } from '../src/rpc/client.js';
import { RpcServer } from '../src/rpc/server.js';
import { makeContext } from '../src/common/context.js';
import { createVhost, deleteVhost, transportUrl } from '../test/support/rabbit.js';

const i = process.argv.indexOf('--calls');
const CALLS = i >= 0 ? Number(process.argv[i + 1]) : 500;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1];

const vhost = createVhost('cinder-ts-bench');
const url = transportUrl(vhost);
const st = new Transport({ url });
const ct = new Transport({ url });
try {
  await st.connect();
  await ct.connect();
  const server = new RpcServer(st, { host: 'bench@lvm' }, { version: '3.18', methods: { ping: () => 'pong' } });
  await server.start();
  const client = new RpcClient(ct, { timeoutMs: 10000 });
  const ctx = makeContext({ user_id: 'u', project_id: 'p' });
  const target = { topic: 'cinder-volume.bench@lvm', server: 'bench' };
  const one = async () => {
    const t = performance.now();
    await client.call(target, ctx, 'ping', {}, { version: '3.0' });
    return performance.now() - t;
  };
  for (let k = 0; k < 20; k++) await one(); // warm-up
  const seq: number[] = [];
  for (let k = 0; k < CALLS; k++) seq.push(await one());
  console.log(`sequential: p50=${pct(seq, 50).toFixed(2)}ms p95=${pct(seq, 95).toFixed(2)}ms p99=${pct(seq, 99).toFixed(2)}ms`);
  const conc: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next++ < CALLS) conc.push(await one());
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  console.log(`32 concurrent: p50=${pct(conc, 50).toFixed(2)}ms p95=${pct(conc, 95).toFixed(2)}ms p99=${pct(conc, 99).toFixed(2)}ms calls/s=${(conc.length / wall).toFixed(0)}`);
  await server.stop();
  await client.close();
} finally {
  await st.close().catch(() => {});
  await ct.close().catch(() => {});
  deleteVhost(vhost);
}
