import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import type { CommunityRole } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { encodeCursor, NEWEST_FIRST, OLDEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import { activeUserSql } from '../../policy/visibility';
import type { AppEnv } from '../../lib/types';
import { type AuditEntry, audit, requestIp } from '../audit/audit';
import { retractEvent } from '../notifications/delivery';
import { emitEvent } from '../notifications/events';
import { presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds, requireUserRow } from '../users/users.service';
import { relationTarget } from '../graph/graph.service';
import { departureStatement } from '../messaging/messaging.service';
import { assertNotBanned, bannedError, isBanned } from './bans';
import { joinChat, leaveChat } from './community-chat';
import { memberListSql } from './communities.queries';
import type { CommunityMember } from './communities.schemas';
import { assertModerator, type CommunityWithRole, resolveCommunity } from './communities.service';
import { joinRefusal } from './eligibility';
import { isMember } from './roles';


/**
 * The statements that put a user's chat membership in line with their community role, to run in the
 * same batch as the role change: members are in the community's conversation, nobody else is.
 */
function chatStatements(db: D1Client, community: CommunityWithRole, userId: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO conversation_members (conversation_id, user_id, role, created_at, last_activity_at, last_read_seq, unread_count)
         SELECT ?1, ?2, CASE WHEN m.role IN ('owner', 'moderator') THEN 'admin' ELSE 'member' END, ?4, ?4, 0, 0
         FROM community_members m WHERE m.community_id = ?3 AND m.user_id = ?2 AND m.role != 'pending'
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role`,
      )
      .bind(community.conversationId, userId, community.id, Date.now()),
    db
      .prepare(
        `DELETE FROM conversation_members WHERE conversation_id = ?1 AND user_id = ?2
         AND NOT EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = ?3 AND m.user_id = ?2 AND m.role != 'pending')`,
      )
      .bind(community.conversationId, userId, community.id),
    // Right after the delete: a departure from the chat is noted like any other (the room keeps what they wrote).
    departureStatement(db, community.conversationId, userId),
  ];
}

async function roleOf(c: Context<AppEnv>, communityId: string, userId: string): Promise<{ role: CommunityRole; created_at: number } | null> {
  return c.var.d1.prepare('SELECT role, created_at FROM community_members WHERE community_id = ?1 AND user_id = ?2')
    .bind(communityId, userId)
    .first<{ role: CommunityRole; created_at: number }>();
}

/**
 * Joins: an open community at once (and its chat), an approval community as a pending application.
 * Asking again answers the role already held. Eligibility (age, gender) comes from the profile; a
 * missing field the community needs is named.
 */
export async function joinCommunity(c: Context<AppEnv>, viewerId: string, ref: string): Promise<{ my_role: CommunityRole }> {
  const community = await resolveCommunity(c, ref, viewerId);
  if (community.myRole) {
    // A retry also repairs the room, should the first attempt have failed after D1 committed.
    if (isMember(community.myRole)) await joinChat(c, community.conversationId, viewerId);
    return { my_role: community.myRole };
  }
  await assertNotBanned(c.var.d1, community.id, viewerId);
  const refusal = joinRefusal(community, await requireUserRow(c.get('db'), viewerId), new Date());
  if (refusal) {
    throw new ApiError('forbidden', refusal.detail, {
      errors: refusal.missingField ? [{ field: refusal.missingField, message: 'is required by this community: set it with PATCH /api/v1/me' }] : undefined,
    });
  }
  const role = community.joinPolicy === 'open' ? 'member' : 'pending';
  const db = c.var.d1;
  await db.batch([
    // A ban set meanwhile still holds: the insert checks it in the same statement.
    db
      .prepare(
        `INSERT INTO community_members (community_id, user_id, role, created_at) SELECT ?1, ?2, ?3, ?4
         WHERE NOT EXISTS (SELECT 1 FROM community_bans WHERE community_id = ?1 AND user_id = ?2) ON CONFLICT DO NOTHING`,
      )
      .bind(community.id, viewerId, role, Date.now()),
    ...chatStatements(db, community, viewerId),
  ]);
  const held = (await roleOf(c, community.id, viewerId))?.role;
  if (!held) throw bannedError();
  if (isMember(held)) await joinChat(c, community.conversationId, viewerId);
  else await notifyModerators(c, community, viewerId);
  return { my_role: held };
}

/** The owner and moderators: who hear of applications. */
async function moderatorsOf(c: Context<AppEnv>, communityId: string): Promise<string[]> {
  const { results } = await c.var.d1.prepare("SELECT user_id FROM community_members WHERE community_id = ?1 AND role IN ('owner', 'moderator')")
    .bind(communityId)
    .all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}

/** Tells the owner and moderators that someone applied (once a day at most per applicant: see delivery's SOURCES). */
async function notifyModerators(c: Context<AppEnv>, community: CommunityWithRole, applicantId: string): Promise<void> {
  emitEvent(c, { type: 'community_join_request', actorId: applicantId, communityId: community.id, recipientIds: await moderatorsOf(c, community.id) });
}

/** A withdrawn application: its notification leaves the moderators' inboxes (apply-and-withdraw leaves nothing). */
async function retractApplication(c: Context<AppEnv>, community: CommunityWithRole, applicantId: string): Promise<void> {
  for (const recipientId of await moderatorsOf(c, community.id)) {
    await retractEvent(c, { type: 'community_join_request', actorId: applicantId, recipientId, communityId: community.id });
  }
}

/** Leaves (or withdraws an application). The owner must hand ownership over first (409). */
export async function leaveCommunity(c: Context<AppEnv>, viewerId: string, ref: string): Promise<void> {
  const community = await resolveCommunity(c, ref, viewerId);
  if (community.myRole === 'owner') {
    throw new ApiError('conflict', 'The owner cannot leave: hand ownership over first (POST /api/v1/communities/{id}/members/{user_id} with {"role":"owner"}), or delete the community.');
  }
  // Leaving twice is fine, and the second time still makes sure the room let them go.
  if (!community.myRole) return leaveChat(c, community.conversationId, viewerId);
  await removeRow(c, community, viewerId);
  if (community.myRole === 'pending') await retractApplication(c, community, viewerId);
}

async function removeRow(c: Context<AppEnv>, community: CommunityWithRole, userId: string): Promise<void> {
  await c.var.d1.batch(removalStatements(c.var.d1, community, userId));
  await leaveChat(c, community.conversationId, userId);
}

/**
 * The statements removing a member (never the owner) and their chat membership, for one batch. With
 * `guard` (an SQL condition over ?1..?n, and its params) the removal happens only if it holds at commit.
 */
function removalStatements(db: D1Client, community: CommunityWithRole, userId: string, guard?: { sql: string; params: unknown[] }): D1PreparedStatement[] {
  const n = guard?.params.length ?? 0;
  return [
    db
      .prepare(`DELETE FROM community_members WHERE community_id = ?${n + 1} AND user_id = ?${n + 2} AND role != 'owner'${guard ? ` AND ${guard.sql}` : ''}`)
      .bind(...(guard?.params ?? []), community.id, userId),
    ...chatStatements(db, community, userId),
  ];
}

/**
 * Whether the caller (an owner or moderator of `community`) may remove `userId`, and the statements
 * that do it: moderators remove members and reject applicants; only the owner removes a moderator;
 * nobody removes the owner. With `ban`, the statements also ban them (so they cannot join or apply
 * again), and they need not be a member: an outsider can be banned before they arrive; a new ban comes
 * with its `community.member_banned` audit entry (none when they were banned already), naming the
 * report (`reportId`) it resolves, if any. Run both through
 * `audit()` in one batch, then call leaveChat. With `guard`, the entry carries it as its condition, so
 * the caller's other entries must carry the same one.
 */
export async function memberRemoval(
  c: Context<AppEnv>,
  community: CommunityWithRole,
  userId: string,
  guard?: { sql: string; params: unknown[] },
  options: { ban?: boolean; reportId?: string } = {},
): Promise<{ statements: D1PreparedStatement[]; entries: AuditEntry[] }> {
  assertModerator(community, options.ban ? 'ban people' : 'remove members');
  const target = await roleOf(c, community.id, userId);
  if (!target && !options.ban) throw new ApiError('not_found', 'No such member or applicant.');
  if (target?.role === 'owner') throw new ApiError('forbidden', 'The owner cannot be removed.');
  if (target?.role === 'moderator' && community.myRole !== 'owner') throw new ApiError('forbidden', 'Only the owner can remove a moderator.');
  const db = c.var.d1;
  const statements = target ? removalStatements(db, community, userId, guard) : [];
  if (!options.ban || (await isBanned(db, community.id, userId))) return { statements, entries: [] };
  const actorId = c.get('auth')?.userId ?? null;
  const now = Date.now();
  const n = guard?.params.length ?? 0;
  statements.push(
    db
      .prepare(
        `INSERT INTO community_bans (community_id, user_id, banned_by, created_at) SELECT ?${n + 1}, ?${n + 2}, ?${n + 3}, ?${n + 4}
         WHERE ${guard?.sql ?? '1'} ON CONFLICT DO NOTHING`,
      )
      .bind(...(guard?.params ?? []), community.id, userId, actorId, now),
  );
  // Recorded only if this call made the ban (a concurrent one made by someone else records itself).
  const made = { sql: 'EXISTS (SELECT 1 FROM community_bans WHERE community_id = ?1 AND user_id = ?2 AND created_at = ?3 AND banned_by IS ?4)', params: [community.id, userId, now, actorId] };
  const entry: AuditEntry = {
    action: 'community.member_banned',
    actorId,
    subjectType: 'community',
    subjectId: community.id,
    ip: requestIp(c),
    data: { user_id: userId, role: target?.role ?? null, ...(options.reportId ? { report_id: options.reportId } : {}) },
    when: guard ?? made,
  };
  return { statements, entries: [entry] };
}

/**
 * Moderators remove members and reject applicants (see {@link memberRemoval}); with `ban` they also
 * keep them out. Removing yourself is leaving (and banning yourself is refused). A suspended member is
 * absent here as in the member list (404, as for a deleted account); site staff still remove them
 * through a report's `remove_member`.
 */
export async function removeMember(c: Context<AppEnv>, viewerId: string, ref: string, userId: string, ban = false): Promise<void> {
  if (userId === viewerId) {
    if (ban) throw ApiError.field('user_id', 'you cannot ban yourself');
    return leaveCommunity(c, viewerId, ref);
  }
  const community = await resolveCommunity(c, ref, viewerId);
  await relationTarget(c, userId);
  const { statements, entries } = await memberRemoval(c, community, userId, undefined, { ban });
  // Nothing to do when an outsider is banned again.
  if (statements.length) await audit(c.var.d1, entries, statements);
  await leaveChat(c, community.conversationId, userId);
}

/** Who is banned from a community, most recent first: for its owner and moderators. Suspended accounts are left out, as everywhere. */
export async function listBans(c: Context<AppEnv>, viewerId: string, ref: string, limit: number, cursor?: string) {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, 'see who is banned');
  const [ts, after] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1
    .prepare(
      `SELECT b.user_id, b.created_at FROM community_bans b
       WHERE b.community_id = ?1 AND (b.created_at, b.user_id) < (?2, ?3) AND ${activeUserSql('b.user_id')}
       ORDER BY b.created_at DESC, b.user_id DESC LIMIT ?4`,
    )
    .bind(community.id, ts, after, limit + 1)
    .all<{ user_id: string; created_at: number }>();
  const users = await loadUsersByIds(c.get('db'), results.map((r) => r.user_id));
  const baseUrl = c.get('baseUrl');
  return toPage(
    results.filter((r) => users.has(r.user_id)),
    limit,
    (r) => [r.created_at, r.user_id],
    (r) => ({ user: presentPublicUser(users.get(r.user_id)!, baseUrl), banned_at: new Date(r.created_at).toISOString() }),
  );
}

/** Lifts a ban (idempotent): owner and moderators. A lift that removed a ban is audited (`community.member_unbanned`). */
export async function liftBan(c: Context<AppEnv>, viewerId: string, ref: string, userId: string): Promise<void> {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, 'lift bans');
  await relationTarget(c, userId);
  const db = c.var.d1;
  const ban = await db.prepare('SELECT created_at FROM community_bans WHERE community_id = ?1 AND user_id = ?2').bind(community.id, userId).first<{ created_at: number }>();
  if (!ban) return;
  // That very ban (not one made again meanwhile), recorded if it is gone at commit: two lifts at the same moment may both be.
  const params = [community.id, userId, ban.created_at];
  await audit(
    db,
    {
      action: 'community.member_unbanned',
      actorId: viewerId,
      subjectType: 'community',
      subjectId: community.id,
      ip: requestIp(c),
      data: { user_id: userId, banned_at: new Date(ban.created_at).toISOString() },
      when: { sql: 'NOT EXISTS (SELECT 1 FROM community_bans WHERE community_id = ?1 AND user_id = ?2 AND created_at = ?3)', params },
    },
    [db.prepare('DELETE FROM community_bans WHERE community_id = ?1 AND user_id = ?2 AND created_at = ?3').bind(...params)],
  );
}

/**
 * Changes a role. Moderators approve applicants (`member`), promote members to moderator and step down
 * themselves; the owner also demotes moderators and hands ownership over (`owner`: the former owner
 * becomes a moderator).
 */
export async function setMemberRole(c: Context<AppEnv>, viewerId: string, ref: string, userId: string, role: 'member' | 'moderator' | 'owner'): Promise<CommunityMember> {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, 'change roles');
  // A suspended member or applicant is absent, as in the member list: never approved, promoted or made owner.
  await relationTarget(c, userId);
  const target = await roleOf(c, community.id, userId);
  if (!target) throw new ApiError('not_found', 'No such member or applicant.');
  const db = c.var.d1;
  const now = Date.now();
  if (target.role === role) return presentMember(c, userId, target.role, target.created_at);
  if (role === 'owner') {
    if (community.myRole !== 'owner') throw new ApiError('forbidden', 'Only the owner can hand ownership over.');
    if (target.role === 'pending') throw new ApiError('conflict', 'Approve the applicant before handing them ownership.');
    // Guarded on the caller still being the owner (and the target still a member) when the batch commits:
    // two handovers at once make one owner, and the other answers 409 with nothing changed or recorded.
    const handedTo = "EXISTS (SELECT 1 FROM community_members WHERE community_id = ?1 AND user_id = ?2 AND role = 'owner')";
    const [promoted] = await audit(
      db,
      {
        action: 'community.owner_changed',
        actorId: viewerId,
        subjectType: 'community',
        subjectId: community.id,
        ip: requestIp(c),
        data: { from: viewerId, to: userId, reason: 'handed_over' },
        when: { sql: `${handedTo} AND EXISTS (SELECT 1 FROM community_members WHERE community_id = ?1 AND user_id = ?3 AND role = 'moderator')`, params: [community.id, userId, viewerId] },
      },
      [
        db
          .prepare(
            `UPDATE community_members SET role = 'owner' WHERE community_id = ?1 AND user_id = ?2 AND role IN ('member', 'moderator')
             AND EXISTS (SELECT 1 FROM community_members o WHERE o.community_id = ?1 AND o.user_id = ?3 AND o.role = 'owner')`,
          )
          .bind(community.id, userId, viewerId),
        db.prepare(`UPDATE community_members SET role = 'moderator' WHERE community_id = ?1 AND user_id = ?3 AND role = 'owner' AND ${handedTo}`).bind(community.id, userId, viewerId),
        ...chatStatements(db, community, userId),
        ...chatStatements(db, community, viewerId),
      ],
    );
    if (!promoted?.meta.changes) throw new ApiError('conflict', 'That membership changed meanwhile (ownership was handed over, or they left); read it again and retry.');
    return presentMember(c, userId, 'owner', target.created_at);
  }
  if (target.role === 'owner') throw new ApiError(userId === viewerId ? 'conflict' : 'forbidden', "The owner's role changes only when they hand ownership over.");
  if (target.role === 'moderator' && userId !== viewerId && community.myRole !== 'owner') throw new ApiError('forbidden', 'Only the owner can demote a moderator.');
  const approving = target.role === 'pending';
  // Guarded on the role read above, so a concurrent change is not overwritten; approval starts the membership now.
  const [updated] = await db.batch([
    db
      .prepare(`UPDATE community_members SET role = ?3${approving ? ', created_at = ?5' : ''} WHERE community_id = ?1 AND user_id = ?2 AND role = ?4`)
      .bind(community.id, userId, role, target.role, ...(approving ? [now] : [])),
    ...chatStatements(db, community, userId),
  ]);
  if (!updated?.meta.changes) throw new ApiError('conflict', 'That membership changed meanwhile; read it again and retry.');
  if (approving) {
    await joinChat(c, community.conversationId, userId);
    emitEvent(c, { type: 'community_join_approved', actorId: viewerId, recipientId: userId, communityId: community.id });
  }
  return presentMember(c, userId, role, approving ? now : target.created_at);
}

async function presentMember(c: Context<AppEnv>, userId: string, role: CommunityRole, joinedAt: number): Promise<CommunityMember> {
  const user = await requireUserRow(c.get('db'), userId);
  return { user: presentPublicUser(user, c.get('baseUrl')), role, joined_at: new Date(joinedAt).toISOString() };
}

/**
 * Members, longest-standing first. A private community shows them to its members only; applicants
 * (`role=pending`) are listed to the owner and moderators only.
 */
export async function listMembers(c: Context<AppEnv>, viewerId: string | null, ref: string, role: CommunityRole | undefined, limit: number, cursor?: string) {
  const community = await resolveCommunity(c, ref, viewerId);
  if (community.visibility === 'private' && !isMember(community.myRole)) {
    throw new ApiError('forbidden', 'The members of a private community are visible to its members only.');
  }
  if (role === 'pending') assertModerator(community, 'see applicants');
  const [ts, after] = timeKeyCursor(cursor, OLDEST_FIRST);
  const { results } = await c.var.d1.prepare(memberListSql(role !== undefined))
    .bind(community.id, viewerId ?? '', ts, after, limit + 1, ...(role !== undefined ? [role] : []))
    .all<{ user_id: string; role: CommunityRole; created_at: number }>();
  const page = results.slice(0, limit);
  const users = await loadUsersByIds(c.get('db'), page.map((r) => r.user_id));
  const baseUrl = c.get('baseUrl');
  const last = page[page.length - 1];
  return {
    data: page
      .filter((r) => users.has(r.user_id))
      .map((r) => ({ user: presentPublicUser(users.get(r.user_id)!, baseUrl), role: r.role, joined_at: new Date(r.created_at).toISOString() })),
    next_cursor: results.length > limit && last ? encodeCursor([last.created_at, last.user_id]) : null,
  };
}
