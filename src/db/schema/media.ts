import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';
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
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('media_owner_kind_key_idx').on(t.ownerId, t.kind, t.key), index('media_key_idx').on(t.key)],
);

export type MediaRow = typeof media.$inferSelect;
