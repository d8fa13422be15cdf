import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { sessions } from './auth';
import { timestampMs } from './columns';
import { users } from './users';

/**
 * The TURN credentials handed out (Cloudflare Realtime, src/modules/calls/calls.service.ts), one set per
 * session and isolate, kept by username (not a secret: the credential itself is never stored) so that
 * signing the session out, suspending or deleting the account revokes them at Cloudflare before they
 * expire. `key_id` is the TURN key that made them (only that key may revoke them).
 */
export const turnCredentials = sqliteTable(
  'turn_credentials',
  {
    username: text('username').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    keyId: text('key_id').notNull(),
    expiresAt: timestampMs('expires_at').notNull(),
  },
  (t) => [index('turn_credentials_user_idx').on(t.userId), index('turn_credentials_session_idx').on(t.sessionId), index('turn_credentials_expires_idx').on(t.expiresAt)],
);
