CREATE TABLE `message_media` (
	`conversation_id` text NOT NULL,
	`message_id` text NOT NULL,
	`media_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `media_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`media_id`) REFERENCES `media`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `message_media_media_idx` ON `message_media` (`media_id`);--> statement-breakpoint
CREATE INDEX `message_media_conversation_idx` ON `message_media` (`conversation_id`);