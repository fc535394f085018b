// Chaos (c): concurrent detaches of a multiattach volume, attachments API and legacy, on one
// compute host and on several. The last attachment of a host to go must take its ACL with it (and
// the last of the volume the target); an attachment that remains must keep its host's ACL.
//
//   npx tsx test/chaos/multiattach.ts [--tries 50] [--seed 1]
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient } from '../support/cluster.js';
import { Tally, alive, arg, audit, clean, report, type AuditResult } from './lib/audit.js';
import { rng } from './lib/nova.js';

const PROJECT = 'ba5eba11ba5eba11ba5eba11ba5eba11';
const MV = { 'OpenStack-API-Version': 'volume 3.44' };
const NOVA = { ...MV, 'X-Service-Roles': 'service' };

const connector = (host: string) => ({
  platform: 'x86_64',
  os_type: 'linux',
  ip: '192.0.2.50',
  host,
  multipath: false,
  initiator: `iqn.1994-05.com.redhat:${host}`,
  do_local_attach: false,
});

export interface Scenario {
  name: string;
  /** The compute host of each attachment. */
  hosts: string[];
  /** Which of them are deleted concurrently (indexes into hosts). */
  remove: number[];
  /** Attach one more on this host while the deletes run (an attachment that must keep its ACL). */
  attachDuring?: string;
  /** Detach with the legacy three calls instead of DELETE /attachments. */
  legacy?: boolean;
}

export const SCENARIOS: Scenario[] = [
  { name: 'attachments API, same host, all go', hosts: ['c1', 'c1'], remove: [0, 1] },
  { name: 'attachments API, same host, 2 of 3 go', hosts: ['c1', 'c1', 'c1'], remove: [0, 1] },
  { name: 'attachments API, two hosts, all go', hosts: ['c1', 'c2'], remove: [0, 1] },
  { name: 'attachments API, two hosts, one host goes', hosts: ['c1', 'c1', 'c2'], remove: [0, 1] },
  { name: 'attachments API, same host, delete during a new attach', hosts: ['c1', 'c1'], remove: [0, 1], attachDuring: 'c1' },
];

/**
 * Legacy detaches of a multiattach volume are left out of the default list: begin_detaching lets
 * one run at a time, and Cinder's own sequential outcome already removes the whole LIO target at
 * the first os-detach (detach_volume's unconditional remove_export), which the port keeps.
 */
export const LEGACY: Scenario = { name: 'legacy, same host, all go', hosts: ['c1', 'c1'], remove: [0, 1], legacy: true };

export interface MultiattachFigures {
  tries: number;
  byScenario: Record<string, { tries: number; bad: number }>;
  requests: Tally;
  /** Tries after which the volume's ACLs/target did not match its remaining attachments. */
  badTries: { scenario: string; volume: string; audit: AuditResult }[];
  audit: AuditResult;
  alive: { api: boolean; volume: boolean };
  /** Legacy begin_detaching refused while another detach was in progress (then retried). */
  legacyRetries: number;
  /** Legacy detaches whose terminate_connection failed and that Nova rolled back. */
  legacyRolledBack: number;
}

async function attachNew(api: CinderClient, tally: Tally, volumeId: string, host: string): Promise<string> {
  const A = `/v3/${PROJECT}/attachments`;
  const c = await api.request('POST', A, { attachment: { volume_uuid: volumeId, instance_uuid: randomUUID() } }, MV);
  tally.add(c.status);
  if (c.status !== 200) throw new Error(`attachment create: ${c.status} ${c.text}`);
  const id: string = c.json.attachment.id;
  const u = await api.request('PUT', `${A}/${id}`, { attachment: { connector: connector(host) } }, MV);
  tally.add(u.status);
  if (u.status !== 200) throw new Error(`attachment update: ${u.status} ${u.text}`);
  const done = await api.request('POST', `${A}/${id}/action`, { 'os-complete': null }, MV);
  tally.add(done.status);
  return id;
}

/** Nova's legacy attach (before 3.44): reserve, initialize_connection, attach. */
async function legacyAttach(cluster: Cluster, api: CinderClient, tally: Tally, volumeId: string, host: string): Promise<string> {
  const instance = randomUUID();
  const steps: [unknown, number][] = [
    [{ 'os-reserve': null }, 202],
    [{ 'os-initialize_connection': { connector: connector(host) } }, 200],
    [{ 'os-attach': { instance_uuid: instance, mountpoint: '/dev/vdb', mode: 'rw' } }, 202],
  ];
  for (const [body, code] of steps) {
    const r = await api.action(volumeId, body, NOVA);
    tally.add(r.status);
    if (r.status !== code) throw new Error(`${Object.keys(body as object)[0]}: ${r.status} ${r.text}`);
  }
  return cluster.liveAttachments(volumeId).find((a) => a.instance_uuid === instance).id;
}

/**
 * Nova's legacy detach of one attachment: begin_detaching (refused while another detach runs:
 * retried), terminate_connection, detach; a failed terminate_connection is rolled back
 * (os-roll_detaching) and the detach given up, as Nova does. Returns [retries, rolled back].
 */
