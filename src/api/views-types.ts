// The volume type views (cinder/api/v3/views/types.py, and api/views/types.py for the manage
// actions), what they share with the extra specs controller (which specs a caller may read), and
// VolumeTypeActionController._extend_vol_type of api/contrib/volume_type_access.py, which extends
// the /types responses.
import type { RequestContext } from '../common/context.js';
import { isAllowed } from '../common/policy.js';
import type { VolumeType } from '../volume-api/volume-types.js';
import type { ResourceResult } from './resource.js';

// policies the views read (cinder/policies/volume_type.py, type_extra_specs.py, volume_access.py)
const TYPE_QOS = 'volume_extension:access_types_qos_specs_id';
const TYPE_EXTRA_SPECS = 'volume_extension:access_types_extra_specs';
export const SPECS_READ_SENSITIVE = 'volume_extension:types_extra_specs:read_sensitive';
const TYPE_ACCESS = 'volume_extension:volume_type_access';

/** type_extra_specs.USER_VISIBLE_EXTRA_SPECS: what a caller without read_sensitive sees. */
export const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

/** The alias the access extension prefixes its field with. */
export const IS_PUBLIC_KEY = 'os-volume-type-access:is_public';

/** A controller's JSON answer. */
export function obj(status: number, body: unknown): ResourceResult {
  return { kind: 'object', status, body };
}

/** The specs a caller may read: all with read_sensitive, else only the user-visible ones. */
export function visibleSpecs(ctx: RequestContext, specs: Record<string, string | null>): Record<string, string | null> {
  if (isAllowed(ctx, SPECS_READ_SENSITIVE)) return specs;
  const out: Record<string, string | null> = {};
  for (const k of USER_VISIBLE_EXTRA_SPECS) if (k in specs) out[k] = specs[k];
  return out;
}

/** views/types.py ViewBuilder.show (brief: the bare dict). */
export function typeView(ctx: RequestContext, t: VolumeType): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, is_public: t.is_public, description: t.description };
  if (isAllowed(ctx, TYPE_EXTRA_SPECS)) out.extra_specs = visibleSpecs(ctx, t.extra_specs ?? {});
  if (isAllowed(ctx, TYPE_QOS)) out.qos_specs_id = t.qos_specs_id;
  return out;
}

/**
 * cinder/api/views/types.py ViewBuilder.show, the view of the manage actions (create, update):
 * every extra spec, no qos_specs_id, whatever the policies.
 */
export function manageTypeView(t: VolumeType): Record<string, unknown> {
  return { id: t.id, name: t.name, is_public: t.is_public, extra_specs: t.extra_specs ?? {}, description: t.description };
}

/**
 * VolumeTypeActionController._extend_vol_type, for the responses it extends (index, show, create):
 * `os-volume-type-access:is_public` when the caller passes volume_type_access. It finds the type in
 * the request's cache by the URL's id, so GET /types/default (cached under the type's real id) is
 * not extended.
 */
export function extendIsPublic(ctx: RequestContext, view: Record<string, unknown>, t: VolumeType | undefined): void {
  if (t && isAllowed(ctx, TYPE_ACCESS)) view[IS_PUBLIC_KEY] = t.is_public ?? true;
}
