// The route and action catalogue, with what Cinder 21.3.1 answers to each:
//  (1) project Q's member on P's volumes and attachments, with Q's project id in the URL, with P's
//      (Cinder: 400 "Malformed request url") and without any (the project-less routes): every volume
//      route and action, the attachments by id, Q's own volume with P's attachment, and the lists
//      with all_tenants=1 and project_id=P;
//  (2) P's member (not an admin) on P's own volumes: every admin action (Cinder's 403 "Policy doesn't
//      allow <rule> to be performed."), and the admin-only query keys (dropped silently).
// The volume probes are made just before they are sent: their attachment ids are read then.
import { randomUUID } from 'node:crypto';
import { INVALID_PROJECT_FILTER, MALFORMED, attNotFound, fault, policy, volNotFound, type Expect, type Probe } from './expect.js';
import { NAMES, connector, type Name, type Setup } from './setup.js';

/** The URL prefixes Q's member tries, by column of the report. */
export const prefixes = (s: Setup): [string, string][] => [
  ['Q url', `/v3/${s.Q}`],
  ['P url', `/v3/${s.P}`],
  ['no project', '/v3'],
];

/** With P's project in Q's URL, Cinder answers every route 400 "Malformed request url" and shows nothing. */
const crossUrl = (column: string) => column === 'P url';
function malformedIfCrossUrl(column: string, probes: Probe[]): Probe[] {
  if (crossUrl(column)) {
    for (const p of probes) {
      p.expect = MALFORMED;
      p.cinderShows = undefined;
      p.portAnswer = undefined;
    }
  }
  return probes;
}

/** P's volumes Q's member aims at. */
export const volumeVariants = (s: Setup, quick: boolean): string[] =>
  quick ? [s.ids.available, s.ids['in-use-legacy'], s.ids['in-use-attachments'], s.ids.reserved, s.ids.detaching] : Object.values(s.ids);

function volumeActions(s: Setup, v: string): [string, unknown, Expect][] {
  const nf = volNotFound(v);
  const someAtt = s.att['in-use-legacy'];
  const attOf = () => s.cluster.liveAttachments(v)[0]?.id ?? someAtt;
  return [
    ['os-reserve', { 'os-reserve': null }, nf],
    ['os-unreserve', { 'os-unreserve': null }, nf],
    ['os-begin_detaching', { 'os-begin_detaching': null }, nf],
    ['os-roll_detaching', { 'os-roll_detaching': null }, nf],
    ['os-attach', { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } }, nf],
    ['os-detach', { 'os-detach': { attachment_id: attOf() } }, nf],
    ['os-initialize_connection', { 'os-initialize_connection': { connector: connector('q') } }, nf],
    ['os-terminate_connection', { 'os-terminate_connection': { connector: connector('p-legacy') } }, nf],
    ['os-force_detach', { 'os-force_detach': { attachment_id: attOf(), connector: connector('p-legacy') } }, nf],
    ['os-reset_status', { 'os-reset_status': { status: 'available', attach_status: 'detached' } }, nf],
    ['os-force_delete', { 'os-force_delete': {} }, nf],
    ['os-migrate_volume', { 'os-migrate_volume': { host: 'testhost@lvm#lvm' } }, nf],
    ['os-migrate_volume_completion', { 'os-migrate_volume_completion': { new_volume: s.vQ } }, nf],
    ['os-extend', { 'os-extend': { new_size: 2 } }, nf],
    ['os-update_readonly_flag', { 'os-update_readonly_flag': { readonly: true } }, nf],
    ['os-set_bootable', { 'os-set_bootable': { bootable: true } }, nf],
    ['os-retype', { 'os-retype': { new_type: '__DEFAULT__' } }, nf],
    ['os-unmanage', { 'os-unmanage': {} }, nf],
  ];
}

/** Every volume route and action on P's volume `v`: Cinder's 404 (another project's volume). */
export function volumeProbes(s: Setup, column: string, pre: string, v: string): Probe[] {
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
  for (const [action, body, exp] of volumeActions(s, v)) {
    probes.push({ route: `POST volumes/{id}/action ${action}`, column, method: 'POST', path: `${pre}/volumes/${v}/action`, body, expect: exp });
  }
  return malformedIfCrossUrl(column, probes);
}

/** P's attachments by id: show, update, delete, os-complete. */
export function attachmentProbes(s: Setup, column: string, pre: string, quick: boolean): Probe[] {
  const probes: Probe[] = [];
  const versions = quick ? ['3.44'] : ['3.44', '3.70'];
  for (const [n, a] of Object.entries(s.att)) {
    const volumeOfA = s.ids[n as Name];
    for (const version of versions) {
      probes.push(
        // attachments.py show: VolumeAttachment.get_by_id is not project-scoped and there is no
        // policy, so Cinder shows it (connection_info included); the port answers not found.
        { route: `GET attachments/{id} (${version})`, column, method: 'GET', path: `${pre}/attachments/${a}`, version, expect: { status: 200 }, cinderShows: s.pIds, portAnswer: attNotFound(a) },
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
          portAnswer: attNotFound(a),
        },
      );
    }
  }
  return malformedIfCrossUrl(column, probes);
}

