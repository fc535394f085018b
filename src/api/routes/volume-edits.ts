// PUT /volumes/{id} (cinder/api/v2/volumes.py update, v3 schemas), GET /volumes/summary (3.12,
// cinder/api/v3/volumes.py summary), the metadata API /volumes/{volume_id}/metadata[/{key}]
// (cinder/api/v2/volume_metadata.py with v3's ETags from 3.15) and the os-set_bootable /
// os-update_readonly_flag actions (cinder/api/contrib/volume_actions.py).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { InvalidVolumeMetadata, InvalidVolumeMetadataSize, VolumeMetadataNotFound } from '../../common/exceptions.js';
import { pyJsonDumps } from '../../common/pyjson.js';
import type { VolumeApiSurface } from '../../volume-api/api.js';
import { VOLUME_RESOURCE_FILTERS, filtersFromPairs } from '../../volume-api/volume-filters.js';
import type { VolumeEditSurface, VolumeUpdateFields } from '../../volume-api/volume-update.js';
import { HttpFault } from '../faults.js';
import { MV } from '../microversion.js';
import { queryPairs } from '../pagination.js';
import { viewRequest } from '../pipeline.js';
import { resourceRoutes, type Controller, type ResourceCall, type ResourceMethod, type ResourceResult } from '../resource.js';
import { boolFromString, pyStrip } from '../../common/python.js';
import { rejectStrayTypeKey, validateBody } from '../schemas.js';
import {
  metadataCreateSchema,
  metadataUpdateSchema,
  readonlyUpdateSchema,
  setBootableSchema,
  updateVolumeSchemas,
  type MetadataCreateBody,
  type MetadataUpdateBody,
  type ReadonlyUpdateBody,
  type SetBootableBody,
  type UpdateVolumeBody,
} from '../schemas-volumes.js';
import { volumeDetail } from '../views.js';

/** microversions.py (used only here) */
const VOLUME_SUMMARY = 3012;
const ETAGS = 3015;
const VOLUME_SUMMARY_METADATA = 3036;

export type EditableVolumeApi = Pick<VolumeApiSurface, 'get'> & { edits: VolumeEditSurface };

const json = (status: number, body: unknown): ResourceResult => ({ kind: 'object', status, body });

/** Python json.dumps then md5, as the v3 metadata controller's Etag. */
const etagOf = (metadata: Record<string, string>) => createHash('md5').update(pyJsonDumps({ metadata }), 'utf8').digest('hex');

/** webob's If-Match: the listed entity tags (quotes and W/ dropped). */
function ifMatchTags(header: string | string[] | undefined): string[] | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')).filter((t) => t !== '');
}

