// Nova's attach/detach flows against any Cinder v3 endpoint, over HTTP only (no SQL), so the same
// code measures cinder-ts and a real Cinder (auth_strategy=noauth). Every wait is bounded: a
// request has a client timeout, a status poll has a per-volume timeout and the whole setup a
// deadline; what does not finish is reported, never waited on.
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';

export interface Target {
  name: string;
  /** e.g. http://127.0.0.1:8776 */
  baseUrl: string;
  projectId: string;
  /** Added to every request (X-Auth-Token, and X-Service-Roles when the target wants it). */
  headers: Record<string, string>;
}
export type Flow = 'legacy' | 'attachments';
export interface Attached {
  volumeId: string;
  attachmentId: string;
  connector: Record<string, unknown>;
  instanceUuid: string;
}
export interface SetupResult {
  ready: Attached[];
  failed: { step: string; detail: string }[];
  seconds: number;
}
export interface CallSample {
  call: string;
  ms: number;
  status: number;
}
export interface DetachSample {
  volumeId: string;
  calls: CallSample[];
  totalMs: number;
  /** epoch seconds (float), comparable with the stand-in log's t_start/t_end */
  startedAt: number;
  endedAt: number;
  ok: boolean;
}
export interface RunResult {
  flow: Flow;
  clients: number;
  samples: DetachSample[];
  wallSeconds: number;
  non2xx: string[];
}

export const REQUEST_TIMEOUT_MS = 60_000;
/** attachment create with mode and DELETE need >= 3.54 / 3.27; os-complete >= 3.44. */
const MV_ATTACH = { 'OpenStack-API-Version': 'volume 3.54' };
const MV_COMPLETE = { 'OpenStack-API-Version': 'volume 3.44' };

/** Sub-millisecond epoch seconds: the stand-in stamps its calls with bash's EPOCHREALTIME. */
export const epochS = () => (performance.timeOrigin + performance.now()) / 1000;

// One keep-alive agent per target: reusing connections keeps TCP set-up out of the per-call
// figures, and 64 sockets is enough for 32 clients plus setup polls.
const agents = new Map<string, http.Agent>();
function agentFor(url: URL): http.Agent {
  let a = agents.get(url.origin);
  if (!a) {
    const o = { keepAlive: true, maxSockets: 64 };
    a = url.protocol === 'https:' ? new https.Agent(o) : new http.Agent(o);
    agents.set(url.origin, a);
  }
  return a;
}
/** Close the pooled sockets so the process can exit. */
export function closeAgents() {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export interface Reply {
  /** 0: no HTTP answer (timeout or connection error); text says which. */
  status: number;
  text: string;
  json: any;
  ms: number;
}
const ok2xx = (s: number) => s >= 200 && s < 300;

export function request(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Reply> {
  const url = new URL(path, t.baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Accept: 'application/json', ...t.headers, ...extra };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  const mod = url.protocol === 'https:' ? https : http;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, text: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      let json: any;
      try {
        json = text && status ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, text, json, ms: performance.now() - t0 });
    };
    const req = mod.request(url, { method, headers, agent: agentFor(url) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString()));
      res.on('error', (e) => done(0, `response error: ${e.message}`));
    });
    // The whole exchange is bounded, not just socket idleness.
    const timer = setTimeout(() => {
      done(0, `client timeout after ${timeoutMs} ms`);
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done(0, `request error: ${e.message}`));
    req.end(payload);
  });
}

const vpath = (t: Target, rest = '') => `/v3/${t.projectId}/volumes${rest}`;
const action = (t: Target, id: string, body: unknown, extra?: Record<string, string>) => request(t, 'POST', vpath(t, `/${id}/action`), body, extra);

/**
 * Poll GET volume until its status is one of `want`. Stops early on a status in `fail` (e.g.
 * error), after timeoutMs, or at the absolute deadline (epoch ms), whichever is first.
 */
