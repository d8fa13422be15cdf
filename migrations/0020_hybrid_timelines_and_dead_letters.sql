CREATE TABLE `timeline_pulled_sources` (
	`source_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`since` integer NOT NULL,
	`audience` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `queue_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`reason` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `queue_dead_letters_created_idx` ON `queue_dead_letters` (`created_at`);--> statement-breakpoint
ALTER TABLE `home_timelines` ADD `pulls` text DEFAULT '{"a":[],"c":[]}' NOT NULL;