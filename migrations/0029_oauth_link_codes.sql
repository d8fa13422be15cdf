ALTER TABLE `oauth_codes` ADD `subject` text;--> statement-breakpoint
ALTER TABLE `oauth_codes` ADD `email` text;