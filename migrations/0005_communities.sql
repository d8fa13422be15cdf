CREATE TABLE `communities` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`name_key` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`avatar_key` text,
	`country` text,
	`region` text,
	`city` text,
	`region_key` text,
	`city_key` text,
	`min_age` integer,
	`max_age` integer,
	`gender` text DEFAULT 'any' NOT NULL,
	`visibility` text DEFAULT 'public' NOT NULL,
	`join_policy` text DEFAULT 'open' NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`conversation_id` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `communities_slug_unique` ON `communities` (`slug`);--> statement-breakpoint
CREATE UNIQUE INDEX `communities_conversation_id_unique` ON `communities` (`conversation_id`);--> statement-breakpoint
CREATE INDEX `communities_place_idx` ON `communities` (`country`,`region_key`,`city_key`);--> statement-breakpoint
CREATE INDEX `communities_region_idx` ON `communities` (`region_key`);--> statement-breakpoint
CREATE INDEX `communities_city_idx` ON `communities` (`city_key`);--> statement-breakpoint
CREATE INDEX `communities_members_idx` ON `communities` (`member_count`,`id`);--> statement-breakpoint
CREATE INDEX `communities_name_idx` ON `communities` (`name_key`,`id`);--> statement-breakpoint
CREATE INDEX `communities_gender_idx` ON `communities` (`gender`,`member_count`);--> statement-breakpoint
CREATE INDEX `communities_min_age_idx` ON `communities` (`min_age`);--> statement-breakpoint
CREATE TABLE `community_members` (
	`community_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`community_id`, `user_id`),
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `community_members_role_idx` ON `community_members` (`community_id`,`role`,`created_at`,`user_id`);--> statement-breakpoint
CREATE INDEX `community_members_joined_idx` ON `community_members` (`community_id`,`created_at`,`user_id`);--> statement-breakpoint
CREATE INDEX `community_members_user_idx` ON `community_members` (`user_id`,`created_at`,`community_id`);