async function legacyDetach(api: CinderClient, tally: Tally, volumeId: string, attachmentId: string, host: string): Promise<[number, boolean]> {
  let retries = 0;
  for (let i = 0; i < 200; i++) {
    const b = await api.action(volumeId, { 'os-begin_detaching': null }, NOVA);
    tally.add(b.status);
    if (b.status === 202) break;
    retries++;
    await new Promise((r) => setTimeout(r, 20));
  }
  const t = await api.action(volumeId, { 'os-terminate_connection': { connector: connector(host) } }, NOVA);
  tally.add(t.status);
  if (t.status !== 202) {
    tally.add((await api.action(volumeId, { 'os-roll_detaching': null }, NOVA)).status);
    return [retries, true];
  }
  const d = await api.action(volumeId, { 'os-detach': { attachment_id: attachmentId } }, NOVA);
  tally.add(d.status);
  return [retries, false];
}

export async function run(opts: { tries?: number; seed?: number; scenarios?: Scenario[]; log?: (s: string) => void } = {}): Promise<MultiattachFigures> {
  const tries = opts.tries ?? 50;
  const rnd = rng(opts.seed ?? 1);
  const scenarios = opts.scenarios ?? SCENARIOS;
  const cluster = new Cluster();
  await cluster.start();
  const api = new CinderClient(cluster.baseUrl, PROJECT);
  const tally = new Tally();
  const figures: MultiattachFigures = {
    tries: 0,
    byScenario: {},
    requests: tally,
    badTries: [],
    audit: audit(cluster, []),
    alive: { api: true, volume: true },
    legacyRetries: 0,
    legacyRolledBack: 0,
  };
  const volumes: string[] = [];
  try {
    for (let n = 0; n < tries; n++) {
      const sc = scenarios[n % scenarios.length];
      const id = await cluster.newVolume(api);
      volumes.push(id);
      cluster.setVolume(id, { multiattach: 1 });
      const atts: string[] = [];
      for (const h of sc.hosts) atts.push(sc.legacy ? await legacyAttach(cluster, api, tally, id, h) : await attachNew(api, tally, id, h));
      // Start the concurrent calls in a seeded random order, each after a small random delay.
      const jobs: Promise<unknown>[] = sc.remove.map(async (i) => {
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 5)));
        if (sc.legacy) {
          const [retries, rolledBack] = await legacyDetach(api, tally, id, atts[i], sc.hosts[i]);
          figures.legacyRetries += retries;
          if (rolledBack) figures.legacyRolledBack++;
        } else {
          const r = await api.request('DELETE', `/v3/${PROJECT}/attachments/${atts[i]}`, undefined, NOVA);
          tally.add(r.status);
        }
      });
      if (sc.attachDuring) jobs.push(attachNew(api, tally, id, sc.attachDuring));
      await Promise.all(jobs);
      const a = audit(cluster, [id]);
      const s = (figures.byScenario[sc.name] ??= { tries: 0, bad: 0 });
      s.tries++;
      figures.tries++;
      if (!clean(a)) {
        s.bad++;
        figures.badTries.push({ scenario: sc.name, volume: id, audit: a });
        opts.log?.(`try ${n} (${sc.name}) left ${JSON.stringify(a)}`);
      }
      // Clean up the rest the way Nova would, one by one; the audit at the end covers this too.
      for (const att of cluster.liveAttachments(id)) {
        const r = await api.request('DELETE', `/v3/${PROJECT}/attachments/${att.id}`, undefined, NOVA);
        tally.add(r.status);
      }
    }
    figures.audit = audit(cluster, volumes);
    figures.alive = alive(cluster);
  } finally {
    await cluster.stop();
  }
  return figures;
}

export function print(f: MultiattachFigures): string {
  const per = Object.entries(f.byScenario).map(([k, v]) => `  ${k}: ${v.tries} tries, ${v.bad} left ACLs/targets wrong`);
  return `${report('chaos: concurrent multiattach detaches', {
    requests: f.requests,
    audit: f.audit,
    alive: f.alive,
    extra: {
      tries: f.tries,
      'tries with a wrong ACL/target right after the concurrent calls': f.badTries.length,
      'legacy begin_detaching retries': f.legacyRetries,
      'legacy detaches rolled back after a failed terminate_connection': f.legacyRolledBack,
    },
  })}\n${per.join('\n')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // --legacy: the legacy three-call detach instead, reported, not judged: Cinder's own sequential
  // outcome there removes the target at the first os-detach (see LEGACY).
  const legacy = process.argv.includes('--legacy');
  const f = await run({ tries: Number(arg('tries', legacy ? '12' : '60')), seed: Number(arg('seed', '1')), scenarios: legacy ? [LEGACY] : SCENARIOS, log: (s) => console.log(s) });
  console.log(print(f));
  process.exit(f.badTries.length || !clean(f.audit) || !f.alive.api || !f.alive.volume ? 1 : 0);
}
