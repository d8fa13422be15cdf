CREATE TABLE `turn_credentials` (
	`username` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text NOT NULL,
	`key_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `turn_credentials_user_idx` ON `turn_credentials` (`user_id`);--> statement-breakpoint
CREATE INDEX `turn_credentials_session_idx` ON `turn_credentials` (`session_id`);--> statement-breakpoint
CREATE INDEX `turn_credentials_expires_idx` ON `turn_credentials` (`expires_at`);