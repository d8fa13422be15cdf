CREATE TABLE `account_exports` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`requested_at` integer NOT NULL,
	`ready_at` integer,
	`expires_at` integer,
	`size_bytes` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `account_exports_user_idx` ON `account_exports` (`user_id`,`requested_at`);--> statement-breakpoint
CREATE INDEX `account_exports_expires_idx` ON `account_exports` (`expires_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `account_exports_one_pending_idx` ON `account_exports` (`user_id`) WHERE status = 'pending';