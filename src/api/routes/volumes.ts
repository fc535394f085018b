// /v3/{project_id}/volumes: create, list (summary and detail), show, delete
// (cinder/api/v3/volumes.py on top of cinder/api/v2/volumes.py).
import { lastParam, paginationParams, popParam, queryPairs, sortParams, type QueryPairs } from '../pagination.js';
import type { FastifyInstance } from 'fastify';
import { BackupNotFound, GroupNotFound, InvalidInput, InvalidParameterValue, SnapshotNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { CreateVolumeRequest, VolumeApiSurface } from '../../volume-api/api.js';
import { HttpFault, PyTypeError, ValidationFailed } from '../faults.js';
import { cinderMessage } from '../validators.js';
import { MV } from '../microversion.js';
import { viewRequest } from '../pipeline.js';
import { runResource, type Controller, type ResourceMethod } from '../resource.js';
import {
  dictGet,
  type PyDict,
  boolFromString,
  isValidBoolStr,
  pyIntFromStr,
  pyParse,
  pyStr,
  pyStrip,
  toPlain,
  type PyValue,
} from '../../common/python.js';
import { createVolumeSchemas, schedulerHintsSchema, type CreateVolumeBody } from '../schemas.js';
import { collectionLinks, volumeDetail, volumeSummary } from '../views.js';
import {
  checkVolumeFilters,
  filtersFromPairs,
  getBoolParam as getFilterBool,
  handleTimeComparisonFilters,
  processVolumeFiltering,
} from '../../volume-api/volume-filters.js';
import type { VolumeCountSurface } from '../../volume-api/volume-update.js';

/** [DEFAULT] osapi_max_limit */

/** utils.get_bool_param(name, params): default False; 400 for a value that is no boolean string. */
function getBoolParam(value: unknown, name: string, present: boolean): boolean {
  if (!present) return false;
  if (!isValidBoolStr(value)) {
    throw new InvalidParameterValue({ err: `Value '${pyStr(value ?? null)}' for '${name}' is not a boolean.` });
  }
  return boolFromString(value);
}

/** common._get_limit_param */

function pickCreateSchema(version: number) {
  if (version >= MV.SUPPORT_VOLUME_SCHEMA_CHANGES) return createVolumeSchemas.v353;
  if (version >= MV.VOLUME_CREATE_FROM_BACKUP) return createVolumeSchemas.v347;
  if (version >= MV.GROUP_VOLUME) return createVolumeSchemas.v313;
  return createVolumeSchemas.base;
}

export function volumeControllers(api: VolumeApiSurface) {
  const show: Controller = async (c) => {
    const volume = await api.get(c.ctx, c.params.id);
    return { kind: 'object', status: 200, body: { volume: volumeDetail(viewRequest(c.req, c.ctx, c.version), volume, true) } };
  };

  /** VolumeController._get_volumes (cinder/api/v3/volumes.py); filters: src/volume-api/volume-filters.ts. */
  const list =
    (detail: boolean): Controller =>
    async (c) => {
      const pairs = queryPairs(c);
      const { marker, limit, offset } = paginationParams(pairs);
      const { sortKeys, sortDirs } = sortParams(pairs);
      const filters = filtersFromPairs(pairs);
      const keysInOrder = pairs.map(([k]) => k);
      let showCount = false;
      if (c.version >= MV.SUPPORT_COUNT_INFO && 'with_count' in filters) {
        showCount = getFilterBool(filters, 'with_count');
        delete filters.with_count;
      }
      processVolumeFiltering(c.ctx.is_admin, c.version, filters, keysInOrder);
      // 'name' in the REST API is display_name in the DB
      const keys = sortKeys.map((k) => (k === 'name' ? 'display_name' : k));
      if ('name' in filters) {
        filters.display_name = filters.name;
        delete filters.name;
      }
      if ('use_quota' in filters) filters.use_quota = getFilterBool(filters, 'use_quota');
      handleTimeComparisonFilters(filters);
      checkVolumeFilters(filters, c.version);
      // volume_api.get_all reads all_tenants first thing (after its policy); checked here too so a
      // bad value is the same 400 whatever volume API sits behind the route.
      getFilterBool(filters, 'all_tenants');
      const volumes = await api.getAll(c.ctx, { marker, limit, offset, sortKeys: keys, sortDirs, filters: { ...filters } });
      const totalCount = showCount ? await (api as { edits?: VolumeCountSurface }).edits?.countVolumes(c.ctx, filters) : undefined;
      const vr = viewRequest(c.req, c.ctx, c.version);
      const body: Record<string, unknown> = {
        volumes: volumes.map((v) => (detail ? volumeDetail(vr, v, true) : volumeSummary(vr, v))),
      };
      const links = collectionLinks(vr, volumes, detail ? 'volumes/detail' : 'volumes', limit, totalCount);
      if (links.length) body.volumes_links = links;
      if (totalCount !== undefined) body.count = totalCount;
      return { kind: 'object', status: 200, body };
    };

  const remove: Controller = async (c) => {
    const pairs = queryPairs(c);
    const cascadeRaw = lastParam(pairs, 'cascade');
    const cascade = getBoolParam(cascadeRaw, 'cascade', cascadeRaw !== undefined);
    let force = false;
    if (c.version >= MV.VOLUME_DELETE_FORCE) {
      const forceRaw = lastParam(pairs, 'force');
      force = getBoolParam(forceRaw, 'force', forceRaw !== undefined);
    }
    const volume = await api.get(c.ctx, c.params.id);
    if (force) authorize(c.ctx, 'volume:force_delete', volume);
    authorize(c.ctx, 'volume:delete', volume);
    await api.delete(c.ctx, volume, { cascade, force });
    return { kind: 'raw', status: 202 };
  };

  const create: Controller = async (c) => {
    // Integers are typed here (`1.0` is no size), so the Python view of the body is used.
    let py: PyValue;
    try {
      py = c.bodyText === null ? (c.body as PyValue) : pyParse(c.bodyText);
    } catch {
      py = c.body as PyValue;
    }
    const err = pickCreateSchema(c.version).validate(py);
    if (err) throw new ValidationFailed(cinderMessage(err));
    const hintsKey = 'OS-SCH-HNT:scheduler_hints';
    // scheduler_hints.create: the hints are validated on their own when not None.
    const hints = dictGet(py as PyDict, hintsKey) as PyValue | undefined;
    if (hints !== null && hints !== undefined) {
      const hintsErr = schedulerHintsSchema.validate(new Map([[hintsKey, hints]]));
      if (hintsErr) throw new ValidationFailed(cinderMessage(hintsErr));
    }
    const body = toPlain(py) as CreateVolumeBody;
    const volume: Record<string, unknown> = { ...body.volume };

    // validate_name_and_description(check_length=False): strip the strings.
    for (const k of ['name', 'description', 'display_name', 'display_description']) {
      if (typeof volume[k] === 'string') volume[k] = pyStrip(volume[k] as string);
    }
    if ('name' in volume) {
      volume.display_name = volume.name;
      delete volume.name;
    }
    if ('description' in volume) {
      volume.display_description = volume.description;
      delete volume.description;
    }
    if ('image_id' in volume) {
      volume.imageRef = volume.image_id;
      delete volume.image_id;
    }

    // The controller looks the type up (404 when it is unknown); no type means the default one.
    // This port has no snapshots, groups, backups or images.
    const volumeType = volume.volume_type ? await api.getVolumeType(c.ctx, pyStr(volume.volume_type)) : null;
    if (volume.snapshot_id !== null && volume.snapshot_id !== undefined) {
      throw new SnapshotNotFound({ snapshot_id: volume.snapshot_id });
    }
    if (volume.source_volid !== null && volume.source_volid !== undefined) {
      await api.get(c.ctx, String(volume.source_volid));
      throw new InvalidInput({ reason: 'Creating a volume from another volume is not supported by cinder-ts.' });
    }
    if (volume.consistencygroup_id !== null && volume.consistencygroup_id !== undefined) {
      throw new GroupNotFound({ group_id: volume.consistencygroup_id });
    }
    if (volume.group_id !== null && volume.group_id !== undefined) {
      throw new GroupNotFound({ group_id: pyStr(volume.group_id) });
    }
    if (volume.imageRef !== null && volume.imageRef !== undefined) {
      throw new HttpFault(400, 'Invalid image identifier or unable to access requested image.');
    }
    if (volume.backup_id) throw new BackupNotFound({ backup_id: pyStr(volume.backup_id) });

    const size = volume.size;
    // No size and nothing to take it from: volume_api.create ends in a TypeError (400).
    if (size === null || size === undefined) throw new PyTypeError('volume size is None');

    const multiattach = getBoolParam(volume.multiattach, 'multiattach', 'multiattach' in volume);
    if (multiattach) {
      throw new HttpFault(
        400,
        'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume ' +
          'types. Contact your administrator to create a multiattach enabled volume type and use it to ' +
          'create multiattach volumes.',
      );
    }

    const request: CreateVolumeRequest = {
      size: typeof size === 'string' ? Number(pyIntFromStr(size)) : Number(size),
      name: (volume.display_name as string | null | undefined) ?? null,
      description: (volume.display_description as string | null | undefined) ?? null,
      ...(volume.metadata ? { metadata: volume.metadata as Record<string, string> } : {}),
      availability_zone: (volume.availability_zone as string | null | undefined) ?? null,
      volume_type: volumeType,
    };
    authorize(c.ctx, 'volume:create', {});
    const created = await api.create(c.ctx, request);
    // The create answer has no extension attributes (those extend show/detail only).
    return {
      kind: 'object',
      status: 202,
      body: { volume: volumeDetail(viewRequest(c.req, c.ctx, c.version), created, false) },
    };
  };

  return { show, list, remove, create };
}

export function registerVolumeRoutes(app: FastifyInstance, api: VolumeApiSurface): void {
  const c = volumeControllers(api);
  const m = {
    show: { kind: 'method', takesBody: 'none', controller: c.show },
    index: { kind: 'method', takesBody: 'none', controller: c.list(false) },
    detail: { kind: 'method', takesBody: 'none', controller: c.list(true) },
    remove: { kind: 'method', takesBody: 'none', controller: c.remove },
    create: { kind: 'method', takesBody: 'required', controller: c.create },
  } satisfies Record<string, ResourceMethod>;

  type P = { Params: { project_id?: string; id?: string } };
  for (const prefix of ['/v3/:project_id', '/v3']) {
    const project = (p: P['Params']) => (prefix === '/v3' ? undefined : p.project_id);
    const params = (p: P['Params']): Record<string, string> => (p.id !== undefined ? { id: p.id } : {});
    app.post<P>(`${prefix}/volumes`, (req, reply) => runResource(req, reply, m.create, params(req.params), project(req.params)));
    app.get<P>(`${prefix}/volumes`, (req, reply) => runResource(req, reply, m.index, params(req.params), project(req.params)));
    app.get<P>(`${prefix}/volumes/detail`, (req, reply) =>
      runResource(req, reply, m.detail, params(req.params), project(req.params)),
    );
    app.get<P>(`${prefix}/volumes/:id`, (req, reply) => runResource(req, reply, m.show, params(req.params), project(req.params)));
    app.delete<P>(`${prefix}/volumes/:id`, (req, reply) =>
      runResource(req, reply, m.remove, params(req.params), project(req.params)),
    );
  }
}