export function volumeEditControllers(api: EditableVolumeApi) {
  const edits = api.edits;

  const update: Controller = async (c) => {
    const schema = c.version >= MV.SUPPORT_VOLUME_SCHEMA_CHANGES ? updateVolumeSchemas.v353 : updateVolumeSchemas.base;
    const body = validateBody<UpdateVolumeBody>(schema, c.body, c.bodyText);
    const given: Record<string, unknown> = { ...body.volume };
    // validate_name_and_description(check_length=False): strip; then the v2 names win.
    for (const k of ['name', 'description', 'display_name', 'display_description']) {
      if (typeof given[k] === 'string') given[k] = pyStrip(given[k] as string);
    }
    if ('name' in given) {
      given.display_name = given.name;
      delete given.name;
    }
    if ('description' in given) {
      given.display_description = given.description;
      delete given.description;
    }
    const volume = await api.get(c.ctx, c.params.id);
    let updated;
    try {
      updated = await edits.updateVolume(c.ctx, volume, given as VolumeUpdateFields, true);
    } catch (err) {
      if (err instanceof InvalidVolumeMetadataSize) throw new HttpFault(413, err.msg);
      throw err;
    }
    return json(200, { volume: volumeDetail(viewRequest(c.req, c.ctx, c.version), updated, false) });
  };

  const summary: Controller = async (c) => {
    const filters = filtersFromPairs(queryPairs(c));
    // api_utils.remove_invalid_filter_options: a non-admin keeps only the configured filters.
    if (!c.ctx.is_admin) for (const k of Object.keys(filters)) if (!VOLUME_RESOURCE_FILTERS.includes(k)) delete filters[k];
    const s = await edits.volumeSummary(c.ctx, filters);
    const out: Record<string, unknown> = { total_count: s.count, total_size: Math.trunc(s.size) };
    if (c.version >= VOLUME_SUMMARY_METADATA) out.metadata = s.metadata;
    return json(200, { 'volume-summary': out });
  };

  const getMetadata = async (c: ResourceCall) => {
    const volume = await api.get(c.ctx, c.params.volume_id);
    return { volume, metadata: await edits.getVolumeMetadata(c.ctx, volume) };
  };

  /** The v3 controller's _validate_etag: no If-Match passes; else the current Etag must be listed. */
  const etagMatches = async (c: ResourceCall): Promise<boolean> => {
    const tags = ifMatchTags(c.req.headers['if-match']);
    if (tags === null) return true;
    const { metadata } = await getMetadata(c);
    return tags.includes(etagOf(metadata));
  };

  /** Controller._update_volume_metadata's exception translation. */
  const write = async (c: ResourceCall, fn: (v: Awaited<ReturnType<typeof api.get>>) => Promise<Record<string, string>>) => {
    const volume = await api.get(c.ctx, c.params.volume_id);
    try {
      return await fn(volume);
    } catch (err) {
      if (err instanceof InvalidVolumeMetadata) throw new HttpFault(400, err.msg);
      if (err instanceof InvalidVolumeMetadataSize) throw new HttpFault(413, err.msg);
      throw err;
    }
  };

  const metaIndex: Controller = async (c) => {
    const { metadata } = await getMetadata(c);
    if (c.version >= ETAGS) {
      const text = pyJsonDumps({ metadata });
      return { kind: 'raw', status: 200, body: text, headers: { Etag: etagOf(metadata) } };
    }
    return json(200, { metadata });
  };

  const metaCreate: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<MetadataCreateBody>(metadataCreateSchema, c.body, c.bodyText);
    const md = await write(c, (v) => edits.createVolumeMetadata(c.ctx, v, body.metadata as Record<string, string>));
    return json(200, { metadata: md });
  };

  const metaUpdateAll: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<MetadataCreateBody>(metadataCreateSchema, c.body, c.bodyText);
    if (c.version >= ETAGS && !(await etagMatches(c))) return { kind: 'raw', status: 412 };
    const md = await write(c, (v) => edits.updateVolumeMetadata(c.ctx, v, body.metadata as Record<string, string>, true));
    return json(200, { metadata: md });
  };

  const metaUpdate: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<MetadataUpdateBody>(metadataUpdateSchema, c.body, c.bodyText);
    if (c.version >= ETAGS && !(await etagMatches(c))) return { kind: 'raw', status: 412 };
    const item = body.meta as Record<string, string>;
    if (!Object.prototype.hasOwnProperty.call(item, c.params.id)) throw new HttpFault(400, 'Request body and URI mismatch');
    if (Object.keys(item).length > 1) throw new HttpFault(400, 'Request body contains too many items');
    await write(c, (v) => edits.updateVolumeMetadata(c.ctx, v, item, false));
    return json(200, { meta: item });
  };

  const metaShow: Controller = async (c) => {
    const { metadata } = await getMetadata(c);
    const key = c.params.id;
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) {
      throw new VolumeMetadataNotFound({ volume_id: c.params.volume_id, metadata_key: key });
    }
    return json(200, { meta: { [key]: metadata[key] } });
  };

  const metaDelete: Controller = async (c) => {
    const { volume, metadata } = await getMetadata(c);
    const key = c.params.id;
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) {
      throw new VolumeMetadataNotFound({ volume_id: c.params.volume_id, metadata_key: key });
    }
    await edits.deleteVolumeMetadata(c.ctx, volume, key);
    return { kind: 'raw', status: 200 };
  };

  return { update, summary, metaIndex, metaCreate, metaUpdateAll, metaUpdate, metaShow, metaDelete };
}

/** os-set_bootable (200, volume_api.update under volume:update) and os-update_readonly_flag (202). */
export function volumeEditActions(api: VolumeApiSurface & Partial<{ edits: VolumeEditSurface }>): Map<string, Controller> {
  const actions = new Map<string, Controller>();
  const edits = api.edits;
  if (!edits) return actions;
  actions.set('os-set_bootable', async (c) => {
    const body = validateBody<SetBootableBody>(setBootableSchema, c.body, c.bodyText)['os-set_bootable'];
    const volume = await api.get(c.ctx, c.params.id);
    await edits.updateVolume(c.ctx, volume, { bootable: boolFromString(body.bootable) }, false);
    return json(200, null);
  });
  actions.set('os-update_readonly_flag', async (c) => {
    const body = validateBody<ReadonlyUpdateBody>(readonlyUpdateSchema, c.body, c.bodyText)['os-update_readonly_flag'];
    const volume = await api.get(c.ctx, c.params.id);
    await edits.updateReadonlyFlag(c.ctx, volume, boolFromString(body.readonly));
    return json(202, null);
  });
  return actions;
}

export function registerVolumeEditRoutes(app: FastifyInstance, api: EditableVolumeApi): void {
  const c = volumeEditControllers(api);
  const m = (controller: Controller, takesBody: 'none' | 'required', minVersion?: number): ResourceMethod => ({
    kind: 'method',
    takesBody,
    controller,
    ...(minVersion ? { minVersion } : {}),
  });
  const volumes = resourceRoutes(app, '/volumes');
  volumes('PUT', '/:id', m(c.update, 'required'));
  volumes('GET', '/summary', m(c.summary, 'none', VOLUME_SUMMARY));
  const meta = resourceRoutes(app, '/volumes/:volume_id/metadata', (p) => {
    const out: Record<string, string> = { volume_id: p.volume_id ?? '' };
    if (p.id !== undefined) out.id = p.id;
    return out;
  });
  meta('GET', '', m(c.metaIndex, 'none'));
  meta('POST', '', m(c.metaCreate, 'required'));
  meta('PUT', '', m(c.metaUpdateAll, 'required'));
  meta('GET', '/:id', m(c.metaShow, 'none'));
  meta('PUT', '/:id', m(c.metaUpdate, 'required'));
  meta('DELETE', '/:id', m(c.metaDelete, 'none'));
}
