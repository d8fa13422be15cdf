import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Queue messages that could not be handled: malformed ones (with why), and ones whose retries ran out.
 * Written by the dead-letter queue's consumer (src/queues/dead-letters.ts) for an operator to read.
 */
export const deadLetters = sqliteTable(
  'queue_dead_letters',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    reason: text('reason').notNull(),
    body: text('body').notNull(),
    attempts: integer('attempts').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('queue_dead_letters_created_idx').on(t.createdAt)],
);
