import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { posts } from './posts';
import { users } from './users';

/**
 * Materialised home timelines of recent readers (fan-out on write, for active users only).
 * A row here says: until `expires_at`, every post that belongs in this user's home feed and sorts at
 * or after (floor_at, floor_id) has an entry in home_timeline_entries. The first home read of a user
 * without a live timeline builds one from the pull query (the newest page of their feed); from then on
 * triggers (migrations/0008_home_timeline_triggers.sql) add each new post to the timelines of its
 * audience, and any change to what the user's feed draws from (a follow, a friendship, a community,
 * an unmute) drops the timeline, to be rebuilt on the next read. Times come from D1's clock.
 */
export const homeTimelines = sqliteTable(
  'home_timelines',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    floorAt: integer('floor_at').notNull(),
    floorId: text('floor_id').notNull(),
    /**
     * The pulled sources this reader draws from (src/modules/feeds/hybrid.ts), as JSON
     * `{"a":[[author id, level], …],"c":[community id, …]}` (level 1 = friend, 0 = followed): their
     * posts are never pushed into timelines, so reads merge them in. Set when the timeline is built,
     * and extended when a source the reader draws from crosses the push threshold.
     */
    pulls: text('pulls').notNull().default('{"a":[],"c":[]}'),
  },
  // Builds collect a few expired timelines each, oldest first.
  (t) => [index('home_timelines_expires_idx').on(t.expiresAt)],
);

/**
 * Authors and communities whose audience crossed the push threshold (FAN_OUT_PUSH_LIMIT in
 * src/modules/feeds/hybrid.ts): their posts are pulled at read time instead of pushed into every
 * follower's timeline. The mark is kept (an audience that shrinks back only costs its readers a few
 * index probes, while unmarking would need every follower's timeline rebuilt).
 */
export const pulledSources = sqliteTable('timeline_pulled_sources', {
  sourceId: text('source_id').primaryKey(),
  kind: text('kind', { enum: ['author', 'community'] }).notNull(),
  /** When the source crossed the threshold (ms), and its audience then. */
  since: integer('since').notNull(),
  audience: integer('audience').notNull(),
});

/** One post in one reader's materialised home timeline, keyed like the feed: (created_at, post_id). */
export const homeTimelineEntries = sqliteTable(
  'home_timeline_entries',
  {
    userId: text('user_id')
      .notNull()
      .references(() => homeTimelines.userId, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.createdAt, t.postId] }), index('home_timeline_entries_post_idx').on(t.postId)],
);
