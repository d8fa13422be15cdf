CREATE TABLE `post_tags` (
	`post_id` text NOT NULL,
	`tag` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`post_id`, `tag`),
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `post_tags_tag_created_idx` ON `post_tags` (`tag`,`created_at`,`post_id`);--> statement-breakpoint
CREATE INDEX `post_tags_created_idx` ON `post_tags` (`created_at`,`tag`);--> statement-breakpoint
CREATE TABLE `suggestion_cache` (
	`user_id` text PRIMARY KEY NOT NULL,
	`computed_at` integer NOT NULL,
	`entries` text NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `suggestion_dismissals` (
	`user_id` text NOT NULL,
	`dismissed_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `dismissed_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`dismissed_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tag_trends` (
	`tag` text PRIMARY KEY NOT NULL,
	`rank` integer NOT NULL,
	`uses_24h` integer NOT NULL,
	`accounts_24h` integer NOT NULL,
	`baseline` real NOT NULL,
	`score` real NOT NULL,
	`computed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tag_trends_rank_idx` ON `tag_trends` (`rank`);--> statement-breakpoint
CREATE TABLE `tags` (
	`tag` text PRIMARY KEY NOT NULL,
	`post_count` integer DEFAULT 0 NOT NULL,
	`last_used_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `users` ADD `discoverable` integer DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX `users_popular_idx` ON `users` (`followers_count`,`id`) WHERE discoverable = 1 AND suspended_at IS NULL AND silenced_at IS NULL;--> statement-breakpoint
ALTER TABLE `posts` ADD `tags` text DEFAULT '[]' NOT NULL;