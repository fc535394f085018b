// The same tables as schema.ts, for MariaDB/MySQL, with the column types of Cinder's models
// (cinder/db/sqlalchemy/models.py): String(36) for ids, String(255) for names and statuses,
// String(256) for provider_location/provider_auth, Text for the JSON columns, DateTime, Boolean as
// TINYINT(1), InnoDB. schema.ts stays the source of the row types; test/unit/db-schema.test.ts
// fails when the two definitions drift apart (a column, its nullability, default or kind).
import { mysqlTable, varchar, text, int, boolean, datetime, index, unique, type AnyMySqlColumn } from 'drizzle-orm/mysql-core';

const dt = (name: string) => datetime(name, { mode: 'string' });
const id36 = (name: string) => varchar(name, { length: 36 });
const s255 = (name: string) => varchar(name, { length: 255 });

const base = {
  created_at: dt('created_at'),
  updated_at: dt('updated_at'),
  deleted_at: dt('deleted_at'),
  deleted: boolean('deleted').notNull().default(false),
};

export const volumes = mysqlTable(
  'volumes',
  {
    ...base,
    id: id36('id').primaryKey(),
    _name_id: id36('_name_id'),
    ec2_id: s255('ec2_id'),
    user_id: s255('user_id'),
    project_id: s255('project_id'),
    snapshot_id: id36('snapshot_id'),
    cluster_name: s255('cluster_name'),
    host: s255('host'),
    size: int('size'),
    availability_zone: s255('availability_zone'),
    status: s255('status'),
    attach_status: s255('attach_status'),
    migration_status: s255('migration_status'),
    scheduled_at: dt('scheduled_at'),
    launched_at: dt('launched_at'),
    terminated_at: dt('terminated_at'),
    display_name: s255('display_name'),
    display_description: s255('display_description'),
    provider_location: varchar('provider_location', { length: 256 }),
    provider_auth: varchar('provider_auth', { length: 256 }),
    provider_geometry: s255('provider_geometry'),
    provider_id: s255('provider_id'),
    volume_type_id: id36('volume_type_id').notNull(),
    source_volid: id36('source_volid'),
    encryption_key_id: id36('encryption_key_id'),
    consistencygroup_id: id36('consistencygroup_id'),
    group_id: id36('group_id'),
    bootable: boolean('bootable').default(false),
    multiattach: boolean('multiattach').default(false),
    replication_status: s255('replication_status'),
    replication_extended_status: s255('replication_extended_status'),
    replication_driver_data: s255('replication_driver_data'),
    previous_status: s255('previous_status'),
    service_uuid: id36('service_uuid'),
    shared_targets: boolean('shared_targets').default(true),
    use_quota: boolean('use_quota').default(true),
  },
  (t) => [index('volumes_service_uuid_idx').on(t.service_uuid, t.deleted)],
);

export const volumeAttachment = mysqlTable(
  'volume_attachment',
  {
    ...base,
    id: id36('id').primaryKey(),
    volume_id: id36('volume_id')
      .notNull()
      .references(() => volumes.id),
    attached_host: s255('attached_host'),
    instance_uuid: id36('instance_uuid'),
    mountpoint: s255('mountpoint'),
    attach_time: dt('attach_time'),
    detach_time: dt('detach_time'),
    attach_mode: id36('attach_mode'),
    attach_status: s255('attach_status'),
    connection_info: text('connection_info'),
    connector: text('connector'),
  },
  (t) => [index('attachments_volume_id_idx').on(t.volume_id)],
);

/** volume_metadata and volume_admin_metadata: the same key/value rows of a volume. */
const volumeKeyValueTable = (name: 'volume_metadata' | 'volume_admin_metadata') =>
  mysqlTable(
    name,
    {
      ...base,
      id: int('id').primaryKey().autoincrement(),
      key: s255('key'),
      value: s255('value'),
      volume_id: id36('volume_id')
        .notNull()
        .references(() => volumes.id),
    },
    (t) => [index(`${name}_volume_id_idx`).on(t.volume_id)],
  );

export const volumeAdminMetadata = volumeKeyValueTable('volume_admin_metadata');

export const volumeMetadata = volumeKeyValueTable('volume_metadata');

export const services = mysqlTable('services', {
  ...base,
  id: int('id').primaryKey().autoincrement(),
  uuid: id36('uuid'),
  host: s255('host'),
  binary: s255('binary'),
  topic: s255('topic'),
  report_count: int('report_count').notNull().default(0),
  disabled: boolean('disabled').default(false),
  availability_zone: s255('availability_zone'),
  rpc_current_version: id36('rpc_current_version'),
  object_current_version: id36('object_current_version'),
  cluster_name: s255('cluster_name'),
  disabled_reason: s255('disabled_reason'),
  modified_at: dt('modified_at'),
  replication_status: varchar('replication_status', { length: 36 }).default('not-capable'),
  active_backend_id: s255('active_backend_id'),
  frozen: boolean('frozen').default(false),
});

export const workers = mysqlTable(
  'workers',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    resource_type: varchar('resource_type', { length: 40 }).notNull(),
    resource_id: id36('resource_id').notNull(),
    status: s255('status').notNull(),
    service_id: int('service_id').references(() => services.id),
    race_preventer: int('race_preventer').notNull().default(0),
  },
  (t) => [unique('workers_resource_type_resource_id_key').on(t.resource_type, t.resource_id), index('workers_service_id_idx').on(t.service_id)],
);

