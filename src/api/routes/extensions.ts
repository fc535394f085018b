// GET /v3/{project_id}/extensions[/{alias}] (cinder/api/extensions.py ExtensionsResource): the
// extensions Cinder 21.3.1 loads from cinder/api/contrib (ExtensionManager with the default
// osapi_volume_extension = standard_extensions), in the order it loads them. Each is answered as
// _translate does: name, alias, description (the descriptor's docstring), updated, links [].
import type { FastifyInstance } from 'fastify';
import { HttpFault } from '../faults.js';
import { resourceRoutes, type Controller } from '../resource.js';

/** [name, alias, updated, description] of every loaded ExtensionDescriptor. */
const EXTENSIONS: readonly (readonly [string, string, string, string])[] = [
  ["VolumeImageMetadata", "os-vol-image-meta", "2012-12-07T00:00:00+00:00", "Show image metadata associated with the volume."],
  ["VolumeUnmanage", "os-volume-unmanage", "2012-05-31T00:00:00+00:00", "Enable volume unmanage operation."],
  ["UsedLimits", "os-used-limits", "2013-10-03T00:00:00+00:00", "Provide data on limited resources that are being used."],
  ["AdminActions", "os-admin-actions", "2012-08-25T00:00:00+00:00", "Enable admin actions."],
  ["Cgsnapshots", "cgsnapshots", "2014-08-18T00:00:00+00:00", "cgsnapshots support."],
  ["TypesExtraSpecs", "os-types-extra-specs", "2011-08-24T00:00:00+00:00", "Type extra specs support."],
  ["SnapshotUnmanage", "os-snapshot-unmanage", "2014-12-31T00:00:00+00:00", "Enable volume unmanage operation."],
  ["VolumeTypeEncryption", "encryption", "2013-07-01T00:00:00+00:00", "Encryption support for volume types."],
  ["VolumeEncryptionMetadata", "os-volume-encryption-metadata", "2013-07-10T00:00:00+00:00", "Volume encryption metadata retrieval support."],
  ["Consistencygroups", "consistencygroups", "2014-08-18T00:00:00+00:00", "consistency groups support."],
  ["SnapshotActions", "os-snapshot-actions", "2013-07-16T00:00:00+00:00", "Enable snapshot manager actions."],
  ["Backups", "backups", "2012-12-12T00:00:00+00:00", "Backups support."],
  ["Quotas", "os-quota-sets", "2011-08-08T00:00:00+00:00", "Quota management support."],
  ["VolumeActions", "os-volume-actions", "2012-05-31T00:00:00+00:00", "Enable volume actions."],
  ["QuotaClasses", "os-quota-class-sets", "2012-03-12T00:00:00+00:00", "Quota classes management support."],
  ["AvailabilityZones", "os-availability-zone", "2013-06-27T00:00:00+00:00", "Describe Availability Zones."],
  ["VolumeTypeAccess", "os-volume-type-access", "2014-06-26T00:00:00Z", "Volume type access support."],
  ["Services", "os-services", "2012-10-28T00:00:00-00:00", "Services support."],
  ["Hosts", "os-hosts", "2011-06-29T00:00:00+00:00", "Admin-only host administration."],
  ["TypesManage", "os-types-manage", "2011-08-24T00:00:00+00:00", "Types manage support."],
  ["ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "2012-06-19T00:00:00+00:00", "Extended SnapshotAttributes support."],
  ["SnapshotManage", "os-snapshot-manage", "2014-12-31T00:00:00+00:00", "Allows existing backend storage to be 'managed' by Cinder."],
  ["Qos_specs_manage", "qos-specs", "2013-08-02T00:00:00+00:00", "QoS specs support."],
  ["VolumeHostAttribute", "os-vol-host-attr", "2011-11-03T00:00:00+00:00", "Expose host as an attribute of a volume."],
  ["Scheduler_stats", "scheduler-stats", "2014-09-07T00:00:00+00:00", "Scheduler stats support."],
  ["VolumeManage", "os-volume-manage", "2014-02-10T00:00:00+00:00", "Allows existing backend storage to be 'managed' by Cinder."],
  ["VolumeMigStatusAttribute", "os-vol-mig-status-attr", "2013-08-08T00:00:00+00:00", "Expose migration_status as an attribute of a volume."],
  ["VolumeTransfer", "os-volume-transfer", "2013-05-29T00:00:00+00:00", "Volume transfer management support."],
  ["VolumeTenantAttribute", "os-vol-tenant-attr", "2011-11-03T00:00:00+00:00", "Expose the internal project_id as an attribute of a volume."],
  ["SchedulerHints", "OS-SCH-HNT", "2013-04-18T00:00:00+00:00", "Pass arbitrary key/value pairs to the scheduler."],
  ["ExtendedServices", "os-extended-services", "2014-01-10T00:00:00-00:00", "Extended services support."],
  ["Capabilities", "capabilities", "2015-08-31T00:00:00+00:00", "Capabilities support."],
];

function translate([name, alias, updated, description]: (typeof EXTENSIONS)[number]) {
  return { name, alias, description, updated, links: [] };
}

export function registerExtensionRoutes(app: FastifyInstance): void {
  const index: Controller = async () => ({ kind: 'object', status: 200, body: { extensions: EXTENSIONS.map(translate) } });
  const show: Controller = async (c) => {
    const ext = EXTENSIONS.find((e) => e[1] === c.params.id);
    if (!ext) throw new HttpFault(404);
    return { kind: 'object', status: 200, body: { extension: translate(ext) } };
  };
  const route = resourceRoutes(app, '/extensions');
  route('GET', '', { kind: 'method', takesBody: 'none', controller: index });
  route('GET', '/:id', { kind: 'method', takesBody: 'none', controller: show });
}
