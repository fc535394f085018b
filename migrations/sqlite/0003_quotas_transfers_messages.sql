CREATE TABLE `messages` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`message_level` text NOT NULL,
	`request_id` text,
	`resource_type` text,
	`resource_uuid` text,
	`event_id` text NOT NULL,
	`detail_id` text,
	`action_id` text,
	`expires_at` text
);
--> statement-breakpoint
CREATE INDEX `messages_expires_at_idx` ON `messages` (`expires_at`);--> statement-breakpoint
CREATE TABLE `quota_classes` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`class_name` text,
	`resource` text,
	`hard_limit` integer
);
--> statement-breakpoint
CREATE INDEX `quota_classes_class_name_idx` ON `quota_classes` (`class_name`);--> statement-breakpoint
CREATE TABLE `quota_usages` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text,
	`resource` text,
	`in_use` integer NOT NULL,
	`reserved` integer NOT NULL,
	`until_refresh` integer,
	`race_preventer` integer DEFAULT true
);
--> statement-breakpoint
CREATE INDEX `quota_usage_project_resource_idx` ON `quota_usages` (`project_id`,`resource`);--> statement-breakpoint
CREATE INDEX `quota_usages_project_id_idx` ON `quota_usages` (`project_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `quota_usages_project_id_resource_race_preventer_key` ON `quota_usages` (`project_id`,`resource`,`race_preventer`);--> statement-breakpoint
CREATE TABLE `quotas` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text,
	`resource` text NOT NULL,
	`hard_limit` integer,
	`allocated` integer DEFAULT 0
);
--> statement-breakpoint
CREATE TABLE `reservations` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`usage_id` integer,
	`allocated_id` integer,
	`project_id` text,
	`resource` text,
	`delta` integer NOT NULL,
	`expire` text,
	FOREIGN KEY (`usage_id`) REFERENCES `quota_usages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`allocated_id`) REFERENCES `quotas`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `reservations_deleted_expire_idx` ON `reservations` (`deleted`,`expire`);--> statement-breakpoint
CREATE INDEX `reservations_deleted_uuid_idx` ON `reservations` (`deleted`,`uuid`);--> statement-breakpoint
CREATE INDEX `reservations_usage_id_idx` ON `reservations` (`usage_id`);--> statement-breakpoint
CREATE INDEX `reservations_allocated_id_idx` ON `reservations` (`allocated_id`);--> statement-breakpoint
CREATE INDEX `reservations_project_id_idx` ON `reservations` (`project_id`);--> statement-breakpoint
CREATE TABLE `transfers` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` text PRIMARY KEY NOT NULL,
	`volume_id` text NOT NULL,
	`display_name` text,
	`salt` text,
	`crypt_hash` text,
	`expires_at` text,
	`no_snapshots` integer DEFAULT false,
	`source_project_id` text,
	`destination_project_id` text,
	`accepted` integer DEFAULT false,
	FOREIGN KEY (`volume_id`) REFERENCES `volumes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `transfers_volume_id_idx` ON `transfers` (`volume_id`);--> statement-breakpoint
ALTER TABLE `services` ADD `disabled_reason` text;--> statement-breakpoint
ALTER TABLE `services` ADD `modified_at` text;--> statement-breakpoint
ALTER TABLE `services` ADD `replication_status` text DEFAULT 'not-capable';--> statement-breakpoint
ALTER TABLE `services` ADD `active_backend_id` text;--> statement-breakpoint
ALTER TABLE `services` ADD `frozen` integer DEFAULT false;--> statement-breakpoint
-- Cinder's initial migration (921e1a36b076) gives the 'default' quota class its limits from the
-- quota_* options' defaults; later changes to those options are read from cinder.conf (cinder/quota.py).
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'volumes', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'snapshots', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'gigabytes', 1000);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'consistencygroups', 10);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'per_volume_gigabytes', -1);--> statement-breakpoint
INSERT INTO `quota_classes` (`created_at`, `updated_at`, `deleted`, `class_name`, `resource`, `hard_limit`) VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0, 'default', 'groups', 10);
