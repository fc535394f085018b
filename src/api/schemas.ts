// Request-body schemas, restated from Cinder 21.3.1 (cinder/api/schemas/volume_actions.py,
// volumes.py, scheduler_hints.py and cinder/api/validation/parameter_types.py). Key order inside
// each literal is Cinder's: jsonschema reports the first failing keyword in that order, so the
// order decides which 400 text a bad body gets. Types of the validated bodies come from the
// literals (Infer<>), so they are written once.
//
// Why not zod: jsonschema's first-error-in-keyword-order rule, its type-list/anyOf/oneOf texts,
// Python int-vs-float typing and Cinder's raising format checkers cannot be reproduced from zod's
// issue list; a small Draft-4 subset (jsonschema.ts) gives the exact texts instead.
import { ValidationFailed } from './faults.js';
import { compile, type CompiledSchema, type Infer } from './jsonschema.js';
import { cinderMessage } from './validators.js';
import { PyJsonError, pyParse, toPlain } from '../common/python.js';
import { booleanValue, uuid } from './parameter-types.js';

// ---- parameter_types.py ------------------------------------------------------------------------

const uuidAllowNull = { oneOf: [uuid, { type: 'null' }] } as const;
const optionalUuid = { oneOf: [{ type: 'null' }, { type: 'string', format: 'uuid' }] } as const;
const optionalBoolean = { oneOf: [{ type: 'null' }, booleanValue] } as const;
const nameAllowZeroMinLength = { type: ['string', 'null'], minLength: 0, maxLength: 255 } as const;
const availabilityZone = { type: ['string', 'null'], minLength: 1, maxLength: 255 } as const;
/** constants.DB_MAX_INT */
export const DB_MAX_INT = 0x7fffffff;
const volumeSizeAllowsNull = {
  type: ['integer', 'string', 'null'],
  pattern: '^[0-9]+$',
  minimum: 1,
  maximum: DB_MAX_INT,
} as const;
const metadataAllowsNull = {
  type: ['object', 'null'],
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
} as const;

// ---- volume_actions.py ---------------------------------------------------------------------------

const attachNode = {
  type: 'object',
  properties: {
    'os-attach': {
      type: 'object',
      properties: {
        instance_uuid: uuid,
        mountpoint: { type: 'string', minLength: 1, maxLength: 255 },
        host_name: { type: 'string', maxLength: 255 },
        mode: { type: 'string', enum: ['rw', 'ro'] },
      },
      required: ['mountpoint'],
      anyOf: [{ required: ['instance_uuid'] }, { required: ['host_name'] }],
      additionalProperties: false,
    },
  },
  required: ['os-attach'],
  additionalProperties: false,
} as const;

const detachNode = {
  type: 'object',
  properties: {
    'os-detach': {
      type: ['object', 'null'],
      properties: { attachment_id: uuidAllowNull },
      additionalProperties: false,
    },
  },
  required: ['os-detach'],
  additionalProperties: false,
} as const;

const initializeConnectionNode = {
  type: 'object',
  properties: {
    'os-initialize_connection': {
      type: 'object',
      properties: { connector: { type: ['object', 'string'] } },
      required: ['connector'],
      additionalProperties: false,
    },
  },
  required: ['os-initialize_connection'],
  additionalProperties: false,
} as const;

const terminateConnectionNode = {
  type: 'object',
  properties: {
    'os-terminate_connection': {
      type: 'object',
      properties: { connector: { type: ['string', 'object', 'null'] } },
      required: ['connector'],
      additionalProperties: false,
    },
  },
  required: ['os-terminate_connection'],
  additionalProperties: false,
} as const;

export const attachSchema = compile(attachNode);
export const detachSchema = compile(detachNode);
export const initializeConnectionSchema = compile(initializeConnectionNode);
export const terminateConnectionSchema = compile(terminateConnectionNode);

// os-retype: migration_policy's enum has no null, so an explicit null fails the enum check.
const retypeNode = {
  type: 'object',
  properties: {
    'os-retype': {
      type: 'object',
      properties: {
        new_type: { type: 'string' },
        migration_policy: { type: ['string', 'null'], enum: ['on-demand', 'never'] },
      },
      required: ['new_type'],
      additionalProperties: false,
    },
  },
  required: ['os-retype'],
  additionalProperties: false,
} as const;
export const retypeSchema = compile(retypeNode);

