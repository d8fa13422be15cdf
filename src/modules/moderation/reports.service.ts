import type { Context } from 'hono';
import { mapRow, type D1Client } from '../../db/client';
import { reports, type ReportRow, type ReportSnapshot, type ReportSubjectType } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { isAccountVisible } from '../../policy/visibility';
import { audit, requestIp } from '../audit/audit';
import { resolveCommunity } from '../communities/communities.service';
import { isMember } from '../communities/roles';
import { findVisibleComment } from '../comments/comments.service';
import { conversationFor, roomFor, unwrap } from '../messaging/messaging.service';
import { getVisiblePost } from '../posts/posts.service';
import { presentPublicUser } from '../users/users.presenter';
import { findUserById, loadUsersByIds } from '../users/users.service';
import type { Report, StaffReport } from './moderation.schemas';
import { insertReport } from './reports.store';

/** Reports one account may file per hour: enough for a real incident, too few to flood the queue. */
export const REPORTS_PER_HOUR = 20;

export interface ReportInput {
  subject_type: ReportSubjectType;
  subject_id: string;
  category: ReportRow['category'];
  comment?: string;
  conversation_id?: string;
  community_id?: string;
}

interface ResolvedSubject {
  /** The subject's id (a community reported by its slug is filed under its id). */
  subjectId: string;
  subjectUserId: string | null;
  communityId: string | null;
  conversationId: string | null;
  snapshot: ReportSnapshot;
}

const notYours = () => ApiError.field('subject_id', 'you cannot report yourself or your own content');
const noSuch = (what: string) => new ApiError('not_found', `No such ${what}.`);

/**
 * The subject as the reporter sees it, through the same decisions every read uses (the post
 * pipeline's rules, blocks and suspensions, conversation membership, with the room as the source of
 * a message's content): 404 when they cannot see it, 400 when it is theirs.
 */
async function resolveSubject(c: Context<AppEnv>, reporterId: string, input: ReportInput): Promise<ResolvedSubject> {
  const baseUrl = c.get('baseUrl');
  const db = c.var.d1;
  switch (input.subject_type) {
    case 'user': {
      if (input.subject_id === reporterId) throw notYours();
      const user = await findUserById(c.get('db'), input.subject_id);
      // Someone who blocks the reporter is invisible to them; someone the reporter blocked can still be reported.
      const blocksReporter = user && (await db.prepare('SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2').bind(user.id, reporterId).first());
      if (!user || !isAccountVisible(user) || blocksReporter) throw noSuch('user');
      let communityId: string | null = null;
      if (input.community_id) {
        const community = await resolveCommunity(c, input.community_id, reporterId).catch(() => null);
        const theirs = community ? await db.prepare("SELECT role FROM community_members WHERE community_id = ?1 AND user_id = ?2 AND role != 'pending'").bind(community.id, user.id).first() : null;
        // Only those who may see them in its member list: a private community's members, and a private account's fellow members.
        const listed = community && (isMember(community.myRole) || (community.visibility === 'public' && user.visibility === 'public'));
        if (!listed || !theirs) {
          throw new ApiError('not_found', 'No such member of that community.', { errors: [{ field: 'community_id', message: 'is not a community this user is a member of' }] });
        }
        communityId = community.id;
      }
      return { subjectId: input.subject_id, subjectUserId: user.id, communityId, conversationId: null, snapshot: { author: presentPublicUser(user, baseUrl), content: user.bio, media: [] } };
    }
    case 'post': {
      const { row, post } = await getVisiblePost(c, reporterId, input.subject_id);
      if (row.authorId === reporterId) throw notYours();
      return { subjectId: input.subject_id, subjectUserId: row.authorId, communityId: row.communityId, conversationId: null, snapshot: { author: post.author, content: post.content, media: post.media } };
    }
    case 'comment': {
      const comment = await findVisibleComment(c, reporterId, input.subject_id);
      const { row: post } = await getVisiblePost(c, reporterId, comment.postId).catch(() => {
        throw noSuch('comment');
      });
      if (comment.authorId === reporterId) throw notYours();
      const author = await findUserById(c.get('db'), comment.authorId);
      return {
        subjectId: input.subject_id,
        subjectUserId: comment.authorId,
        communityId: post.communityId,
        conversationId: null,
        snapshot: { author: author ? presentPublicUser(author, baseUrl) : null, content: comment.content, media: [] },
      };
    }
    case 'message': {
      const conversationId = input.conversation_id!;
      await conversationFor(c, reporterId, conversationId);
      const { message, versions } = unwrap(await roomFor(c, conversationId).messageForReport(reporterId, input.subject_id));
      if (message.sender?.id === reporterId) throw notYours();
      return {
        subjectId: input.subject_id,
        subjectUserId: message.sender?.id ?? null,
        communityId: null,
        conversationId,
        snapshot: { author: message.sender ?? null, content: message.content, media: message.media as unknown as Record<string, unknown>[], earlier_versions: versions },
      };
    }
    case 'community': {
      const community = await resolveCommunity(c, input.subject_id, reporterId);
      if (community.myRole === 'owner') throw notYours();
      const owner = await db.prepare("SELECT user_id FROM community_members WHERE community_id = ?1 AND role = 'owner'").bind(community.id).first<{ user_id: string }>();
      const ownerRow = owner ? await findUserById(c.get('db'), owner.user_id) : undefined;
      // Reports about a community itself go to site staff only, not to its own moderators.
      return {
        subjectId: community.id,
        subjectUserId: owner?.user_id ?? null,
        communityId: null,
        conversationId: null,
        snapshot: { author: ownerRow ? presentPublicUser(ownerRow, baseUrl) : null, content: `${community.name}\n\n${community.description}`, media: [] },
      };
    }
  }
}

