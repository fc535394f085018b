// What the three chaos scripts share beyond audit.ts: an HTTP client that times and tallies every
// call (and never waits for ever), Nova's legacy three-call detach with retries and roll-back, a
// poller that watches both service processes during the run, and small figure helpers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../../support/cluster.js';
import { sleep } from '../../support/cluster.js';
import { Tally, alive, type AuditResult } from './audit.js';

export const PROJECT = '0c4a05c4a05c4a05c4a05c4a05c4a05c';
/** With noauth this stands for Nova's service token (OSSA-2023-003 guard), as in nova-detach.test.ts. */
const SERVICE = { 'X-Service-Roles': 'service' };

/** Not an HTTP status: the API refused the TCP connection or reset it (e.g. the process is gone). */
export const CONN_ERROR = 'conn-error';
/** Not an HTTP status: no answer within the client's own timeout. */
export const NO_ANSWER = 'no-answer';

export interface Answer {
  status: number | string;
  json: any;
  text: string;
  ms: number;
}

export interface CallRecord {
  op: string;
  status: number | string;
  ms: number;
  /** ms since the client was created, when the call started. */
  at: number;
}

export class ChaosClient {
  readonly tally = new Tally();
  readonly byOp = new Map<string, Tally>();
  readonly calls: CallRecord[] = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly baseUrl: string,
    /** A bound on every call, so that a hung API cannot hang the script. */
    private readonly clientTimeoutMs: number,
  ) {}

  async request(op: string, method: string, p: string, body?: unknown): Promise<Answer> {
    const started = performance.now();
    let status: number | string;
    let text = '';
    try {
      const res = await fetch(`${this.baseUrl}${p}`, {
        method,
        headers: {
          'X-Auth-Token': `nova:${PROJECT}`,
          Accept: 'application/json',
          ...SERVICE,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.clientTimeoutMs),
      });
      text = await res.text();
      status = res.status;
    } catch (e) {
      const name = (e as Error).name;
      status = name === 'TimeoutError' || name === 'AbortError' ? NO_ANSWER : CONN_ERROR;
    }
    const ms = performance.now() - started;
    this.record(op, status, ms, started);
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status, json, text, ms };
  }

  private record(op: string, status: number | string, ms: number, started: number) {
    this.tally.add(status);
    if (!this.byOp.has(op)) this.byOp.set(op, new Tally());
    this.byOp.get(op)!.add(status);
    this.calls.push({ op, status, ms, at: started - this.t0 });
  }

  action(id: string, body: Record<string, unknown>): Promise<Answer> {
    return this.request(Object.keys(body)[0], 'POST', `/v3/${PROJECT}/volumes/${id}/action`, body);
  }
  create(): Promise<Answer> {
    return this.request('create', 'POST', `/v3/${PROJECT}/volumes`, { volume: { size: 1 } });
  }
  delete(id: string): Promise<Answer> {
    return this.request('delete', 'DELETE', `/v3/${PROJECT}/volumes/${id}`);
  }

  /** One line per call type: `os-detach 202=10 500=2`. */
  byOpText(): string {
    return [...this.byOp].sort(([a], [b]) => a.localeCompare(b)).map(([op, t]) => `${op} ${t}`).join('; ');
  }
}

export interface RetryPolicy {
  /** Attempts in total (Nova: 5). */
  attempts: number;
  /** Wait before attempt 2, 3, ... (the last value repeats). Nova itself waits 0. */
  backoffMs: number[];
}

/** Whether Nova would retry this answer: a 500/504, or no HTTP answer at all. */
export const retryable = (s: number | string) => s === 500 || s === 504 || s === CONN_ERROR || s === NO_ANSWER;

export async function withRetries(fn: () => Promise<Answer>, policy: RetryPolicy): Promise<{ last: Answer; attempts: number }> {
  let last!: Answer;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    last = await fn();
    if (!retryable(last.status)) return { last, attempts: attempt };
    if (attempt < policy.attempts) await sleep(policy.backoffMs[Math.min(attempt - 1, policy.backoffMs.length - 1)] ?? 0);
  }
  return { last, attempts: policy.attempts };
}

export interface LegacyAttachment {
  id: string;
  attachmentId: string;
  connector: Record<string, unknown>;
}

export type DetachOutcome = 'detached' | 'begin-refused' | 'rolled-back-terminate' | 'rolled-back-detach' | 'roll-back-failed';

/**
 * Nova's user-initiated legacy detach (spec §2.2): begin_detaching, terminate_connection, detach.
 * A terminate/detach that still fails after the retries is rolled back with os-roll_detaching,
 * which Nova sends when its side of the detach fails (block_device.py:398-432).
 */