// os-extend: new_size is parameter_types.volume_size (no null).
const extendNode = {
  type: 'object',
  properties: {
    'os-extend': {
      type: 'object',
      properties: {
        new_size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: DB_MAX_INT },
      },
      required: ['new_size'],
      additionalProperties: false,
    },
  },
  required: ['os-extend'],
  additionalProperties: false,
} as const;
export const extendSchema = compile(extendNode);
export type ExtendBody = Infer<typeof extendNode>;
export type RetypeBody = Infer<typeof retypeNode>;

export type AttachBody = Infer<typeof attachNode>;
export type DetachBody = Infer<typeof detachNode>;
export type InitializeConnectionBody = Infer<typeof initializeConnectionNode>;
export type TerminateConnectionBody = Infer<typeof terminateConnectionNode>;

// ---- admin_actions.py (os-force_detach, os-reset_status) ------------------------------------------

const forceDetachNode = {
  type: 'object',
  properties: {
    'os-force_detach': {
      type: 'object',
      properties: {
        connector: { type: ['string', 'object', 'null'] },
        // not uuid-validated, unlike os-detach's
        attachment_id: { type: ['string', 'null'] },
      },
      additionalProperties: false,
    },
  },
  required: ['os-force_detach'],
  additionalProperties: false,
} as const;

// The object's own `format` runs before its properties (keyword order), so an empty body says
// "Must specify ..." even when it also carries an unknown key; the three formats raise
// InvalidParameterValue (a bare 400 sentence), see validators.ts.
const resetStatusNode = {
  type: 'object',
  properties: {
    'os-reset_status': {
      type: 'object',
      format: 'validate_volume_reset_body',
      properties: {
        status: { type: ['string', 'null'], format: 'volume_status' },
        attach_status: { type: ['string', 'null'], format: 'volume_attach_status' },
        migration_status: { type: ['string', 'null'], format: 'volume_migration_status' },
      },
      additionalProperties: false,
    },
  },
  required: ['os-reset_status'],
  additionalProperties: false,
} as const;

export const forceDetachSchema = compile(forceDetachNode);
export const resetStatusSchema = compile(resetStatusNode);
export type ForceDetachBody = Infer<typeof forceDetachNode>;
export type ResetStatusBody = Infer<typeof resetStatusNode>;

// ---- attachments.py (v3 attachments API) ---------------------------------------------------------
// Cinder's two schemas list a stray `'type': 'object'` *inside* `properties`, i.e. a property named
// "type" whose schema is the string 'object': jsonschema crashes on a body that has a top-level
// "type" key (a 500, see rejectStrayTypeKey), and otherwise never notices.

const attachmentCreateProps = {
  instance_uuid: uuid,
  connector: { type: ['object', 'null'] },
  volume_uuid: uuid,
} as const;

function attachmentCreateNode<P extends object>(properties: P) {
  return {
    type: 'object',
    properties: {
      attachment: { type: 'object', properties, required: ['volume_uuid'], additionalProperties: false },
    },
    required: ['attachment'],
    additionalProperties: false,
  } as const;
}

const attachmentCreateNodeBase = attachmentCreateNode(attachmentCreateProps);
const attachmentCreateNodeV354 = attachmentCreateNode({
  ...attachmentCreateProps,
  mode: { type: 'string', enum: ['rw', 'ro'] },
} as const);

const attachmentUpdateNode = {
  type: 'object',
  properties: {
    attachment: {
      type: 'object',
      properties: { connector: { type: 'object', minProperties: 1 } },
      required: ['connector'],
      additionalProperties: false,
    },
  },
  required: ['attachment'],
  additionalProperties: false,
} as const;

export const attachmentCreateSchemas = {
  base: compile(attachmentCreateNodeBase),
  v354: compile(attachmentCreateNodeV354),
};
export const attachmentUpdateSchema = compile(attachmentUpdateNode);
export type AttachmentCreateBody = Infer<typeof attachmentCreateNodeV354>;
export type AttachmentUpdateBody = Infer<typeof attachmentUpdateNode>;

