// Project isolation and admin-only actions under auth_strategy = keystone, against the project's own
// real Keystone (scripts/keystone/start.sh: Debian's keystone on 127.0.0.1 with SQLite).
//
//   npx tsx test/chaos/isolation.ts [--quick 1]
//
// Project P's member (member-a) makes volumes in several states: available, attaching (os-reserve),
// in-use by the legacy attach, detaching (legacy attach + os-begin_detaching), in-use through the
// attachments API (create with a connector + os-complete), and reserved (attachments API without a
// connector). Then:
//  (1) project Q's member (member-b) tries every route and every action on P's volumes and
//      attachments, with Q's project id in the URL, with P's, and without any (the project-less
//      routes); lists with all_tenants=1 and project_id=P. Each answer is checked for P's ids it
//      did not send (visible) and the DB tables volumes, volume_attachment, volume_admin_metadata
//      and the stand-in's LIO state are compared before/after each request (changed). Each answer
//      is also compared with what Cinder 21.3.1 answers (cinder/api/openstack/wsgi.py: another
//      project in the URL is 400 "Malformed request url"; another project's volume is a 404).
//  (2) P's member tries every admin action on P's own volumes: Cinder's 403 "Policy doesn't allow
//      <rule> to be performed." with nothing changed; admin-only query keys are dropped silently.
// Cinder 21.3.1 itself shows another project's attachment on GET /attachments/{id} (no policy,
// VolumeAttachment.get_by_id is not project-scoped) and names the attachment's volume in os-complete's
// 404: those are counted apart ("as Cinder 21.3.1"), the port must not show anything beyond them.
// Afterwards P's member undoes every attachment, so the closing audit must be clean.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, REPO, freePort, sleep } from '../support/cluster.js';
import { Tally, alive, arg, audit, clean, report, standinTargets } from './lib/audit.js';

const START = path.join(REPO, 'scripts/keystone/start.sh');
const STOP = path.join(REPO, 'scripts/keystone/stop.sh');

interface KsUser {
  id: string;
  name: string;
  password: string;
  project_id: string;
  project_name: string;
}
export interface KeystoneInfo {
  url: string;
  auth_url: string;
  dir: string;
  projects: { admin: string; a: string; b: string; service: string };
  users: { admin: KsUser; member: KsUser; member_b: KsUser; service: KsUser };
  seconds: Record<string, number>;
}

/** Installs Debian's keystone when missing: the reason to skip (exit 75), or null when it is there. */
export function keystoneSkipReason(): string | null {
  const install = spawnSync('bash', [START, '--install-only'], { encoding: 'utf8', timeout: 900_000 });
  if (install.status === 75) return install.stderr.trim() || 'keystone cannot be installed';
  if (install.status !== 0) throw new Error(`scripts/keystone/start.sh --install-only failed (${install.status}): ${install.stderr}`);
  return null;
}

export async function startKeystone(): Promise<KeystoneInfo> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-isolation-ks-'));
  const port = await freePort();
  const r = spawnSync('bash', [START, dir, String(port)], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, KEYSTONE_WATCH_PID: String(process.pid) },
  });
  if (r.status !== 0) {
    spawnSync('bash', [STOP, dir]);
    throw new Error(`scripts/keystone/start.sh failed (${r.status}): ${r.stderr}`);
  }
  return { ...(JSON.parse(r.stdout) as KeystoneInfo), dir };
}

export function stopKeystone(ks: KeystoneInfo): void {
  spawnSync('bash', [STOP, ks.dir]);
  if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(ks.dir, { recursive: true, force: true });
}

