import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { sessions } from './auth';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

export const PUSH_POLICIES = ['all', 'followed', 'friends', 'none'] as const;
export type PushPolicy = (typeof PUSH_POLICIES)[number];

/**
 * Web Push subscriptions (Mastodon's API): one per session (signed-in device), so signing a device out
 * stops its pushes. `alerts` maps notification types to on/off; `policy` says whose notifications push.
 */
export const pushSubscriptions = sqliteTable(
  'push_subscriptions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id')
      .notNull()
      .unique()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    endpoint: text('endpoint').notNull(),
    /** The browser's P-256 public key (65-byte uncompressed point) and 16-byte auth secret, base64url. */
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    alerts: text('alerts', { mode: 'json' }).$type<Record<string, boolean>>().notNull(),
    policy: text('policy', { enum: PUSH_POLICIES }).notNull().default('all'),
    createdAt: createdAt(),
    updatedAt: timestampMs('updated_at').notNull(),
    lastDeliveredAt: timestampMs('last_delivered_at'),
    /** Consecutive refused deliveries (not 404/410, which delete the subscription). */
    failures: integer('failures').notNull().default(0),
  },
  (t) => [index('push_subscriptions_user_idx').on(t.userId, t.updatedAt)],
);

export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect;
