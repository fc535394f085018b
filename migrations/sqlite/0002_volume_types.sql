CREATE TABLE `default_volume_types` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`volume_type_id` text,
	`project_id` text PRIMARY KEY NOT NULL,
	FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `default_volume_types_volume_type_id_idx` ON `default_volume_types` (`volume_type_id`);--> statement-breakpoint
CREATE TABLE `encryption` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`encryption_id` text PRIMARY KEY NOT NULL,
	`cipher` text,
	`key_size` integer,
	`provider` text,
	`control_location` text,
	`volume_type_id` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `quality_of_service_specs` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`specs_id` text,
	`key` text,
	`value` text,
	FOREIGN KEY (`specs_id`) REFERENCES `quality_of_service_specs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `quality_of_service_specs_specs_id_idx` ON `quality_of_service_specs` (`specs_id`);--> statement-breakpoint
CREATE TABLE `volume_type_extra_specs` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text,
	`value` text,
	`volume_type_id` text NOT NULL,
	FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `volume_type_extra_specs_volume_type_id_idx` ON `volume_type_extra_specs` (`volume_type_id`);--> statement-breakpoint
CREATE TABLE `volume_type_projects` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT 0,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`volume_type_id` text,
	`project_id` text,
	FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `volume_type_projects_volume_type_id_project_id_deleted_key` ON `volume_type_projects` (`volume_type_id`,`project_id`,`deleted`);--> statement-breakpoint
CREATE TABLE `volume_types` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`description` text,
	`qos_specs_id` text,
	`is_public` integer DEFAULT true,
	FOREIGN KEY (`qos_specs_id`) REFERENCES `quality_of_service_specs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `volume_types_qos_specs_id_idx` ON `volume_types` (`qos_specs_id`);--> statement-breakpoint
-- Cinder's initial migration creates the default type (volume_types.DEFAULT_VOLUME_TYPE); volumes
-- made before types existed get it, so volume_type_id can be NOT NULL as in Cinder.
INSERT INTO `volume_types` (`created_at`, `updated_at`, `deleted`, `id`, `name`, `description`, `is_public`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))), '__DEFAULT__', 'Default Volume Type', 1);--> statement-breakpoint
UPDATE `volumes` SET `volume_type_id` = (SELECT `id` FROM `volume_types` WHERE `name` = '__DEFAULT__' AND `deleted` = 0) WHERE `volume_type_id` IS NULL;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_volumes` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`_name_id` text,
	`ec2_id` text,
	`user_id` text,
	`project_id` text,
	`snapshot_id` text,
	`cluster_name` text,
	`host` text,
	`size` integer,
	`availability_zone` text,
	`status` text,
	`attach_status` text,
	`migration_status` text,
	`scheduled_at` text,
	`launched_at` text,
	`terminated_at` text,
	`display_name` text,
	`display_description` text,
	`provider_location` text,
	`provider_auth` text,
	`provider_geometry` text,
	`provider_id` text,
	`volume_type_id` text NOT NULL,
	`source_volid` text,
	`encryption_key_id` text,
	`consistencygroup_id` text,
	`group_id` text,
	`bootable` integer DEFAULT false,
	`multiattach` integer DEFAULT false,
	`replication_status` text,
	`replication_extended_status` text,
	`replication_driver_data` text,
	`previous_status` text,
	`service_uuid` text,
	`shared_targets` integer DEFAULT true,
	`use_quota` integer DEFAULT true
);
--> statement-breakpoint
INSERT INTO `__new_volumes`("created_at", "updated_at", "deleted_at", "deleted", "id", "_name_id", "ec2_id", "user_id", "project_id", "snapshot_id", "cluster_name", "host", "size", "availability_zone", "status", "attach_status", "migration_status", "scheduled_at", "launched_at", "terminated_at", "display_name", "display_description", "provider_location", "provider_auth", "provider_geometry", "provider_id", "volume_type_id", "source_volid", "encryption_key_id", "consistencygroup_id", "group_id", "bootable", "multiattach", "replication_status", "replication_extended_status", "replication_driver_data", "previous_status", "service_uuid", "shared_targets", "use_quota") SELECT "created_at", "updated_at", "deleted_at", "deleted", "id", "_name_id", "ec2_id", "user_id", "project_id", "snapshot_id", "cluster_name", "host", "size", "availability_zone", "status", "attach_status", "migration_status", "scheduled_at", "launched_at", "terminated_at", "display_name", "display_description", "provider_location", "provider_auth", "provider_geometry", "provider_id", "volume_type_id", "source_volid", "encryption_key_id", "consistencygroup_id", "group_id", "bootable", "multiattach", "replication_status", "replication_extended_status", "replication_driver_data", "previous_status", "service_uuid", "shared_targets", "use_quota" FROM `volumes`;--> statement-breakpoint
DROP TABLE `volumes`;--> statement-breakpoint
ALTER TABLE `__new_volumes` RENAME TO `volumes`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `volumes_service_uuid_idx` ON `volumes` (`service_uuid`,`deleted`);