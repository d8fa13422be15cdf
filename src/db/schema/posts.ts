import { sql } from 'drizzle-orm';
import { type AnySQLiteColumn, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { media } from './media';
import { users } from './users';

export const POST_VISIBILITIES = ['public', 'friends', 'private'] as const;
/** The personal side (home, discover, walls, communities) or the professional side (its own feed). */
export const POST_SPACES = ['personal', 'professional'] as const;
export type PostSpace = (typeof POST_SPACES)[number];

/**
 * Posts. `target_user_id` set = a wall post on that user's wall. Counters are kept by triggers
 * (migrations/*_counters.sql) in the same transaction as the row they count, so they cannot drift.
 */
export const posts = sqliteTable(
  'posts',
  {
    id: text('id').primaryKey(),
    authorId: text('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    targetUserId: text('target_user_id').references(() => users.id, { onDelete: 'cascade' }),
    communityId: text('community_id'),
    content: text('content').notNull().default(''),
    topic: text('topic'),
    visibility: text('visibility', { enum: POST_VISIBILITIES }).notNull().default('public'),
    /** Set at creation and never changed; professional posts are never wall or community posts. */
    space: text('space', { enum: POST_SPACES }).notNull().default('personal'),
    likeCount: integer('like_count').notNull().default(0),
    commentCount: integer('comment_count').notNull().default(0),
    /** Lower-cased `#words` of the content (src/modules/tags/hashtags.ts), also rows of post_tags. */
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Held for review by a content rule or a spam hold: seen by its author and staff only until released. */
    held: integer('held', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
    editedAt: timestampMs('edited_at'),
  },
  (t) => [
    // visibility and space are carried so the home feed's per-author scans never touch the table.
    index('posts_author_created_idx').on(t.authorId, t.createdAt, t.id, t.visibility, t.space),
    index('posts_target_created_idx').on(t.targetUserId, t.createdAt, t.id),
    // space is carried so discover's candidate scans skip professional posts without reading rows.
    index('posts_visibility_created_idx').on(t.visibility, t.createdAt, t.space),
    index('posts_topic_created_idx').on(t.topic, t.visibility, t.createdAt, t.space),
    index('posts_community_created_idx').on(t.communityId, t.createdAt, t.id),
    // The professional feed's own indexes hold professional posts only (partial), so its scans never
    // walk past the far more numerous personal posts.
    index('posts_professional_author_idx').on(t.authorId, t.createdAt, t.id, t.visibility, t.topic).where(sql`space = 'professional'`),
    index('posts_professional_visibility_idx').on(t.visibility, t.createdAt, t.id).where(sql`space = 'professional'`),
    index('posts_professional_topic_idx').on(t.topic, t.visibility, t.createdAt, t.id).where(sql`space = 'professional'`),
  ],
);

export const postMedia = sqliteTable(
  'post_media',
  {
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    mediaId: text('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.position] }), index('post_media_media_idx').on(t.mediaId)],
);

export const likes = sqliteTable(
  'likes',
  {
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.userId] }),
    index('likes_post_created_idx').on(t.postId, t.createdAt),
    index('likes_user_created_idx').on(t.userId, t.createdAt),
  ],
);

/** Why a comment is held (comments.held_reason). */
export const COMMENT_HOLDS = ['review', 'silence'] as const;
export type CommentHold = (typeof COMMENT_HOLDS)[number];

/** Comments, with one level of replies (`parent_id` points at a top-level comment). */
export const comments = sqliteTable(
  'comments',
  {
    id: text('id').primaryKey(),
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    authorId: text('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    parentId: text('parent_id').references((): AnySQLiteColumn => comments.id, { onDelete: 'cascade' }),
    content: text('content').notNull(),
    replyCount: integer('reply_count').notNull().default(0),
    /** Held for review, like a post's `held`. */
    held: integer('held', { mode: 'boolean' }).notNull().default(false),
    /**
     * Why it is held: `review` (a content rule or spam hold, with its automatic report: a moderator
     * releases it) or `silence` (its author was silenced and the post's author neither followed nor
     * befriended them: released when the silence is lifted). Null while it is not held.
     */
    heldReason: text('held_reason', { enum: COMMENT_HOLDS }),
    /**
     * The ids its `mention` notifications went to, recorded when it was announced, so that deleting it
     * withdraws them whatever those accounts are called by then. Null when nothing was recorded (never
     * announced, mentioning nobody, or announced before migration 0036): its text is read again.
     */
    mentionedIds: text('mentioned_ids', { mode: 'json' }).$type<string[]>(),
    createdAt: createdAt(),
  },
  (t) => [
    index('comments_post_parent_created_idx').on(t.postId, t.parentId, t.createdAt, t.id),
    index('comments_author_idx').on(t.authorId),
  ],
);

export type PostRow = typeof posts.$inferSelect;
export type CommentRow = typeof comments.$inferSelect;

/**
 * `Idempotency-Key`s of create requests (POST /posts, POST /posts/{id}/comments: src/lib/idempotency.ts),
 * per account and route: the request's fingerprint and what it created, so a retried request returns
 * that instead of creating it twice. Written in the batch that creates the resource; kept 24 hours
 * (pruned every minute).
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    resourceId: text('resource_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.scope, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
