ALTER TABLE `oauth_codes` ADD `app_code_challenge` text;--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `app_code_challenge` text;