export async function waitForStatus(
  t: Target,
  volumeId: string,
  want: string[],
  opts: { timeoutMs: number; deadline?: number; pollMs?: number; fail?: string[] },
): Promise<{ ok: boolean; status: string; volume?: any }> {
  const until = Math.min(Date.now() + opts.timeoutMs, opts.deadline ?? Infinity);
  const fail = opts.fail ?? ['error', 'error_deleting'];
  let status = 'unknown';
  for (;;) {
    const r = await request(t, 'GET', vpath(t, `/${volumeId}`), undefined, {}, Math.max(1000, Math.min(REQUEST_TIMEOUT_MS, until - Date.now())));
    if (r.status === 200) {
      status = r.json?.volume?.status ?? 'unknown';
      if (want.includes(status)) return { ok: true, status, volume: r.json.volume };
      if (fail.includes(status)) return { ok: false, status, volume: r.json.volume };
    } else if (r.status === 404 && want.includes('deleted')) {
      return { ok: true, status: 'deleted' };
    } else {
      status = `GET ${r.status} ${r.text.slice(0, 120)}`;
    }
    if (Date.now() >= until) return { ok: false, status: `timeout (last: ${status})` };
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 50));
  }
}

class StepError extends Error {
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(detail);
  }
}
function expect(step: string, r: Reply) {
  if (!ok2xx(r.status)) throw new StepError(step, `${r.status} ${r.text.slice(0, 200)}`);
  return r;
}

async function attachOne(t: Target, flow: Flow, deadline: number, pollMs: number, created: (id: string) => void): Promise<Attached> {
  // A unique initiator per volume, so each attachment gets its own ACL as with distinct hosts' VMs.
  const connector = { initiator: `iqn.1994-05.com.redhat:bench-${randomUUID().slice(0, 12)}`, host: 'compute-b', ip: '192.0.2.50', multipath: false, platform: 'x86_64', os_type: 'linux' };
  const instanceUuid = randomUUID();
  const c = expect('create', await request(t, 'POST', vpath(t), { volume: { size: 1 } }));
  const volumeId = c.json?.volume?.id as string;
  if (!volumeId) throw new StepError('create', `no volume id in ${c.text.slice(0, 200)}`);
  created(volumeId);
  const w = await waitForStatus(t, volumeId, ['available'], { timeoutMs: 120_000, deadline, pollMs });
  if (!w.ok) throw new StepError('wait-available', `${volumeId}: ${w.status}`);
  if (flow === 'legacy') {
    expect('os-reserve', await action(t, volumeId, { 'os-reserve': null }));
    expect('os-initialize_connection', await action(t, volumeId, { 'os-initialize_connection': { connector } }));
    expect('os-attach', await action(t, volumeId, { 'os-attach': { instance_uuid: instanceUuid, mountpoint: '/dev/vdb', mode: 'rw' } }));
    // The attachment id as Nova would see it: from the volume's view, not the database.
    const g = expect('get-attachment', await request(t, 'GET', vpath(t, `/${volumeId}`)));
    const attachmentId = g.json?.volume?.attachments?.[0]?.attachment_id as string | undefined;
    if (!attachmentId) throw new StepError('get-attachment', `${volumeId}: no attachments[0].attachment_id`);
    return { volumeId, attachmentId, connector, instanceUuid };
  }
  const a = expect(
    'attachment-create',
    await request(t, 'POST', `/v3/${t.projectId}/attachments`, { attachment: { volume_uuid: volumeId, instance_uuid: instanceUuid, connector, mode: 'rw' } }, MV_ATTACH),
  );
  const attachmentId = a.json?.attachment?.id as string | undefined;
  if (!attachmentId) throw new StepError('attachment-create', `no attachment id in ${a.text.slice(0, 200)}`);
  expect('os-complete', await request(t, 'POST', `/v3/${t.projectId}/attachments/${attachmentId}/action`, { 'os-complete': null }, MV_COMPLETE));
  return { volumeId, attachmentId, connector, instanceUuid };
}