async function passwordToken(ks: KeystoneInfo, u: KsUser): Promise<string> {
  const auth = {
    identity: { methods: ['password'], password: { user: { name: u.name, domain: { id: 'default' }, password: u.password } } },
    scope: { project: { id: u.project_id } },
  };
  const r = await fetch(`${ks.auth_url}/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth }),
  });
  if (r.status !== 201) throw new Error(`token for ${u.name}: ${r.status} ${await r.text()}`);
  return r.headers.get('x-subject-token')!;
}

function authtokenSection(ks: KeystoneInfo): string {
  const s = ks.users.service;
  return [
    '[keystone_authtoken]',
    `www_authenticate_uri = ${ks.url}`,
    'auth_type = password',
    `auth_url = ${ks.auth_url}`,
    `username = ${s.name}`,
    `password = ${s.password}`,
    'user_domain_name = Default',
    `project_name = ${s.project_name}`,
    'project_domain_name = Default',
    'http_request_max_retries = 0',
  ].join('\n');
}

// ---- HTTP ----------------------------------------------------------------------------------------

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function http(base: string, method: string, p: string, token: string, body?: unknown, version?: string, extra: Record<string, string> = {}): Promise<Answer> {
  const h: Record<string, string> = { 'X-Auth-Token': token, Accept: 'application/json', ...extra };
  if (version) h['OpenStack-API-Version'] = `volume ${version}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

function must(a: Answer, status: number, what: string): Answer {
  if (a.status !== status) throw new Error(`${what}: expected ${status}, got ${a.status} ${a.text}`);
  return a;
}

// ---- expectations (Cinder 21.3.1) ----------------------------------------------------------------

const fault = (status: number, message: string) => {
  const name = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound' }[status as 400 | 403 | 404];
  return { status, body: { [name]: { code: status, message } } };
};
const MALFORMED = fault(400, 'Malformed request url');
const volNotFound = (id: string) => fault(404, `Volume ${id} could not be found.`);
const policy = (rule: string) => fault(403, `Policy doesn't allow ${rule} to be performed.`);
const noSuchAction = (a: string) =>
  fault(400, `There is no such action: ${a}. Verify the request body and Content-Type header and try again.`);
const INVALID_PROJECT_FILTER = fault(400, 'Invalid filters project_id are found in query options.');

interface Expect {
  status: number;
  /** The whole JSON body Cinder answers (checked when given). */
  body?: unknown;
  /** For 200 lists: the answer must carry none of the other project's ids. */
  note?: string;
}

/** One request of the run, its route label, what Cinder answers, and what the port did. */
interface Probe {
  route: string;
  column: string;
  method: string;
  path: string;
  body?: unknown;
  version?: string;
  headers?: Record<string, string>;
  expect: Expect;
  /** The port has no route or action here (Cinder has): the answer is the port's 404/400. */
  portUnrouted?: boolean;
  /** Ids of the other project Cinder 21.3.1 itself puts in this answer. */
  cinderShows?: string[];
}

interface Outcome {
  probe: Probe;
  status: number;
  visible: string[];
  visibleBeyondCinder: string[];
  changed: boolean;
  diff?: string;
  matchesCinder: boolean;
  text: string;
}

interface RouteRow {
  route: string;
  byColumn: Map<string, Tally>;
  visible: number;
  visibleAsCinder: number;
  changed: number;
  mismatches: number;
  unrouted: boolean;
}

export interface IsolationResult {
  skipped?: string;
  requests: number;
  routes: number;
  crossVisible: number;
  crossChanged: number;
  crossVisibleAsCinder: number;
  adminNotRefused: number;
  adminChanged: number;
  adminUnrouted: string[];
  adminFiltersLeaking: number;
  adminAttrsShown: number;
  mismatches: number;
  mismatchSamples: string[];
  findings: string[];
  auditClean: boolean;
  text: string;
}

export interface IsolationOptions {
  /** Fewer variants (one version per attachments route, fewer list queries): the CI form. */
  quick?: boolean;
  /** A Keystone started by the caller (left running); otherwise one is started and stopped here. */
  keystone?: KeystoneInfo;
  log?: (line: string) => void;
}

// ---- the run -------------------------------------------------------------------------------------

export async function run(opts: IsolationOptions = {}): Promise<IsolationResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  let ks = opts.keystone;
  let ownKeystone = false;
  if (!ks) {
    const skip = keystoneSkipReason();
    if (skip) {
      log(`isolation: skipped: ${skip}`);
      return { skipped: skip } as IsolationResult;
    }
    const t0 = Date.now();
    ks = await startKeystone();
    ownKeystone = true;
    log(`keystone started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const cluster = new Cluster({ extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks), rpcResponseTimeout: 20 });
  try {
    const t1 = Date.now();
    await cluster.start();
    log(`cluster started in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    return await exercise(cluster, ks, !!opts.quick, log);
  } finally {
    await cluster.stop();
    if (ownKeystone) stopKeystone(ks);
  }
}

async function exercise(cluster: Cluster, ks: KeystoneInfo, quick: boolean, log: (l: string) => void): Promise<IsolationResult> {
  const base = cluster.baseUrl;
  const P = ks.projects.a;
  const Q = ks.projects.b;
  const [tokP, tokQ, tokSvc] = await Promise.all([
    passwordToken(ks, ks.users.member),
    passwordToken(ks, ks.users.member_b),
    passwordToken(ks, ks.users.service),
  ]);
  const asP = (m: string, p: string, body?: unknown, version?: string, extra: Record<string, string> = {}) =>
    http(base, m, `/v3/${P}${p}`, tokP, body, version, extra);
  const asQ = (m: string, p: string, body?: unknown, version?: string) => http(base, m, `/v3/${Q}${p}`, tokQ, body, version);

  // ---- P's volumes in several states ----
  const t2 = Date.now();
  const waitStatus = async (id: string, status: string) => {
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const s = cluster.volumeRow(id)?.status;
      if (s === status) return;
      if (s === 'error') throw new Error(`volume ${id} went to error`);
      await sleep(30);
    }
    throw new Error(`volume ${id} never became ${status} (${cluster.volumeRow(id)?.status})`);
  };
  const newVolume = async (name: string, as = asP) => {
    const r = must(await as('POST', '/volumes', { volume: { size: 1, name } }), 202, `create ${name}`);
    return r.json.volume.id as string;
  };
  const connector = (tag: string) => ({ initiator: `iqn.1994-05.com.redhat:${tag}`, host: `${tag}-host`, ip: '192.0.2.50', platform: 'x86_64', os_type: 'linux', multipath: false });
  const names = ['available', 'attaching', 'in-use-legacy', 'detaching', 'in-use-attachments', 'reserved'] as const;
  const ids = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await newVolume(`p-${n}`)]))) as Record<(typeof names)[number], string>;
  const vQ = await newVolume('q-own', asQ);
  await Promise.all([...Object.values(ids), vQ].map((id) => waitStatus(id, 'available')));

  const instance: Record<string, string> = {};
  const legacyAttach = async (id: string, tag: string) => {
    instance[id] = randomUUID();
    must(await asP('POST', `/volumes/${id}/action`, { 'os-reserve': null }), 202, 'os-reserve');
    must(await asP('POST', `/volumes/${id}/action`, { 'os-initialize_connection': { connector: connector(tag) } }), 200, 'os-initialize_connection');
    must(await asP('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: instance[id], mountpoint: '/dev/vdb', mode: 'rw' } }), 202, 'os-attach');
  };
  must(await asP('POST', `/volumes/${ids.attaching}/action`, { 'os-reserve': null }), 202, 'os-reserve');
  await legacyAttach(ids['in-use-legacy'], 'p-legacy');
  await legacyAttach(ids.detaching, 'p-detaching');
  must(await asP('POST', `/volumes/${ids.detaching}/action`, { 'os-begin_detaching': null }), 202, 'os-begin_detaching');
  instance[ids['in-use-attachments']] = randomUUID();
  const created = must(
    await asP('POST', '/attachments', { attachment: { volume_uuid: ids['in-use-attachments'], instance_uuid: instance[ids['in-use-attachments']], connector: connector('p-new') } }, '3.44'),
    200,
    'attachment create',
  );
  must(await asP('POST', `/attachments/${created.json.attachment.id}/action`, { 'os-complete': null }, '3.44'), 204, 'os-complete');
  instance[ids.reserved] = randomUUID();
  must(await asP('POST', '/attachments', { attachment: { volume_uuid: ids.reserved, instance_uuid: instance[ids.reserved] } }, '3.44'), 200, 'attachment reserve');

  const att: Record<string, string> = {};
  for (const n of ['in-use-legacy', 'detaching', 'in-use-attachments', 'reserved'] as const) att[n] = cluster.liveAttachments(ids[n])[0].id;
  const statusOf = (id: string) => cluster.volumeRow(id).status;
  const states = names.map((n) => `${n}=${statusOf(ids[n])}`).join(' ');
  log(`P's volumes made in ${((Date.now() - t2) / 1000).toFixed(1)} s: ${states}`);
  for (const n of names) if (statusOf(ids[n]) !== n.replace(/-legacy|-attachments/, '')) throw new Error(`setup: ${n} is ${statusOf(ids[n])}`);

  const pIds = [...Object.values(ids), ...Object.values(att)];
  const qIds = [vQ];

  // ---- the state every request must leave alone ----
  const state = () =>
    JSON.stringify({
      volumes: cluster.sql('SELECT * FROM volumes ORDER BY id'),
      attachments: cluster.sql('SELECT * FROM volume_attachment ORDER BY id'),
      admin_metadata: cluster.sql('SELECT * FROM volume_admin_metadata ORDER BY id'),
      lio: [...standinTargets(cluster)].sort(([a], [b]) => a.localeCompare(b)),
    });
  const diffOf = (a: string, b: string) => {
    const x = JSON.parse(a);
    const y = JSON.parse(b);
    return Object.keys(x)
      .filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]))
      .join(',');
  };

  const tally = new Tally();
  const outcomes: Outcome[] = [];
  const send = async (probe: Probe, token: string, foreign: string[]): Promise<Outcome> => {
    const before = state();
    const a = await http(base, probe.method, probe.path, token, probe.body, probe.version, probe.headers);
    const after = state();
    tally.add(a.status);
    const sent = `${probe.path} ${JSON.stringify(probe.body ?? null)}`;
    const visible = foreign.filter((id) => a.text.includes(id) && !sent.includes(id));
    const visibleBeyondCinder = visible.filter((id) => !(probe.cinderShows ?? []).includes(id));
    let matchesCinder = a.status === probe.expect.status;
    if (matchesCinder && probe.expect.body !== undefined && !probe.portUnrouted) {
      matchesCinder = JSON.stringify(a.json) === JSON.stringify(probe.expect.body);
    }
    const o: Outcome = {
      probe,
      status: a.status,
      visible,
      visibleBeyondCinder,
      changed: before !== after,
      diff: before !== after ? diffOf(before, after) : undefined,
      matchesCinder,
      text: a.text.slice(0, 300),
    };
    outcomes.push(o);
    return o;
  };

  // ---- (1) Q's member on P's volumes and attachments ----
  const t3 = Date.now();
  const prefixes: [string, string][] = [
    ['Q url', `/v3/${Q}`],
    ['P url', `/v3/${P}`],
    ['no project', '/v3'],
  ];
  const someAtt = att['in-use-legacy'];
  const volumeActions = (v: string): [string, unknown, Expect | 'unrouted'][] => {
    const nf = volNotFound(v);
    return [
      ['os-reserve', { 'os-reserve': null }, nf],
      ['os-unreserve', { 'os-unreserve': null }, nf],
      ['os-begin_detaching', { 'os-begin_detaching': null }, nf],
      ['os-roll_detaching', { 'os-roll_detaching': null }, nf],
      ['os-attach', { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } }, nf],
      ['os-detach', { 'os-detach': { attachment_id: cluster.liveAttachments(v)[0]?.id ?? someAtt } }, nf],
      ['os-initialize_connection', { 'os-initialize_connection': { connector: connector('q') } }, nf],
      ['os-terminate_connection', { 'os-terminate_connection': { connector: connector('p-legacy') } }, nf],
      ['os-force_detach', { 'os-force_detach': { attachment_id: cluster.liveAttachments(v)[0]?.id ?? someAtt, connector: connector('p-legacy') } }, nf],
      ['os-reset_status', { 'os-reset_status': { status: 'available', attach_status: 'detached' } }, nf],
      ['os-force_delete', { 'os-force_delete': {} }, nf],
      ['os-migrate_volume', { 'os-migrate_volume': { host: 'testhost@lvm#lvm' } }, nf],
      ['os-migrate_volume_completion', { 'os-migrate_volume_completion': { new_volume: vQ } }, nf],
      ['os-extend', { 'os-extend': { new_size: 2 } }, nf],
      ['os-update_readonly_flag', { 'os-update_readonly_flag': { readonly: true } }, nf],
      ['os-set_bootable', { 'os-set_bootable': { bootable: true } }, nf],
      ['os-retype', { 'os-retype': { new_type: '__DEFAULT__' } }, nf],
      ['os-unmanage', { 'os-unmanage': {} }, nf],
    ];
  };
  const volVariants = quick ? [ids.available, ids['in-use-legacy'], ids['in-use-attachments'], ids.reserved, ids.detaching] : Object.values(ids);
  for (const [column, pre] of prefixes) {
    const crossUrl = column === 'P url';
    for (const v of volVariants) {
      const nf = volNotFound(v);
      const probes: Probe[] = [
        { route: 'GET volumes/{id}', column, method: 'GET', path: `${pre}/volumes/${v}`, expect: nf },
        { route: 'GET volumes/{id} (3.70)', column, method: 'GET', path: `${pre}/volumes/${v}`, version: '3.70', expect: nf },
        { route: 'DELETE volumes/{id}', column, method: 'DELETE', path: `${pre}/volumes/${v}`, expect: nf },
        { route: 'DELETE volumes/{id}?cascade=true', column, method: 'DELETE', path: `${pre}/volumes/${v}?cascade=true`, expect: nf },
        { route: 'DELETE volumes/{id}?force=true (3.23)', column, method: 'DELETE', path: `${pre}/volumes/${v}?force=true`, version: '3.23', expect: nf },
        { route: 'PUT volumes/{id}', column, method: 'PUT', path: `${pre}/volumes/${v}`, body: { volume: { name: 'q-was-here' } }, expect: nf, portUnrouted: true },
        { route: 'GET volumes/{id}/metadata', column, method: 'GET', path: `${pre}/volumes/${v}/metadata`, expect: nf, portUnrouted: true },
        {
          route: 'POST volumes (source_volid)',
          column,
          method: 'POST',
          path: `${pre}/volumes`,
          body: { volume: { size: 1, source_volid: v } },
          expect: nf,
        },
        {
          route: 'POST attachments (volume_uuid)',
          column,
          method: 'POST',
          path: `${pre}/attachments`,
          body: { attachment: { volume_uuid: v, instance_uuid: randomUUID(), connector: connector('q') } },
          version: '3.44',
          expect: nf,
        },
      ];
      for (const [action, body, exp] of volumeActions(v)) {
        probes.push({ route: `POST volumes/{id}/action ${action}`, column, method: 'POST', path: `${pre}/volumes/${v}/action`, body, expect: exp as Expect });
      }
      for (const p of probes) {
        if (crossUrl) p.expect = MALFORMED;
        const o = await send(p, tokQ, pIds);
        // The port answers "no such action" where Cinder has the action: not routed here.
        if (o.text.includes('There is no such action')) p.portUnrouted = true;
      }
    }
    // Attachments of P, by id.
    const versions = quick ? ['3.44'] : ['3.44', '3.70'];
    for (const [n, a] of Object.entries(att)) {
      const volumeOfA = ids[n as keyof typeof ids];
      for (const version of versions) {
        const probes: Probe[] = [
          // attachments.py show: VolumeAttachment.get_by_id is not project-scoped and there is no policy.
          { route: `GET attachments/{id} (${version})`, column, method: 'GET', path: `${pre}/attachments/${a}`, version, expect: { status: 200 }, cinderShows: pIds },
          {
            route: `PUT attachments/{id} (${version})`,
            column,
            method: 'PUT',
            path: `${pre}/attachments/${a}`,
            body: { attachment: { connector: connector('q') } },
            version,
            expect: policy('volume:attachment_update'),
          },
          { route: `DELETE attachments/{id} (${version})`, column, method: 'DELETE', path: `${pre}/attachments/${a}`, version, expect: policy('volume:attachment_delete') },
          // complete: Volume.get_by_id(context, attachment.volume_id) is project-scoped: 404 naming the volume.
          {
            route: `POST attachments/{id}/action os-complete (${version})`,
            column,
            method: 'POST',
            path: `${pre}/attachments/${a}/action`,
            body: { 'os-complete': null },
            version,
            expect: volNotFound(volumeOfA),
            cinderShows: [volumeOfA],
          },
        ];
        for (const p of probes) {
          if (crossUrl) {
            p.expect = MALFORMED;
            p.cinderShows = undefined;
          }
          await send(p, tokQ, pIds);
        }
      }
    }
    // Cross-resource: Q's own volume with P's attachment id.
    for (const a of quick ? [att['in-use-legacy'], att['in-use-attachments']] : Object.values(att)) {
      const p: Probe = {
        route: "POST volumes/{Q's id}/action os-detach {P's attachment}",
        column,
        method: 'POST',
        path: `${pre}/volumes/${vQ}/action`,
        body: { 'os-detach': { attachment_id: a } },
        // volume/api.py attachment_deletion_allowed: the attachment is not the volume's.
        expect: crossUrl ? MALFORMED : fault(400, 'Invalid input received: Mismatched volume and attachment'),
      };
      await send(p, tokQ, pIds);
    }
    // Lists.
    const listVersions = quick ? ['3.0', '3.70'] : ['3.0', '3.31', '3.70'];
    const queries = ['', '?all_tenants=1', `?project_id=${P}`, `?all_tenants=1&project_id=${P}`, '?all_tenants=True&limit=1000'];
    for (const version of listVersions) {
      const filtering = Number(version.split('.')[1]) >= 31;
      for (const q of queries) {
        const projectFilter = q.includes('project_id');
        for (const what of ['volumes', 'volumes/detail']) {
          const exp: Expect = crossUrl ? MALFORMED : filtering && projectFilter ? INVALID_PROJECT_FILTER : { status: 200 };
          await send({ route: `GET ${what}${q.replace(P, '{P}')} (${version === '3.0' ? '3.0' : '3.31+'})`, column, method: 'GET', path: `${pre}/${what}${q}`, version, expect: exp }, tokQ, pIds);
        }
      }
    }
    for (const version of quick ? ['3.44'] : ['3.27', '3.44', '3.70']) {
      const attQueries = [...queries, `?volume_id=${ids['in-use-legacy']}`, `?all_tenants=1&volume_id=${ids['in-use-attachments']}`, `?instance_id=${instance[ids['in-use-legacy']]}`];
      for (const q of attQueries) {
        const projectFilter = q.includes('project_id');
        for (const what of ['attachments', 'attachments/detail']) {
          // Below 3.31 a non-admin's unknown filter keys are dropped; from 3.31 project_id is a 400.
          const exp: Expect = crossUrl ? MALFORMED : version !== '3.27' && projectFilter ? INVALID_PROJECT_FILTER : { status: 200 };
          const label = q.replace(P, '{P}').replace(/volume_id=[0-9a-f-]+/, 'volume_id={P vol}').replace(/instance_id=[0-9a-f-]+/, "instance_id={P's instance}");
          await send({ route: `GET ${what}${label} (${version === '3.27' ? '3.27' : '3.31+'})`, column, method: 'GET', path: `${pre}/${what}${q}`, version, expect: exp }, tokQ, pIds);
        }
      }
    }
  }
  const crossOutcomes = [...outcomes];
  log(`cross-project: ${crossOutcomes.length} requests in ${((Date.now() - t3) / 1000).toFixed(1)} s`);

  // ---- (2) P's member (not an admin) on P's own volumes: every admin action ----
  const t4 = Date.now();
  const adminProbes: Probe[] = [];
  const adm = (route: string, method: string, p: string, body: unknown, expect: Expect, version?: string, portUnrouted?: boolean) =>
    adminProbes.push({ route, column: 'P member', method, path: `/v3/${P}${p}`, body, version, expect, portUnrouted });
  const R = 'volume_extension:volume_admin_actions:';
  for (const n of quick ? (['available', 'in-use-legacy', 'detaching', 'reserved'] as const) : names) {
    const v = ids[n];
    const a = cluster.liveAttachments(v)[0]?.id ?? null;
    const act = `/volumes/${v}/action`;
    adm('os-reset_status status', 'POST', act, { 'os-reset_status': { status: 'error' } }, policy(`${R}reset_status`));
    adm('os-reset_status attach_status=detached', 'POST', act, { 'os-reset_status': { status: 'available', attach_status: 'detached' } }, policy(`${R}reset_status`));
    adm('os-reset_status migration_status', 'POST', act, { 'os-reset_status': { migration_status: 'migrating' } }, policy(`${R}reset_status`));
    adm('os-force_detach', 'POST', act, { 'os-force_detach': { attachment_id: a, connector: connector('p-legacy') } }, policy(`${R}force_detach`));
    adm('os-force_detach {}', 'POST', act, { 'os-force_detach': {} }, policy(`${R}force_detach`));
    adm('os-force_delete', 'POST', act, { 'os-force_delete': {} }, policy(`${R}force_delete`));
    adm('os-migrate_volume', 'POST', act, { 'os-migrate_volume': { host: 'testhost@lvm#lvm' } }, policy(`${R}migrate_volume`));
    adm('os-migrate_volume (3.16 cluster)', 'POST', act, { 'os-migrate_volume': { cluster: 'c1' } }, policy(`${R}migrate_volume`), '3.16');
    adm('os-migrate_volume_completion', 'POST', act, { 'os-migrate_volume_completion': { new_volume: ids.available } }, policy(`${R}migrate_volume_completion`));
    adm('os-unmanage', 'POST', act, { 'os-unmanage': {} }, policy('volume_extension:volume_unmanage'));
    adm('DELETE volumes/{id}?force=true (3.23)', 'DELETE', `/volumes/${v}?force=true`, undefined, policy('volume:force_delete'), '3.23');
    adm('DELETE volumes/{id}?force=true&cascade=true (3.23)', 'DELETE', `/volumes/${v}?force=true&cascade=true`, undefined, policy('volume:force_delete'), '3.23');
  }
  const adminOutcomes: Outcome[] = [];
  for (const p of adminProbes) {
    const o = await send(p, tokP, qIds);
    if (o.text.includes('There is no such action')) {
      p.portUnrouted = true;
      o.matchesCinder = false;
    }
    adminOutcomes.push(o);
  }
  // Admin-only query keys: Cinder drops them for a non-admin (own rows only, no 403).
  const filterProbes: Probe[] = [];
  for (const version of ['3.0', '3.70']) {
    for (const what of ['volumes', 'volumes/detail']) {
      filterProbes.push({ route: `GET ${what}?all_tenants=1 (${version})`, column: 'P member', method: 'GET', path: `/v3/${P}/${what}?all_tenants=1`, version, expect: { status: 200 } });
    }
  }
  for (const version of ['3.27', '3.44', '3.70']) {
    for (const what of ['attachments', 'attachments/detail']) {
      filterProbes.push({ route: `GET ${what}?all_tenants=1 (${version})`, column: 'P member', method: 'GET', path: `/v3/${P}/${what}?all_tenants=1`, version, expect: { status: 200 } });
    }
  }
  const filterOutcomes: Outcome[] = [];
  for (const p of filterProbes) filterOutcomes.push(await send(p, tokP, qIds));
  // Admin-only attributes (volume_host_attribute, volume_mig_status_attribute) in P's own views.
  const ADMIN_ATTRS = ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id'];
  let adminAttrsShown = 0;
  for (const p of [`/volumes/${ids['in-use-legacy']}`, '/volumes/detail']) {
    for (const version of ['3.0', '3.70']) {
      const a = await asP('GET', p, undefined, version);
      tally.add(a.status);
      if (a.status !== 200 || ADMIN_ATTRS.some((k) => a.text.includes(`"${k}"`))) adminAttrsShown++;
    }
  }
  // P's own lists carry P's rows (so "no foreign ids" above is not an empty answer).
  const ownList = await asP('GET', '/attachments', undefined, '3.44');
  const ownListOk = ownList.status === 200 && Object.values(att).every((a) => ownList.text.includes(a));
  log(`admin actions: ${adminOutcomes.length + filterOutcomes.length} requests in ${((Date.now() - t4) / 1000).toFixed(1)} s`);

  // ---- nothing changed later either (casts) ----
  const settledBefore = state();
  await sleep(1000);
  const lateChange = settledBefore !== state();

  // ---- P undoes its attachments, so the audit can be clean ----
  const svc = { 'X-Service-Token': tokSvc };
  const statesAfter = names.map((n) => `${n}=${statusOf(ids[n])}`).join(' ');
  must(await asP('POST', `/volumes/${ids.attaching}/action`, { 'os-unreserve': null }), 202, 'cleanup os-unreserve');
  must(await asP('POST', `/volumes/${ids.detaching}/action`, { 'os-roll_detaching': null }), 202, 'cleanup os-roll_detaching');
  for (const [n, tag] of [['in-use-legacy', 'p-legacy'], ['detaching', 'p-detaching']] as const) {
    const v = ids[n];
    must(await asP('POST', `/volumes/${v}/action`, { 'os-begin_detaching': null }), 202, 'cleanup os-begin_detaching');
    must(await asP('POST', `/volumes/${v}/action`, { 'os-terminate_connection': { connector: connector(tag) } }, undefined, svc), 202, 'cleanup os-terminate_connection');
    must(await asP('POST', `/volumes/${v}/action`, { 'os-detach': { attachment_id: att[n] } }, undefined, svc), 202, 'cleanup os-detach');
  }
  for (const n of ['in-use-attachments', 'reserved'] as const) {
    must(await asP('DELETE', `/attachments/${att[n]}`, undefined, '3.44', svc), 200, 'cleanup attachment delete');
  }
  await Promise.all(Object.values(ids).map((id) => waitStatus(id, 'available')));
  const finalAudit = audit(cluster, [...Object.values(ids), vQ]);

  // ---- figures ----
  const rows = new Map<string, RouteRow>();
  const findings: string[] = [];
  const mismatchSamples: string[] = [];
  for (const o of outcomes) {
    const key = `${o.probe.column === 'P member' ? '[admin] ' : ''}${o.probe.route}`;
    let r = rows.get(key);
    if (!r) {
      r = { route: key, byColumn: new Map(), visible: 0, visibleAsCinder: 0, changed: 0, mismatches: 0, unrouted: false };
      rows.set(key, r);
    }
    if (!r.byColumn.has(o.probe.column)) r.byColumn.set(o.probe.column, new Tally());
    r.byColumn.get(o.probe.column)!.add(o.status);
    if (o.visibleBeyondCinder.length) {
      r.visible++;
      findings.push(`VISIBLE ${o.probe.method} ${o.probe.path} -> ${o.status}: ${o.text}`);
    } else if (o.visible.length) r.visibleAsCinder++;
    if (o.changed) {
      r.changed++;
      findings.push(`CHANGED (${o.diff}) ${o.probe.method} ${o.probe.path} ${JSON.stringify(o.probe.body ?? null)} -> ${o.status}: ${o.text}`);
    }
    if (o.probe.portUnrouted) r.unrouted = true;
    if (!o.matchesCinder && !o.probe.portUnrouted) {
      r.mismatches++;
      if (mismatchSamples.length < 40) {
        mismatchSamples.push(`${o.probe.column}: ${o.probe.method} ${o.probe.path} -> ${o.status} ${o.text} (Cinder: ${o.probe.expect.status} ${o.probe.expect.body ? JSON.stringify(o.probe.expect.body) : ''})`);
      }
    }
  }
  const crossVisible = crossOutcomes.filter((o) => o.visibleBeyondCinder.length).length;
  const crossChanged = crossOutcomes.filter((o) => o.changed).length + (lateChange ? 1 : 0);
  if (lateChange) findings.push('CHANGED after the last request (a cast?)');
  const crossVisibleAsCinder = crossOutcomes.filter((o) => o.visible.length && !o.visibleBeyondCinder.length).length;
  const adminRouted = adminOutcomes.filter((o) => !o.probe.portUnrouted);
  const adminNotRefused = adminRouted.filter((o) => !o.matchesCinder).length;
  const adminChanged = [...adminOutcomes, ...filterOutcomes].filter((o) => o.changed).length;
  const adminUnrouted = [...new Set(adminOutcomes.filter((o) => o.probe.portUnrouted).map((o) => o.probe.route))];
  const adminFiltersLeaking = filterOutcomes.filter((o) => o.status !== 200 || o.visible.length).length + (ownListOk ? 0 : 1);
  const mismatches = outcomes.filter((o) => !o.matchesCinder && !o.probe.portUnrouted).length;
  const unroutedRoutes = [...rows.values()].filter((r) => r.unrouted).map((r) => r.route);

  const cols = ['Q url', 'P url', 'no project', 'P member'];
  const table = [
    `${'route'.padEnd(66)} | ${cols.map((c) => c.padEnd(16)).join(' | ')} | vis | as-Cinder | chg | ≠Cinder`,
    ...[...rows.values()].map(
      (r) =>
        `${(r.route + (r.unrouted ? ' [not routed in port]' : '')).slice(0, 66).padEnd(66)} | ${cols.map((c) => (r.byColumn.get(c)?.toString() ?? '-').padEnd(16)).join(' | ')} | ${String(r.visible).padStart(3)} | ${String(r.visibleAsCinder).padStart(9)} | ${String(r.changed).padStart(3)} | ${String(r.mismatches).padStart(7)}`,
    ),
  ].join('\n');

  const text = [
    report('isolation: keystone, project Q on project P, non-admin on admin actions', {
      requests: tally,
      audit: finalAudit,
      alive: alive(cluster),
      extra: {
        "P's volumes (before)": states,
        "P's volumes (after the probes)": statesAfter,
        'routes tried': rows.size,
        'cross-project requests': crossOutcomes.length,
        'cross-project visible/changed (beyond Cinder 21.3.1)': `${crossVisible}/${crossChanged}`,
        'cross-project visible as in Cinder 21.3.1 (GET attachments/{id}; os-complete 404 names the volume)': crossVisibleAsCinder,
        'admin actions tried (routed in the port)': `${adminOutcomes.length} (${adminRouted.length})`,
        'admin actions not refused with 403': adminNotRefused,
        'admin actions that changed something': adminChanged,
        'admin actions not routed in the port (Cinder: 403)': adminUnrouted.join(', ') || 'none',
        'admin-only query keys not dropped (own rows only)': adminFiltersLeaking,
        'admin-only attributes shown to a member': adminAttrsShown,
        'answers differing from Cinder 21.3.1 (status/body, routed ones)': mismatches,
        'routes not in the port (Cinder has them)': unroutedRoutes.length,
        'audit clean after P undid its attachments': clean(finalAudit) ? 'yes' : 'NO',
      },
    }),
    '',
    table,
    ...(findings.length ? ['', 'findings:', ...findings.slice(0, 40)] : []),
    ...(mismatchSamples.length ? ['', 'answers differing from Cinder 21.3.1:', ...mismatchSamples] : []),
  ].join('\n');
  log(text);
  return {
    requests: tally.total,
    routes: rows.size,
    crossVisible,
    crossChanged,
    crossVisibleAsCinder,
    adminNotRefused,
    adminChanged,
    adminUnrouted,
    adminFiltersLeaking,
    adminAttrsShown,
    mismatches,
    mismatchSamples,
    findings,
    auditClean: clean(finalAudit),
    text,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run({ quick: arg('quick', '0') === '1' })
    .then((r) => {
      if (r.skipped) return;
      const bad = r.crossVisible + r.crossChanged + r.adminNotRefused + r.adminChanged;
      process.exitCode = bad ? 1 : 0;
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 2;
    });
}
