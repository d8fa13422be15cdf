import type { Context } from 'hono';
import { postPath, purgeEdgePaths } from '../../lib/edge-cache';
import { NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { retractEvent } from '../notifications/delivery';
import { emitEvent } from '../notifications/events';
import { visibleUserSql } from '../../policy/visibility';
import { presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds } from '../users/users.service';
import { assertNotBanned } from '../communities/bans';
import { getVisiblePost } from './posts.service';

/**
 * Like and unlike are idempotent. `like_count` is kept by triggers on `likes` in the same statement as
 * the row, so the answer's count is read after the write and never drifts.
 */
export async function setLike(c: Context<AppEnv>, userId: string, postId: string, liked: boolean) {
  const { row } = await getVisiblePost(c, userId, postId);
  // Someone banned from the post's community may take a like back, not give one.
  if (liked) await assertNotBanned(c.var.d1, row.communityId, userId);
  const db = c.var.d1;
  const write = liked
    ? db.prepare('INSERT OR IGNORE INTO likes (post_id, user_id, created_at) VALUES (?1, ?2, ?3)').bind(postId, userId, Date.now())
    : db.prepare('DELETE FROM likes WHERE post_id = ?1 AND user_id = ?2').bind(postId, userId);
  const [result, count] = await db.batch<{ like_count: number }>([write, db.prepare('SELECT like_count FROM posts WHERE id = ?1').bind(postId)]);
  // D1's meta.changes also counts the likes_count_insert trigger's write, so a new like reports 2: test for any.
  if (liked && (result?.meta.changes ?? 0) > 0) emitEvent(c, { type: 'post_like', actorId: userId, recipientId: row.authorId, postId });
  if (!liked && (result?.meta.changes ?? 0) > 0) await retractEvent(c, { type: 'post_like', actorId: userId, recipientId: row.authorId, postId });
  if ((result?.meta.changes ?? 0) > 0) await purgeEdgePaths('posts', [postPath(postId)]);
  return { liked, like_count: count?.results[0]?.like_count ?? 0 };
}

/**
 * Who liked a post, newest first; suspended accounts and people on either side of a block with the
 * viewer are left out, and so is a private account's like except to itself, the post's author and its
 * accepted followers and friends (as its own posts are): a private account's activity is not for
 * strangers to mine. `like_count` still counts every like.
 */
export async function listLikers(c: Context<AppEnv>, viewerId: string | null, postId: string, limit: number, cursor?: string) {
  const { row } = await getVisiblePost(c, viewerId, postId);
  const [ts, uid] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(
    `SELECT user_id, created_at FROM likes l
     WHERE post_id = ?1 AND (created_at, user_id) < (?2, ?3)
       AND ${visibleUserSql('?5', 'l.user_id')}
       AND (?6 = ?5 OR l.user_id = ?5 OR EXISTS (SELECT 1 FROM users lu WHERE lu.id = l.user_id AND lu.visibility = 'public')
         OR EXISTS (SELECT 1 FROM follows lf WHERE lf.follower_id = ?5 AND lf.followee_id = l.user_id AND lf.status = 'accepted')
         OR EXISTS (SELECT 1 FROM friendships lk WHERE lk.user_id = ?5 AND lk.friend_id = l.user_id))
     ORDER BY created_at DESC, user_id DESC LIMIT ?4`,
  )
    .bind(postId, ts, uid, limit + 1, viewerId ?? '', row.authorId)
    .all<{ user_id: string; created_at: number }>();
  const users = await loadUsersByIds(c.get('db'), results.map((r) => r.user_id));
  const baseUrl = c.get('baseUrl');
  const rows = results.filter((r) => users.has(r.user_id));
  return toPage(rows, limit, (r) => [r.created_at, r.user_id], (r) => presentPublicUser(users.get(r.user_id)!, baseUrl));
}
