import { integer } from 'drizzle-orm/sqlite-core';

/** Millisecond timestamps: compact, index-friendly, and exact for keyset cursors. */
export const timestampMs = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const createdAt = () => timestampMs('created_at').notNull().$defaultFn(() => new Date());
