import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';
import { posts } from './posts';
import { users } from './users';

/**
 * One row per hashtag of a post (the post's `tags`, parsed on write and edit). `created_at` is the
 * post's, so a tag's posts are one index range newest first, and the trends job reads a time window.
 */
export const postTags = sqliteTable(
  'post_tags',
  {
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.tag] }),
    index('post_tags_tag_created_idx').on(t.tag, t.createdAt, t.postId),
    index('post_tags_created_idx').on(t.createdAt, t.tag),
  ],
);

/**
 * Every tag in use, with how many posts carry it: kept by triggers on post_tags (a tag whose last post
 * goes is deleted), searched through tags_fts (migrations/*_search.sql).
 */
export const tags = sqliteTable('tags', {
  tag: text('tag').primaryKey(),
  postCount: integer('post_count').notNull().default(0),
  lastUsedAt: integer('last_used_at').notNull(),
});

/**
 * Trending tags, rewritten whole by the trends Cron job (src/modules/tags/trends.ts): what
 * GET /trends/tags reads in `rank` order, one index range.
 */
export const tagTrends = sqliteTable(
  'tag_trends',
  {
    tag: text('tag').primaryKey(),
    rank: integer('rank').notNull(),
    uses24h: integer('uses_24h').notNull(),
    accounts24h: integer('accounts_24h').notNull(),
    /** Expected accounts a day, from the week before the last 24 hours. */
    baseline: real('baseline').notNull(),
    score: real('score').notNull(),
    computedAt: integer('computed_at').notNull(),
  },
  (t) => [index('tag_trends_rank_idx').on(t.rank)],
);

/** People a user dismissed from their suggestions (DELETE /suggestions/{user_id}): never suggested again. */
export const suggestionDismissals = sqliteTable(
  'suggestion_dismissals',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    dismissedId: text('dismissed_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.dismissedId] })],
);

/**
 * A user's computed suggestions, kept 10 minutes (src/modules/suggestions/). Triggers delete the row
 * whenever the user's graph changes (follows, friendships, requests, blocks, communities, dismissals,
 * their place), in the same transaction as the change.
 */
export const suggestionCache = sqliteTable('suggestion_cache', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  computedAt: integer('computed_at').notNull(),
  /** `[{ id, reasons, mutual_count, mutuals: [id] }]`, best first. */
  entries: text('entries').notNull(),
});

/**
 * Typeahead rankings shared by every viewer (src/modules/search/user-search.ts): for one full-text
 * query, its USER_SEARCH_KEPT best matches by the part of the score that does not depend on who asks,
 * kept for USER_SEARCH_TTL_MS. A request adds what does depend on the viewer (people they know, the
 * exact username, who they may find) instead of ranking thousands of matches again. Pruned by the
 * trends Cron.
 */
export const userSearchCache = sqliteTable(
  'user_search_cache',
  {
    /** The FTS5 query (prefixes), as ftsMatch builds it. */
    query: text('query').primaryKey(),
    computedAt: integer('computed_at').notNull(),
    /** `[[users.rowid, base score], …]`. */
    entries: text('entries').notNull(),
    /** The lowest base score kept; every match not kept scores at most this. Null when every match is kept. */
    cutoff: real('cutoff'),
    /** 1 when relevance is bm25 (the query had few matches), 0 when it is 1 for every match. */
    byText: integer('by_text').notNull(),
  },
  (t) => [index('user_search_cache_computed_idx').on(t.computedAt)],
);

export type PostTagRow = typeof postTags.$inferSelect;
