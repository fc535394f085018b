CREATE TABLE `services` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36),
	`host` varchar(255),
	`binary` varchar(255),
	`topic` varchar(255),
	`report_count` int NOT NULL DEFAULT 0,
	`disabled` boolean DEFAULT false,
	`availability_zone` varchar(255),
	`rpc_current_version` varchar(36),
	`object_current_version` varchar(36),
	`cluster_name` varchar(255),
	CONSTRAINT `services_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volume_admin_metadata` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`key` varchar(255),
	`value` varchar(255),
	`volume_id` varchar(36) NOT NULL,
	CONSTRAINT `volume_admin_metadata_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volume_attachment` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`volume_id` varchar(36) NOT NULL,
	`attached_host` varchar(255),
	`instance_uuid` varchar(36),
	`mountpoint` varchar(255),
	`attach_time` datetime,
	`detach_time` datetime,
	`attach_mode` varchar(36),
	`attach_status` varchar(255),
	`connection_info` text,
	`connector` text,
	CONSTRAINT `volume_attachment_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volume_metadata` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`key` varchar(255),
	`value` varchar(255),
	`volume_id` varchar(36) NOT NULL,
	CONSTRAINT `volume_metadata_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volumes` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`_name_id` varchar(36),
	`ec2_id` varchar(255),
	`user_id` varchar(255),
	`project_id` varchar(255),
	`snapshot_id` varchar(36),
	`cluster_name` varchar(255),
	`host` varchar(255),
	`size` int,
	`availability_zone` varchar(255),
	`status` varchar(255),
	`attach_status` varchar(255),
	`migration_status` varchar(255),
	`scheduled_at` datetime,
	`launched_at` datetime,
	`terminated_at` datetime,
	`display_name` varchar(255),
	`display_description` varchar(255),
	`provider_location` varchar(256),
	`provider_auth` varchar(256),
	`provider_geometry` varchar(255),
	`provider_id` varchar(255),
	`volume_type_id` varchar(36),
	`source_volid` varchar(36),
	`encryption_key_id` varchar(36),
	`consistencygroup_id` varchar(36),
	`group_id` varchar(36),
	`bootable` boolean DEFAULT false,
	`multiattach` boolean DEFAULT false,
	`replication_status` varchar(255),
	`replication_extended_status` varchar(255),
	`replication_driver_data` varchar(255),
	`previous_status` varchar(255),
	`service_uuid` varchar(36),
	`shared_targets` boolean DEFAULT true,
	`use_quota` boolean DEFAULT true,
	CONSTRAINT `volumes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `workers` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`resource_type` varchar(40) NOT NULL,
	`resource_id` varchar(36) NOT NULL,
	`status` varchar(255) NOT NULL,
	`service_id` int,
	`race_preventer` int NOT NULL DEFAULT 0,
	CONSTRAINT `workers_id` PRIMARY KEY(`id`),
	CONSTRAINT `workers_resource_type_resource_id_key` UNIQUE(`resource_type`,`resource_id`)
);
--> statement-breakpoint
ALTER TABLE `volume_admin_metadata` ADD CONSTRAINT `volume_admin_metadata_volume_id_volumes_id_fk` FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `volume_attachment` ADD CONSTRAINT `volume_attachment_volume_id_volumes_id_fk` FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `volume_metadata` ADD CONSTRAINT `volume_metadata_volume_id_volumes_id_fk` FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `workers` ADD CONSTRAINT `workers_service_id_services_id_fk` FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `volume_admin_metadata_volume_id_idx` ON `volume_admin_metadata` (`volume_id`);--> statement-breakpoint
CREATE INDEX `attachments_volume_id_idx` ON `volume_attachment` (`volume_id`);--> statement-breakpoint
CREATE INDEX `volume_metadata_volume_id_idx` ON `volume_metadata` (`volume_id`);--> statement-breakpoint
CREATE INDEX `volumes_service_uuid_idx` ON `volumes` (`service_uuid`,`deleted`);--> statement-breakpoint
CREATE INDEX `workers_service_id_idx` ON `workers` (`service_id`);