import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { timestampMs } from './columns';
import { users } from './users';

/**
 * Archives of an account's data (POST /me/exports): built by the kith-exports queue into R2 at
 * `exports/<user id>/<export id>.zip`, downloadable by the account until `expires_at`, then deleted (row
 * and object) by the Cron Trigger; an account's deletion removes them with it.
 */
export const accountExports = sqliteTable(
  'account_exports',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'ready', 'failed'] }).notNull(),
    requestedAt: timestampMs('requested_at').notNull(),
    readyAt: timestampMs('ready_at'),
    expiresAt: timestampMs('expires_at'),
    sizeBytes: integer('size_bytes'),
  },
  (t) => [
    index('account_exports_user_idx').on(t.userId, t.requestedAt),
    index('account_exports_expires_idx').on(t.expiresAt),
    // One archive being built per account at a time: a second request while one is pending gets that one.
    uniqueIndex('account_exports_one_pending_idx').on(t.userId).where(sql`status = 'pending'`),
  ],
);

export type AccountExportRow = typeof accountExports.$inferSelect;
