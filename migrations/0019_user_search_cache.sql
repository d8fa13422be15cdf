CREATE TABLE `user_search_cache` (
	`query` text PRIMARY KEY NOT NULL,
	`computed_at` integer NOT NULL,
	`entries` text NOT NULL,
	`cutoff` real,
	`by_text` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `user_search_cache_computed_idx` ON `user_search_cache` (`computed_at`);