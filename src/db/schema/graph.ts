import { sql } from 'drizzle-orm';
import { index, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

const userRef = (name: string) =>
  text(name)
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' });

/** A follow edge. `pending` = a request to follow a private account, waiting for the owner. */
export const follows = sqliteTable(
  'follows',
  {
    followerId: userRef('follower_id'),
    followeeId: userRef('followee_id'),
    status: text('status', { enum: ['accepted', 'pending'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    index('follows_followee_idx').on(t.followeeId, t.status, t.createdAt),
    index('follows_follower_idx').on(t.followerId, t.status, t.createdAt),
  ],
);

/** Friendship, stored once per direction so "my friends" is one index range. */
export const friendships = sqliteTable(
  'friendships',
  {
    userId: userRef('user_id'),
    friendId: userRef('friend_id'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.friendId] }), index('friendships_user_created_idx').on(t.userId, t.createdAt)],
);

/** Friend requests and what became of them; at most one pending request per ordered pair. */
export const friendRequests = sqliteTable(
  'friend_requests',
  {
    id: text('id').primaryKey(),
    fromUserId: userRef('from_user_id'),
    toUserId: userRef('to_user_id'),
    status: text('status', { enum: ['pending', 'accepted', 'declined', 'cancelled'] }).notNull(),
    createdAt: createdAt(),
    respondedAt: timestampMs('responded_at'),
  },
  (t) => [
    uniqueIndex('friend_requests_pending_pair_idx').on(t.fromUserId, t.toUserId).where(sql`status = 'pending'`),
    index('friend_requests_to_idx').on(t.toUserId, t.status, t.createdAt),
    index('friend_requests_from_idx').on(t.fromUserId, t.status, t.createdAt),
  ],
);

/**
 * The owner of a private account rejected this follow request: for 30 days the same account may not ask
 * again (REQUEST_COOLDOWN_MS in src/modules/graph/graph.service.ts). One row per pair, the latest
 * rejection; it goes with either account.
 */
export const followRejections = sqliteTable(
  'follow_rejections',
  {
    followerId: userRef('follower_id'),
    followeeId: userRef('followee_id'),
    rejectedAt: timestampMs('rejected_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.followerId, t.followeeId] })],
);

export const blocks = sqliteTable(
  'blocks',
  {
    blockerId: userRef('blocker_id'),
    blockedId: userRef('blocked_id'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] }), index('blocks_blocked_idx').on(t.blockedId, t.blockerId)],
);

/** Mutes hide an account's posts from the muter's feeds without telling anyone. */
export const mutes = sqliteTable(
  'mutes',
  {
    muterId: userRef('muter_id'),
    mutedId: userRef('muted_id'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.muterId, t.mutedId] })],
);
