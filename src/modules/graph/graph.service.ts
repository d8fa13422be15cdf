import type { Context } from 'hono';
import type { UserRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { encodeCursor, NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { forgetEachOther, retractEvent } from '../notifications/delivery';
import { emitEvent } from '../notifications/events';
import { refreshSharedRooms } from '../messaging/messaging.service';
import { presentHiddenUser, presentPublicUser } from '../users/users.presenter';
import { findUserById, loadUsersByIds } from '../users/users.service';
import { assertNotBlocked } from './relations';
import { activeUserSql, isAccountVisible, visibleUserSql } from '../../policy/visibility';
import { reachCountStatement, reachLeftSql, reachRefusal, silencedTowards } from '../../policy/reach';

/**
 * The other user of any relation endpoint (follow, friend, block, mute and undoing them, a community
 * member's role or removal): must exist and not be suspended. A suspended account answers exactly as
 * one that does not exist (404), whatever relation the caller had with it; the relation itself is
 * kept for when the suspension is lifted.
 */
export async function relationTarget(c: Context<AppEnv>, userId: string): Promise<UserRow> {
  const user = await findUserById(c.get('db'), userId);
  if (!user || !isAccountVisible(user)) throw new ApiError('not_found', 'No such user.');
  return user;
}

/**
 * The other user of a graph action: a {@link relationTarget}, not the caller, and no block may stand
 * between them.
 */
export async function otherUser(c: Context<AppEnv>, viewerId: string, userId: string, action: string): Promise<UserRow> {
  if (userId === viewerId) throw ApiError.field('id', `you cannot ${action} yourself`);
  const user = await relationTarget(c, userId);
  await assertNotBlocked(c.var.d1, viewerId, userId);
  return user;
}

// ---------------------------------------------------------------- follows

/**
 * After a private account rejects a follow request, or someone declines a friend request, the same
 * account may not ask them again for this long (409 naming the field): a "no" is not an invitation to
 * ask every day. Asking the other way round, by the one who said no, is never held back.
 */
export const REQUEST_COOLDOWN_MS = 30 * 24 * 60 * 60 * 1000;

/** The 409 of a request asked again within {@link REQUEST_COOLDOWN_MS} of a refusal that ended at `refusedAt`. */
const refusedRecently = (field: string, refusal: string, refusedAt: number) => {
  const message = `${refusal}; you may ask again from ${new Date(refusedAt + REQUEST_COOLDOWN_MS).toISOString()}`;
  return new ApiError('conflict', `${field}: ${message}.`, { errors: [{ field, message }] });
};

/** Follows at once, or files a request when the account is private. Idempotent. */
export async function follow(c: Context<AppEnv>, viewerId: string, userId: string) {
  const target = await otherUser(c, viewerId, userId, 'follow');
  const status = target.visibility === 'private' ? 'pending' : 'accepted';
  const db = c.var.d1;
  const now = Date.now();
  // A follow the day's budget does not allow writes nothing; one that already exists is never refused;
  // nor does a request within the cooldown of the owner's last rejection.
  const left = reachLeftSql('follow', viewerId, 5, now);
  const [insert, , current, rejection] = await db.batch<{ status?: string; rejected_at?: number }>([
    db
      .prepare(
        `INSERT OR IGNORE INTO follows (follower_id, followee_id, status, created_at) SELECT ?1, ?2, ?3, ?4 WHERE ${left.sql}
           AND (?3 = 'accepted' OR NOT EXISTS (SELECT 1 FROM follow_rejections WHERE follower_id = ?1 AND followee_id = ?2 AND rejected_at > ?8))`,
      )
      .bind(viewerId, userId, status, now, ...left.params, now - REQUEST_COOLDOWN_MS),
    reachCountStatement(db, viewerId, 'follow', { afterChange: true }),
    db.prepare('SELECT status FROM follows WHERE follower_id = ?1 AND followee_id = ?2').bind(viewerId, userId),
    db.prepare('SELECT rejected_at FROM follow_rejections WHERE follower_id = ?1 AND followee_id = ?2 AND rejected_at > ?3').bind(viewerId, userId, now - REQUEST_COOLDOWN_MS),
  ]);
  const state = current?.results[0]?.status;
  if (!state) {
    const rejectedAt = rejection?.results[0]?.rejected_at;
    if (status === 'pending' && rejectedAt) throw refusedRecently('id', 'rejected your last follow request', rejectedAt);
    throw await reachRefusal(db, viewerId, 'follow');
  }
  // meta.changes also counts the counter-trigger writes of an accepted follow (3 rows), so test for any.
  // A silenced account's follow tells only people who follow it or are its friends.
  if ((insert?.meta.changes ?? 0) > 0 && !(await silencedTowards(db, viewerId, userId))) {
    emitEvent(c, { type: state === 'accepted' ? 'new_follower' : 'follow_request', actorId: viewerId, recipientId: userId });
  }
  return { following: state === 'accepted', requested: state === 'pending' };
}

/** Unfollows, or withdraws a pending request. Idempotent. */
export async function unfollow(c: Context<AppEnv>, viewerId: string, userId: string) {
  if (userId === viewerId) throw ApiError.field('id', 'you cannot unfollow yourself');
  await relationTarget(c, userId);
  const removed = await c.var.d1.prepare('DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2').bind(viewerId, userId).run();
  if (removed.meta.changes > 0) await retractEvent(c, { type: 'follow', actorId: viewerId, recipientId: userId });
  return { following: false, requested: false };
}

/** The owner of a private account answers a pending follow request. */
export async function decideFollowRequest(c: Context<AppEnv>, ownerId: string, followerId: string, accept: boolean) {
  await relationTarget(c, followerId);
  const db = c.var.d1;
  const result = accept
    ? await db.prepare("UPDATE follows SET status = 'accepted' WHERE follower_id = ?1 AND followee_id = ?2 AND status = 'pending'").bind(followerId, ownerId).run()
    : // The rejection is remembered (changes(): only when a request was there to reject) for the cooldown.
      (
        await db.batch([
          db.prepare("DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2 AND status = 'pending'").bind(followerId, ownerId),
          db
            .prepare(
              `INSERT INTO follow_rejections (follower_id, followee_id, rejected_at) SELECT ?1, ?2, ?3 WHERE changes() > 0
               ON CONFLICT(follower_id, followee_id) DO UPDATE SET rejected_at = excluded.rejected_at`,
            )
            .bind(followerId, ownerId, Date.now()),
        ])
      )[0]!;
  // D1's meta.changes also counts rows written by triggers (follows_count_accept adds two), so test for none.
  if (result.meta.changes === 0) throw new ApiError('not_found', 'No pending follow request from this user.');
  if (accept) emitEvent(c, { type: 'new_follower', actorId: followerId, recipientId: ownerId });
  return { following: accept };
}

type EdgeRow = { user_id: string; created_at: number };

async function presentEdges(c: Context<AppEnv>, rows: EdgeRow[], limit: number) {
  const users = await loadUsersByIds(c.get('db'), rows.map((r) => r.user_id));
  const baseUrl = c.get('baseUrl');
  const present = rows.filter((r) => users.has(r.user_id));
  return toPage(
    present,
    limit,
    (r) => [r.created_at, r.user_id],
    (r) => ({ user: presentPublicUser(users.get(r.user_id)!, baseUrl), created_at: new Date(r.created_at).toISOString() }),
  );
}

const edgeCursor = (cursor?: string) => timeKeyCursor(cursor, NEWEST_FIRST);

/** Pending requests to follow the caller, newest first. */
export async function listFollowRequests(c: Context<AppEnv>, ownerId: string, limit: number, cursor?: string) {
  const [ts, id] = edgeCursor(cursor);
  const { results } = await c.var.d1.prepare(
    `SELECT follower_id AS user_id, created_at FROM follows
     WHERE followee_id = ?1 AND status = 'pending' AND (created_at, follower_id) < (?2, ?3) AND ${visibleUserSql('?1', 'follower_id')}
     ORDER BY created_at DESC, follower_id DESC LIMIT ?4`,
  )
    .bind(ownerId, ts, id, limit + 1)
    .all<EdgeRow>();
  return presentEdges(c, results, limit);
}

const LIST_SQL = {
  followers: `SELECT follower_id AS user_id, created_at FROM follows WHERE followee_id = ?1 AND status = 'accepted' AND (created_at, follower_id) < (?2, ?3)`,
  following: `SELECT followee_id AS user_id, created_at FROM follows WHERE follower_id = ?1 AND status = 'accepted' AND (created_at, followee_id) < (?2, ?3)`,
  friends: `SELECT friend_id AS user_id, created_at FROM friendships WHERE user_id = ?1 AND (created_at, friend_id) < (?2, ?3)`,
} as const;

/**
 * Followers, following or friends of a user, newest first, as public users. A private account's lists
 * are shown to itself, its approved followers and its friends; suspended accounts and people on either
 * side of a block with the viewer are left out.
 */
export async function listConnections(c: Context<AppEnv>, viewerId: string | null, owner: UserRow, kind: keyof typeof LIST_SQL, limit: number, cursor?: string) {
  const db = c.var.d1;
  if (owner.visibility === 'private' && viewerId !== owner.id) {
    const allowed = viewerId
      ? await db
          .prepare(
            `SELECT 1 WHERE EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2 AND status = 'accepted')
               OR EXISTS (SELECT 1 FROM friendships WHERE user_id = ?1 AND friend_id = ?2)`,
          )
          .bind(viewerId, owner.id)
          .first()
      : null;
    if (!allowed) throw new ApiError('forbidden', 'This account is private; its connections are visible to its followers and friends.');
  }
  const [ts, id] = edgeCursor(cursor);
  const { results } = await db
    .prepare(
      `SELECT * FROM (${LIST_SQL[kind]}) e
       WHERE ${visibleUserSql('?5', 'e.user_id')}
       ORDER BY created_at DESC, user_id DESC LIMIT ?4`,
    )
    .bind(owner.id, ts, id, limit + 1, viewerId ?? '')
    .all<EdgeRow>();
  const page = await presentEdges(c, results, limit);
  return { data: page.data.map((edge) => edge.user), next_cursor: page.next_cursor };
}

// ---------------------------------------------------------------- friends

type RequestRow = { id: string; from_user_id: string; to_user_id: string; status: 'pending' | 'accepted' | 'declined' | 'cancelled'; created_at: number; responded_at: number | null };

async function presentRequests(c: Context<AppEnv>, rows: RequestRow[]) {
  const users = await loadUsersByIds(c.get('db'), rows.flatMap((r) => [r.from_user_id, r.to_user_id]));
  const baseUrl = c.get('baseUrl');
  return rows
    .filter((r) => users.has(r.from_user_id) && users.has(r.to_user_id))
    .map((r) => ({
      id: r.id,
      from_user: presentPublicUser(users.get(r.from_user_id)!, baseUrl),
      to_user: presentPublicUser(users.get(r.to_user_id)!, baseUrl),
      status: r.status,
      created_at: new Date(r.created_at).toISOString(),
      responded_at: r.responded_at === null ? null : new Date(r.responded_at).toISOString(),
    }));
}

async function requestById(c: Context<AppEnv>, id: string): Promise<RequestRow | null> {
  return c.var.d1.prepare('SELECT * FROM friend_requests WHERE id = ?1').bind(id).first<RequestRow>();
}

/** Accepts a pending request to `ownerId`, creating the friendship in the same transaction. */
async function acceptRequest(c: Context<AppEnv>, requestId: string, ownerId: string): Promise<RequestRow> {
  const db = c.var.d1;
  const now = Date.now();
  const request = await requestById(c, requestId);
  if (!request || request.to_user_id !== ownerId || request.status !== 'pending') throw new ApiError('not_found', 'No pending friend request with this id.');
  const accepted = `EXISTS (SELECT 1 FROM friend_requests WHERE id = ?1 AND status = 'accepted' AND responded_at = ?2)`;
  const [update] = await db.batch([
    // A request from an account suspended since is not there to accept, as if it had been deleted.
    db.prepare(`UPDATE friend_requests SET status = 'accepted', responded_at = ?2 WHERE id = ?1 AND status = 'pending' AND ${activeUserSql('from_user_id')}`).bind(requestId, now),
    db.prepare(`INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at) SELECT ?3, ?4, ?2 WHERE ${accepted}`).bind(requestId, now, request.from_user_id, request.to_user_id),
    db.prepare(`INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at) SELECT ?4, ?3, ?2 WHERE ${accepted}`).bind(requestId, now, request.from_user_id, request.to_user_id),
    // A reverse request still pending is settled by the friendship too.
    db
      .prepare(`UPDATE friend_requests SET status = 'accepted', responded_at = ?2 WHERE from_user_id = ?4 AND to_user_id = ?3 AND status = 'pending' AND ${accepted}`)
      .bind(requestId, now, request.from_user_id, request.to_user_id),
  ]);
  if (!update?.meta.changes) throw new ApiError('not_found', 'No pending friend request with this id.');
  emitEvent(c, { type: 'friend_accepted', actorId: ownerId, recipientId: request.from_user_id });
  return (await requestById(c, requestId))!;
}

const alreadyPending = () =>
  new ApiError('conflict', 'A friend request to this user is already pending.', { errors: [{ field: 'user_id', message: 'already has a pending request from you' }] });

/**
 * Sends a friend request. If the other side already asked (a crossing request), that request is
 * accepted instead (200). The insert is conditional on no reverse request, in one statement, so two
 * people asking each other at the same moment still end up friends once.
 */
export async function sendFriendRequest(c: Context<AppEnv>, fromId: string, toId: string): Promise<{ created: boolean; request: Awaited<ReturnType<typeof presentRequests>>[number] }> {
  // The body field is user_id (otherUser names the path param id).
  if (fromId === toId) throw ApiError.field('user_id', 'you cannot befriend yourself');
  await otherUser(c, fromId, toId, 'befriend');
  const db = c.var.d1;
  if (await silencedTowards(db, fromId, toId)) {
    throw new ApiError('forbidden', 'Your account is silenced: you can send friend requests only to people who follow you.');
  }
  if (await db.prepare('SELECT 1 FROM friendships WHERE user_id = ?1 AND friend_id = ?2').bind(fromId, toId).first()) {
    throw new ApiError('conflict', 'You are already friends.', { errors: [{ field: 'user_id', message: 'is already your friend' }] });
  }
  const id = newId();
  const now = Date.now();
  // A request the day's budget does not allow writes nothing (accepting a crossing request is not one),
  // nor does one within the cooldown of the last one this person declined.
  const left = reachLeftSql('friend_request', fromId, 5, now);
  let inserted: D1Result;
  try {
    [inserted] = (await db.batch([
      db
        .prepare(
          `INSERT INTO friend_requests (id, from_user_id, to_user_id, status, created_at)
           SELECT ?1, ?2, ?3, 'pending', ?4
           WHERE NOT EXISTS (SELECT 1 FROM friend_requests WHERE from_user_id = ?3 AND to_user_id = ?2 AND status = 'pending') AND ${left.sql}
             AND NOT EXISTS (SELECT 1 FROM friend_requests WHERE from_user_id = ?2 AND to_user_id = ?3 AND status = 'declined' AND responded_at > ?8)`,
        )
        .bind(id, fromId, toId, now, ...left.params, now - REQUEST_COOLDOWN_MS),
      reachCountStatement(db, fromId, 'friend_request', { afterChange: true }),
    ])) as [D1Result];
  } catch (err) {
    if (/UNIQUE/.test(String((err as Error)?.message) + String((err as Error)?.cause ?? ''))) {
      throw alreadyPending();
    }
    throw err;
  }
  if (inserted.meta.changes > 0) {
    emitEvent(c, { type: 'friend_request', actorId: fromId, recipientId: toId, requestId: id });
    const [request] = await presentRequests(c, [(await requestById(c, id))!]);
    return { created: true, request: request! };
  }
  const reverse = await db
    .prepare("SELECT id FROM friend_requests WHERE from_user_id = ?1 AND to_user_id = ?2 AND status = 'pending'")
    .bind(toId, fromId)
    .first<{ id: string }>();
  if (!reverse) {
    const [pending, declined] = await db.batch<{ responded_at?: number }>([
      db.prepare("SELECT 1 FROM friend_requests WHERE from_user_id = ?1 AND to_user_id = ?2 AND status = 'pending'").bind(fromId, toId),
      db
        .prepare("SELECT MAX(responded_at) AS responded_at FROM friend_requests WHERE from_user_id = ?1 AND to_user_id = ?2 AND status = 'declined' AND responded_at > ?3")
        .bind(fromId, toId, now - REQUEST_COOLDOWN_MS),
    ]);
    if (pending?.results.length) throw alreadyPending();
    const declinedAt = declined?.results[0]?.responded_at;
    throw declinedAt ? refusedRecently('user_id', 'declined your last friend request', declinedAt) : await reachRefusal(db, fromId, 'friend_request');
  }
  const [request] = await presentRequests(c, [await acceptRequest(c, reverse.id, fromId)]);
  return { created: false, request: request! };
}

export async function answerFriendRequest(c: Context<AppEnv>, ownerId: string, requestId: string, accept: boolean) {
  if (accept) return (await presentRequests(c, [await acceptRequest(c, requestId, ownerId)]))[0]!;
  const result = await c.var.d1.prepare(`UPDATE friend_requests SET status = 'declined', responded_at = ?3 WHERE id = ?1 AND to_user_id = ?2 AND status = 'pending' AND ${activeUserSql('from_user_id')}`)
    .bind(requestId, ownerId, Date.now())
    .run();
  if (result.meta.changes === 0) throw new ApiError('not_found', 'No pending friend request with this id.');
  return (await presentRequests(c, [(await requestById(c, requestId))!]))[0]!;
}

/** The sender withdraws a pending request. */
export async function cancelFriendRequest(c: Context<AppEnv>, senderId: string, requestId: string): Promise<void> {
  const cancelled = await c.var.d1.prepare(
    `UPDATE friend_requests SET status = 'cancelled', responded_at = ?3 WHERE id = ?1 AND from_user_id = ?2 AND status = 'pending' AND ${activeUserSql('to_user_id')} RETURNING to_user_id`,
  )
    .bind(requestId, senderId, Date.now())
    .first<{ to_user_id: string }>();
  if (!cancelled) throw new ApiError('not_found', 'No pending friend request of yours with this id.');
  // The request's notification goes with it (and a new request within 24 hours notifies nobody).
  await retractEvent(c, { type: 'friend_request', actorId: senderId, recipientId: cancelled.to_user_id });
}

export async function listFriendRequests(c: Context<AppEnv>, viewerId: string, direction: 'incoming' | 'outgoing', limit: number, cursor?: string) {
  const column = direction === 'incoming' ? 'to_user_id' : 'from_user_id';
  const [ts, id] = edgeCursor(cursor);
  const { results } = await c.var.d1.prepare(
    `SELECT * FROM friend_requests WHERE ${column} = ?1 AND status = 'pending' AND (created_at, id) < (?2, ?3)
       AND ${visibleUserSql('?1', direction === 'incoming' ? 'from_user_id' : 'to_user_id')}
     ORDER BY created_at DESC, id DESC LIMIT ?4`,
  )
    .bind(viewerId, ts, id, limit + 1)
    .all<RequestRow>();
  const page = results.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await presentRequests(c, page),
    next_cursor: results.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
  };
}

/** Ends a friendship in both directions. Idempotent. */
export async function unfriend(c: Context<AppEnv>, viewerId: string, userId: string): Promise<void> {
  if (userId === viewerId) throw ApiError.field('user_id', 'you cannot unfriend yourself');
  await relationTarget(c, userId);
  await c.var.d1.prepare('DELETE FROM friendships WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)').bind(viewerId, userId).run();
}

// ---------------------------------------------------------------- blocks and mutes

/**
 * Blocks a user: in one transaction, records the block and removes follows (and follow requests),
 * friendship and pending friend requests in both directions; then each side's notifications stop
 * naming the other, and the rooms of the conversations they share stop relaying between them.
 * Idempotent.
 */
export async function block(c: Context<AppEnv>, viewerId: string, userId: string) {
  if (userId === viewerId) throw ApiError.field('id', 'you cannot block yourself');
  const user = await relationTarget(c, userId);
  const db = c.var.d1;
  const now = Date.now();
  const [theirs] = await db.batch<{ blocks_me: number }>([
    db.prepare('SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1) AS blocks_me').bind(viewerId, userId),
    db.prepare('INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)').bind(viewerId, userId, now),
    db.prepare('DELETE FROM follows WHERE (follower_id = ?1 AND followee_id = ?2) OR (follower_id = ?2 AND followee_id = ?1)').bind(viewerId, userId),
    db.prepare('DELETE FROM friendships WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)').bind(viewerId, userId),
    db
      .prepare(
        `UPDATE friend_requests SET status = 'cancelled', responded_at = ?3
         WHERE status = 'pending' AND ((from_user_id = ?1 AND to_user_id = ?2) OR (from_user_id = ?2 AND to_user_id = ?1))`,
      )
      .bind(viewerId, userId, now),
  ]);
  await Promise.all([forgetEachOther(c.env, viewerId, userId), refreshSharedRooms(c, viewerId, userId)]);
  // Blocking back someone who blocked you first shows nothing of them: you could not see them before either.
  const hidden = theirs?.results[0]?.blocks_me === 1;
  return { blocking: true, user: hidden ? presentHiddenUser(userId) : presentPublicUser(user, c.get('baseUrl')) };
}

export async function unblock(c: Context<AppEnv>, viewerId: string, userId: string): Promise<void> {
  await relationTarget(c, userId);
  await c.var.d1.prepare('DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2').bind(viewerId, userId).run();
  // The shared rooms re-read the caller's blocks either way: one the other still holds keeps them apart.
  await refreshSharedRooms(c, viewerId, userId);
}

export async function mute(c: Context<AppEnv>, viewerId: string, userId: string) {
  const user = await otherUser(c, viewerId, userId, 'mute');
  await c.var.d1.prepare('INSERT OR IGNORE INTO mutes (muter_id, muted_id, created_at) VALUES (?1, ?2, ?3)').bind(viewerId, userId, Date.now()).run();
  return { muting: true, user: presentPublicUser(user, c.get('baseUrl')) };
}

export async function unmute(c: Context<AppEnv>, viewerId: string, userId: string): Promise<void> {
  await relationTarget(c, userId);
  await c.var.d1.prepare('DELETE FROM mutes WHERE muter_id = ?1 AND muted_id = ?2').bind(viewerId, userId).run();
}

/**
 * The caller's blocks or mutes, newest first. A suspended account is left out, as a deleted one would
 * be; its entry comes back when the suspension is lifted. Someone who blocks the caller is listed as a
 * hidden user (the entry stays the caller's to undo, but their profile is not the caller's to see).
 */
export async function listOwnEdges(c: Context<AppEnv>, viewerId: string, kind: 'blocks' | 'mutes', limit: number, cursor?: string) {
  const [ts, id] = edgeCursor(cursor);
  const [table, owner, other] = kind === 'blocks' ? ['blocks', 'blocker_id', 'blocked_id'] : ['mutes', 'muter_id', 'muted_id'];
  const { results } = await c.var.d1.prepare(
    `SELECT e.${other} AS user_id, e.created_at, EXISTS (SELECT 1 FROM blocks theirs WHERE theirs.blocker_id = e.${other} AND theirs.blocked_id = ?1) AS blocks_me
     FROM ${table} e WHERE e.${owner} = ?1 AND (e.created_at, e.${other}) < (?2, ?3) AND ${activeUserSql(`e.${other}`)}
     ORDER BY e.created_at DESC, e.${other} DESC LIMIT ?4`,
  )
    .bind(viewerId, ts, id, limit + 1)
    .all<EdgeRow & { blocks_me: number }>();
  const page = await presentEdges(c, results, limit);
  const hidden = new Set(results.filter((r) => r.blocks_me === 1).map((r) => r.user_id));
  return { ...page, data: page.data.map((edge) => (hidden.has(edge.user.id) ? { ...edge, user: presentHiddenUser(edge.user.id) } : edge)) };
}

