import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

/** What the last fetch of a source came to: new content, nothing new (304 or no new items), or a failure. */
export const NEWS_FETCH_STATUSES = ['ok', 'not_modified', 'error'] as const;
export type NewsFetchStatus = (typeof NEWS_FETCH_STATUSES)[number];

/**
 * Feeds that staff subscribe the news segment to. The cron tick queues every source whose
 * `next_fetch_at` has come; a fetch records its outcome here and schedules the next one (later and
 * later while a source keeps failing). `etag` and `last_modified` make the next fetch conditional.
 */
export const newsSources = sqliteTable(
  'news_sources',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull().unique(),
    title: text('title').notNull(),
    /** Set by staff (true) or taken from the feed's own title on the first fetch (false). */
    titleFixed: integer('title_fixed', { mode: 'boolean' }).notNull().default(false),
    topic: text('topic').notNull(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    etag: text('etag'),
    lastModified: text('last_modified'),
    lastFetchedAt: timestampMs('last_fetched_at'),
    lastStatus: text('last_status', { enum: NEWS_FETCH_STATUSES }),
    lastHttpStatus: integer('last_http_status'),
    lastError: text('last_error'),
    itemCount: integer('item_count').notNull().default(0),
    /** Consecutive failed fetches; drives the back-off. */
    failureCount: integer('failure_count').notNull().default(0),
    /** Epoch ms; the source is due when this has passed (0 = at the next tick). */
    nextFetchAt: integer('next_fetch_at').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestampMs('updated_at').notNull().$defaultFn(() => new Date()),
  },
  (t) => [index('news_sources_due_idx').on(t.nextFetchAt)],
);

/**
 * One item of one source, kept once: `key` is the item's guid (or id), else its link. `topic` is the
 * source's, copied so the topic filter is one index range (a source's topic change rewrites its items').
 */
export const newsItems = sqliteTable(
  'news_items',
  {
    id: text('id').primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => newsSources.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    title: text('title').notNull(),
    url: text('url'),
    summary: text('summary').notNull().default(''),
    imageUrl: text('image_url'),
    topic: text('topic').notNull(),
    publishedAt: timestampMs('published_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('news_items_source_key_idx').on(t.sourceId, t.key),
    index('news_items_source_published_idx').on(t.sourceId, t.publishedAt),
    index('news_items_published_idx').on(t.publishedAt, t.id),
    index('news_items_topic_published_idx').on(t.topic, t.publishedAt, t.id),
  ],
);

export type NewsSourceRow = typeof newsSources.$inferSelect;
export type NewsItemRow = typeof newsItems.$inferSelect;
