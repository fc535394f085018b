CREATE TABLE `messages` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`project_id` varchar(255) NOT NULL,
	`message_level` varchar(255) NOT NULL,
	`request_id` varchar(255),
	`resource_type` varchar(36),
	`resource_uuid` varchar(255),
	`event_id` varchar(255) NOT NULL,
	`detail_id` varchar(10),
	`action_id` varchar(10),
	`expires_at` datetime,
	CONSTRAINT `messages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `quota_classes` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`class_name` varchar(255),
	`resource` varchar(255),
	`hard_limit` int,
	CONSTRAINT `quota_classes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `quota_usages` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`project_id` varchar(255),
	`resource` varchar(255),
	`in_use` int NOT NULL,
	`reserved` int NOT NULL,
	`until_refresh` int,
	`race_preventer` boolean DEFAULT true,
	CONSTRAINT `quota_usages_id` PRIMARY KEY(`id`),
	CONSTRAINT `quota_usages_project_id_resource_race_preventer_key` UNIQUE(`project_id`,`resource`,`race_preventer`)
);
--> statement-breakpoint
CREATE TABLE `quotas` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`project_id` varchar(255),
	`resource` varchar(255) NOT NULL,
	`hard_limit` int,
	`allocated` int DEFAULT 0,
	CONSTRAINT `quotas_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `reservations` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`uuid` varchar(36) NOT NULL,
	`usage_id` int,
	`allocated_id` int,
	`project_id` varchar(255),
	`resource` varchar(255),
	`delta` int NOT NULL,
	`expire` datetime,
	CONSTRAINT `reservations_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `transfers` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`volume_id` varchar(36) NOT NULL,
	`display_name` varchar(255),
	`salt` varchar(255),
	`crypt_hash` varchar(255),
	`expires_at` datetime,
	`no_snapshots` boolean DEFAULT false,
	`source_project_id` varchar(255),
	`destination_project_id` varchar(255),
	`accepted` boolean DEFAULT false,
	CONSTRAINT `transfers_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `services` ADD `disabled_reason` varchar(255);--> statement-breakpoint
ALTER TABLE `services` ADD `modified_at` datetime;--> statement-breakpoint
ALTER TABLE `services` ADD `replication_status` varchar(36) DEFAULT 'not-capable';--> statement-breakpoint
ALTER TABLE `services` ADD `active_backend_id` varchar(255);--> statement-breakpoint
ALTER TABLE `services` ADD `frozen` boolean DEFAULT false;--> statement-breakpoint
ALTER TABLE `reservations` ADD CONSTRAINT `reservations_usage_id_quota_usages_id_fk` FOREIGN KEY (`usage_id`) REFERENCES `quota_usages`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `reservations` ADD CONSTRAINT `reservations_allocated_id_quotas_id_fk` FOREIGN KEY (`allocated_id`) REFERENCES `quotas`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `transfers` ADD CONSTRAINT `transfers_volume_id_volumes_id_fk` FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `messages_expires_at_idx` ON `messages` (`expires_at`);--> statement-breakpoint
CREATE INDEX `quota_classes_class_name_idx` ON `quota_classes` (`class_name`);--> statement-breakpoint
CREATE INDEX `quota_usage_project_resource_idx` ON `quota_usages` (`project_id`,`resource`);--> statement-breakpoint
CREATE INDEX `quota_usages_project_id_idx` ON `quota_usages` (`project_id`);--> statement-breakpoint
CREATE INDEX `reservations_deleted_expire_idx` ON `reservations` (`deleted`,`expire`);--> statement-breakpoint
CREATE INDEX `reservations_deleted_uuid_idx` ON `reservations` (`deleted`,`uuid`);--> statement-breakpoint
CREATE INDEX `reservations_usage_id_idx` ON `reservations` (`usage_id`);--> statement-breakpoint
CREATE INDEX `reservations_allocated_id_idx` ON `reservations` (`allocated_id`);--> statement-breakpoint
CREATE INDEX `reservations_project_id_idx` ON `reservations` (`project_id`);--> statement-breakpoint
CREATE INDEX `transfers_volume_id_idx` ON `transfers` (`volume_id`);--> statement-breakpoint
-- Cinder's initial migration (921e1a36b076) gives the 'default' quota class its limits from the
-- quota_* options' defaults; later changes to those options are read from cinder.conf (cinder/quota.py).
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'volumes', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'snapshots', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'gigabytes', 1000);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'consistencygroups', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'per_volume_gigabytes', -1);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, 'default', 'groups', 10);
