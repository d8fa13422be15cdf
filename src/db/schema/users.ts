import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';

/** Accounts and their profiles. `username` and `email` are stored lower-cased, so unique means case-insensitively unique. */
export const SITE_ROLES = ['user', 'moderator', 'admin'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull().unique(),
    email: text('email').notNull().unique(),
    /** {@link NO_PASSWORD} for accounts made by an OAuth sign-in until they set one (password reset). */
    passwordHash: text('password_hash').notNull(),
    /** When the current `email` was proven (a link from a mail, a password reset, or a provider that verified it). */
    emailVerifiedAt: timestampMs('email_verified_at'),
    displayName: text('display_name').notNull(),
    bio: text('bio').notNull().default(''),
    avatarKey: text('avatar_key'),
    locationCountry: text('location_country'),
    locationRegion: text('location_region'),
    locationCity: text('location_city'),
    website: text('website'),
    links: text('links', { mode: 'json' }).$type<ProfileLink[]>().notNull().default(sql`'[]'`),
    birthdate: text('birthdate'),
    gender: text('gender', { enum: ['female', 'male', 'nonbinary'] }),
    visibility: text('visibility', { enum: ['public', 'private'] }).notNull().default('public'),
    /** Who may post on this user's wall. */
    wallPolicy: text('wall_policy', { enum: ['everyone', 'friends', 'nobody'] }).notNull().default('friends'),
    /** Who may start a conversation with this user or add them to one (src/policy/messaging.ts). */
    messagePolicy: text('message_policy', { enum: ['everyone', 'following', 'friends', 'nobody'] }).notNull().default('everyone'),
    isVerified: integer('is_verified', { mode: 'boolean' }).notNull().default(false),
    /** Found in search by people who neither follow nor befriend the account, and suggested to others. */
    discoverable: integer('discoverable', { mode: 'boolean' }).notNull().default(true),
    /** Site role: staff (moderators and admins) use /api/v1/admin/*. */
    role: text('role', { enum: SITE_ROLES }).notNull().default('user'),
    /**
     * Account actions (src/modules/moderation/account-actions.ts). Set = in force since then; `*_until`
     * null = until lifted by hand, else the Cron Trigger lifts it at that time.
     */
    suspendedAt: timestampMs('suspended_at'),
    suspendedUntil: timestampMs('suspended_until'),
    silencedAt: timestampMs('silenced_at'),
    silencedUntil: timestampMs('silenced_until'),
    postsCount: integer('posts_count').notNull().default(0),
    followersCount: integer('followers_count').notNull().default(0),
    followingCount: integer('following_count').notNull().default(0),
    friendsCount: integer('friends_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestampMs('updated_at').notNull().$defaultFn(() => new Date()),
  },
  (t) => [
    index('users_location_idx').on(t.locationCountry, t.locationRegion, t.locationCity),
    // Admin stats: accounts created in the last day, counted from the index.
    index('users_created_idx').on(t.createdAt),
    // The Cron Trigger finds timed actions that are due without scanning every account.
    index('users_suspended_until_idx').on(t.suspendedUntil).where(sql`suspended_until IS NOT NULL`),
    index('users_silenced_until_idx').on(t.silencedUntil).where(sql`silenced_until IS NOT NULL`),
    // Suggestions' popular accounts for newcomers: the most followed accounts that may be suggested.
    index('users_popular_idx')
      .on(t.followersCount, t.id)
      .where(sql`discoverable = 1 AND suspended_at IS NULL AND silenced_at IS NULL`),
  ],
);

/**
 * The stored hash of an account without a password (created by an OAuth sign-in). No password verifies
 * against it; a password reset sets a real one.
 */
export const NO_PASSWORD = '';

export interface ProfileLink {
  label: string;
  url: string;
}

export type UserRow = typeof users.$inferSelect;

/** The columns the public-user shape and the visibility rules need. */
export type UserSummary = Pick<UserRow, 'id' | 'username' | 'displayName' | 'avatarKey' | 'bio' | 'isVerified' | 'visibility' | 'suspendedAt' | 'silencedAt'>;
