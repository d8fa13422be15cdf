import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { media } from './media';
import { users } from './users';

/**
 * The conversation index. Messages themselves live in each conversation's ConversationRoom Durable
 * Object; the room keeps `last_seq`, `last_message` and `last_activity_at` here up to date.
 */
export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['direct', 'group', 'community'] }).notNull(),
    title: text('title'),
    createdBy: text('created_by').notNull(),
    /** `<smaller user id>:<larger user id>` for direct conversations: one per pair. */
    directKey: text('direct_key').unique(),
    createdAt: createdAt(),
    lastActivityAt: timestampMs('last_activity_at').notNull(),
    lastSeq: integer('last_seq').notNull().default(0),
    lastMessage: text('last_message', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
);

/** Members, their role and read position; `unread_count` and `last_activity_at` are kept by the room. */
export const conversationMembers = sqliteTable(
  'conversation_members',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['admin', 'member'] }).notNull(),
    joinedAt: createdAt(),
    lastReadSeq: integer('last_read_seq').notNull().default(0),
    unreadCount: integer('unread_count').notNull().default(0),
    lastActivityAt: timestampMs('last_activity_at').notNull(),
    /**
     * A message request: the member neither follows nor is friends with whoever started the conversation
     * or added them (`added_by`). Cleared when they accept (POST /accept, or by sending a message).
     */
    request: integer('request', { mode: 'boolean' }).notNull().default(false),
    addedBy: text('added_by'),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index('conversation_members_user_activity_idx').on(t.userId, t.lastActivityAt, t.conversationId),
    // GET /conversations?folder=requests|inbox: one range per folder.
    index('conversation_members_user_folder_idx').on(t.userId, t.request, t.lastActivityAt, t.conversationId),
  ],
);

/** Members who declined a request: only someone they follow or are friends with may add them back. */
export const conversationDeclines = sqliteTable(
  'conversation_declines',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    declinedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] })],
);

/**
 * Who left a conversation (left or was removed from a group, declined a request, left a community and so
 * its chat): D1 then no longer lists them as a member, but the room keeps what they wrote, so a deletion
 * of their account reads this to find those rooms too (src/modules/users/account-erasure.ts). Written in
 * the batch that removes the membership; it goes with the account or the conversation.
 */
export const conversationDepartures = sqliteTable(
  'conversation_departures',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    leftAt: timestampMs('left_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] }), index('conversation_departures_user_idx').on(t.userId)],
);

/**
 * Which live messages carry which upload: while a row names an upload, GET /media/{key} serves it to
 * whoever has its URL (src/modules/media/media.service.ts). The room writes a message's rows before it
 * stores the message (room-outbox.ts, recordMedia) and deletes them through its outbox once the message
 * stops carrying them (a tombstone: its sender, moderation, the sender's account deletion); a deleted
 * conversation takes its rows with it (cascade), and triggers keep `media.detached_at`
 * (migrations/0026_message_media_triggers.sql).
 */
export const messageMedia = sqliteTable(
  'message_media',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    mediaId: text('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.mediaId] }), index('message_media_media_idx').on(t.mediaId), index('message_media_conversation_idx').on(t.conversationId)],
);

export type ConversationRow = typeof conversations.$inferSelect;
