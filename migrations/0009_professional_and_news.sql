CREATE TABLE `professional_education` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`ord` integer NOT NULL,
	`school` text NOT NULL,
	`degree` text,
	`field` text,
	`started_on` text,
	`ended_on` text,
	`activities` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `professional_education_user_idx` ON `professional_education` (`user_id`,`ord`);--> statement-breakpoint
CREATE TABLE `professional_positions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`ord` integer NOT NULL,
	`title` text NOT NULL,
	`company` text NOT NULL,
	`location` text,
	`started_on` text NOT NULL,
	`ended_on` text,
	`description` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `professional_positions_user_idx` ON `professional_positions` (`user_id`,`ord`);--> statement-breakpoint
CREATE TABLE `professional_profiles` (
	`user_id` text PRIMARY KEY NOT NULL,
	`headline` text,
	`summary` text,
	`industry` text,
	`open_to_work` integer DEFAULT false NOT NULL,
	`visibility` text DEFAULT 'public' NOT NULL,
	`skills` text DEFAULT '[]' NOT NULL,
	`certifications` text DEFAULT '[]' NOT NULL,
	`languages` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `news_items` (
	`id` text PRIMARY KEY NOT NULL,
	`source_id` text NOT NULL,
	`key` text NOT NULL,
	`title` text NOT NULL,
	`url` text,
	`summary` text DEFAULT '' NOT NULL,
	`image_url` text,
	`topic` text NOT NULL,
	`published_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `news_sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `news_items_source_key_idx` ON `news_items` (`source_id`,`key`);--> statement-breakpoint
CREATE INDEX `news_items_source_published_idx` ON `news_items` (`source_id`,`published_at`);--> statement-breakpoint
CREATE INDEX `news_items_published_idx` ON `news_items` (`published_at`,`id`);--> statement-breakpoint
CREATE INDEX `news_items_topic_published_idx` ON `news_items` (`topic`,`published_at`,`id`);--> statement-breakpoint
CREATE TABLE `news_sources` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`title` text NOT NULL,
	`title_fixed` integer DEFAULT false NOT NULL,
	`topic` text NOT NULL,
	`created_by` text,
	`etag` text,
	`last_modified` text,
	`last_fetched_at` integer,
	`last_status` text,
	`last_http_status` integer,
	`last_error` text,
	`item_count` integer DEFAULT 0 NOT NULL,
	`failure_count` integer DEFAULT 0 NOT NULL,
	`next_fetch_at` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `news_sources_url_unique` ON `news_sources` (`url`);--> statement-breakpoint
CREATE INDEX `news_sources_due_idx` ON `news_sources` (`next_fetch_at`);--> statement-breakpoint
DROP INDEX `posts_author_created_idx`;--> statement-breakpoint
DROP INDEX `posts_visibility_created_idx`;--> statement-breakpoint
DROP INDEX `posts_topic_created_idx`;--> statement-breakpoint
ALTER TABLE `posts` ADD `space` text DEFAULT 'personal' NOT NULL;--> statement-breakpoint
CREATE INDEX `posts_professional_author_idx` ON `posts` (`author_id`,`created_at`,`id`,`visibility`,`topic`) WHERE space = 'professional';--> statement-breakpoint
CREATE INDEX `posts_professional_visibility_idx` ON `posts` (`visibility`,`created_at`,`id`) WHERE space = 'professional';--> statement-breakpoint
CREATE INDEX `posts_professional_topic_idx` ON `posts` (`topic`,`visibility`,`created_at`,`id`) WHERE space = 'professional';--> statement-breakpoint
CREATE INDEX `posts_author_created_idx` ON `posts` (`author_id`,`created_at`,`id`,`visibility`,`space`);--> statement-breakpoint
CREATE INDEX `posts_visibility_created_idx` ON `posts` (`visibility`,`created_at`,`space`);--> statement-breakpoint
CREATE INDEX `posts_topic_created_idx` ON `posts` (`topic`,`visibility`,`created_at`,`space`);