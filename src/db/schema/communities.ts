import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

export const COMMUNITY_GENDERS = ['any', 'female', 'male', 'nonbinary'] as const;
export const COMMUNITY_VISIBILITIES = ['public', 'private'] as const;
export const JOIN_POLICIES = ['open', 'approval'] as const;
/** `pending` is an applicant waiting for approval; the others are members. */
export const COMMUNITY_ROLES = ['pending', 'member', 'moderator', 'owner'] as const;
export type CommunityRole = (typeof COMMUNITY_ROLES)[number];

/**
 * Communities. A community sits in the place hierarchy country → region → city (all null = global).
 * `region_key` and `city_key` are the lower-cased region and city, what filters and eligibility match
 * on, so "London" and "london" are one place. `member_count` is kept by triggers
 * (migrations/*_community_triggers.sql) and never counts pending applicants.
 */
export const communities = sqliteTable(
  'communities',
  {
    id: text('id').primaryKey(),
    /** Derived from the name at creation; unique and never changed, so links keep working after a rename. */
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    /** The name folded for A–Z order (lower case, accents removed), so "Ébano" sorts with "ebano". */
    nameKey: text('name_key').notNull(),
    description: text('description').notNull().default(''),
    avatarKey: text('avatar_key'),
    country: text('country'),
    region: text('region'),
    city: text('city'),
    regionKey: text('region_key'),
    cityKey: text('city_key'),
    minAge: integer('min_age'),
    maxAge: integer('max_age'),
    gender: text('gender', { enum: COMMUNITY_GENDERS }).notNull().default('any'),
    visibility: text('visibility', { enum: COMMUNITY_VISIBILITIES }).notNull().default('public'),
    joinPolicy: text('join_policy', { enum: JOIN_POLICIES }).notNull().default('open'),
    memberCount: integer('member_count').notNull().default(0),
    /** The community's chat (a `community` conversation whose members follow the community's). */
    conversationId: text('conversation_id').notNull().unique(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: timestampMs('updated_at').notNull().$defaultFn(() => new Date()),
  },
  (t) => [
    // Place filters and the eligibility lookups (one probe per level of the caller's place).
    index('communities_place_idx').on(t.country, t.regionKey, t.cityKey),
    index('communities_region_idx').on(t.regionKey),
    index('communities_city_idx').on(t.cityKey),
    // Orders of GET /communities: most members, name A–Z (newest uses the id, a ULID).
    index('communities_members_idx').on(t.memberCount, t.id),
    index('communities_name_idx').on(t.nameKey, t.id),
    // The `gender` and `age` filters when no place narrows the list.
    index('communities_gender_idx').on(t.gender, t.memberCount),
    index('communities_min_age_idx').on(t.minAge),
    // Admin stats: communities created in the last day.
    index('communities_created_idx').on(t.createdAt),
  ],
);

/** Who belongs to a community, and as what. A row with role `pending` is an application. */
export const communityMembers = sqliteTable(
  'community_members',
  {
    communityId: text('community_id')
      .notNull()
      .references(() => communities.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: COMMUNITY_ROLES }).notNull(),
    /** When they joined (or, while pending, when they applied). */
    joinedAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.communityId, t.userId] }),
    index('community_members_role_idx').on(t.communityId, t.role, t.joinedAt, t.userId),
    index('community_members_joined_idx').on(t.communityId, t.joinedAt, t.userId),
    index('community_members_user_idx').on(t.userId, t.joinedAt, t.communityId),
  ],
);

/**
 * Who may not join (nor apply to) a community: set by its owner or moderators when they remove someone
 * with `?ban=true` (or ban an outsider), lifted with DELETE /communities/{id}/bans/{user_id}.
 */
export const communityBans = sqliteTable(
  'community_bans',
  {
    communityId: text('community_id')
      .notNull()
      .references(() => communities.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The owner or moderator who banned them (null once that account is gone). */
    bannedBy: text('banned_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.communityId, t.userId] }),
    index('community_bans_created_idx').on(t.communityId, t.createdAt, t.userId),
    // An account's deletion finds its bans (and those it set) through these.
    index('community_bans_user_idx').on(t.userId),
    index('community_bans_banned_by_idx').on(t.bannedBy),
  ],
);

export type CommunityRow = typeof communities.$inferSelect;
export type CommunityMemberRow = typeof communityMembers.$inferSelect;
