// Volume views: cinder/api/v2/views/volumes.py + cinder/api/v3/views/volumes.py, the admin-metadata
// merge of cinder/api/api_utils.py add_visible_admin_metadata, the extension attributes added by
// cinder/api/contrib/volume_{tenant,host,mig_status}_attribute.py, and the links of
// cinder/api/common.py ViewBuilder.
import { FIXED_KEY_ID } from '../volume-api/key-manager.js';
import type { RequestContext } from '../common/context.js';
import { isAllowed } from '../common/policy.js';
import type { Volume, VolumeAttachment } from '../objects/volume.js';
import { MV } from './microversion.js';

/** What the views need to know about the request. */
export interface ViewRequest {
  ctx: RequestContext;
  version: number;
  /** webob `application_url` after X-Forwarded-Host: scheme://host[:port]/v3 */
  applicationUrl: string;
  /** webob `req.url`: the full request URL, used for the project-in-URL test. */
  url: string;
  /** Query pairs in request order (for pagination links). */
  query: [string, string][];
}

/** The volume as the view sees it; `volume_type` is shown by name when the caller loaded it. */
export type ViewVolume = Volume;

const STATUS_MAP: Record<string, string> = {
  managing: 'creating',
  error_managing: 'error',
  error_managing_deleting: 'deleting',
};



/**
 * Datetimes as Cinder's JSON serialiser writes them (`%Y-%m-%dT%H:%M:%S.%f`, no zone). Accepts the
 * DB text form ('YYYY-MM-DD HH:MM:SS[.ffffff]') and the ISO/OVO forms.
 */