/** Cross-resource: Q's own volume with P's attachment id. */
export function crossResourceProbes(s: Setup, column: string, pre: string, quick: boolean): Probe[] {
  return (quick ? [s.att['in-use-legacy'], s.att['in-use-attachments']] : Object.values(s.att)).map((a) => ({
    route: "POST volumes/{Q's id}/action os-detach {P's attachment}",
    column,
    method: 'POST',
    path: `${pre}/volumes/${s.vQ}/action`,
    body: { 'os-detach': { attachment_id: a } },
    // volume/api.py attachment_deletion_allowed: the attachment is not the volume's.
    expect: crossUrl(column) ? MALFORMED : fault(400, 'Invalid input received: Mismatched volume and attachment'),
  }));
}

/** The lists, with all_tenants=1 and P's project_id among the queries. */
export function listProbes(s: Setup, column: string, pre: string, quick: boolean): Probe[] {
  const probes: Probe[] = [];
  const { P, ids, instance } = s;
  const listVersions = quick ? ['3.0', '3.70'] : ['3.0', '3.31', '3.70'];
  const queries = ['', '?all_tenants=1', `?project_id=${P}`, `?all_tenants=1&project_id=${P}`, '?all_tenants=True&limit=1000'];
  for (const version of listVersions) {
    const filtering = Number(version.split('.')[1]) >= 31;
    for (const q of queries) {
      const projectFilter = q.includes('project_id');
      for (const what of ['volumes', 'volumes/detail']) {
        const exp: Expect = crossUrl(column) ? MALFORMED : filtering && projectFilter ? INVALID_PROJECT_FILTER : { status: 200 };
        probes.push({ route: `GET ${what}${q.replace(P, '{P}')} (${version === '3.0' ? '3.0' : '3.31+'})`, column, method: 'GET', path: `${pre}/${what}${q}`, version, expect: exp });
      }
    }
  }
  for (const version of quick ? ['3.44'] : ['3.27', '3.44', '3.70']) {
    const attQueries = [...queries, `?volume_id=${ids['in-use-legacy']}`, `?all_tenants=1&volume_id=${ids['in-use-attachments']}`, `?instance_id=${instance[ids['in-use-legacy']]}`];
    for (const q of attQueries) {
      const projectFilter = q.includes('project_id');
      for (const what of ['attachments', 'attachments/detail']) {
        // Below 3.31 a non-admin's unknown filter keys are dropped; from 3.31 project_id is a 400.
        const exp: Expect = crossUrl(column) ? MALFORMED : version !== '3.27' && projectFilter ? INVALID_PROJECT_FILTER : { status: 200 };
        const label = q.replace(P, '{P}').replace(/volume_id=[0-9a-f-]+/, 'volume_id={P vol}').replace(/instance_id=[0-9a-f-]+/, "instance_id={P's instance}");
        probes.push({ route: `GET ${what}${label} (${version === '3.27' ? '3.27' : '3.31+'})`, column, method: 'GET', path: `${pre}/${what}${q}`, version, expect: exp });
      }
    }
  }
  return probes;
}

/** Every admin action on P's own volumes, by P's member: Cinder's 403. */
export function adminProbes(s: Setup, quick: boolean): Probe[] {
  const probes: Probe[] = [];
  const { P, ids } = s;
  const adm = (route: string, method: string, p: string, body: unknown, expect: Expect, version?: string, portUnrouted?: boolean) =>
    probes.push({ route, column: 'P member', method, path: `/v3/${P}${p}`, body, version, expect, portUnrouted });
  const R = 'volume_extension:volume_admin_actions:';
  for (const n of quick ? (['available', 'in-use-legacy', 'detaching', 'reserved'] as const) : NAMES) {
    const v = ids[n];
    const a = s.cluster.liveAttachments(v)[0]?.id ?? null;
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
  return probes;
}

/** Admin-only query keys: Cinder drops them for a non-admin (own rows only, no 403). */
export function filterProbes(s: Setup): Probe[] {
  const probes: Probe[] = [];
  const lists: [string[], string[]][] = [
    [['3.0', '3.70'], ['volumes', 'volumes/detail']],
    [['3.27', '3.44', '3.70'], ['attachments', 'attachments/detail']],
  ];
  for (const [versions, whats] of lists) {
    for (const version of versions) {
      for (const what of whats) {
        probes.push({ route: `GET ${what}?all_tenants=1 (${version})`, column: 'P member', method: 'GET', path: `/v3/${s.P}/${what}?all_tenants=1`, version, expect: { status: 200 } });
      }
    }
  }
  return probes;
}
