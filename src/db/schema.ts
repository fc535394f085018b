// Cinder's table and column names (cinder/db/sqlalchemy/models.py) for the tables the detach path
// touches. Timestamps are stored as SQLAlchemy stores DateTime on SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'.
// Rows are never removed on these paths (`deleted`/`deleted_at` mark a soft delete, CinderBase),
// except `workers`, whose rows Cinder deletes when the work is done.
import { sqliteTable, text, integer, index, unique, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';

const base = {
  created_at: text('created_at'),
  updated_at: text('updated_at'),
  deleted_at: text('deleted_at'),
  deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
};

export const volumes = sqliteTable(
  'volumes',
  {
    ...base,
    id: text('id').primaryKey(),
    _name_id: text('_name_id'),
    ec2_id: text('ec2_id'),
    user_id: text('user_id'),
    project_id: text('project_id'),
    snapshot_id: text('snapshot_id'),
    cluster_name: text('cluster_name'),
    host: text('host'),
    size: integer('size'),
    availability_zone: text('availability_zone'),
    status: text('status'),
    attach_status: text('attach_status'),
    migration_status: text('migration_status'),
    scheduled_at: text('scheduled_at'),
    launched_at: text('launched_at'),
    terminated_at: text('terminated_at'),
    display_name: text('display_name'),
    display_description: text('display_description'),
    provider_location: text('provider_location'),
    provider_auth: text('provider_auth'),
    provider_geometry: text('provider_geometry'),
    provider_id: text('provider_id'),
    /** NOT NULL as in Cinder: every volume has a type (`__DEFAULT__` when none was asked for). */
    volume_type_id: text('volume_type_id').notNull(),
    source_volid: text('source_volid'),
    encryption_key_id: text('encryption_key_id'),
    consistencygroup_id: text('consistencygroup_id'),
    group_id: text('group_id'),
    bootable: integer('bootable', { mode: 'boolean' }).default(false),
    multiattach: integer('multiattach', { mode: 'boolean' }).default(false),
    replication_status: text('replication_status'),
    replication_extended_status: text('replication_extended_status'),
    replication_driver_data: text('replication_driver_data'),
    previous_status: text('previous_status'),
    service_uuid: text('service_uuid'),
    shared_targets: integer('shared_targets', { mode: 'boolean' }).default(true),
    use_quota: integer('use_quota', { mode: 'boolean' }).default(true),
  },
  (t) => [index('volumes_service_uuid_idx').on(t.service_uuid, t.deleted)],
);

export const volumeAttachment = sqliteTable(
  'volume_attachment',
  {
    ...base,
    id: text('id').primaryKey(),
    volume_id: text('volume_id')
      .notNull()
      .references(() => volumes.id),
    attached_host: text('attached_host'),
    instance_uuid: text('instance_uuid'),
    mountpoint: text('mountpoint'),
    attach_time: text('attach_time'),
    detach_time: text('detach_time'),
    attach_mode: text('attach_mode'),
    attach_status: text('attach_status'),
    connection_info: text('connection_info'),
    connector: text('connector'),
  },
  (t) => [index('attachments_volume_id_idx').on(t.volume_id)],
);

/** volume_metadata and volume_admin_metadata: the same key/value rows of a volume. */
const volumeKeyValueTable = (name: 'volume_metadata' | 'volume_admin_metadata') =>
  sqliteTable(
    name,
    {
      ...base,
      id: integer('id').primaryKey({ autoIncrement: true }),
      key: text('key'),
      value: text('value'),
      volume_id: text('volume_id')
        .notNull()
        .references(() => volumes.id),
    },
    (t) => [index(`${name}_volume_id_idx`).on(t.volume_id)],
  );

export const volumeAdminMetadata = volumeKeyValueTable('volume_admin_metadata');

export const volumeMetadata = volumeKeyValueTable('volume_metadata');

/** cinder-volume registers here; Python peers read rpc/object versions and liveness from it. */
export const services = sqliteTable('services', {
  ...base,
  id: integer('id').primaryKey({ autoIncrement: true }),
  uuid: text('uuid'),
  host: text('host'),
  binary: text('binary'),
  topic: text('topic'),
  report_count: integer('report_count').notNull().default(0),
  disabled: integer('disabled', { mode: 'boolean' }).default(false),
  availability_zone: text('availability_zone'),
  rpc_current_version: text('rpc_current_version'),
  object_current_version: text('object_current_version'),
  cluster_name: text('cluster_name'),
  disabled_reason: text('disabled_reason'),
  /** When an operator last enabled/disabled it (os-services); updated_at is the heartbeat. */
  modified_at: text('modified_at'),
  replication_status: text('replication_status').default('not-capable'),
  active_backend_id: text('active_backend_id'),
  frozen: integer('frozen', { mode: 'boolean' }).default(false),
});

/**
 * Cleanable work in progress (Cinder's `workers`): a row per volume being created or deleted, with
 * the service that is doing it. A volume-manager that died half-way finds its rows at start-up and
 * finishes the job (creating → error, deleting → delete again), so no volume stays stuck. Rows are
 * removed for real when the work ends, as Cinder's worker_destroy does.
 */
export const workers = sqliteTable(
  'workers',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The versioned object's class name: 'Volume'. */
    resource_type: text('resource_type').notNull(),
    resource_id: text('resource_id').notNull(),
    /** The status to clean up from ('creating', 'deleting'). */
    status: text('status').notNull(),
    /** services.id of the volume-manager working on it; NULL while the RPC is still queued. */
    service_id: integer('service_id').references(() => services.id),
    race_preventer: integer('race_preventer').notNull().default(0),
  },
  (t) => [unique('workers_resource_type_resource_id_key').on(t.resource_type, t.resource_id), index('workers_service_id_idx').on(t.service_id)],
);