export async function novaDetach(c: ChaosClient, v: LegacyAttachment, policy: RetryPolicy): Promise<DetachOutcome> {
  const begin = await c.action(v.id, { 'os-begin_detaching': {} });
  if (begin.status !== 202) return 'begin-refused';
  const rollBack = async (why: DetachOutcome): Promise<DetachOutcome> => {
    const r = await withRetries(() => c.action(v.id, { 'os-roll_detaching': {} }), policy);
    return r.last.status === 202 ? why : 'roll-back-failed';
  };
  const t = await withRetries(() => c.action(v.id, { 'os-terminate_connection': { connector: v.connector } }), policy);
  if (t.last.status !== 202) return rollBack('rolled-back-terminate');
  const d = await withRetries(() => c.action(v.id, { 'os-detach': { attachment_id: v.attachmentId } }), policy);
  if (d.last.status !== 202) return rollBack('rolled-back-detach');
  return 'detached';
}

/**
 * Several Nova-like clients run the legacy detach on volumes released at their times (ms after
 * t0). A volume that was rolled back (or refused) is asked for again, by its user, 2 s after the
 * later of now and `retryAfterMs`, at most `maxRounds` times in all. Returns every attempt's
 * outcome and when the first detach completed after `recoveredAt()` became non-null.
 */
export async function detachOnSchedule(
  c: ChaosClient,
  schedule: { v: LegacyAttachment; at: number }[],
  o: { clients: number; t0: number; deadline: number; policy: RetryPolicy; maxRounds: number; retryAfterMs: number; recoveredAt: () => number | null },
): Promise<{ outcomes: DetachOutcome[]; firstAfterRecovery: number | null }> {
  const queue = schedule.map((x) => ({ ...x, round: 1 }));
  const outcomes: DetachOutcome[] = [];
  let firstAfterRecovery: number | null = null;
  const worker = async () => {
    while (Date.now() < o.deadline) {
      queue.sort((a, b) => a.at - b.at);
      const next = queue.shift();
      if (!next) return;
      const wait = o.t0 + next.at - Date.now();
      if (wait > 0) await sleep(wait);
      const outcome = await novaDetach(c, next.v, o.policy);
      outcomes.push(outcome);
      if (outcome === 'detached') {
        if (o.recoveredAt() !== null && firstAfterRecovery === null) firstAfterRecovery = Date.now();
        continue;
      }
      if (next.round < o.maxRounds) queue.push({ v: next.v, at: Math.max(Date.now() - o.t0, o.retryAfterMs) + 2000, round: next.round + 1 });
    }
  };
  await Promise.all(Array.from({ length: o.clients }, worker));
  return { outcomes, firstAfterRecovery };
}

/**
 * Polls both service processes while the script runs (not only at the end), so a process that
 * dies and is restarted, or dies briefly, still shows. A process the script stops on purpose is
 * announced with expectDown().
 */
export class LivenessMonitor {
  readonly deaths: string[] = [];
  samples = 0;
  private readonly expected = { api: false, volume: false };
  private readonly seenDead = { api: false, volume: false };
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = Date.now();

  constructor(private readonly cluster: Cluster) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  expectDown(which: 'api' | 'volume', down: boolean): void {
    this.expected[which] = down;
    if (!down) this.seenDead[which] = false;
  }

  poll(): void {
    this.samples++;
    const a = alive(this.cluster);
    for (const which of ['api', 'volume'] as const) {
      if (a[which] || this.expected[which] || this.seenDead[which]) continue;
      this.seenDead[which] = true;
      const child = this.cluster[which];
      const how = child ? `exit code ${child.exitCode} signal ${child.signalCode}` : 'no process';
      const tail = this.cluster.logs[which].slice(-5).join('\n    ');
      this.deaths.push(`${which} dead at +${((Date.now() - this.t0) / 1000).toFixed(1)} s (${how}); last log lines:\n    ${tail}`);
    }
  }

  stop(): void {
    this.poll();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Whether each process stayed up whenever it was expected to be. */
  get aliveThroughout(): { api: boolean; volume: boolean } {
    return { api: !this.deaths.some((d) => d.startsWith('api')), volume: !this.deaths.some((d) => d.startsWith('volume')) };
  }
}

/** Nearest-rank percentile. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** A small seeded PRNG (mulberry32), so a run can be replayed with --seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

export const fmtCounts = (o: Record<string, number>) =>
  Object.entries(o)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}=${n}`)
    .join(' ') || '(none)';

/** Wait (bounded) until pred holds for every id; returns the ids for which it never did. */
export async function waitAll(ids: string[], pred: (id: string) => boolean, timeoutMs: number, stepMs = 250): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const left = ids.filter((id) => !pred(id));
    if (left.length === 0 || Date.now() >= end) return left;
    await sleep(stepMs);
  }
}

/** Log lines of the volume-manager that mention a command outliving its RPC caller. */
export function outlivedLines(cluster: Cluster): string[] {
  return cluster.logs.volume.filter((l) => l.includes('outlived'));
}

