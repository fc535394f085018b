// Request-body schemas of PUT /volumes/{id} (cinder/api/schemas/volumes.py update and
// update_volume_v353), the metadata API (volume_metadata.py create/update) and the
// os-set_bootable / os-update_readonly_flag actions (volume_actions.py), with
// parameter_types.extra_specs. Key order is Cinder's (it decides which 400 text wins).
import { compile, type Infer } from './jsonschema.js';
import { booleanValue } from './parameter-types.js';

/** parameter_types.extra_specs */
const extraSpecs = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
} as const;

const updateVolumeProperties = {
  name: { type: ['string', 'null'], format: 'name_non_mandatory_remove_white_spaces' },
  description: { type: ['string', 'null'], format: 'description_non_mandatory_remove_white_spaces' },
  display_name: { type: ['string', 'null'], format: 'name_non_mandatory_remove_white_spaces' },
  display_description: { type: ['string', 'null'], format: 'description_non_mandatory_remove_white_spaces' },
  metadata: extraSpecs,
} as const;

const updateNode = {
  type: 'object',
  properties: { volume: { type: 'object', properties: updateVolumeProperties, additionalProperties: false } },
  required: ['volume'],
  additionalProperties: false,
} as const;

const updateNodeV353 = {
  type: 'object',
  properties: {
    volume: {
      type: 'object',
      properties: updateVolumeProperties,
      additionalProperties: false,
      anyOf: [
        { required: ['name'] },
        { required: ['description'] },
        { required: ['display_name'] },
        { required: ['display_description'] },
        { required: ['metadata'] },
      ],
    },
  },
  required: ['volume'],
  additionalProperties: false,
} as const;

export const updateVolumeSchemas = { base: compile(updateNode), v353: compile(updateNodeV353) };
export type UpdateVolumeBody = Infer<typeof updateNode>;

/** volume_metadata.create (also PUT /metadata): the stray `properties.type` is rejectStrayTypeKey's. */
const metadataCreateNode = {
  type: 'object',
  properties: { metadata: extraSpecs },
  required: ['metadata'],
  additionalProperties: false,
} as const;

/** volume_metadata.update: `meta` with exactly one item. */
const metadataUpdateNode = {
  type: 'object',
  properties: { meta: { ...extraSpecs, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
} as const;

export const metadataCreateSchema = compile(metadataCreateNode);
export const metadataUpdateSchema = compile(metadataUpdateNode);
export type MetadataCreateBody = Infer<typeof metadataCreateNode>;
export type MetadataUpdateBody = Infer<typeof metadataUpdateNode>;

const setBootableNode = {
  type: 'object',
  properties: {
    'os-set_bootable': {
      type: 'object',
      properties: { bootable: booleanValue },
      required: ['bootable'],
      additionalProperties: false,
    },
  },
  required: ['os-set_bootable'],
  additionalProperties: false,
} as const;

const readonlyUpdateNode = {
  type: 'object',
  properties: {
    'os-update_readonly_flag': {
      type: 'object',
      properties: { readonly: booleanValue },
      required: ['readonly'],
      additionalProperties: false,
    },
  },
  required: ['os-update_readonly_flag'],
  additionalProperties: false,
} as const;

export const setBootableSchema = compile(setBootableNode);
export const readonlyUpdateSchema = compile(readonlyUpdateNode);
export type SetBootableBody = Infer<typeof setBootableNode>;
export type ReadonlyUpdateBody = Infer<typeof readonlyUpdateNode>;