// ---- volume types, their extra specs, access, QoS specs and encryption (models.py) ---------------

/** volume_types: the `__DEFAULT__` type is created by the first migration that adds the table. */
export const volumeTypes = sqliteTable(
  'volume_types',
  {
    ...base,
    id: text('id').primaryKey(),
    name: text('name'),
    description: text('description'),
    qos_specs_id: text('qos_specs_id').references((): AnySQLiteColumn => qualityOfServiceSpecs.id),
    is_public: integer('is_public', { mode: 'boolean' }).default(true),
  },
  (t) => [index('volume_types_qos_specs_id_idx').on(t.qos_specs_id)],
);

export const volumeTypeExtraSpecs = sqliteTable(
  'volume_type_extra_specs',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    key: text('key'),
    value: text('value'),
    volume_type_id: text('volume_type_id')
      .notNull()
      .references(() => volumeTypes.id),
  },
  (t) => [index('volume_type_extra_specs_volume_type_id_idx').on(t.volume_type_id)],
);

/** Private types' projects. `deleted` is an integer here (the row's id when deleted), as in Cinder. */
export const volumeTypeProjects = sqliteTable(
  'volume_type_projects',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    volume_type_id: text('volume_type_id').references(() => volumeTypes.id),
    project_id: text('project_id'),
    deleted: integer('deleted').default(0),
  },
  (t) => [unique('volume_type_projects_volume_type_id_project_id_deleted_key').on(t.volume_type_id, t.project_id, t.deleted)],
);

/** Per-project default types (3.62 /default-types). */
export const defaultVolumeTypes = sqliteTable(
  'default_volume_types',
  {
    ...base,
    volume_type_id: text('volume_type_id').references(() => volumeTypes.id),
    project_id: text('project_id').primaryKey(),
  },
  (t) => [index('default_volume_types_volume_type_id_idx').on(t.volume_type_id)],
);

/**
 * QoS specs as an adjacency list: a spec's row has specs_id NULL, key 'QoSSpec_Name' and its name
 * as value; its keys (consumer included) are rows whose specs_id is the spec's id.
 */
export const qualityOfServiceSpecs = sqliteTable(
  'quality_of_service_specs',
  {
    ...base,
    id: text('id').primaryKey(),
    specs_id: text('specs_id').references((): AnySQLiteColumn => qualityOfServiceSpecs.id),
    key: text('key'),
    value: text('value'),
  },
  (t) => [index('quality_of_service_specs_specs_id_idx').on(t.specs_id)],
);

/** A volume type's encryption (one live row per type; volume_type_id is not a foreign key in Cinder). */
export const encryption = sqliteTable('encryption', {
  ...base,
  encryption_id: text('encryption_id').primaryKey(),
  cipher: text('cipher'),
  key_size: integer('key_size'),
  provider: text('provider'),
  control_location: text('control_location'),
  volume_type_id: text('volume_type_id').notNull(),
});

// ---- quotas (cinder/quota.py's DbQuotaDriver), transfers and user messages (models.py) -----------

