import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

export const FILTER_CONTEXTS = ['home', 'discover', 'community', 'notifications', 'profile'] as const;
export type FilterContext = (typeof FILTER_CONTEXTS)[number];
export const FILTER_ACTIONS = ['warn', 'hide'] as const;

/** Personal filters (Mastodon v2 shape): applied to what their owner reads, in the listed contexts. */
export const filters = sqliteTable(
  'filters',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    context: text('context', { mode: 'json' }).$type<FilterContext[]>().notNull(),
    action: text('action', { enum: FILTER_ACTIONS }).notNull(),
    expiresAt: timestampMs('expires_at'),
    createdAt: createdAt(),
  },
  (t) => [index('filters_user_idx').on(t.userId, t.createdAt, t.id)],
);

export const filterKeywords = sqliteTable(
  'filter_keywords',
  {
    id: text('id').primaryKey(),
    filterId: text('filter_id')
      .notNull()
      .references(() => filters.id, { onDelete: 'cascade' }),
    keyword: text('keyword').notNull(),
    wholeWord: integer('whole_word', { mode: 'boolean' }).notNull().default(true),
    position: integer('position').notNull(),
  },
  (t) => [index('filter_keywords_filter_idx').on(t.filterId, t.position)],
);

export type FilterRow = typeof filters.$inferSelect;
