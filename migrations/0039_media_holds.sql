CREATE TABLE `media_holds` (
	`key` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`until` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `media_holds_owner_idx` ON `media_holds` (`owner_id`);--> statement-breakpoint
CREATE INDEX `media_holds_until_idx` ON `media_holds` (`until`);