CREATE TABLE `workers` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT false NOT NULL,
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`status` text NOT NULL,
	`service_id` integer,
	`race_preventer` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workers_service_id_idx` ON `workers` (`service_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `workers_resource_type_resource_id_key` ON `workers` (`resource_type`,`resource_id`);