import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The append-only audit log (src/modules/audit/). Triggers refuse every UPDATE and DELETE, and an insert
 * whose `prev_hash` is not the current last entry's `hash` (migrations/*_audit_and_moderation.sql), so
 * the SHA-256 chain stays one line even with concurrent writers. No foreign keys: deleting an account
 * must never touch (or be blocked by) its audit entries.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    seq: integer('seq').primaryKey(),
    id: text('id').notNull().unique(),
    action: text('action').notNull(),
    actorId: text('actor_id'),
    subjectType: text('subject_type'),
    subjectId: text('subject_id'),
    ip: text('ip'),
    data: text('data').notNull(),
    createdAt: integer('created_at').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_log_action_idx').on(t.action, t.seq),
    index('audit_log_actor_idx').on(t.actorId, t.seq),
    index('audit_log_subject_idx').on(t.subjectId, t.seq),
  ],
);

export type AuditRow = typeof auditLog.$inferSelect;
