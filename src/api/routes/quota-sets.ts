// /os-quota-sets (cinder/api/contrib/quotas.py QuotaSetsController): show (with ?usage=),
// defaults, update (schemas/quotas.py update_quota and validators.py _validate_quota_set), delete.
import type { FastifyInstance } from 'fastify';
import { InvalidInput, InvalidParameterValue } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import * as dbapi from '../../db/api.js';
import type { QuotaEngine } from '../../quota/index.js';
import { HttpFault } from '../faults.js';
import { compile } from '../jsonschema.js';
import { lastParam, queryPairs } from '../pagination.js';
import { resourceRoutes, type Controller, type ResourceMethod } from '../resource.js';
import { boolFromString, isValidBoolStr } from '../../common/python.js';
import { DB_MAX_INT, validateBody } from '../schemas.js';
import { obj } from '../views-types.js';

// cinder/policies/quotas.py
const SHOW_POLICY = 'volume_extension:quotas:show';
const UPDATE_POLICY = 'volume_extension:quotas:update';
const DELETE_POLICY = 'volume_extension:quotas:delete';
/** quota.NON_QUOTA_KEYS */
export const NON_QUOTA_KEYS = ['tenant_id', 'id'];

const updateQuotaSchema = compile({
  type: 'object',
  properties: { quota_set: { type: 'object', minProperties: 1 } },
  required: ['quota_set'],
  additionalProperties: false,
});

/** oslo strutils.validate_integer, as api_utils.validate_integer answers it (400 with its text). */
export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  if (!/^\s*[-+]?\d+\s*$/.test(text) || (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean')) {
    throw new HttpFault(400, `${name} must be an integer`);
  }
  const n = Number(text);
  if (n < min) throw new HttpFault(400, `${name} must be >= ${min}`);
  if (n > max) throw new HttpFault(400, `${name} must be <= ${max}`);
  return n;
}

/** oslo strutils.check_string_length's max part (Controller.validate_string_length). */
export function validateStringLength(value: string, name: string, max: number): void {
  if ([...value].length > max) throw new InvalidInput({ reason: `${name} has more than ${max} characters.` });
}

/** utils.get_bool_param. */
export function boolParam(value: string | undefined, name: string): boolean {
  const v = value ?? 'False';
  if (!isValidBoolStr(v)) throw new InvalidParameterValue({ err: `Value '${v}' for '${name}' is not a boolean.` });
  return boolFromString(v);
}

export function quotaSetControllers(quotas: QuotaEngine) {
  /** _get_quotas: QUOTAS and GROUP_QUOTAS, limits only unless usages. */
  const getQuotas = async (projectId: string, usages: boolean) => {
    const values = await quotas.getProjectQuotas(projectId, await quotas.allResources(), { usages });
    return usages ? values : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.limit]));
  };

  const show: Controller = async (c) => {
    const id = c.params.id;
    authorize(c.ctx, SHOW_POLICY, { project_id: id });
    const pairs = queryPairs(c);
    const usage = pairs.some(([k]) => k === 'usage') ? boolParam(lastParam(pairs, 'usage'), 'usage') : false;
    return obj(200, { quota_set: { ...(await getQuotas(id, usage)), id } });
  };

  const update: Controller = async (c) => {
    const body = validateBody<{ quota_set: Record<string, unknown> }>(updateQuotaSchema, c.body, c.bodyText);
    const id = c.params.id;
    // The 'quota_set' format checker runs during validation: unknown keys, then integer values.
    const known = await quotas.allResources();
    const bad: string[] = [];
    for (const [key, value] of Object.entries(body.quota_set)) {
      if (!known.has(key) && !NON_QUOTA_KEYS.includes(key)) bad.push(key);
      else if (!NON_QUOTA_KEYS.includes(key)) validateInteger(value, key, -1, DB_MAX_INT);
    }
    if (bad.length) throw new InvalidInput({ reason: `Bad key(s) in quota set: ${bad.join(', ')}` });
    authorize(c.ctx, UPDATE_POLICY, { project_id: id });
    validateStringLength(id, 'quota_set_name', 255);
    const current = await quotas.getProjectQuotas(id, known, { defaults: false });
    const valid: Record<string, number> = {};
    for (const [key, raw] of Object.entries(body.quota_set)) {
      if (NON_QUOTA_KEYS.includes(key)) continue;
      const value = validateInteger(raw, key, -1, DB_MAX_INT);
      // _validate_existing_resource: a limit below what is used or reserved is refused.
      if (key !== 'per_volume_gigabytes' && value !== -1) {
        const v = current[key];
        const used = (v?.in_use ?? 0) + (v?.reserved ?? 0);
        if (value < used) {
          throw new HttpFault(
            400,
            `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${used} and the requested limit is ${value}.`,
          );
        }
      }
      valid[key] = value;
    }
    for (const [key, value] of Object.entries(valid)) await dbapi.quotaSet(quotas.db, id, key, value);
    return obj(200, { quota_set: await getQuotas(id, false) });
  };

  const defaults: Controller = async (c) => {
    const id = c.params.id;
    authorize(c.ctx, SHOW_POLICY, { project_id: id });
    return obj(200, { quota_set: { ...(await quotas.getDefaults(await quotas.allResources())), id } });
  };

  const remove: Controller = async (c) => {
    authorize(c.ctx, DELETE_POLICY, { project_id: c.params.id });
    await dbapi.quotaDestroyByProject(quotas.db, c.params.id);
    return obj(200, null);
  };

  return { show, update, defaults, remove };
}

export function registerQuotaSetRoutes(app: FastifyInstance, quotas: QuotaEngine): void {
  const c = quotaSetControllers(quotas);
  const m = (controller: Controller, takesBody: 'none' | 'required' = 'none'): ResourceMethod => ({ kind: 'method', takesBody, controller });
  const absent: ResourceMethod = { kind: 'absent' };
  const on = resourceRoutes(app, '/os-quota-sets');
  on('GET', '', absent);
  on('POST', '', absent);
  on('GET', '/:id', m(c.show));
  on('PUT', '/:id', m(c.update, 'required'));
  on('DELETE', '/:id', m(c.remove));
  on('GET', '/:id/defaults', m(c.defaults));
}
