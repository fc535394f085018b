// The volume admin actions of cinder/api/contrib/admin_actions.py: os-force_detach
// (terminate_connection + unreserve, then detach, with the deletion guard on both), os-reset_status
// (a DB-only reset; the backend export and ACL stay, field failure F1) and os-force_delete (delete
// bypassing the status check). All need the admin_api policy; they are dispatched from
// POST /volumes/{id}/action like the others. os-migrate_volume(_completion) are not ported (no
// scheduler, no migration): they answer "There is no such action".
import { RemoteError, VolumeBackendAPIException } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { AdminApiSurface, AttachmentApiSurface, ResetStatusUpdate, VolumeApiSurface } from '../../volume-api/api.js';
import { HttpFault } from '../faults.js';
import type { Controller } from '../resource.js';
import { forceDetachSchema, resetStatusSchema, validateBody, type ForceDetachBody, type ResetStatusBody } from '../schemas.js';

const ACCEPTED = { kind: 'object', status: 202, body: null } as const;

const rule = (action: string) => `volume_extension:volume_admin_actions:${action}`;

type AdminCapable = VolumeApiSurface & Partial<AdminApiSurface & Pick<AttachmentApiSurface, 'getVolumeById'>>;

function need<T>(f: T | undefined, name: string): T {
  if (f === undefined) throw new Error(`volume API has no ${name}`);
  return f;
}

/** validate_update: lower-cased values, falsy ones dropped, migration_status 'none' → NULL. */
export function resetUpdate(body: NonNullable<ResetStatusBody['os-reset_status']>): ResetStatusUpdate {
  const update: ResetStatusUpdate = {};
  if (body.status) update.status = body.status.toLowerCase();
  if (body.attach_status) update.attach_status = body.attach_status.toLowerCase();
  if (body.migration_status) {
    const m = body.migration_status.toLowerCase();
    update.migration_status = m === 'none' ? null : m;
  }
  return update;
}

/**
 * Cinder's blocked-status tuple is `('deleting', 'error_deleting' 'detaching')`: the missing comma
 * makes it ('deleting', 'error_deletingdetaching'), so 'error_deleting' and 'detaching' pass. Kept
 * as is (README, "os-reset_status quirks").
 */
const RESET_BLOCKED = ['deleting', 'error_deleting' + 'detaching'];

export function adminActions(api: AdminCapable): Map<string, Controller> {
  const actions = new Map<string, Controller>();

  actions.set('os-force_detach', async (c) => {
    const body = validateBody<ForceDetachBody>(forceDetachSchema, c.body, c.bodyText)['os-force_detach'];
    const volume = await api.get(c.ctx, c.params.id);
    authorize(c.ctx, rule('force_detach'), volume);
    const connector = body.connector ?? null;
    try {
      await api.terminateConnection(c.ctx, volume, connector);
    } catch (err) {
      if (err instanceof VolumeBackendAPIException) {
        throw new HttpFault(500, 'Unable to terminate volume connection from backend.');
      }
      throw err;
    }
    const attachmentId = body.attachment_id ?? null;
    try {
      // The volume object is the one loaded before terminate_connection (stale, as in Cinder).
      await api.detach(c.ctx, volume, attachmentId);
    } catch (err) {
      if (err instanceof RemoteError && ['VolumeAttachmentNotFound', 'InvalidVolume'].includes(err.excType)) {
        throw new HttpFault(400, `Error force detaching volume - ${err.excType}: ${err.value}`);
      }
      throw err;
    }
    c.log.debug('Force detach accepted');
    return ACCEPTED;
  });

  // AdminController._force_delete: no schema (any body), _get (volume_api.get: 404 for another
  // project), the admin policy (403 for a member), then volume_api.delete(force=True).
  actions.set('os-force_delete', async (c) => {
    const volume = await api.get(c.ctx, c.params.id);
    authorize(c.ctx, rule('force_delete'), volume);
    await api.delete(c.ctx, volume, { force: true });
    return ACCEPTED;
  });

  actions.set('os-reset_status', async (c) => {
    const body = validateBody<ResetStatusBody>(resetStatusSchema, c.body, c.bodyText)['os-reset_status'];
    const update = resetUpdate(body);
    // objects.Volume.get_by_id: project-scoped for non-admins (404), no volume:get policy.
    const getById = api.getVolumeById?.bind(api) ?? api.get.bind(api);
    const volume = await getById(c.ctx, c.params.id);
    authorize(c.ctx, rule('reset_status'), volume);
    if (update.status !== undefined && RESET_BLOCKED.includes(update.status)) {
      throw new HttpFault(400, `Cannot reset-state to ${update.status}`);
    }
    if (update.status === 'in-use' && (await need(api.liveAttachments, 'liveAttachments').call(api, volume.id)).length === 0) {
      throw new HttpFault(400, 'Cannot reset-state to in-use because volume does not have any attachments.');
    }
    c.log.debug({ update }, 'Updating volume with reset-status values');
    await need(api.resetStatus, 'resetStatus').call(api, c.ctx, volume.id, update);
    return ACCEPTED;
  });

  return actions;
}
