import type { D1Client } from '../../db/client';
import type { AutoReason, ReportCategory, ReportSnapshot, ReportSubjectType } from '../../db/schema';
import { newId } from '../../lib/ids';

/**
 * Writing reports, as statements to batch with the change they belong to. Usable outside a request:
 * the ConversationRoom opens automatic reports about flagged messages with these too.
 */
export interface NewReport {
  /** null: opened by a content rule or a spam hold. */
  reporterId: string | null;
  subjectType: ReportSubjectType;
  subjectId: string;
  /** The account behind the subject (what account actions act on). */
  subjectUserId: string | null;
  communityId?: string | null;
  conversationId?: string | null;
  category: ReportCategory;
  comment?: string | null;
  snapshot: ReportSnapshot;
  auto?: AutoReason | null;
}

/**
 * Inserts a report unless the same reporter (or, for automatic reports, the system) already has an
 * open one about the subject: the unique indexes decide, so racing duplicates cannot both land.
 * Returns the new id and the statement.
 */
export function insertReport(db: D1Client, report: NewReport, now = Date.now()): { id: string; statement: D1PreparedStatement } {
  const id = newId(now);
  const statement = db
    .prepare(
      `INSERT INTO reports (id, reporter_id, subject_type, subject_id, subject_user_id, community_id, conversation_id, category, comment, snapshot, auto, status, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', ?12) ON CONFLICT DO NOTHING`,
    )
    .bind(
      id,
      report.reporterId,
      report.subjectType,
      report.subjectId,
      report.subjectUserId,
      report.communityId ?? null,
      report.conversationId ?? null,
      report.category,
      report.comment ?? null,
      JSON.stringify(report.snapshot),
      report.auto ? JSON.stringify(report.auto) : null,
      now,
    );
  return { id, statement };
}

/** The category an automatic report files under. */
export const autoCategory = (reason: AutoReason): ReportCategory => (reason.kind === 'keyword_rule' ? 'other' : 'spam');

/** An automatic report (reporter null) for content a rule or spam hold caught. */
export function insertAutoReport(db: D1Client, reason: AutoReason, subject: Omit<NewReport, 'reporterId' | 'category' | 'auto' | 'comment'>, now = Date.now()) {
  return insertReport(db, { ...subject, reporterId: null, category: autoCategory(reason), auto: reason }, now);
}
