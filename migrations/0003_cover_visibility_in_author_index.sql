DROP INDEX `posts_author_created_idx`;--> statement-breakpoint
CREATE INDEX `posts_author_created_idx` ON `posts` (`author_id`,`created_at`,`id`,`visibility`);