/**
 * Create n volumes and attach each by `flow`, `concurrency` at a time. Volumes that fail, or are
 * not ready by the deadline, go to `failed` (their ids to `created` so the caller can clean up).
 */
export async function setupAttached(
  t: Target,
  n: number,
  flow: Flow,
  opts: { concurrency?: number; deadlineMs?: number; pollMs?: number } = {},
): Promise<SetupResult & { created: string[] }> {
  const t0 = performance.now();
  const deadline = Date.now() + (opts.deadlineMs ?? 600_000);
  const ready: Attached[] = [];
  const failed: SetupResult['failed'] = [];
  const created: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      if (Date.now() >= deadline) {
        failed.push({ step: 'deadline', detail: 'setup deadline passed before this volume started' });
        continue;
      }
      try {
        ready.push(await attachOne(t, flow, deadline, opts.pollMs ?? 50, (id) => created.push(id)));
      } catch (e) {
        failed.push(e instanceof StepError ? { step: e.step, detail: e.message } : { step: 'exception', detail: String(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return { ready, failed, created, seconds: (performance.now() - t0) / 1000 };
}

/** The calls of one detach, as Nova makes them for the flow. */
function detachCalls(t: Target, v: Attached, flow: Flow): [string, () => Promise<Reply>][] {
  if (flow === 'attachments') {
    return [['attachment-delete', () => request(t, 'DELETE', `/v3/${t.projectId}/attachments/${v.attachmentId}`, undefined, MV_ATTACH)]];
  }
  return [
    ['os-begin_detaching', () => action(t, v.volumeId, { 'os-begin_detaching': null })],
    ['os-terminate_connection', () => action(t, v.volumeId, { 'os-terminate_connection': { connector: v.connector } })],
    ['os-detach', () => action(t, v.volumeId, { 'os-detach': { attachment_id: v.attachmentId } })],
  ];
}

/** Detach every volume, `clients` detaches in flight at once, each detach's calls in order. */
export async function runDetaches(t: Target, vols: Attached[], flow: Flow, clients: number): Promise<RunResult> {
  const samples: DetachSample[] = [];
  const non2xx: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < vols.length) {
      const v = vols[next++];
      const startedAt = epochS();
      const t0 = performance.now();
      const calls: CallSample[] = [];
      for (const [call, fn] of detachCalls(t, v, flow)) {
        const r = await fn();
        calls.push({ call, ms: r.ms, status: r.status });
        // Nova goes on with the next call even if one fails; so do we, and count it.
        if (!ok2xx(r.status)) non2xx.push(`${call} ${v.volumeId}: ${r.status} ${r.text.slice(0, 200)}`);
      }
      samples.push({ volumeId: v.volumeId, calls, totalMs: performance.now() - t0, startedAt, endedAt: epochS(), ok: calls.every((c) => ok2xx(c.status)) });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, clients) }, worker));
  return { flow, clients, samples, wallSeconds: (performance.now() - t0) / 1000, non2xx };
}

/**
 * Delete the volumes (force-delete what a plain delete refuses) and, with waitMs, wait until they
 * are gone, so their storage commands do not land in the next run's stand-in log. Bounded.
 */
export async function cleanup(t: Target, ids: string[], opts: { concurrency?: number; waitMs?: number } = {}): Promise<{ left: string[] }> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const left: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const d = await request(t, 'DELETE', vpath(t, `/${id}`));
      if (!ok2xx(d.status) && d.status !== 404) await action(t, id, { 'os-force_delete': null });
      if (opts.waitMs) {
        const w = await waitForStatus(t, id, ['deleted'], { timeoutMs: opts.waitMs, deadline, pollMs: 100, fail: [] });
        if (!w.ok) left.push(`${id}: ${w.status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return { left };
}