export const volumeTypes = mysqlTable(
  'volume_types',
  {
    ...base,
    id: id36('id').primaryKey(),
    name: s255('name'),
    description: s255('description'),
    qos_specs_id: id36('qos_specs_id').references((): AnyMySqlColumn => qualityOfServiceSpecs.id),
    is_public: boolean('is_public').default(true),
  },
  (t) => [index('volume_types_qos_specs_id_idx').on(t.qos_specs_id)],
);

export const volumeTypeExtraSpecs = mysqlTable(
  'volume_type_extra_specs',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    key: s255('key'),
    value: s255('value'),
    volume_type_id: id36('volume_type_id')
      .notNull()
      .references(() => volumeTypes.id),
  },
  (t) => [index('volume_type_extra_specs_volume_type_id_idx').on(t.volume_type_id)],
);

export const volumeTypeProjects = mysqlTable(
  'volume_type_projects',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    volume_type_id: id36('volume_type_id').references(() => volumeTypes.id),
    project_id: s255('project_id'),
    deleted: int('deleted').default(0),
  },
  (t) => [unique('volume_type_projects_volume_type_id_project_id_deleted_key').on(t.volume_type_id, t.project_id, t.deleted)],
);

export const defaultVolumeTypes = mysqlTable(
  'default_volume_types',
  {
    ...base,
    volume_type_id: id36('volume_type_id').references(() => volumeTypes.id),
    project_id: s255('project_id').primaryKey(),
  },
  (t) => [index('default_volume_types_volume_type_id_idx').on(t.volume_type_id)],
);

export const qualityOfServiceSpecs = mysqlTable(
  'quality_of_service_specs',
  {
    ...base,
    id: id36('id').primaryKey(),
    specs_id: id36('specs_id').references((): AnyMySqlColumn => qualityOfServiceSpecs.id),
    key: s255('key'),
    value: s255('value'),
  },
  (t) => [index('quality_of_service_specs_specs_id_idx').on(t.specs_id)],
);

export const encryption = mysqlTable('encryption', {
  ...base,
  encryption_id: id36('encryption_id').primaryKey(),
  cipher: s255('cipher'),
  key_size: int('key_size'),
  provider: s255('provider'),
  control_location: s255('control_location'),
  volume_type_id: id36('volume_type_id').notNull(),
});

export const quotas = mysqlTable('quotas', {
  ...base,
  id: int('id').primaryKey().autoincrement(),
  project_id: s255('project_id'),
  resource: s255('resource').notNull(),
  hard_limit: int('hard_limit'),
  allocated: int('allocated').default(0),
});

export const quotaClasses = mysqlTable(
  'quota_classes',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    class_name: s255('class_name'),
    resource: s255('resource'),
    hard_limit: int('hard_limit'),
  },
  (t) => [index('quota_classes_class_name_idx').on(t.class_name)],
);

export const quotaUsages = mysqlTable(
  'quota_usages',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    project_id: s255('project_id'),
    // String(300) in Cinder; 255 here so the unique key fits InnoDB's limit (Cinder's migration
    // tolerates the same refusal on MariaDB and keeps 255).
    resource: s255('resource'),
    in_use: int('in_use').notNull(),
    reserved: int('reserved').notNull(),
    until_refresh: int('until_refresh'),
    race_preventer: boolean('race_preventer').default(true),
  },
  (t) => [
    index('quota_usage_project_resource_idx').on(t.project_id, t.resource),
    index('quota_usages_project_id_idx').on(t.project_id),
    unique('quota_usages_project_id_resource_race_preventer_key').on(t.project_id, t.resource, t.race_preventer),
  ],
);

export const reservations = mysqlTable(
  'reservations',
  {
    ...base,
    id: int('id').primaryKey().autoincrement(),
    uuid: id36('uuid').notNull(),
    usage_id: int('usage_id').references(() => quotaUsages.id),
    allocated_id: int('allocated_id').references(() => quotas.id),
    project_id: s255('project_id'),
    resource: s255('resource'),
    delta: int('delta').notNull(),
    expire: dt('expire'),
  },
  (t) => [
    index('reservations_deleted_expire_idx').on(t.deleted, t.expire),
    index('reservations_deleted_uuid_idx').on(t.deleted, t.uuid),
    index('reservations_usage_id_idx').on(t.usage_id),
    index('reservations_allocated_id_idx').on(t.allocated_id),
    index('reservations_project_id_idx').on(t.project_id),
  ],
);

export const transfers = mysqlTable(
  'transfers',
  {
    ...base,
    id: id36('id').primaryKey(),
    volume_id: id36('volume_id')
      .notNull()
      .references(() => volumes.id),
    display_name: s255('display_name'),
    salt: s255('salt'),
    crypt_hash: s255('crypt_hash'),
    expires_at: dt('expires_at'),
    no_snapshots: boolean('no_snapshots').default(false),
    source_project_id: s255('source_project_id'),
    destination_project_id: s255('destination_project_id'),
    accepted: boolean('accepted').default(false),
  },
  (t) => [index('transfers_volume_id_idx').on(t.volume_id)],
);

export const messages = mysqlTable(
  'messages',
  {
    ...base,
    id: id36('id').primaryKey(),
    project_id: s255('project_id').notNull(),
    message_level: s255('message_level').notNull(),
    request_id: s255('request_id'),
    resource_type: id36('resource_type'),
    resource_uuid: s255('resource_uuid'),
    event_id: s255('event_id').notNull(),
    detail_id: varchar('detail_id', { length: 10 }),
    action_id: varchar('action_id', { length: 10 }),
    expires_at: dt('expires_at'),
  },
  (t) => [index('messages_expires_at_idx').on(t.expires_at)],
);
