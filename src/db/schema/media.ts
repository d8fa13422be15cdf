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
     * When the upload last left a post with no post left using it (the post deleted by anyone, or the image
     * edited out), kept by triggers on post_media; null while a post uses it, or before any did. Such an
     * image is withdrawn from the public (GET /media/{key}: its owner and staff only) unless another use
     * keeps it (see MEDIA_WITHDRAWN_SQL in src/modules/media/media.service.ts).
     */
    detachedAt: timestampMs('detached_at'),
    /** Sent in a message once: the conversation's members keep seeing it, whatever becomes of posts. */
    sentInMessage: integer('sent_in_message', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('media_owner_kind_key_idx').on(t.ownerId, t.kind, t.key), index('media_key_idx').on(t.key)],
);

export type MediaRow = typeof media.$inferSelect;
