ALTER TABLE `media` ADD `detached_at` integer;--> statement-breakpoint
ALTER TABLE `media` ADD `sent_in_message` integer DEFAULT false NOT NULL;