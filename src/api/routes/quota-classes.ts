// /os-quota-class-sets (cinder/api/contrib/quota_classes.py QuotaClassSetsController): show and
// update, with schemas/quota_classes.py (parameter_types.quota_class_set) and its format checker.
import type { FastifyInstance } from 'fastify';
import { InvalidInput } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import * as dbapi from '../../db/api.js';
import type { QuotaEngine } from '../../quota/index.js';
import { HttpFault } from '../faults.js';
import { compile } from '../jsonschema.js';
import { resourceRoutes, type Controller, type ResourceMethod } from '../resource.js';
import { DB_MAX_INT, validateBody } from '../schemas.js';
import { obj } from '../views-types.js';
import { validateStringLength } from './quota-sets.js';

// cinder/policies/quota_class.py
const GET_POLICY = 'volume_extension:quota_classes:get';
const UPDATE_POLICY = 'volume_extension:quota_classes:update';

const updateQuotaClassSchema = compile({
  type: 'object',
  properties: {
    quota_class_set: {
      type: 'object',
      patternProperties: {
        '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: -1, minLength: 1, maximum: DB_MAX_INT },
      },
      additionalProperties: false,
    },
  },
  required: ['quota_class_set'],
  additionalProperties: false,
});

export function quotaClassControllers(quotas: QuotaEngine) {
  const classSet = async (name: string) => quotas.getClassQuotas(name, await quotas.allResources());

  const show: Controller = async (c) => {
    authorize(c.ctx, GET_POLICY);
    // db authorize_quota_class_context: a non-admin may only read its own context's class (none here).
    if (!c.ctx.is_admin) throw new HttpFault(403);
    return obj(200, { quota_class_set: { ...(await classSet(c.params.id)), id: c.params.id } });
  };

  const update: Controller = async (c) => {
    const body = validateBody<{ quota_class_set: Record<string, number | string> }>(updateQuotaClassSchema, c.body, c.bodyText);
    // validators.py _validate_quota_class_set (the format checker, during validation).
    const known = await quotas.allResources();
    const bad = Object.keys(body.quota_class_set).filter((k) => !known.has(k));
    if (bad.length) throw new InvalidInput({ reason: `Bad key(s) in quota class set: ${bad.join(', ')}` });
    authorize(c.ctx, UPDATE_POLICY);
    validateStringLength(c.params.id, 'quota_class_name', 255);
    for (const [key, value] of Object.entries(body.quota_class_set)) {
      await dbapi.quotaClassSet(quotas.db, c.params.id, key, Number(value));
    }
    return obj(200, { quota_class_set: await classSet(c.params.id) });
  };

  return { show, update };
}

export function registerQuotaClassRoutes(app: FastifyInstance, quotas: QuotaEngine): void {
  const c = quotaClassControllers(quotas);
  const m = (controller: Controller, takesBody: 'none' | 'required' = 'none'): ResourceMethod => ({ kind: 'method', takesBody, controller });
  const absent: ResourceMethod = { kind: 'absent' };
  const on = resourceRoutes(app, '/os-quota-class-sets');
  on('GET', '', absent);
  on('POST', '', absent);
  on('DELETE', '/:id', absent);
  on('GET', '/:id', m(c.show));
  on('PUT', '/:id', m(c.update, 'required'));
}
