import type { Context } from 'hono';
import { postPath, purgeEdgePaths } from '../../lib/edge-cache';
import { mapRow } from '../../db/client';
import { comments as commentsTable, posts as postsTable, reports, type ReportAction, type ReportRow, type SiteRole } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { OLDEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { type AuditEntry, audit, requestIp } from '../audit/audit';
import { announceComment, endReviewHoldSql } from '../comments/comments.service';
import { leaveChat } from '../communities/community-chat';
import { assertModerator, resolveCommunity } from '../communities/communities.service';
import { memberRemoval } from '../communities/membership.service';
import { postMediaKeys, purgeMediaCopies } from '../media/media.service';
import { roomFor } from '../messaging/messaging.service';
import { commentNotices, forgetContent, postRemovalAudience } from '../notifications/removed-content';
import { emitEvent, SYSTEM_ACTOR } from '../notifications/events';
import { announcePost } from '../posts/posts.service';
import { findUserById } from '../users/users.service';
import { assertMayActOn, planAccountAction, type PlannedAction } from './account-actions';
import type { StaffReport } from './moderation.schemas';
import { presentStaffReports, reportById } from './reports.service';

/**
 * The staff queue and community moderation: listing, assigning and resolving reports. A resolution is
 * one D1 batch: the report's new status, the action (account state, removed or released content,
 * removed member) and the audit entries commit together, every part guarded on this resolution having
 * won (a concurrent one leaves nothing half done). Then, D1 committed, the rest is delivered: the
 * reporter's `report_resolved` notification, the warned account's notice, closed sockets, tombstones
 * already made in the room, and notifications about removed content forgotten.
 */

type Page = { data: StaffReport[]; next_cursor: string | null };

async function pageOf(c: Context<AppEnv>, sql: string, params: unknown[], limit: number, hideReporter = false): Promise<Page> {
  const { results } = await c.var.d1.prepare(sql)
    .bind(...params)
    .all<Record<string, unknown>>();
  const page = toPage(results.map((raw) => mapRow(reports, raw)), limit, (r) => [r.createdAt.getTime(), r.id], (r) => r);
  return { data: await presentStaffReports(c, page.data, { hideReporter }), next_cursor: page.next_cursor };
}

/** The staff queue: one status (default open), oldest first, optionally one category or subject type (reports_status_created_idx). */
export async function listQueue(c: Context<AppEnv>, q: { status: ReportRow['status']; category?: string; subject_type?: string; limit: number; cursor?: string }): Promise<Page> {
  const [ts, id] = timeKeyCursor(q.cursor, OLDEST_FIRST);
  return pageOf(
    c,
    `SELECT * FROM reports WHERE status = ?1 AND (created_at, id) > (?2, ?3)
       AND (?4 IS NULL OR category = ?4) AND (?5 IS NULL OR subject_type = ?5)
     ORDER BY created_at, id LIMIT ?6`,
    [q.status, ts, id, q.category ?? null, q.subject_type ?? null, q.limit + 1],
    q.limit,
  );
}

export async function requireReport(c: Context<AppEnv>, id: string): Promise<ReportRow> {
  const row = await reportById(c.var.d1, id);
  if (!row) throw new ApiError('not_found', 'No such report.');
  return row;
}

export async function staffView(c: Context<AppEnv>, row: ReportRow, hideReporter = false): Promise<StaffReport> {
  return (await presentStaffReports(c, [row], { hideReporter }))[0]!;
}

const alreadyResolved = () => new ApiError('conflict', 'This report is already resolved.');

/** Takes a report: assigned to the caller (taking it over from whoever had it). 409 once resolved. */
export async function assignReport(c: Context<AppEnv>, staffId: string, id: string): Promise<StaffReport> {
  const row = await requireReport(c, id);
  if (row.status !== 'open') throw alreadyResolved();
  const result = await c.var.d1.prepare("UPDATE reports SET assigned_to = ?2 WHERE id = ?1 AND status = 'open'").bind(id, staffId).run();
  if (!result.meta.changes) throw alreadyResolved();
  return staffView(c, (await reportById(c.var.d1, id))!);
}

export interface Resolution {
  action: ReportAction;
  note?: string;
  durationHours?: number;
}

/** Who resolves, and in which capacity: site staff, or a community's owner or moderator. */
type Resolver = { userId: string; role: SiteRole; community?: Awaited<ReturnType<typeof resolveCommunity>> };

/**
 * Resolves an open report (409 otherwise): `none` dismisses it (and releases content its automatic
 * hold kept back), any other action actions it and is applied.
 */
async function resolve(c: Context<AppEnv>, resolver: Resolver, report: ReportRow, resolution: Resolution): Promise<StaffReport> {
  if (report.status !== 'open') throw alreadyResolved();
  const db = c.var.d1;
  const now = Date.now();
  const guard = { sql: 'EXISTS (SELECT 1 FROM reports WHERE id = ?1 AND resolved_by = ?2 AND resolved_at = ?3)', params: [report.id, resolver.userId, now] };
  const guarded = (sql: string, ...values: unknown[]) => db.prepare(`${sql} AND ${guard.sql}`).bind(...guard.params, ...values);
  const statements: D1PreparedStatement[] = [
    db
      .prepare(
        `UPDATE reports SET status = ?2, resolved_at = ?3, resolved_by = ?4, resolution_action = ?5, resolution_note = ?6
         WHERE id = ?1 AND status = 'open'`,
      )
      .bind(report.id, resolution.action === 'none' ? 'dismissed' : 'actioned', now, resolver.userId, resolution.action, resolution.note || null),
  ];
  const entries: AuditEntry[] = [
    {
      action: 'report.resolved',
      actorId: resolver.userId,
      subjectType: 'report',
      subjectId: report.id,
      ip: requestIp(c),
      data: {
        action: resolution.action,
        note: resolution.note || null,
        subject_type: report.subjectType,
        subject_id: report.subjectId,
        ...(resolver.community ? { community_id: resolver.community.id } : {}),
      },
      when: guard,
    },
  ];
  const after: ((c: Context<AppEnv>) => Promise<void>)[] = [];
  const subjectIs = (...types: ReportRow['subjectType'][]) => types.includes(report.subjectType);

  switch (resolution.action) {
    case 'none': {
      // Dismissing the automatic report of held content is what releases it (a comment its author's
      // silence would hold stays held for that alone: endReviewHoldSql).
      if (report.auto?.action === 'hold' && subjectIs('post', 'comment')) {
        statements.push(guarded(report.subjectType === 'post' ? 'UPDATE posts SET held = 0 WHERE id = ?4' : endReviewHoldSql('?4'), report.subjectId));
        after.push((ctx) => announceRelease(ctx, report));
      }
      break;
    }
    case 'remove_content': {
      if (!subjectIs('post', 'comment', 'message')) throw ApiError.field('action', 'remove_content applies to posts, comments and messages');
      if (report.subjectType === 'message') {
        // The room is the source of messages: tombstone there first (idempotent, so a retry after a
        // failed commit is safe), then commit the resolution. Its images nothing else uses are withdrawn.
        const images = await roomFor(c, report.conversationId!).removeByModerator(report.subjectId);
        const { results } = await db.prepare('SELECT user_id FROM conversation_members WHERE conversation_id = ?1').bind(report.conversationId).all<{ user_id: string }>();
        after.push((ctx) => forgetContent(ctx.env, { messageId: report.subjectId }, results.map((r) => r.user_id)));
        after.push(() => purgeMediaCopies(images));
      } else if (report.subjectType === 'post') {
        const audience = await postRemovalAudience(db, report.subjectId);
        const images = await postMediaKeys(db, report.subjectId);
        statements.push(guarded('DELETE FROM posts WHERE id = ?4', report.subjectId));
        after.push((ctx) => forgetContent(ctx.env, { postId: report.subjectId }, audience));
        // Its images on nothing else are withdrawn with it (owner and staff only: a post_media trigger).
        after.push(() => purgeEdgePaths('posts', [postPath(report.subjectId)]));
        after.push(() => purgeMediaCopies(images));
      } else {
        const comment = await db.prepare('SELECT post_id FROM comments WHERE id = ?1').bind(report.subjectId).first<{ post_id: string }>();
        const notices = comment ? await commentNotices(db, comment.post_id, report.subjectId) : null;
        statements.push(guarded('DELETE FROM comments WHERE id = ?4', report.subjectId));
        // Its post's cached copy counts it (comment_count), as after a deletion by its author, and the
        // notifications it and its replies caused go.
        if (comment) after.push(() => purgeEdgePaths('posts', [postPath(comment.post_id)]));
        if (notices) after.push((ctx) => forgetContent(ctx.env, { commentIds: notices.commentIds, at: Date.now() }, notices.recipients));
      }
      break;
    }
    case 'remove_member': {
      const community = resolver.community!;
      if (!report.subjectUserId) throw new ApiError('not_found', 'The reported account no longer exists.');
      if (report.subjectUserId === resolver.userId) throw new ApiError('forbidden', 'You cannot remove yourself through a report.');
      // Banned too, as DELETE /members/{user_id}?ban=true does: otherwise they rejoin at once, and leaving
      // before the resolution would dodge it.
      const removal = await memberRemoval(c, community, report.subjectUserId, guard, { ban: true, reportId: report.id });
      statements.push(...removal.statements);
      entries.push(...removal.entries);
      const userId = report.subjectUserId;
      after.push((ctx) => leaveChat(ctx, community.conversationId, userId));
      break;
    }
    case 'warn':
    case 'silence':
    case 'suspend': {
      const target = report.subjectUserId ? await findUserById(c.get('db'), report.subjectUserId) : undefined;
      if (!target) throw new ApiError('not_found', 'The reported account no longer exists.');
      assertMayActOn(resolver, target);
      const plan: PlannedAction = planAccountAction(
        c,
        resolver.userId,
        target.id,
        { action: resolution.action, reason: resolution.note || `report ${report.id} (${report.category})`, durationHours: resolution.durationHours },
        { reportId: report.id, guard },
      );
      await plan.before();
      statements.push(...plan.statements);
      entries.push(plan.entry);
      after.push((ctx) => plan.after(ctx));
      break;
    }
  }

  const [update] = await audit(db, entries, statements);
  if (!update?.meta.changes) throw alreadyResolved();
  for (const step of after) await step(c);
  if (report.reporterId) {
    emitEvent(c, {
      type: 'report_resolved',
      actorId: SYSTEM_ACTOR,
      recipientId: report.reporterId,
      data: {
        report_id: report.id,
        subject_type: report.subjectType,
        subject_id: report.subjectId,
        category: report.category,
        status: resolution.action === 'none' ? 'dismissed' : 'actioned',
        resolved_at: new Date(now).toISOString(),
      },
    });
  }
  return staffView(c, (await reportById(db, report.id))!, Boolean(resolver.community));
}

/** Released content is announced as if just published (its audience is notified now). */
async function announceRelease(c: Context<AppEnv>, report: ReportRow): Promise<void> {
  const db = c.var.d1;
  if (report.subjectType === 'post') {
    const raw = await db.prepare('SELECT * FROM posts WHERE id = ?1').bind(report.subjectId).first<Record<string, unknown>>();
    if (raw) await announcePost(c, mapRow(postsTable, raw));
    return;
  }
  const raw = await db.prepare('SELECT * FROM comments WHERE id = ?1').bind(report.subjectId).first<Record<string, unknown>>();
  if (!raw) return;
  const comment = mapRow(commentsTable, raw);
  if (comment.held) return;
  const post = await db.prepare('SELECT * FROM posts WHERE id = ?1').bind(comment.postId).first<Record<string, unknown>>();
  if (post) await announceComment(c, comment, mapRow(postsTable, post));
}

/** Site staff resolve any report. */
export async function resolveAsStaff(c: Context<AppEnv>, staff: { userId: string; role: SiteRole }, id: string, resolution: Resolution): Promise<StaffReport> {
  return resolve(c, staff, await requireReport(c, id), resolution);
}

/** A community's owner and moderators see the reports about its posts, comments and members (reporters hidden). */
export async function listCommunityReports(c: Context<AppEnv>, viewerId: string, ref: string, q: { status: ReportRow['status']; limit: number; cursor?: string }): Promise<Page> {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, "see this community's reports");
  const [ts, id] = timeKeyCursor(q.cursor, OLDEST_FIRST);
  return pageOf(
    c,
    'SELECT * FROM reports WHERE community_id = ?1 AND status = ?2 AND (created_at, id) > (?3, ?4) ORDER BY created_at, id LIMIT ?5',
    [community.id, q.status, ts, id, q.limit + 1],
    q.limit,
    true,
  );
}

/** A community's owner or moderator resolves a report about it: none, remove_content or remove_member (which also bans). */
export async function resolveAsCommunity(c: Context<AppEnv>, viewer: { userId: string; role: SiteRole }, ref: string, reportId: string, resolution: Resolution): Promise<StaffReport> {
  const community = await resolveCommunity(c, ref, viewer.userId);
  assertModerator(community, "resolve this community's reports");
  const report = await reportById(c.var.d1, reportId);
  if (!report || report.communityId !== community.id) throw new ApiError('not_found', 'No such report in this community.');
  return resolve(c, { ...viewer, community }, report, resolution);
}