/** Whether this script is the entry point (`npx tsx test/chaos/<name>.ts`), not imported by vitest. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return !!entry && fileURLToPath(metaUrl) === path.resolve(entry);
}

/** The report lines every script with a liveness monitor ends with: liveness, findings, kept logs, errors. */
export function closingFigures(
  cluster: Cluster,
  o: { script: string; aliveLabel: string; alive: { api: boolean; volume: boolean }; monitor: LivenessMonitor; findingText: string },
): Record<string, string> {
  const yes = (b: boolean) => (b ? 'yes' : 'NO');
  return {
    [o.aliveLabel]: `api=${yes(o.alive.api)} volume=${yes(o.alive.volume)} (${o.monitor.samples} samples)`,
    ...(o.findingText ? { 'findings (volume, status, client history, storage commands, logs)': o.findingText } : {}),
    ...(o.findingText || o.monitor.deaths.length ? { 'logs kept at': saveLogs(cluster, o.script) } : {}),
    'errors logged by the services (level ≥ 50)': errorsText(loggedErrors(cluster)),
    ...(o.monitor.deaths.length ? { deaths: o.monitor.deaths.join('\n  ') } : {}),
  };
}

/** A script's end: exit 0 when `ok` holds for its figures, 1 when not, 2 when it crashed. */
export function exitWhen<T>(run: Promise<T>, ok: (figures: T) => boolean): void {
  run.then(
    (f) => process.exit(ok(f) ? 0 : 1),
    (e: unknown) => {
      console.error(e);
      process.exit(2);
    },
  );
}

/** The fields of a JSON log line that say what happened (time, message, method, error). */
export function brief(line: string): string {
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    const keys = ['time', 'method', 'elapsed_ms', 'outcome', 'msg', 'err'];
    return keys.filter((k) => k in j).map((k) => `${k}=${typeof j[k] === 'string' ? j[k] : JSON.stringify(j[k])}`).join(' ').slice(0, 400);
  } catch {
    return line.slice(0, 400);
  }
}

/** Keep both services' logs of a run with findings (the cluster's directory is removed at stop). */
export function saveLogs(cluster: Cluster, name: string): string {
  const dir = path.join(os.tmpdir(), 'cinder-chaos-logs');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.writeFileSync(`${base}-api.log`, `${cluster.logs.api.join('\n')}\n`);
  fs.writeFileSync(`${base}-volume.log`, `${cluster.logs.volume.join('\n')}\n`);
  if (fs.existsSync(cluster.standinLog)) fs.copyFileSync(cluster.standinLog, `${base}-standin.log`);
  return base;
}

/**
 * Why a volume ended up where it did, for the report of a finding: the storage commands that named
 * it (argv and exit code, in order) and the manager's last log lines about it.
 */
export function explain(cluster: Cluster, id: string, logLines = 6): string {
  const cmds = cluster
    .standinCalls()
    .filter((c) => c.argv.some((a) => a.includes(id)))
    .map((c) => `${c.argv.slice(0, 3).map((a) => a.replace(/^.*volume-/, 'volume-')).join(' ')} rc=${(c as unknown as { rc?: number }).rc ?? '?'}`);
  const mine = (lines: string[], n: number) => lines.filter((l) => l.includes(id) && !l.includes('"event_type"')).slice(-n).map(brief);
  const logs = [...mine(cluster.logs.volume, logLines).map((l) => `volume: ${l}`), ...mine(cluster.logs.api, 3).map((l) => `api: ${l}`)];
  return `commands: ${cmds.join(' | ') || '(none)'}\n    logs:\n      ${logs.join('\n      ') || '(none)'}`;
}

/** Volume ids behind the audit's findings (at most 8, for the report). */
export function findings(a: AuditResult): string[] {
  const ids = [...a.stuck, ...a.attachmentsLost, ...a.targetsLeaked, ...a.aclsLeaked.map((x) => x.split(' ')[0])];
  return [...new Set(ids)].slice(0, 8);
}

/** Error lines (pino level ≥ 50) each service logged, grouped: `volume: <msg> (<err type: message>) ×n`. */
export function loggedErrors(cluster: Cluster): string[] {
  const out = new Map<string, number>();
  for (const which of ['api', 'volume'] as const) {
    for (const line of cluster.logs[which]) {
      if (!line.startsWith('{') || !/"level":(5|6)\d/.test(line)) continue;
      try {
        const j = JSON.parse(line) as { msg?: string; method?: string; err?: { type?: string; message?: string } | string };
        const err = (typeof j.err === 'string' ? j.err : j.err ? `${j.err.type}: ${j.err.message}` : '').split('\n')[0];
        const key = `${which}: ${j.method ? `${j.method}: ` : ''}${j.msg ?? ''}${err ? ` (${err.slice(0, 120)})` : ''}`
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
          .replace(/\b[0-9a-f]{32}\b/g, '<id>')
          .replace(/iqn\.[^\s,)]+/g, '<iqn>');
        out.set(key, (out.get(key) ?? 0) + 1);
      } catch {
        /* not a log record */
      }
    }
  }
  return [...out].map(([k, n]) => `${k} ×${n}`);
}

export const errorsText = (lines: string[]) => (lines.length ? `\n  ${lines.slice(0, 12).join('\n  ')}` : '0');