/** A project's quota override; hard_limit NULL is unlimited, as -1. */
export const quotas = sqliteTable('quotas', {
  ...base,
  id: integer('id').primaryKey({ autoIncrement: true }),
  project_id: text('project_id'),
  resource: text('resource').notNull(),
  hard_limit: integer('hard_limit'),
  allocated: integer('allocated').default(0),
});

/** Quota class limits; the 'default' class's rows are made by the migration that adds the table. */
export const quotaClasses = sqliteTable(
  'quota_classes',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    class_name: text('class_name'),
    resource: text('resource'),
    hard_limit: integer('hard_limit'),
  },
  (t) => [index('quota_classes_class_name_idx').on(t.class_name)],
);

/** A project's usage of a resource; race_preventer makes a concurrent first insert fail (NULL once deleted). */
export const quotaUsages = sqliteTable(
  'quota_usages',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    project_id: text('project_id'),
    resource: text('resource'),
    in_use: integer('in_use').notNull(),
    reserved: integer('reserved').notNull(),
    until_refresh: integer('until_refresh'),
    race_preventer: integer('race_preventer', { mode: 'boolean' }).default(true),
  },
  (t) => [
    index('quota_usage_project_resource_idx').on(t.project_id, t.resource),
    index('quota_usages_project_id_idx').on(t.project_id),
    unique('quota_usages_project_id_resource_race_preventer_key').on(t.project_id, t.resource, t.race_preventer),
  ],
);

export const reservations = sqliteTable(
  'reservations',
  {
    ...base,
    id: integer('id').primaryKey({ autoIncrement: true }),
    uuid: text('uuid').notNull(),
    usage_id: integer('usage_id').references(() => quotaUsages.id),
    allocated_id: integer('allocated_id').references(() => quotas.id),
    project_id: text('project_id'),
    resource: text('resource'),
    delta: integer('delta').notNull(),
    expire: text('expire'),
  },
  (t) => [
    index('reservations_deleted_expire_idx').on(t.deleted, t.expire),
    index('reservations_deleted_uuid_idx').on(t.deleted, t.uuid),
    index('reservations_usage_id_idx').on(t.usage_id),
    index('reservations_allocated_id_idx').on(t.allocated_id),
    index('reservations_project_id_idx').on(t.project_id),
  ],
);

/** Volume transfer requests (os-volume-transfer, 3.55 volume-transfers). */
export const transfers = sqliteTable(
  'transfers',
  {
    ...base,
    id: text('id').primaryKey(),
    volume_id: text('volume_id')
      .notNull()
      .references(() => volumes.id),
    display_name: text('display_name'),
    salt: text('salt'),
    crypt_hash: text('crypt_hash'),
    expires_at: text('expires_at'),
    no_snapshots: integer('no_snapshots', { mode: 'boolean' }).default(false),
    source_project_id: text('source_project_id'),
    destination_project_id: text('destination_project_id'),
    accepted: integer('accepted', { mode: 'boolean' }).default(false),
  },
  (t) => [index('transfers_volume_id_idx').on(t.volume_id)],
);

/** User messages (/messages): what went wrong for a user, by event, action and detail ids. */
export const messages = sqliteTable(
  'messages',
  {
    ...base,
    id: text('id').primaryKey(),
    project_id: text('project_id').notNull(),
    message_level: text('message_level').notNull(),
    request_id: text('request_id'),
    resource_type: text('resource_type'),
    resource_uuid: text('resource_uuid'),
    event_id: text('event_id').notNull(),
    detail_id: text('detail_id'),
    action_id: text('action_id'),
    expires_at: text('expires_at'),
  },
  (t) => [index('messages_expires_at_idx').on(t.expires_at)],
);

export type VolumeRow = typeof volumes.$inferSelect;
export type NewVolumeRow = typeof volumes.$inferInsert;
export type AttachmentRow = typeof volumeAttachment.$inferSelect;
export type NewAttachmentRow = typeof volumeAttachment.$inferInsert;
export type AdminMetadataRow = typeof volumeAdminMetadata.$inferSelect;
export type MetadataRow = typeof volumeMetadata.$inferSelect;
export type VolumeTypeRow = typeof volumeTypes.$inferSelect;
export type QosSpecRow = typeof qualityOfServiceSpecs.$inferSelect;
export type EncryptionRow = typeof encryption.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;
export type QuotaUsageRow = typeof quotaUsages.$inferSelect;
export type ReservationRow = typeof reservations.$inferSelect;
export type TransferRow = typeof transfers.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
