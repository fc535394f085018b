// /limits (cinder/api/v3/limits.py LimitsController with contrib/used_limits.py's extension):
// absolute limits as api/views/limits.py names them, plus the used counts when
// limits_extension:used_limits allows; an admin may name another project from 3.39.
import type { FastifyInstance } from 'fastify';
import { isAllowed } from '../../common/policy.js';
import type { QuotaEngine } from '../../quota/index.js';
import { lastParam, queryPairs } from '../pagination.js';
import { resourceRoutes, type Controller } from '../resource.js';
import { obj } from '../views-types.js';

/** mv.LIMITS_ADMIN_FILTER */
const LIMITS_ADMIN_FILTER = 3039;

const LIMIT_NAMES: Record<string, string> = {
  gigabytes: 'maxTotalVolumeGigabytes',
  backup_gigabytes: 'maxTotalBackupGigabytes',
  volumes: 'maxTotalVolumes',
  snapshots: 'maxTotalSnapshots',
  backups: 'maxTotalBackups',
};
const USED_NAMES: Record<string, string> = {
  totalVolumesUsed: 'volumes',
  totalGigabytesUsed: 'gigabytes',
  totalSnapshotsUsed: 'snapshots',
  totalBackupsUsed: 'backups',
  totalBackupGigabytesUsed: 'backup_gigabytes',
};

export function registerLimitRoutes(app: FastifyInstance, quotas: QuotaEngine): void {
  const index: Controller = async (c) => {
    const pairs = queryPairs(c);
    const filtered = c.version >= LIMITS_ADMIN_FILTER && c.ctx.is_admin;
    const projectId = (filtered ? (lastParam(pairs, 'project_id') ?? lastParam(pairs, 'tenant_id')) : undefined) ?? c.ctx.project_id ?? '';
    const q = await quotas.getProjectQuotas(projectId, await quotas.resources(), { usages: true });
    const absolute: Record<string, number> = {};
    for (const [name, v] of Object.entries(q)) if (LIMIT_NAMES[name] && v.limit !== null) absolute[LIMIT_NAMES[name]] = v.limit;
    if (isAllowed(c.ctx, 'limits_extension:used_limits')) {
      for (const [display, name] of Object.entries(USED_NAMES)) if (q[name]) absolute[display] = q[name].in_use ?? 0;
    }
    return obj(200, { limits: { rate: [], absolute } });
  };
  const on = resourceRoutes(app, '/limits');
  on('GET', '', { kind: 'method', takesBody: 'none', controller: index });
}