/**
 * The stray `properties.type = 'object'` of Cinder's attachment schemas: jsonschema descends into
 * the string 'object' as if it were a schema and raises a non-validation error (probed: 500
 * computeFault), before `required`/`additionalProperties` are looked at. Only reached when the
 * body is an object (the root `type` keyword comes first).
 */
export function rejectStrayTypeKey(body: unknown): void {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.prototype.hasOwnProperty.call(body, 'type')) {
    throw new Error("jsonschema: schema 'object' of property 'type' is not a schema");
  }
}

// ---- volumes.py (POST /volumes) ----------------------------------------------------------------

const volumeProperties = {
  name: { type: ['string', 'null'], format: 'name_non_mandatory_remove_white_spaces' },
  description: { type: ['string', 'null'], format: 'description_non_mandatory_remove_white_spaces' },
  display_name: { type: ['string', 'null'], format: 'name_non_mandatory_remove_white_spaces' },
  display_description: { type: ['string', 'null'], format: 'description_non_mandatory_remove_white_spaces' },
  volume_type: nameAllowZeroMinLength,
  metadata: metadataAllowsNull,
  snapshot_id: optionalUuid,
  source_volid: optionalUuid,
  consistencygroup_id: optionalUuid,
  size: volumeSizeAllowsNull,
  availability_zone: availabilityZone,
  multiattach: optionalBoolean,
  image_id: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
  imageRef: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
} as const;

const groupId = { type: ['string', 'null'], minLength: 0, maxLength: 255 } as const;

function createNode<P extends object, A extends boolean>(properties: P, additionalProperties: A) {
  return {
    type: 'object',
    properties: {
      volume: { type: 'object', properties, additionalProperties },
      'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
    },
    required: ['volume'],
    additionalProperties: false,
  } as const;
}

const createNodeBase = createNode(volumeProperties, true);
const createNodeV313 = createNode({ ...volumeProperties, group_id: groupId }, true);
const createNodeV347 = createNode({ ...volumeProperties, group_id: groupId, backup_id: optionalUuid }, true);
const createNodeV353 = createNode({ ...volumeProperties, group_id: groupId, backup_id: optionalUuid }, false);

export const createVolumeSchemas = {
  base: compile(createNodeBase),
  v313: compile(createNodeV313),
  v347: compile(createNodeV347),
  v353: compile(createNodeV353),
};

/** The body of POST /volumes as every version's schema lets it through. */
export type CreateVolumeBody = Infer<typeof createNodeV347>;

// ---- scheduler_hints.py (validated separately by the create controller) --------------------------

const hostList = {
  oneOf: [
    { type: 'string', format: 'uuid' },
    { type: 'array', items: uuid, uniqueItems: true },
  ],
} as const;

export const schedulerHintsSchema = compile({
  type: 'object',
  properties: {
    'OS-SCH-HNT:scheduler_hints': {
      type: ['object', 'null'],
      properties: {
        local_to_instance: optionalUuid,
        different_host: hostList,
        same_host: hostList,
        query: { type: ['string', 'object'] },
      },
      additionalProperties: true,
    },
  },
} as const);

// ---- running a schema on a request body ----------------------------------------------------------

/**
 * Validate a parsed body. JSON.parse values decide pass/fail for schemas without number types;
 * the exact Python view (pyParse of the raw text) is built only to word an error, or when the
 * schema checks integers (where `1.0` must fail). Throws ValidationFailed (400) or the Cinder
 * exception a format checker raised. Returns the body to hand to the controller.
 */
export function validateBody<T = unknown>(schema: CompiledSchema, body: unknown, rawText: string | null): T {
  if (!schema.needsPythonView) {
    const err = schema.validate(body);
    if (err === null) return body as T;
  }
  let py: unknown = body;
  if (rawText !== null) {
    try {
      py = pyParse(rawText);
    } catch (e) {
      if (!(e instanceof PyJsonError)) throw e;
    }
  }
  const err = schema.validate(py);
  if (err !== null) throw new ValidationFailed(cinderMessage(err));
  return (py === body ? body : toPlain(py as never)) as T;
}