async function openReportOf(db: D1Client, reporterId: string, type: ReportSubjectType, subjectId: string): Promise<ReportRow | null> {
  const raw = await db
    .prepare("SELECT * FROM reports WHERE reporter_id = ?1 AND subject_type = ?2 AND subject_id = ?3 AND status = 'open'")
    .bind(reporterId, type, subjectId)
    .first<Record<string, unknown>>();
  return raw ? mapRow(reports, raw) : null;
}

/**
 * Files a report: 201 with the new one, or 200 with the reporter's open report about the same subject
 * (the unique index settles races). Limited to {@link REPORTS_PER_HOUR} per account. The report and
 * its `report.created` audit entry commit together.
 */
export async function createReport(c: Context<AppEnv>, reporterId: string, input: ReportInput): Promise<{ report: Report; created: boolean }> {
  const db = c.var.d1;
  const now = Date.now();
  const recent = await db.prepare('SELECT COUNT(*) AS n FROM reports WHERE reporter_id = ?1 AND created_at > ?2').bind(reporterId, now - 3_600_000).first<{ n: number }>();
  if ((recent?.n ?? 0) >= REPORTS_PER_HOUR) {
    throw new ApiError('rate_limited', `At most ${REPORTS_PER_HOUR} reports an hour; the queue has yours.`, { headers: { 'Retry-After': '600' } });
  }
  const subject = await resolveSubject(c, reporterId, input);
  const existing = await openReportOf(db, reporterId, input.subject_type, subject.subjectId);
  if (existing) return { report: presentReport(existing), created: false };
  const { id, statement } = insertReport(
    db,
    { reporterId, subjectType: input.subject_type, category: input.category, comment: input.comment || null, ...subject },
    now,
  );
  await audit(
    db,
    {
      action: 'report.created',
      actorId: reporterId,
      subjectType: 'report',
      subjectId: id,
      ip: requestIp(c),
      data: { subject_type: input.subject_type, subject_id: subject.subjectId, category: input.category },
      when: { sql: 'EXISTS (SELECT 1 FROM reports WHERE id = ?1)', params: [id] },
    },
    [statement],
  );
  const row = await reportById(db, id);
  if (row) return { report: presentReport(row), created: true };
  const raced = await openReportOf(db, reporterId, input.subject_type, subject.subjectId);
  if (!raced) throw new ApiError('conflict', 'The report could not be filed; retry.');
  return { report: presentReport(raced), created: false };
}

export async function reportById(db: D1Client, id: string): Promise<ReportRow | null> {
  const raw = await db.prepare('SELECT * FROM reports WHERE id = ?1').bind(id).first<Record<string, unknown>>();
  return raw ? mapRow(reports, raw) : null;
}

/** The reporter's view: what they reported and the outcome, never who decided it. */
export function presentReport(row: ReportRow): Report {
  return {
    id: row.id,
    subject_type: row.subjectType,
    subject_id: row.subjectId,
    category: row.category,
    comment: row.comment,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    resolved_at: row.resolvedAt ? row.resolvedAt.toISOString() : null,
  };
}

/** The caller's own reports, newest first (reports_reporter_created_idx). */
export async function listOwnReports(c: Context<AppEnv>, reporterId: string, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(
    'SELECT * FROM reports WHERE reporter_id = ?1 AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4',
  )
    .bind(reporterId, ts, id, limit + 1)
    .all<Record<string, unknown>>();
  return toPage(results.map((raw) => mapRow(reports, raw)), limit, (r) => [r.createdAt.getTime(), r.id], presentReport);
}

/**
 * Staff (and community moderators') views of report rows, with the people they name loaded in one
 * go. `hideReporter` keeps the reporter from community moderators. `held` says whether the subject is
 * currently held for review.
 */
export async function presentStaffReports(c: Context<AppEnv>, rows: ReportRow[], options: { hideReporter?: boolean } = {}): Promise<StaffReport[]> {
  const ids = rows.flatMap((r) => [r.reporterId, r.resolvedBy, r.assignedTo]).filter((id): id is string => !!id);
  const users = await loadUsersByIds(c.get('db'), ids);
  const posts = rows.filter((r) => r.subjectType === 'post').map((r) => r.subjectId);
  const comments = rows.filter((r) => r.subjectType === 'comment').map((r) => r.subjectId);
  const { results: held } = await c.var.d1.prepare(
    `SELECT id FROM posts WHERE id IN (SELECT value FROM json_each(?1)) AND held = 1
     UNION ALL SELECT id FROM comments WHERE id IN (SELECT value FROM json_each(?2)) AND held = 1`,
  )
    .bind(JSON.stringify(posts), JSON.stringify(comments))
    .all<{ id: string }>();
  const heldIds = new Set(held.map((h) => h.id));
  const baseUrl = c.get('baseUrl');
  const user = (id: string | null) => {
    const row = id ? users.get(id) : undefined;
    return row ? presentPublicUser(row, baseUrl) : null;
  };
  return rows.map((row) => ({
    ...presentReport(row),
    reporter: options.hideReporter ? null : user(row.reporterId),
    // Only a participant's report of a message keeps earlier versions; the others (and reports filed before) have none to show.
    subject: { ...row.snapshot, earlier_versions: row.snapshot.earlier_versions ?? null } as StaffReport['subject'],
    resolution: row.resolutionAction ? { action: row.resolutionAction, note: row.resolutionNote, moderator: user(row.resolvedBy) } : null,
    assigned_to: user(row.assignedTo),
    auto: row.auto,
    community_id: row.communityId,
    held: heldIds.has(row.subjectId),
  }));
}
