CREATE TABLE `conversation_declines` (
	`conversation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `user_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `users` ADD `message_policy` text DEFAULT 'everyone' NOT NULL;--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `request` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `conversation_members` ADD `added_by` text;--> statement-breakpoint
CREATE INDEX `conversation_members_user_folder_idx` ON `conversation_members` (`user_id`,`request`,`last_activity_at`,`conversation_id`);