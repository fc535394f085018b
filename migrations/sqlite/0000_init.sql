CREATE TABLE `services` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text,
	`host` text,
	`binary` text,
	`topic` text,
	`report_count` integer DEFAULT 0 NOT NULL,
	`disabled` integer DEFAULT false,
	`availability_zone` text,
	`rpc_current_version` text,
	`object_current_version` text,
	`cluster_name` text
);
--> statement-breakpoint
CREATE TABLE `volume_admin_metadata` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text,
	`value` text,
	`volume_id` text NOT NULL,
	FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `volume_admin_metadata_volume_id_idx` ON `volume_admin_metadata` (`volume_id`);--> statement-breakpoint
CREATE TABLE `volume_attachment` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`volume_id` text NOT NULL,
	`attached_host` text,
	`instance_uuid` text,
	`mountpoint` text,
	`attach_time` text,
	`detach_time` text,
	`attach_mode` text,
	`attach_status` text,
	`connection_info` text,
	`connector` text,
	FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `attachments_volume_id_idx` ON `volume_attachment` (`volume_id`);--> statement-breakpoint
CREATE TABLE `volume_metadata` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text,
	`value` text,
	`volume_id` text NOT NULL,
	FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `volume_metadata_volume_id_idx` ON `volume_metadata` (`volume_id`);--> statement-breakpoint
CREATE TABLE `volumes` (
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
	`volume_type_id` text,
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
CREATE INDEX `volumes_service_uuid_idx` ON `volumes` (`service_uuid`,`deleted`);