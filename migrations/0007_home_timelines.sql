CREATE TABLE `home_timeline_entries` (
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`post_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `created_at`, `post_id`),
	FOREIGN KEY (`user_id`) REFERENCES `home_timelines`(`user_id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `home_timeline_entries_post_idx` ON `home_timeline_entries` (`post_id`);--> statement-breakpoint
CREATE TABLE `home_timelines` (
	`user_id` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL,
	`floor_at` integer NOT NULL,
	`floor_id` text NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `home_timelines_expires_idx` ON `home_timelines` (`expires_at`);