// Request-body schemas of the volume types API, restated from Cinder 21.3.1
// (cinder/api/schemas/volume_types.py, types_extra_specs.py, volume_type_access.py,
// default_types.py and the parameter_types they use). Key order is Cinder's (it decides which 400
// text a bad body gets). volume_types.py's two schemas carry the stray `'type': 'object'` inside
// `properties` that the attachment schemas have: see rejectStrayTypeKey (schemas.ts).
import { VALID_DESCRIPTION_REGEX } from './description-regex.js';
import { compile, type Infer } from './jsonschema.js';
import { booleanValue, uuid } from './parameter-types.js';

// ---- parameter_types.py ------------------------------------------------------------------------

const name = { type: 'string', minLength: 1, maxLength: 255, format: 'name' } as const;
const updateName = { type: ['string', 'null'], minLength: 1, maxLength: 255 } as const;
const description = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: VALID_DESCRIPTION_REGEX } as const;
/** extra_specs_with_null: extra_specs (keys may hold spaces and '/') whose values may be null. */
const extraSpecsWithNull = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
  additionalProperties: false,
} as const;
const extraSpecsWithNoSpacesKeyProps = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:.]{1,255}$': { type: ['string', 'null'], minLength: 0, maxLength: 255 } },
  additionalProperties: false,
} as const;

// ---- volume_types.py ---------------------------------------------------------------------------

const createTypeNode = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: {
        name,
        description,
        extra_specs: extraSpecsWithNull,
        'os-volume-type-access:is_public': booleanValue,
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
} as const;

const updateTypeNode = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: { name: updateName, description, is_public: booleanValue },
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
} as const;

export const createTypeSchema = compile(createTypeNode);
export const updateTypeSchema = compile(updateTypeNode);
export type CreateTypeBody = Infer<typeof createTypeNode>;
export type UpdateTypeBody = Infer<typeof updateTypeNode>;

// ---- volume_type_access.py (the stray 'type' cannot meet a one-key action body) -----------------

const projectAccess = { type: 'object', properties: { project: uuid }, required: ['project'], additionalProperties: false } as const;

export const addProjectAccessSchema = compile({
  type: 'object',
  properties: { addProjectAccess: projectAccess },
  required: ['addProjectAccess'],
  additionalProperties: false,
} as const);
export const removeProjectAccessSchema = compile({
  type: 'object',
  properties: { removeProjectAccess: projectAccess },
  required: ['removeProjectAccess'],
  additionalProperties: false,
} as const);

// ---- types_extra_specs.py ----------------------------------------------------------------------

export const createExtraSpecsSchema = compile({
  type: 'object',
  properties: { extra_specs: extraSpecsWithNoSpacesKeyProps },
  required: ['extra_specs'],
  additionalProperties: false,
} as const);

/** PUT /types/{id}/extra_specs/{key}: the body itself is the one spec. */
export const updateExtraSpecSchema = compile({ ...extraSpecsWithNoSpacesKeyProps, minProperties: 1, maxProperties: 1 } as const);

// ---- default_types.py (no `required` at the root: a body without default_type is a KeyError) ----

export const defaultTypeSchema = compile({
  type: 'object',
  properties: {
    default_type: {
      type: 'object',
      properties: { volume_type: name },
      required: ['volume_type'],
      additionalProperties: false,
    },
  },
} as const);
