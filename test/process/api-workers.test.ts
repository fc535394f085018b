// osapi_volume_workers: several cinder-api processes on one port (node:cluster), each with its own
// DB connection and RPC client. Requests spread over them, the 50-way race still has one winner,
// /metrics sums every worker, and SIGTERM stops them all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Cluster, CinderClient } from '../support/cluster.js';

const connector = { initiator: 'iqn.1993-08.org.debian:01:workers', host: 'compute-w', ip: '192.0.2.77', platform: 'x86_64', os_type: 'linux2', multipath: false };

/** The API worker processes the parent forked (node:cluster runs them from the same dist/cmd/api.js). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'dist/cmd/api.js'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('cinder-api with osapi_volume_workers = 4', () => {
  const c = new Cluster({ extraDefault: { osapi_volume_workers: '4' } });
  let api: CinderClient;
  beforeAll(async () => {
    await c.start();
    api = new CinderClient(c.baseUrl, '8f1bb6a0c6c84f2a9f6c1a4b6c1e7f01');
  });
  afterAll(() => c.stop());

  it('runs four worker processes under the one listening parent', () => {
    expect(childrenOf(c.api!.pid!)).toHaveLength(4);
  });

  it('50 concurrent os-begin_detaching on one in-use volume: one 202, 49 × 400, final detaching', async () => {
    const { id } = await c.attachedVolume(api, connector);
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.action(id, { 'os-begin_detaching': null })));
    const codes = answers.map((r) => r.status).sort();
    expect(codes.filter((s) => s === 202)).toHaveLength(1);
    expect(codes.filter((s) => s === 400)).toHaveLength(49);
    expect(c.volumeRow(id).status).toBe('detaching');
  });

  it('/metrics counts the requests of every worker', async () => {
    const before = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
    const count = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('cinder_api_request_duration_seconds_count') && l.includes('route="/v3/:project_id/volumes/:id"'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const id = await c.newVolume(api);
    for (let i = 0; i < 40; i++) expect((await api.get(id)).status).toBe(200);
    const after = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
    expect(count(after) - count(before)).toBeGreaterThanOrEqual(40);
    expect(after).toMatch(/^cinder_rpc_broker_connected 1$/m);
  });

  it('SIGTERM stops every worker and the parent exits 0', async () => {
    const parent = c.api!;
    const workers = childrenOf(parent.pid!);
    const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
    parent.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});
