import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';
import { users } from './users';

/**
 * Uploaded images. The R2 object key is `<owner id>-<sha256>`: content-addressed within an owner,
 * so identical re-uploads share one object and an owner's objects can be listed and removed by prefix.
 */
export const media = sqliteTable(
  'media',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['avatar', 'attachment'] }).notNull(),
    key: text('key').notNull(),
    contentType: text('content_type', { enum: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] }).notNull(),
    size: integer('size').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    /**
     * When the upload last left a post or message with none left using it (the post deleted by anyone or
     * the image edited out, the message deleted or removed, the conversation gone), kept by triggers on
     * post_media and message_media; null while one uses it, or before any did. Such an image is withdrawn
     * from the public (GET /media/{key}: its owner and staff only) unless another use keeps it (see
     * MEDIA_WITHDRAWN_SQL in src/modules/media/media.service.ts).
     */
    detachedAt: timestampMs('detached_at'),
    /**
     * Legacy, no longer set: sent in a message before message_media recorded which messages carry an
     * upload (migration 0025). Nobody knows whether such a message still lives, so these stay public.
     */
    sentInMessage: integer('sent_in_message', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('media_owner_kind_key_idx').on(t.ownerId, t.kind, t.key), index('media_key_idx').on(t.key)],
);

export type MediaRow = typeof media.$inferSelect;

/**
 * Attachment uploads no post or message has used yet, by upload time: a row is made with the upload and
 * removed by triggers when a post or message first uses it (migrations/0034). The cron deletes the ones
 * left unused a day after their upload (src/modules/media/unattached.ts): nobody keeps storage, or a
 * capability URL, for images that were never shown to anyone.
 */
export const unattachedMedia = sqliteTable(
  'unattached_media',
  {
    mediaId: text('media_id')
      .primaryKey()
      .references(() => media.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [index('unattached_media_created_idx').on(t.createdAt)],
);

/**
 * Objects a ConversationRoom's kept copy still points at: an unsent message, or an earlier version of an
 * edited one, is kept for 30 days so that the people it was sent to can report it
 * (src/modules/messaging/room-messages.ts, KEEP_FOR_REPORTS_MS), and its images must outlive their
 * owner's DELETE /media/{id} as long as it does. While a hold lasts, an object no `media` row names any
 * more stays in R2 for staff only (GET /media/{key}: 404 to everyone else, its owner included); the
 * ten-minute cron deletes it once `until` has passed (src/modules/media/media-holds.ts). Keyed by the
 * object's key, not an upload id: the upload row is what its owner deletes. Goes with the owner's account.
 */
export const mediaHolds = sqliteTable(
  'media_holds',
  {
    key: text('key').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    until: timestampMs('until').notNull(),
  },
  (t) => [index('media_holds_owner_idx').on(t.ownerId), index('media_holds_until_idx').on(t.until)],
);
