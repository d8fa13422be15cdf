import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, timestampMs } from './columns';

export const REPORT_SUBJECT_TYPES = ['user', 'post', 'comment', 'message', 'community'] as const;
export type ReportSubjectType = (typeof REPORT_SUBJECT_TYPES)[number];
export const REPORT_CATEGORIES = ['spam', 'harassment', 'hate', 'violence', 'sexual', 'self_harm', 'illegal', 'impersonation', 'other'] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];
export const REPORT_STATUSES = ['open', 'actioned', 'dismissed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
/** What resolving a report did: `none` dismisses it, the rest action it. */
export const REPORT_ACTIONS = ['none', 'remove_content', 'warn', 'silence', 'suspend', 'remove_member'] as const;
export type ReportAction = (typeof REPORT_ACTIONS)[number];
export const KEYWORD_RULE_ACTIONS = ['reject', 'hold', 'flag'] as const;
export type KeywordRuleAction = (typeof KEYWORD_RULE_ACTIONS)[number];

/** Why an automatic report (no reporter) was opened. */
export interface AutoReason {
  kind: 'keyword_rule' | 'spam_repeat' | 'spam_links';
  action: 'hold' | 'flag';
  rule_id: string | null;
  pattern: string | null;
  field: string | null;
}

/** The subject as it was when reported, so the report stays reviewable after the content changes or goes. */
export interface ReportSnapshot {
  author: Record<string, unknown> | null;
  content: string;
  media: Record<string, unknown>[];
  /** A message reported by a participant: the texts (and media) its edits replaced within 30 days, oldest first. */
  earlier_versions?: { content: string; media: Record<string, unknown>[]; replaced_at: string }[];
}

/**
 * Reports. Ids of users are plain columns (no foreign keys): a report outlives the accounts and content
 * it names, and its snapshot keeps what was reported. `reporter_id` null = opened by a content rule or
 * a spam hold. `subject_user_id` is the account behind the subject (the author, the user, the
 * community's owner), the one account actions apply to. `community_id` scopes the report to that
 * community's moderators as well; `conversation_id` locates a reported message's room.
 */
export const reports = sqliteTable(
  'reports',
  {
    id: text('id').primaryKey(),
    reporterId: text('reporter_id'),
    subjectType: text('subject_type', { enum: REPORT_SUBJECT_TYPES }).notNull(),
    subjectId: text('subject_id').notNull(),
    subjectUserId: text('subject_user_id'),
    communityId: text('community_id'),
    conversationId: text('conversation_id'),
    category: text('category', { enum: REPORT_CATEGORIES }).notNull(),
    comment: text('comment'),
    snapshot: text('snapshot', { mode: 'json' }).$type<ReportSnapshot>().notNull(),
    auto: text('auto', { mode: 'json' }).$type<AutoReason>(),
    status: text('status', { enum: REPORT_STATUSES }).notNull().default('open'),
    assignedTo: text('assigned_to'),
    resolvedBy: text('resolved_by'),
    resolutionAction: text('resolution_action', { enum: REPORT_ACTIONS }),
    resolutionNote: text('resolution_note'),
    createdAt: createdAt(),
    resolvedAt: timestampMs('resolved_at'),
  },
  (t) => [
    // One open report per reporter and subject, and one open automatic report per subject (a unique
    // index treats NULL reporters as all different, hence the second one).
    uniqueIndex('reports_open_reporter_subject_idx').on(t.reporterId, t.subjectType, t.subjectId).where(sql`status = 'open'`),
    uniqueIndex('reports_open_auto_subject_idx').on(t.subjectType, t.subjectId).where(sql`status = 'open' AND reporter_id IS NULL`),
    // The staff queue, oldest first, per status (category and subject filters ride along).
    index('reports_status_created_idx').on(t.status, t.createdAt, t.id),
    // A reporter's own list, and the per-reporter rate limit.
    index('reports_reporter_created_idx').on(t.reporterId, t.createdAt, t.id),
    // A community's queue.
    index('reports_community_created_idx').on(t.communityId, t.status, t.createdAt, t.id),
    // Open reports about one subject (releasing held content, dedupe of automatic reports).
    index('reports_subject_idx').on(t.subjectType, t.subjectId),
  ],
);

/** Staff keyword rules: every write of user text is checked against them (src/policy/content-rules.ts). */
export const keywordRules = sqliteTable('keyword_rules', {
  id: text('id').primaryKey(),
  pattern: text('pattern').notNull(),
  wholeWord: integer('whole_word', { mode: 'boolean' }).notNull().default(true),
  action: text('action', { enum: KEYWORD_RULE_ACTIONS }).notNull(),
  createdBy: text('created_by'),
  createdAt: createdAt(),
});

/**
 * What an account wrote recently, for the automatic spam holds: a hash of each post's or comment's
 * normalised text and how many links it carried. Rows older than a day are deleted by the Cron Trigger.
 */
export const contentFingerprints = sqliteTable(
  'content_fingerprints',
  {
    userId: text('user_id').notNull(),
    hash: text('hash').notNull(),
    links: integer('links').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('content_fingerprints_repeat_idx').on(t.userId, t.hash, t.createdAt),
    index('content_fingerprints_user_idx').on(t.userId, t.createdAt, t.links),
    index('content_fingerprints_created_idx').on(t.createdAt),
  ],
);

/**
 * Site-wide counters: totals kept by triggers (users, posts, communities), so admin stats never count
 * whole tables, and the keyword rule set's version (bumped with every rule change).
 */
export const siteCounters = sqliteTable('site_counters', {
  key: text('key').primaryKey(),
  value: integer('value').notNull().default(0),
});

/** Hourly activity counts for what D1 does not hold row by row (messages live in the rooms). */
export const statsHourly = sqliteTable(
  'stats_hourly',
  {
    metric: text('metric').notNull(),
    /** Hours since the epoch. */
    hour: integer('hour').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.metric, t.hour] })],
);

export type ReportRow = typeof reports.$inferSelect;
export type KeywordRuleRow = typeof keywordRules.$inferSelect;
