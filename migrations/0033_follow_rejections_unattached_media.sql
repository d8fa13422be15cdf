CREATE TABLE `unattached_media` (
	`media_id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`media_id`) REFERENCES `media`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `unattached_media_created_idx` ON `unattached_media` (`created_at`);--> statement-breakpoint
CREATE TABLE `follow_rejections` (
	`follower_id` text NOT NULL,
	`followee_id` text NOT NULL,
	`rejected_at` integer NOT NULL,
	PRIMARY KEY(`follower_id`, `followee_id`),
	FOREIGN KEY (`follower_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`followee_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
