CREATE TABLE `content_fingerprints` (
	`user_id` text NOT NULL,
	`hash` text NOT NULL,
	`links` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `content_fingerprints_repeat_idx` ON `content_fingerprints` (`user_id`,`hash`,`created_at`);--> statement-breakpoint
CREATE INDEX `content_fingerprints_user_idx` ON `content_fingerprints` (`user_id`,`created_at`,`links`);--> statement-breakpoint
CREATE INDEX `content_fingerprints_created_idx` ON `content_fingerprints` (`created_at`);--> statement-breakpoint
CREATE TABLE `keyword_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`pattern` text NOT NULL,
	`whole_word` integer DEFAULT true NOT NULL,
	`action` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reports` (
	`id` text PRIMARY KEY NOT NULL,
	`reporter_id` text,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`subject_user_id` text,
	`community_id` text,
	`conversation_id` text,
	`category` text NOT NULL,
	`comment` text,
	`snapshot` text NOT NULL,
	`auto` text,
	`status` text DEFAULT 'open' NOT NULL,
	`assigned_to` text,
	`resolved_by` text,
	`resolution_action` text,
	`resolution_note` text,
	`created_at` integer NOT NULL,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reports_open_reporter_subject_idx` ON `reports` (`reporter_id`,`subject_type`,`subject_id`) WHERE status = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX `reports_open_auto_subject_idx` ON `reports` (`subject_type`,`subject_id`) WHERE status = 'open' AND reporter_id IS NULL;--> statement-breakpoint
CREATE INDEX `reports_status_created_idx` ON `reports` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `reports_reporter_created_idx` ON `reports` (`reporter_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `reports_community_created_idx` ON `reports` (`community_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `reports_subject_idx` ON `reports` (`subject_type`,`subject_id`);--> statement-breakpoint
CREATE TABLE `site_counters` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stats_hourly` (
	`metric` text NOT NULL,
	`hour` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`metric`, `hour`)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`action` text NOT NULL,
	`actor_id` text,
	`subject_type` text,
	`subject_id` text,
	`ip` text,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_id_unique` ON `audit_log` (`id`);--> statement-breakpoint
CREATE INDEX `audit_log_action_idx` ON `audit_log` (`action`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_actor_idx` ON `audit_log` (`actor_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_subject_idx` ON `audit_log` (`subject_id`,`seq`);--> statement-breakpoint
CREATE TABLE `filter_keywords` (
	`id` text PRIMARY KEY NOT NULL,
	`filter_id` text NOT NULL,
	`keyword` text NOT NULL,
	`whole_word` integer DEFAULT true NOT NULL,
	`position` integer NOT NULL,
	FOREIGN KEY (`filter_id`) REFERENCES `filters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `filter_keywords_filter_idx` ON `filter_keywords` (`filter_id`,`position`);--> statement-breakpoint
CREATE TABLE `filters` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`title` text NOT NULL,
	`context` text NOT NULL,
	`action` text NOT NULL,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `filters_user_idx` ON `filters` (`user_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `users` ADD `role` text DEFAULT 'user' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `suspended_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `suspended_until` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `silenced_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `silenced_until` integer;--> statement-breakpoint
CREATE INDEX `users_created_idx` ON `users` (`created_at`);--> statement-breakpoint
CREATE INDEX `users_suspended_until_idx` ON `users` (`suspended_until`) WHERE suspended_until IS NOT NULL;--> statement-breakpoint
CREATE INDEX `users_silenced_until_idx` ON `users` (`silenced_until`) WHERE silenced_until IS NOT NULL;--> statement-breakpoint
ALTER TABLE `comments` ADD `held` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `posts` ADD `held` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `sessions_last_used_idx` ON `sessions` (`last_used_at`,`user_id`);--> statement-breakpoint
CREATE INDEX `communities_created_idx` ON `communities` (`created_at`);