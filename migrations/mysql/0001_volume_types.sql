CREATE TABLE `default_volume_types` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`volume_type_id` varchar(36),
	`project_id` varchar(255) NOT NULL,
	CONSTRAINT `default_volume_types_project_id` PRIMARY KEY(`project_id`)
);
--> statement-breakpoint
CREATE TABLE `encryption` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`encryption_id` varchar(36) NOT NULL,
	`cipher` varchar(255),
	`key_size` int,
	`provider` varchar(255),
	`control_location` varchar(255),
	`volume_type_id` varchar(36) NOT NULL,
	CONSTRAINT `encryption_encryption_id` PRIMARY KEY(`encryption_id`)
);
--> statement-breakpoint
CREATE TABLE `quality_of_service_specs` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`specs_id` varchar(36),
	`key` varchar(255),
	`value` varchar(255),
	CONSTRAINT `quality_of_service_specs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volume_type_extra_specs` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` int AUTO_INCREMENT NOT NULL,
	`key` varchar(255),
	`value` varchar(255),
	`volume_type_id` varchar(36) NOT NULL,
	CONSTRAINT `volume_type_extra_specs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `volume_type_projects` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` int DEFAULT 0,
	`id` int AUTO_INCREMENT NOT NULL,
	`volume_type_id` varchar(36),
	`project_id` varchar(255),
	CONSTRAINT `volume_type_projects_id` PRIMARY KEY(`id`),
	CONSTRAINT `volume_type_projects_volume_type_id_project_id_deleted_key` UNIQUE(`volume_type_id`,`project_id`,`deleted`)
);
--> statement-breakpoint
CREATE TABLE `volume_types` (
	`created_at` datetime,
	`updated_at` datetime,
	`deleted_at` datetime,
	`deleted` boolean NOT NULL DEFAULT false,
	`id` varchar(36) NOT NULL,
	`name` varchar(255),
	`description` varchar(255),
	`qos_specs_id` varchar(36),
	`is_public` boolean DEFAULT true,
	CONSTRAINT `volume_types_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
-- Cinder's initial migration creates the default type (volume_types.DEFAULT_VOLUME_TYPE); volumes
-- made before types existed get it, so volume_type_id can be NOT NULL as in Cinder.
INSERT INTO `volume_types` (`created_at`, `updated_at`, `deleted`, `id`, `name`, `description`, `is_public`) VALUES (UTC_TIMESTAMP(), UTC_TIMESTAMP(), false, UUID(), '__DEFAULT__', 'Default Volume Type', true);--> statement-breakpoint
UPDATE `volumes` SET `volume_type_id` = (SELECT `id` FROM `volume_types` WHERE `name` = '__DEFAULT__' AND `deleted` = false) WHERE `volume_type_id` IS NULL;--> statement-breakpoint
ALTER TABLE `volumes` MODIFY COLUMN `volume_type_id` varchar(36) NOT NULL;--> statement-breakpoint
ALTER TABLE `default_volume_types` ADD CONSTRAINT `default_volume_types_volume_type_id_volume_types_id_fk` FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `quality_of_service_specs` ADD CONSTRAINT `quality_of_service_specs_specs_id_quality_of_service_specs_id_fk` FOREIGN KEY (`specs_id`) REFERENCES `quality_of_service_specs`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `volume_type_extra_specs` ADD CONSTRAINT `volume_type_extra_specs_volume_type_id_volume_types_id_fk` FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `volume_type_projects` ADD CONSTRAINT `volume_type_projects_volume_type_id_volume_types_id_fk` FOREIGN KEY (`volume_type_id`) REFERENCES `volume_types`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `volume_types` ADD CONSTRAINT `volume_types_qos_specs_id_quality_of_service_specs_id_fk` FOREIGN KEY (`qos_specs_id`) REFERENCES `quality_of_service_specs`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `default_volume_types_volume_type_id_idx` ON `default_volume_types` (`volume_type_id`);--> statement-breakpoint
CREATE INDEX `quality_of_service_specs_specs_id_idx` ON `quality_of_service_specs` (`specs_id`);--> statement-breakpoint
CREATE INDEX `volume_type_extra_specs_volume_type_id_idx` ON `volume_type_extra_specs` (`volume_type_id`);--> statement-breakpoint
CREATE INDEX `volume_types_qos_specs_id_idx` ON `volume_types` (`qos_specs_id`);