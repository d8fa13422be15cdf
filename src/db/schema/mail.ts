import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';

/** Outgoing mail, recorded durably; a sender drains it and the tests read it. */
export const mailOutbox = sqliteTable(
  'mail_outbox',
  {
    id: text('id').primaryKey(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    bodyText: text('body_text').notNull(),
    /** The HTML part (null only for rows written before mails had one). */
    bodyHtml: text('body_html'),
    kind: text('kind').notNull(),
    createdAt: createdAt(),
    sentAt: timestampMs('sent_at'),
    /** Delivery attempts made by the sender (src/queues/mail.ts), and the last failure. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** A sender holds the row until then while it hands it to the provider (so a redelivery waits). */
    lockedUntil: timestampMs('locked_until'),
    /** Set when it was queued for delivery; the Cron sweeper re-queues rows that never were. */
    queuedAt: timestampMs('queued_at'),
    /** Given up on (the dead-letter queue consumer): no further attempt. */
    failedAt: timestampMs('failed_at'),
  },
  (t) => [index('mail_outbox_to_idx').on(t.toAddress, t.createdAt), index('mail_outbox_pending_idx').on(t.sentAt, t.failedAt, t.createdAt)],
);