export function apiDateTime(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?/.exec(v);
  if (!m) return v;
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}`;
}

/** os.path.join(base, project_or_empty, collection, id) */
function joinUrl(...parts: string[]): string {
  let out = '';
  for (const p of parts) {
    if (p === '') {
      if (out && !out.endsWith('/')) out += '/';
      continue;
    }
    if (p.startsWith('/')) out = p;
    else out = out === '' || out.endsWith('/') ? out + p : `${out}/${p}`;
  }
  return out;
}

/** common.remove_version_from_href: drop the first /vX or /vX.Y path segment. */
export function removeVersionFromHref(href: string): string {
  const u = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)?([^?#]*)(.*)$/.exec(href)!;
  const prefix = u[1] ?? '';
  const segs = u[2].split('/');
  const idx = segs.findIndex((s) => /^v([0-9]+|[0-9]+\.[0-9]+)$/.test(s));
  if (idx >= 0) segs.splice(idx, 1);
  return `${prefix}${segs.join('/')}${u[3]}`;
}

/** ViewBuilder._get_project_id_in_url: links carry the project only when the request URL did. */
function projectInUrl(req: ViewRequest): string {
  const p = req.ctx.project_id;
  return p && req.url.includes(`/v3/${p}`) ? p : '';
}

export function volumeLinks(req: ViewRequest, id: string): { rel: string; href: string }[] {
  return resourceLinks(req, 'volumes', id);
}

/** ViewBuilder._get_links for any collection (self and bookmark). */
export function resourceLinks(req: ViewRequest, collection: string, id: string): { rel: string; href: string }[] {
  const project = projectInUrl(req);
  return [
    { rel: 'self', href: joinUrl(req.applicationUrl, project, collection, id) },
    { rel: 'bookmark', href: joinUrl(removeVersionFromHref(req.applicationUrl), project, collection, id) },
  ];
}

function attachmentsView(volume: Volume, isAdmin: boolean) {
  const out: Record<string, unknown>[] = [];
  for (const a of volume.volume_attachment as VolumeAttachment[]) {
    if (a.attach_status !== 'attached') continue;
    out.push({
      id: a.volume_id,
      attachment_id: a.id,
      volume_id: a.volume_id,
      server_id: a.instance_uuid,
      host_name: isAdmin ? a.attached_host : null,
      device: a.mountpoint,
      attached_at: apiDateTime(a.attach_time),
    });
  }
  return out;
}

/** User metadata with the admin keys `readonly` and `attached_mode` laid over it. */
function metadataView(volume: Volume): Record<string, string> {
  const meta: Record<string, string> = { ...(volume.metadata ?? {}) };
  const admin = volume.admin_metadata ?? {};
  for (const k of ['readonly', 'attached_mode']) {
    if (Object.prototype.hasOwnProperty.call(admin, k)) meta[k] = admin[k];
  }
  return meta;
}

function volumeTypeName(volume: ViewVolume): string | null {
  if (volume.volume_type_id && volume.volume_type?.name) return volume.volume_type.name;
  return volume.volume_type_id ?? null;
}

/** Python str(bool).lower(): "true"/"false", and "none" for a NULL column. */
function bootableString(b: boolean | null | undefined): string {
  return b === null || b === undefined ? 'none' : b ? 'true' : 'false';
}

/**
 * The v3 detail view of one volume. `extensions` adds the attributes Cinder's controller
 * extensions put on GET /volumes/{id} and /volumes/detail (not on the POST /volumes answer).
 */
export function volumeDetail(req: ViewRequest, volume: ViewVolume, extensions: boolean): Record<string, unknown> {
  const isAdmin = req.ctx.is_admin;
  const v = req.version;
  const view: Record<string, unknown> = {
    id: volume.id,
    status: STATUS_MAP[volume.status ?? ''] ?? volume.status,
    size: volume.size,
    availability_zone: volume.availability_zone,
    created_at: apiDateTime(volume.created_at),
    updated_at: apiDateTime(volume.updated_at),
    name: volume.display_name,
    description: volume.display_description,
    volume_type: volumeTypeName(volume),
    snapshot_id: volume.snapshot_id,
    source_volid: volume.source_volid,
    metadata: metadataView(volume),
    links: volumeLinks(req, volume.id),
    user_id: volume.user_id,
    bootable: bootableString(volume.bootable),
    encrypted: volume.encryption_key_id !== null && volume.encryption_key_id !== undefined,
    replication_status: volume.replication_status,
    consistencygroup_id: volume.consistencygroup_id,
    multiattach: volume.multiattach,
    attachments: attachmentsView(volume, isAdmin),
  };
  if (isAdmin) view.migration_status = volume.migration_status;

  if (v >= MV.GROUP_VOLUME) view.group_id = volume.group_id;
  if (isAdmin && v >= MV.VOLUME_DETAIL_PROVIDER_ID) view.provider_id = volume.provider_id;
  if (v >= MV.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS) {
    let shared: boolean | null = volume.shared_targets ?? null;
    if (v < MV.SHARED_TARGETS_TRISTATE && shared === null) shared = true;
    view.shared_targets = shared;
    view.service_uuid = volume.service_uuid ?? null;
  }
  if (isAdmin && v >= MV.VOLUME_CLUSTER_NAME) view.cluster_name = volume.cluster_name ?? null;
  if (v >= MV.VOLUME_TYPE_ID_IN_VOLUME_DETAIL) view.volume_type_id = volume.volume_type?.id ?? volume.volume_type_id;
  if (v >= MV.ENCRYPTION_KEY_ID_IN_DETAILS) {
    if (volume.encryption_key_id && volume.encryption_key_id !== FIXED_KEY_ID) {
      view.encryption_key_id = volume.encryption_key_id;
    }
  }
  if (v >= MV.USE_QUOTA) view.consumes_quota = volume.use_quota;

  if (extensions) {
    const ctx = req.ctx;
    if (isAllowed(ctx, 'volume_extension:volume_tenant_attribute')) {
      view['os-vol-tenant-attr:tenant_id'] = volume.project_id;
    }
    if (isAllowed(ctx, 'volume_extension:volume_mig_status_attribute')) {
      view['os-vol-mig-status-attr:migstat'] = volume.migration_status;
      view['os-vol-mig-status-attr:name_id'] = volume._name_id;
    }
    if (isAllowed(ctx, 'volume_extension:volume_host_attribute')) {
      view['os-vol-host-attr:host'] = volume.host;
    }
  }
  return view;
}

export function volumeSummary(req: ViewRequest, volume: Volume): Record<string, unknown> {
  return { id: volume.id, name: volume.display_name, links: volumeLinks(req, volume.id) };
}

/** Python urllib.parse.quote_plus (safe: letters, digits, `_.-~`; space as `+`). */
function quotePlus(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * `volumes_links`: a "next" link when as many items came back as the limit allows
 * (ViewBuilder._get_collection_links), with the request's query and marker=<last id>.
 */
export function collectionLinks(
  req: ViewRequest,
  items: Volume[],
  collection: string,
  limit: number,
  /** The with_count total (3.45): compared to the limit instead of the page's length when set. */
  itemCount?: number,
): { rel: string; href: string }[] {
  const count = itemCount || items.length;
  if (!items.length || limit > count) return [];
  const last = items[items.length - 1].id;
  const params = req.query.filter(([k]) => k !== 'marker');
  params.push(['marker', last]);
  const qs = params.map(([k, val]) => `${quotePlus(k)}=${quotePlus(val)}`).join('&');
  return [{ rel: 'next', href: `${joinUrl(req.applicationUrl, projectInUrl(req), collection)}?${qs}` }];
}

// ---- attachments (cinder/api/v3/views/attachments.py; no microversion-dependent fields) ----------

/** `{id, status: attach_status, instance: instance_uuid, volume_id}` */
export function attachmentSummary(a: VolumeAttachment): Record<string, unknown> {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

/** The summary plus attached_at/detached_at (`''` when NULL), attach_mode and connection_info. */
export function attachmentDetail(a: VolumeAttachment): Record<string, unknown> {
  return {
    ...attachmentSummary(a),
    attached_at: apiDateTime(a.attach_time) ?? '',
    detached_at: apiDateTime(a.detach_time) ?? '',
    attach_mode: a.attach_mode,
    connection_info: a.connection_info,
  };
}
